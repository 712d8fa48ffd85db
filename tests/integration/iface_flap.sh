#!/bin/bash
# The live sampler's capture interface goes away and comes back while
# `serve` runs under its enforcing seccomp filter (started as root: it
# drops to nobody and installs the base list and the capture/model role
# lists). Three faults, in a server namespace and a client namespace this
# test makes (a veth pair between them, fl0 on the server side):
#   1. fl0 down, 1 s, up
#   2. fl0 deleted, 1 s, recreated
#   3. serve started while fl0 does not exist; fl0 created 2 s later
# Asserts, for each: the process stays alive and in seccomp mode 2, every
# /metrics poll answers, twaudit_sampler_interfaces_open goes to 0 and
# back to 1, twaudit_sampler_reopens_total increases, and SYNs sent from
# the client namespace after the reopen are counted
# (twaudit_model_syns_total); the capture and model threads run with their
# role filter stacked on the base (Seccomp_filters: 2); SIGTERM ends serve
# with status 0.
#
# Runs on the normal build only: a sanitizer build installs the filter in
# log mode (agent/sandbox.c), where a forbidden call is only logged, so
# this regression would pass there whatever the code does.
set -uo pipefail

. "$(dirname "$0")/lib.sh"
NS=iflap-s-$$
NC=iflap-c-$$
NETNS=("$NC" "$NS")

[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, capture, the drop to nobody)"
if sanitized; then
	echo "SKIP: seccomp runs in log mode under ASan; this regression runs on the normal build"
	exit 77
fi
command -v ip >/dev/null || skip "ip (iproute2) not installed"
ip netns add "$NS" 2>"$TMP/netns.err" ||
	skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
ip netns add "$NC" || die "ip netns add $NC"
ip -n "$NS" link set lo up
ip -n "$NC" link set lo up

SRV=10.203.0.1
CLI=10.203.0.2
port=$(free_port)
LOG=$TMP/serve.log
MISSES=$TMP/misses	# one line per /metrics poll that got no answer
: >"$MISSES"

make_link() {
	ip -n "$NS" link add fl0 type veth peer name flc0 netns "$NC" &&
	ip -n "$NS" addr add "$SRV/24" dev fl0 &&
	ip -n "$NC" addr add "$CLI/24" dev flc0 &&
	ip -n "$NC" link set flc0 up &&
	ip -n "$NS" link set fl0 up
}

# metric NAME: its value from one /metrics scrape inside the namespace
# ("" when absent); a scrape that fails counts as a miss.
metric() {
	local out
	if ! out=$(ip netns exec "$NS" curl -sf -m 5 "http://127.0.0.1:$port/metrics"); then
		echo miss >>"$MISSES"	# a file: polls run in subshells
		return 1
	fi
	awk -v n="$1" '$1 == n { print $2 }' <<<"$out"
}
is() { [ "$(metric "$1")" = "$2" ]; }
ge() { local v; v=$(metric "$1"); [ -n "$v" ] && [ "${v%.*}" -ge "$2" ]; }

# syns N: N connection attempts from the client namespace to a closed
# port of the server (each one SYN, answered by a RST).
syns() {
	ip netns exec "$NC" "$PY" - "$SRV" "$1" <<'PYEOF'
import socket, sys
for _ in range(int(sys.argv[2])):
    s = socket.socket()
    s.settimeout(1)
    try:
        s.connect((sys.argv[1], 9))
    except OSError:
        pass
    s.close()
PYEOF
}

start() {
	ip netns exec "$NS" "$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" \
		--sampler.interface=fl0 --sampler.server="$SRV" \
		--collector.tcp_metrics=false 2>>"$LOG" &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
	wait_until 20 eval 'grep -qF "msg=\"seccomp allow-list on\"" "$LOG" &&
		ip netns exec "$NS" curl -sf -m 2 -o /dev/null "http://127.0.0.1:$port/healthz"' ||
		{ cat "$LOG" >&2; die "serve did not start"; }
}

alive() { kill -0 "$SERVE_PID" 2>/dev/null; }

# The role filters are on (the threads take them within a loop turn).
roles_on() {
	local n=0 t
	for t in /proc/"$SERVE_PID"/task/*/status; do
		grep -qE '^Seccomp_filters:[[:space:]]+2$' "$t" 2>/dev/null && n=$((n + 1))
	done
	[ "$n" -eq 2 ]
}

# flap NAME DOWN UP: one fault (DOWN and UP are commands), then the checks.
flap() {
	local name=$1 down=$2 up=$3 r0 s0
	r0=$(metric twaudit_sampler_reopens_total)
	eval "$down"
	check "$name: interfaces_open drops to 0" wait_until 15 is twaudit_sampler_interfaces_open 0
	sleep 1
	eval "$up"
	check "$name: interfaces_open back to 1 (reopened)" \
		wait_until 45 is twaudit_sampler_interfaces_open 1
	check "$name: serve alive after the reopen" alive
	check "$name: reopens_total increased" ge twaudit_sampler_reopens_total $((${r0:-0} + 1))
	s0=$(metric twaudit_model_syns_total)
	syns 5
	check "$name: SYNs captured after the reopen (was ${s0:-none})" \
		wait_until 10 ge twaudit_model_syns_total $((${s0:-0} + 5))
	check "$name: still alive a few seconds later" eval 'sleep 3; alive'
}

make_link || die "cannot make the veth pair"
start
check "seccomp enforcing (mode 2)" grep -qE '^Seccomp:[[:space:]]+2$' /proc/"$SERVE_PID"/status
check "capture and model threads have their role filter" wait_until 5 roles_on
check "capturing at start" wait_until 10 is twaudit_sampler_interfaces_open 1
syns 5
check "SYNs captured before any fault" wait_until 10 ge twaudit_model_syns_total 5

flap "down/up" "ip -n $NS link set fl0 down" "ip -n $NS link set fl0 up"
flap "delete/recreate" "ip -n $NS link del fl0" "make_link"

# 3: serve starts before its interface exists.
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; rc=$?
check "SIGTERM: exit 0 (was $rc)" [ "$rc" -eq 0 ]
ip -n "$NS" link del fl0
start
check "late interface: serving with no handle open" is twaudit_sampler_interfaces_open 0
sleep 2
make_link || die "cannot make the veth pair"
check "late interface: opened once it exists" wait_until 45 is twaudit_sampler_interfaces_open 1
check "late interface: reopens_total counts the open" ge twaudit_sampler_reopens_total 1
syns 5
check "late interface: SYNs captured" wait_until 10 ge twaudit_model_syns_total 5
check "late interface: alive a few seconds later" eval 'sleep 3; alive'
check "late interface: role filters on" roles_on

check "every /metrics poll answered (misses: $(wc -l <"$MISSES"))" [ ! -s "$MISSES" ]
check "no role filter failure logged" eval '! grep -q "role filter not installed" "$LOG"'
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; rc=$?
check "SIGTERM: exit 0 at the end (was $rc)" [ "$rc" -eq 0 ]
[ "$FAILS" -eq 0 ] || { echo "--- serve log" >&2; tail -20 "$LOG" >&2; }
finish
