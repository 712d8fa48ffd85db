#!/bin/bash
# sock_diag and tcp_metrics collectors against the real kernel, in a network
# namespace this test makes (loopback only) and deletes on exit.
#
# Needs root (ip netns). Skips (exit 77) with a message where the machine
# cannot make namespaces. Env: BUILD (meson build root).
set -uo pipefail

PROBE=${BUILD:-build}/tests/netlink_probe
NS=twaudit-nl-$$
LOAD_PID=

. "$(dirname "$0")/lib.sh"
NETNS=("$NS")

[ "$(id -u)" -eq 0 ] || skip "needs root to create a network namespace"
for t in ip ss setpriv "$PY"; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
[ -x "$PROBE" ] || { echo "FAIL - probe $PROBE not built" >&2; exit 1; }
ip netns add "$NS" 2>"$TMP/netns.err" ||
	skip "cannot create a network namespace: $(cat "$TMP/netns.err")"

nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up || { echo "FAIL - lo up" >&2; exit 1; }
nsx sysctl -qw net.ipv4.tcp_no_metrics_save=0

# The probe must be readable by nobody for the unprivileged run.
chmod 755 "$TMP"
install -m 755 "$PROBE" "$TMP/netlink_probe"
PROBE=$TMP/netlink_probe

# Load generator: N connections where the server closes first (server-side
# TIME-WAIT on PORT), then E connection pairs held ESTABLISHED until killed.
cat >"$TMP/load.py" <<'PYEOF'
import socket, sys, time
port, ntw, nest, ready = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", port))
ls.listen(128)
for _ in range(ntw):
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = ls.accept()
    s.close()                 # server closes first ...
    c.settimeout(5)
    assert c.recv(1) == b""   # ... the client sees the FIN ...
    c.close()                 # ... and closes: server side goes TIME-WAIT
held = []
for _ in range(nest):
    c = socket.create_connection(("127.0.0.1", port))
    s, _ = ls.accept()
    held += [c, s]
time.sleep(0.2)               # let the last FIN/ACKs settle
open(ready, "w").write("ready\n")
time.sleep(3600)
PYEOF

start_load() { # start_load PORT NTW NEST
	rm -f "$TMP/ready"
	# Not through nsx (a function would fork a subshell): $! must be the
	# process that ip netns exec turns into python, so that kill reaches it.
	ip netns exec "$NS" "$PY" "$TMP/load.py" "$1" "$2" "$3" "$TMP/ready" \
		>>"$TMP/load.log" 2>&1 </dev/null &
	LOAD_PID=$!
	PIDS+=("$LOAD_PID")	# cleanup stops it on any exit
	# 30 s: a slow, busy machine (python start-up, 25 connections).
	for _ in $(seq 1 600); do
		[ -f "$TMP/ready" ] && return 0
		kill -0 "$LOAD_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "FAIL - load generator did not come up:" >&2
	cat "$TMP/load.log" >&2
	exit 1
}
stop_load() {
	kill "$LOAD_PID" 2>/dev/null
	wait "$LOAD_PID" 2>/dev/null
	LOAD_PID=
	# held sockets close on exit: wait until none is established
	for _ in $(seq 1 600); do
		[ "$(nsx ss -Htan state established | wc -l)" -eq 0 ] && return
		sleep 0.05
	done
	echo "# stop_load: sockets still established after 30 s" >&2
}


# Run the probe and ss within the same second; retry when a second boundary
# (a TIME-WAIT socket expiring) came between them. A busy machine may need
# several tries (each one spans process start-ups: up to ~1 s under load).
probe_with_ss() { # probe_with_ss OUT [runner...]
	local out=$1; shift
	for _ in $(seq 1 10); do
		local t0 t1
		t0=$(date +%s)
		nsx "$@" "$PROBE" >"$out" || return 1
		nsx ss -Htan state time-wait | wc -l >"$out.tw"
		nsx ss -Htan state established | wc -l >"$out.est"
		t1=$(date +%s)
		[ "$t0" = "$t1" ] && return 0
	done
	echo "probe and ss never ran within one second (10 tries)" >&2
	return 1
}

PORT=18080
NTW=20
NEST=5

# --- 1. timestamps on ---------------------------------------------------
nsx sysctl -qw net.ipv4.tcp_timestamps=1
start_load "$PORT" "$NTW" "$NEST"
probe_with_ss "$TMP/p1.json" || { echo "FAIL - probe" >&2; exit 1; }
cat "$TMP/p1.json"

check "sock_diag state ok" [ "$(jget "$TMP/p1.json" 'd["sock_diag"]["state"]')" = ok ]
check "TIME-WAIT count equals ss ($(cat "$TMP/p1.json.tw"))" \
	[ "$(jget "$TMP/p1.json" 'd["sock_diag"]["timewait"]')" = "$(cat "$TMP/p1.json.tw")" ]
