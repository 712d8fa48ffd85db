#!/usr/bin/env bash
# Privileges and seccomp of `twaudit serve` (agent/privs.c, agent/sandbox.c,
# docs/security.md): the uid and capability sets left in /proc/PID/status
# for each feature set (root switches to nobody by default), a port below
# 1024 without CAP_NET_BIND_SERVICE, NoNewPrivs, the filter killing
# forbidden syscalls (tests/sandbox_probe) and a confined serve answering
# every endpoint across 5 s ticks.
. "$(dirname "$0")/lib.sh"

PROBE="$BUILD/tests/sandbox_probe"
ROOT="$TMP/root"; mkdir -p "$ROOT"
FIX="$FIXTURES/linux-6.18"
bit() { printf '%016x' $((1 << $1)); }
CAP_NET_RAW=13 CAP_NET_ADMIN=12 CAP_SYS_ADMIN=21 CAP_SYS_PTRACE=19
asan=false; sanitized && asan=true   # lib.sh

field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
# every_task PID FIELD VALUE: each thread has FIELD = VALUE.
every_task() {
	local t v
	for t in /proc/"$1"/task/*; do
		v=$(sed -n "s/^$2:[[:space:]]*//p" "$t/status")
		[ "$v" = "$3" ] || { echo "task ${t##*/}: $2=$v, want $3" >&2; return 1; }
	done
}

# start_default PORT ARGS...: serve as a service manager would start it,
# without --security.user (start_serve keeps the uid); waits for /healthz.
start_default() {
	local port=$1; shift
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" "$@" 2>>"$TMP/serve-$port.log" &
	PIDS+=($!); SERVE_PID=$!
	# Until it answers and has applied its seccomp filter (lib.sh).
	wait_serve "$port" "$SERVE_PID" "$TMP/serve-$port.log" "$@"
}
ids() { printf '%s\t%s\t%s\t%s' "$1" "$1" "$1" "$1"; }   # real, effective, saved, fs
# free_low_port: a port below 1024 free on 127.0.0.1, 947 if it is.
free_low_port() {
	$PY -c '
import socket
for p in [947] + list(range(900, 1000)):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind(("127.0.0.1", p)); print(p); break
    except OSError:
        pass
    finally:
        s.close()'
}

if [ "$(id -u)" != 0 ]; then
	echo "ok - # SKIP capability and uid tests: not root"
