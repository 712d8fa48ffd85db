#!/usr/bin/env bash
# Privileges and seccomp of `twaudit serve` (agent/privs.c, agent/sandbox.c,
# docs/security.md): the capability sets left in /proc/PID/status for each
# feature set, the uid switch, NoNewPrivs, the filter killing forbidden
# syscalls (tests/sandbox_probe) and a confined serve answering every
# endpoint across 5 s ticks.
. "$(dirname "$0")/lib.sh"

PROBE="$BUILD/tests/sandbox_probe"
ROOT="$TMP/root"; mkdir -p "$ROOT"
FIX="$FIXTURES/linux-6.18"
bit() { printf '%016x' $((1 << $1)); }
CAP_NET_RAW=13 CAP_NET_ADMIN=12 CAP_SYS_ADMIN=21 CAP_SYS_PTRACE=19
asan=false; ldd "$TWAUDIT" 2>/dev/null | grep -q 'lib[at]san' && asan=true

field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
# every_task PID FIELD VALUE: each thread has FIELD = VALUE.
every_task() {
	local t v
	for t in /proc/"$1"/task/*; do
		v=$(sed -n "s/^$2:[[:space:]]*//p" "$t/status")
		[ "$v" = "$3" ] || { echo "task ${t##*/}: $2=$v, want $3" >&2; return 1; }
	done
}

if [ "$(id -u)" != 0 ]; then
	echo "not root: capability tests skipped"
else
	# Default features on this kernel: sampler on (CAP_NET_RAW), tcp_metrics
	# needs nothing on >= 4.12.
	want=$(bit $CAP_NET_RAW)
	kv=$(uname -r | cut -d. -f1-2)
	case $kv in 3.*|4.[0-9]|4.1[01]) want=$(printf '%016x' $((0x$want | 1 << CAP_NET_ADMIN)));; esac
	port=$(free_port)
	# lib.sh turns the sampler off for fixtures: turn it back on (default).
	start_serve "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" --sampler.enabled=true
	check "default: CapEff = $want (every thread)" every_task "$SERVE_PID" CapEff "$want"
	check "default: CapPrm = $want" test "$(field "$SERVE_PID" CapPrm)" = "$want"
	check "default: bounding set empty" test "$(field "$SERVE_PID" CapBnd)" = 0000000000000000
	check "default: inheritable and ambient empty" test "$(field "$SERVE_PID" CapInh)$(field "$SERVE_PID" CapAmb)" = 00000000000000000000000000000000
	check "default: NoNewPrivs" test "$(field "$SERVE_PID" NoNewPrivs)" = 1
	if $asan; then
		echo "ok - # SKIP seccomp mode checks under sanitizers"
	else
		check "default: seccomp filter on every thread" every_task "$SERVE_PID" Seccomp 2
	fi
	grep -q 'privileges dropped' "$TMP/serve-$port.log"; check "logs the kept set" test $? -eq 0
	stop_serve

	port=$(free_port)
	start_serve "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" --sampler.enabled=false
	check "--sampler.enabled=false: CapEff empty on every thread" every_task "$SERVE_PID" CapEff 0000000000000000
	check "--sampler.enabled=false: CapPrm empty" test "$(field "$SERVE_PID" CapPrm)" = 0000000000000000
	check "--sampler.enabled=false: still serves /metrics" curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
	stop_serve

	# The uid switch keeps the capabilities in use (libcap-ng keepcaps).
	port=$(free_port)
	chmod 755 "$TMP"
	start_serve "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" --security.user=nobody --sampler.enabled=true
	nob=$(id -u nobody)
	check "--security.user=nobody: uid $nob (real, effective, saved, fs)" test "$(field "$SERVE_PID" Uid)" = "$(printf '%s\t%s\t%s\t%s' $nob $nob $nob $nob)"
	check "--security.user=nobody: no supplementary groups" test -z "$(field "$SERVE_PID" Groups | tr -d ' ')"
	check "--security.user=nobody: CapEff = $want kept across the switch" every_task "$SERVE_PID" CapEff "$want"
	check "--security.user=nobody: /metrics answers" curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
	check "--security.user=nobody: the sampler still runs" bash -c "curl -fsS 'http://127.0.0.1:$port/metrics' | grep -q '^twaudit_collector_success{collector=\"sampler\"} 1'"
	stop_serve
	"$TWAUDIT" serve --web.listen-address=127.0.0.1:$(free_port) --security.user=no-such-user-h12 \
		--path.procfs="$FIX" 2>"$TMP/err"; rc=$?
	check "--security.user with an unknown user: exit 2 (got $rc), one line" test "$rc" -eq 2 -a "$(wc -l < "$TMP/err")" -eq 1
fi

# --- seccomp: the filter kills forbidden calls --------------------------
for call in getpid read-proc netlink thread; do
	"$PROBE" "$call" 2>"$TMP/err"; rc=$?
	check "seccomp: allowed $call runs (rc=$rc)" test "$rc" -eq 0
done
for call in execve ptrace mount fork socket-inet open-write connect kill setuid unshare; do
	if $asan; then
		echo "ok - # SKIP $call: sanitizer builds only log (sandbox.c)"; continue
	fi
	# A child shell reports the signal, quietly: rc 128 + SIGSYS (31) = 159.
	rc=$(bash -c '"$0" "$1"; echo $?' "$PROBE" "$call" 2>/dev/null)
	# 128 + SIGSYS (31) = 159: killed by the filter, not by an error path.
	check "seccomp: forbidden $call kills with SIGSYS (rc=$rc)" test "$rc" -eq 159
done
rc=$(bash -c '"$0" --sampler connect; echo $?' "$PROBE" 2>/dev/null)
check "seccomp: connect is allowed with the sampler (libpcap) (rc=$rc)" test "$rc" -eq 1

# --- a confined serve keeps working: every endpoint, 3 ticks -----------
port=$(free_port)
start_serve "$port" --path.procfs=/proc
base="http://127.0.0.1:$port"
grep -q 'seccomp allow-list on' "$TMP/serve-$port.log"; check "serve logs the filter" test $? -eq 0
n=$(sed -n 's/.*seccomp allow-list on" syscalls=\([0-9]*\).*/\1/p' "$TMP/serve-$port.log")
echo "# seccomp allow-list: $n rules"
okall=true
for round in 1 2 3; do
	for p in /metrics /advice /healthz / /api/history /model /nope; do
		code=$(curl -s -o /dev/null -w '%{http_code}' --compressed \
			-H 'Accept: application/openmetrics-text; version=1.0.0' "$base$p")
		case "$p:$code" in /nope:404|/model:200|/model:404|/*:200) ;; *) okall=false; echo "$p -> $code" >&2;; esac
	done
	curl -s -o /dev/null -X POST "$base/metrics"
	kill -HUP "$SERVE_PID"
	sleep 5.5
done
check "confined serve answered every endpoint over 3 ticks and SIGHUPs" $okall
check "confined serve: netlink collectors still succeed" bash -c "
	curl -fsS '$base/metrics' > '$TMP/m' &&
	grep -q '^twaudit_collector_success{collector=\"sock_diag\"} 1' '$TMP/m' &&
	grep -q '^twaudit_collector_success{collector=\"tcp_metrics\"} 1' '$TMP/m'"
check "confined serve still alive" kill -0 "$SERVE_PID"
kill -TERM "$SERVE_PID"; wait "$SERVE_PID"; rc=$?
check "confined serve exits 0 on SIGTERM (rc=$rc; 159 would be SIGSYS)" test "$rc" -eq 0

finish