check "TIME-WAIT count is $NTW" \
	[ "$(jget "$TMP/p1.json" 'd["sock_diag"]["timewait"]')" = "$NTW" ]
check "ESTABLISHED count equals ss ($(cat "$TMP/p1.json.est"))" \
	[ "$(jget "$TMP/p1.json" 'd["sock_diag"]["states"]["established"]')" = "$(cat "$TMP/p1.json.est")" ]
check "listen count is 1" \
	[ "$(jget "$TMP/p1.json" 'd["sock_diag"]["states"]["listen"]')" = 1 ]
check "top TIME-WAIT port is $PORT with $NTW" \
	[ "$(jget "$TMP/p1.json" '[d["sock_diag"]["top_ports"][0]["port"], d["sock_diag"]["top_ports"][0]["count"]]')" = "[$PORT, $NTW]" ]
check "top TIME-WAIT remote is 127.0.0.1 with $NTW" \
	[ "$(jget "$TMP/p1.json" '[d["sock_diag"]["top_remotes"][0]["addr"], d["sock_diag"]["top_remotes"][0]["count"]]')" = "[\"127.0.0.1\", $NTW]" ]
check "timestamp share 1.0 with tcp_timestamps=1" \
	[ "$(jget "$TMP/p1.json" 'd["sock_diag"]["ts_ratio"]')" = 1.0 ]
check "est_info counts both ends of $NEST pairs" \
	[ "$(jget "$TMP/p1.json" 'd["sock_diag"]["est_info"]')" = $((2 * NEST)) ]
check "tcp_metrics state ok" [ "$(jget "$TMP/p1.json" 'd["tcp_metrics"]["state"]')" = ok ]
check "tcp_metrics peers >= 1" [ "$(jget "$TMP/p1.json" 'd["tcp_metrics"]["peers"]')" -ge 1 ]
check "tcp_metrics lists 127.0.0.1" \
	[ "$(jget "$TMP/p1.json" 'any(e["addr"] == "127.0.0.1" for e in d["tcp_metrics"]["listed"])')" = true ]
check "no TW attributes on $(uname -r)" \
	[ "$(jget "$TMP/p1.json" 'd["tcp_metrics"]["has_tw_attrs"]')" = false ]

# --- 2. unprivileged (uid 65534, no capabilities; docs/kernel.md §11.5) ---
probe_with_ss "$TMP/p2.json" setpriv --reuid=65534 --regid=65534 \
	--clear-groups --inh-caps=-all --bounding-set=-all ||
	{ echo "FAIL - unprivileged probe" >&2; exit 1; }
cat "$TMP/p2.json"
check "unprivileged: sock_diag ok" [ "$(jget "$TMP/p2.json" 'd["sock_diag"]["state"]')" = ok ]
check "unprivileged: TIME-WAIT count equals ss" \
	[ "$(jget "$TMP/p2.json" 'd["sock_diag"]["timewait"]')" = "$(cat "$TMP/p2.json.tw")" ]
check "unprivileged: tcp_metrics ok (6.18 dumps without CAP_NET_ADMIN)" \
	[ "$(jget "$TMP/p2.json" 'd["tcp_metrics"]["state"]')" = ok ]
check "unprivileged: tcp_metrics peers >= 1" \
	[ "$(jget "$TMP/p2.json" 'd["tcp_metrics"]["peers"]')" -ge 1 ]

# --- 3. bounded dump ---------------------------------------------------------
nsx "$PROBE" --max-entries=3 >"$TMP/p3.json"
check "max-entries=3: truncated, 3 sockets counted" \
	[ "$(jget "$TMP/p3.json" '[d["sock_diag"]["truncated"], d["sock_diag"]["sockets_v4"] + d["sock_diag"]["sockets_v6"], d["sock_diag"]["dropped"] > 0]')" = "[true, 3, true]" ]

stop_load

# --- 4. timestamps off for new connections -----------------------------------
nsx sysctl -qw net.ipv4.tcp_timestamps=0
start_load $((PORT + 1)) 0 "$NEST"
probe_with_ss "$TMP/p4.json" || { echo "FAIL - probe" >&2; exit 1; }
cat "$TMP/p4.json"
check "timestamp share 0 with tcp_timestamps=0" \
	[ "$(jget "$TMP/p4.json" 'd["sock_diag"]["ts_ratio"]')" = 0.0 ]
check "est_info counts both ends of $NEST pairs" \
	[ "$(jget "$TMP/p4.json" 'd["sock_diag"]["est_info"]')" = $((2 * NEST)) ]
check "TIME-WAIT count still equals ss" \
	[ "$(jget "$TMP/p4.json" 'd["sock_diag"]["timewait"]')" = "$(cat "$TMP/p4.json.tw")" ]
stop_load

finish