else
	# Default features on this kernel: sampler on (CAP_NET_RAW), tcp_metrics
	# needs nothing on >= 4.12.
	want=$(bit $CAP_NET_RAW)
	kv=$(uname -r | cut -d. -f1-2)
	case $kv in 3.*|4.[0-9]|4.1[01]) want=$(printf '%016x' $((0x$want | 1 << CAP_NET_ADMIN)));; esac
	nob=$(id -u nobody) nobg=$(id -g nobody)
	# nobody must read the fixture and rootfs: $TMP is a 0700 mktemp dir.
	chmod 755 "$TMP"

	# The default as root: switch to nobody, keep CAP_NET_RAW for the sampler.
	# The fixture is not this host's tree, where the sampler (which captures
	# this host's traffic) is off unless named: --collector.sampler names it.
	port=$(free_port)
	start_default "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" --collector.sampler
	check "default: uid $nob (real, effective, saved, fs)" test "$(field "$SERVE_PID" Uid)" = "$(ids "$nob")"
	check "default: gid $nobg" test "$(field "$SERVE_PID" Gid)" = "$(ids "$nobg")"
	check "default: no supplementary groups" test -z "$(field "$SERVE_PID" Groups | tr -d ' ')"
	check "default: uid $nob on every thread" every_task "$SERVE_PID" Uid "$(ids "$nob")"
	check "default: CapEff = $want exactly (every thread)" every_task "$SERVE_PID" CapEff "$want"
	check "default: CapPrm = $want" test "$(field "$SERVE_PID" CapPrm)" = "$want"
	check "default: bounding set empty" test "$(field "$SERVE_PID" CapBnd)" = 0000000000000000
	check "default: inheritable and ambient empty" test "$(field "$SERVE_PID" CapInh)$(field "$SERVE_PID" CapAmb)" = 00000000000000000000000000000000
	check "default: NoNewPrivs" test "$(field "$SERVE_PID" NoNewPrivs)" = 1
	if $asan; then
		echo "ok - # SKIP seccomp mode checks under sanitizers"
	else
		check "default: seccomp filter on every thread" every_task "$SERVE_PID" Seccomp 2
	fi
	check "default: logs the kept set and the user" grep -q 'msg="privileges dropped" capabilities=net_raw user="nobody (default)"' "$TMP/serve-$port.log"
	curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/m"
	check "default: the sampler runs as nobody" grep -q '^twaudit_collector_success{collector="sampler"} 1' "$TMP/m"
	check "default: every collector ok as nobody" bash -c "! grep -E '^twaudit_collector_state\{collector=\"(sysctl|netstat|snmp|sockstat|persist|sock_diag|tcp_metrics)\",state=\"(unavailable|failed)\"\} 1' '$TMP/m'"
	stop_serve

	port=$(free_port)
	start_default "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" --sampler.enabled=false
	check "--sampler.enabled=false: uid $nob" test "$(field "$SERVE_PID" Uid)" = "$(ids "$nob")"
	check "--sampler.enabled=false: CapEff empty on every thread" every_task "$SERVE_PID" CapEff 0000000000000000
	check "--sampler.enabled=false: CapPrm empty" test "$(field "$SERVE_PID" CapPrm)" = 0000000000000000
	check "--sampler.enabled=false: still serves /metrics" curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
	stop_serve

	# A port below 1024: bound before the drop, so CAP_NET_BIND_SERVICE is
	# never kept (the sampler's CAP_NET_RAW is the whole set).
	low=$(free_low_port)
	if [ -z "$low" ]; then
		echo "ok - # SKIP low port: no free port below 1024 on 127.0.0.1"
	elif start_default "$low" --path.procfs="$FIX" --path.rootfs="$ROOT" --sampler.enabled=true; then
		check "port $low: serves /metrics as nobody" curl -fsS -o /dev/null "http://127.0.0.1:$low/metrics"
		check "port $low: uid $nob" test "$(field "$SERVE_PID" Uid)" = "$(ids "$nob")"
		check "port $low: CapEff = $want exactly, no CAP_NET_BIND_SERVICE (every thread)" every_task "$SERVE_PID" CapEff "$want"
		# A TLS-less SIGHUP reload keeps the listener (no rebind needed).
		check "port $low: SIGHUP handled (logged)" hup_serve "$TMP/serve-$low.log"
		check "port $low: still serving after SIGHUP" curl -fsS -o /dev/null "http://127.0.0.1:$low/healthz"
		stop_serve
	else
		fail "serve on 127.0.0.1:$low (below 1024) starts"
	fi
	# Without root, the same port is refused, in one clear line.
	setpriv --reuid="$nob" --regid="$nobg" --clear-groups --inh-caps=-all \
		"$TWAUDIT" serve --web.listen-address="127.0.0.1:${low:-947}" --path.procfs="$FIX" \
		--path.rootfs="$ROOT" >/dev/null 2>"$TMP/err"; rc=$?
	check "low port without privilege: exit 2 (got $rc), one line naming the cause ($(cat "$TMP/err"))" \
		bash -c '[ "$1" -eq 2 ] && [ "$(wc -l < "$2")" -eq 1 ] && grep -q "cannot listen on 127.0.0.1:[0-9]*: Permission denied (a port below 1024 needs root or CAP_NET_BIND_SERVICE)" "$2"' _ "$rc" "$TMP/err"

	# --security.user= (explicitly empty) keeps uid 0, still without capabilities.
	port=$(free_port)
	start_default "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" --security.user= --sampler.enabled=false
	check "--security.user=: uid 0 kept" test "$(field "$SERVE_PID" Uid)" = "$(ids 0)"
	check "--security.user=: CapEff empty on every thread" every_task "$SERVE_PID" CapEff 0000000000000000
	check "--security.user=: logged unchanged" grep -q 'user="(unchanged)"' "$TMP/serve-$port.log"
	stop_serve

	# The uid switch by name keeps the capabilities in use (libcap-ng keepcaps).
	port=$(free_port)
	start_serve "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" --security.user=nobody --sampler.enabled=true
	check "--security.user=nobody: uid $nob (real, effective, saved, fs)" test "$(field "$SERVE_PID" Uid)" = "$(ids "$nob")"
	check "--security.user=nobody: no supplementary groups" test -z "$(field "$SERVE_PID" Groups | tr -d ' ')"
	check "--security.user=nobody: CapEff = $want kept across the switch" every_task "$SERVE_PID" CapEff "$want"
	check "--security.user=nobody: /metrics answers" curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
	check "--security.user=nobody: the sampler still runs" bash -c "curl -fsS 'http://127.0.0.1:$port/metrics' | grep -q '^twaudit_collector_success{collector=\"sampler\"} 1'"
	stop_serve
	"$TWAUDIT" serve --web.listen-address=127.0.0.1:$(free_port) --security.user=no-such-user-h12 \
		--path.procfs="$FIX" 2>"$TMP/err"; rc=$?
	check "--security.user with an unknown user: exit 2 (got $rc), one line" test "$rc" -eq 2 -a "$(wc -l < "$TMP/err")" -eq 1

	# No user nobody (a user database without it, in a private mount
	# namespace): a warning, and the uid is kept.
	grep -v '^nobody:' /etc/passwd >"$TMP/passwd"
	printf 'passwd: files\ngroup: files\nshadow: files\n' >"$TMP/nsswitch.conf"
	port=$(free_port)
	if unshare -m true 2>/dev/null; then
		unshare -m bash -c 'mount --bind "$1" /etc/passwd && mount --bind "$2" /etc/nsswitch.conf && shift 2 && exec "$@"' _ \
			"$TMP/passwd" "$TMP/nsswitch.conf" "$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" \
			--path.procfs="$FIX" --path.rootfs="$ROOT" --no-sampler.enabled 2>>"$TMP/serve-$port.log" &
		PIDS+=($!); SERVE_PID=$!
		wait_serve "$port" "$SERVE_PID" "$TMP/serve-$port.log"
		check "no user nobody: serve still answers" curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
		check "no user nobody: warns" grep -q "level=warn msg=\"no user 'nobody' to switch to: keeping uid 0" "$TMP/serve-$port.log"
		check "no user nobody: uid 0 kept" test "$(field "$SERVE_PID" Uid)" = "$(ids 0)"
		check "no user nobody: CapEff still empty" every_task "$SERVE_PID" CapEff 0000000000000000
		stop_serve
	else
		echo "ok - # SKIP no user nobody: cannot unshare a mount namespace"
	fi

	# Started as a user already: no switch, no error.
	port=$(free_port)
	setpriv --reuid="$nob" --regid="$nobg" --clear-groups --inh-caps=-all \
		"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --path.procfs="$FIX" \
		--path.rootfs="$ROOT" 2>>"$TMP/serve-$port.log" &
	PIDS+=($!); SERVE_PID=$!
	wait_serve "$port" "$SERVE_PID" "$TMP/serve-$port.log"
	check "started as nobody: serves" curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
	check "started as nobody: no switch (user unchanged)" grep -q 'msg="privileges dropped" capabilities=none user="(unchanged)"' "$TMP/serve-$port.log"
	check "started as nobody: uid $nob, CapEff empty" test "$(field "$SERVE_PID" Uid)/$(field "$SERVE_PID" CapEff)" = "$(ids "$nob")/0000000000000000"
	stop_serve
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
# The sampler adds packet sockets and ioctls, never a way out.
for call in connect socket-inet; do
	$asan && { echo "ok - # SKIP --sampler $call: sanitizer builds only log"; continue; }
	rc=$(bash -c '"$0" --sampler "$1"; echo $?' "$PROBE" "$call" 2>/dev/null)
	check "seccomp: $call still kills with the sampler on (rc=$rc)" test "$rc" -eq 159
done
rc=$(bash -c '"$0" --sampler packet; echo $?' "$PROBE" 2>/dev/null)
check "seccomp: a packet socket is allowed with the sampler (rc=$rc)" test "$rc" -eq 0

# --- seccomp roles: a thread's own filter on top of the base ------------
# role:call:expected rc (0 allowed; 159 killed by SIGSYS).
for t in capture:getpid:0 capture:read-proc:0 capture:netlink:0 capture:packet:0 \
	capture:thread:159 capture:socket-inet:159 capture:open-write:159 capture:connect:159 \
	model:getpid:0 model:read-proc:159 model:netlink:159 model:packet:159 model:thread:159; do
	IFS=: read -r role call want <<<"$t"
	if $asan && [ "$want" = 159 ]; then
		echo "ok - # SKIP $role $call: sanitizer builds only log (sandbox.c)"; continue
	fi
	rc=$(bash -c '"$0" --role "$1" "$2"; echo $?' "$PROBE" "$role" "$call" 2>/dev/null)
	what="kills with SIGSYS"; [ "$want" = 0 ] && what=runs
	check "seccomp role $role: $call $what (rc=$rc)" test "$rc" -eq "$want"
done

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
