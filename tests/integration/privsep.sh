#!/usr/bin/env bash
# serve's privilege separation (docs/security.md "Two processes"): started
# as root with the live sampler and default flags, the process holding the
# listening socket runs as another uid with no capabilities, NoNewPrivs and
# a seccomp filter; the process with CAP_NET_RAW holds no TCP socket (its
# socket inodes against /proc/net/tcp and tcp6). A malformed message on a
# web-side channel (taken from the web process with pidfd_getfd) is refused
# and counted in twaudit_ipc_messages_refused_total, and serve goes on. The
# web list kills sockets, kill, exec, fork and ptrace (tests/sandbox_probe).
# SIGHUP to the main PID reaches the web process; log lines name their
# process. Killing either process (SIGKILL, two runs) ends the service with
# a non-zero status within 2 s and leaves no process behind.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root (the uid switch, capabilities)"
chmod 755 "$TMP"

field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status"; }
every_task() { # PID FIELD VALUE
	local t v
	for t in /proc/"$1"/task/*; do
		v=$(sed -n "s/^$2:[[:space:]]*//p" "$t/status")
		[ "$v" = "$3" ] || { echo "task ${t##*/}: $2=$v, want $3" >&2; return 1; }
	done
}
# Socket inodes PID holds.
inodes() { find /proc/"$1"/fd -maxdepth 1 -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n'; }
# TCP socket inodes (any state), and those listening on PORT.
tcp_inodes() { awk 'NR > 1 { print $10 }' /proc/net/tcp /proc/net/tcp6; }
listen_inodes() {
	local hex; hex=$(printf '%04X' "$1")
	awk -v p=":$hex" 'NR > 1 && $4 == "0A" && substr($2, length($2) - 4) == p { print $10 }' /proc/net/tcp /proc/net/tcp6
}
holds_any() { # PID INODES...: PID holds one of them
	local pid=$1 i; shift
	for i in $(inodes "$pid"); do
		for j in "$@"; do [ "$i" = "$j" ] && return 0; done
	done
	return 1
}
start() { # PORT ARGS...: serve as a service manager starts it (no --security.user)
	local port=$1; shift
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" "$@" 2>>"$TMP/serve-$port.log" &
	PIDS+=($!); SERVE_PID=$!
	wait_serve "$port" "$SERVE_PID" "$TMP/serve-$port.log" "$@"
}
# alive PID: running (a zombie has ended: only its parent's wait is left,
# and an orphan's parent is whatever reaps for this container).
alive() { local st; st=$(sed -n 's/^State:[[:space:]]*\(.\).*/\1/p' "/proc/$1/status" 2>/dev/null); [ -n "$st" ] && [ "$st" != Z ]; }
metric() { curl -fsS -m 5 "http://127.0.0.1:$1/metrics" | awk -v n="$2" '$1 == n { print $2 }'; }

port=$(free_port)
start "$port" || die "serve did not start"
log=$TMP/serve-$port.log
coll=$SERVE_PID
web=$(pgrep -P "$coll")
check "two processes: the web process is the main PID's child" test -n "$web" -a "$(echo "$web" | wc -w)" -eq 1

lis=$(listen_inodes "$port")
check "a socket listens on $port" test -n "$lis"
check "the web process holds the listening socket" holds_any "$web" $lis
check "the collector does not" eval '! holds_any "$coll" $lis'
check "web: uid != 0 (every thread)" eval '[ "$(field "$web" Uid | cut -f1)" != 0 ] && every_task "$web" Uid "$(field "$web" Uid)"'
check "web: CapEff 0 (every thread)" every_task "$web" CapEff 0000000000000000
check "web: CapPrm 0, CapBnd 0" test "$(field "$web" CapPrm)$(field "$web" CapBnd)" = 00000000000000000000000000000000
check "web: NoNewPrivs 1" test "$(field "$web" NoNewPrivs)" = 1
if sanitized; then
	check "web: Seccomp 2 (log mode under the sanitizer)" every_task "$web" Seccomp 2
else
	check "web: Seccomp 2 (every thread)" every_task "$web" Seccomp 2
fi
raw=$(( 0x$(field "$coll" CapEff) >> 13 & 1 ))
check "the collector holds CAP_NET_RAW (the sampler)" test "$raw" -eq 1
# A scrape under way: connections exist while the collector's fds are read.
curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
check "the collector holds no TCP socket" eval '! holds_any "$coll" $(tcp_inodes)'
check "the collector holds sockets (its channels), all unix or netlink/packet" test -n "$(inodes "$coll")"
check "/metrics answers through the collector" eval '[ "$(metric "$port" "twaudit_collector_success{collector=\"netstat\"}")" = 1 ]'
check "twaudit_ipc_messages_refused_total starts at 0" eval '[ "$(metric "$port" twaudit_ipc_messages_refused_total)" = 0 ]'
check "log lines name the collector" grep -q 'msg="privileges dropped" capabilities=net_raw user="nobody (default)" proc=collector' "$log"
check "log lines name the web process" grep -q 'msg="privileges dropped" capabilities=none user="nobody (default)" proc=web' "$log"
check "the web process logs the listening line" grep -q "msg=\"listening\" address=\"127.0.0.1:$port\" proc=web" "$log"

# A malformed and an oversized message on a web-side channel.
$PY - "$web" <<'PYEOF' >"$TMP/inject" 2>&1
import ctypes, os, socket, sys
web = int(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
unix = {}
for l in open("/proc/net/unix").read().splitlines()[1:]:
    f = l.split()
    if f[4] == "0005":          # SOCK_SEQPACKET
        unix[f[6]] = True
pidfd = os.pidfd_open(web)
for fd in os.listdir("/proc/%d/fd" % web):
    link = os.readlink("/proc/%d/fd/%s" % (web, fd))
    if link.startswith("socket:[") and link[8:-1] in unix:
        got = libc.syscall(438, pidfd, int(fd), 0)   # pidfd_getfd
        if got < 0:
            sys.exit("pidfd_getfd: errno %d" % ctypes.get_errno())
        s = socket.socket(fileno=got)
        s.send(b"TWRQ garbage")
        s.send(b"A" * 4096)
        s.detach()
        print("sent on fd", fd)
        break
else:
    sys.exit("no seqpacket channel in the web process")
PYEOF
check "two bad messages sent on a channel of the web process" grep -q "sent on fd" "$TMP/inject"
check "refused and counted: twaudit_ipc_messages_refused_total 2" \
	wait_until 15 eval '[ "$(metric "$port" twaudit_ipc_messages_refused_total)" = 2 ]'
check "the refusal is logged by the collector" grep -q 'msg="IPC message refused" reason=.* proc=collector' "$log"
check "serve still answers every endpoint" eval 'for p in /metrics /advice /model / /api/history; do curl -fsS -o /dev/null "http://127.0.0.1:$port$p" || exit 1; done'

# SIGHUP to the main PID: the web process reloads (here: nothing to reload).
check "SIGHUP to the main PID reaches the web process" hup_serve "$log"
check "  and the web process answers it" grep -q 'msg="SIGHUP: no --web.config.file to reload" proc=web' "$log"

# The web list (sandbox_probe --web): what the web process may not do.
PROBE="$BUILD/tests/sandbox_probe"
if [ -x "$PROBE" ] && ! sanitized; then
	for c in netlink packet socket-inet connect kill execve fork ptrace setuid open-write; do
		"$PROBE" --web "$c" 2>/dev/null; rc=$?
		check "web list: $c is killed (SIGSYS, rc=$rc)" test "$rc" -eq 159
	done
	for c in getpid read-proc thread accept; do
		check "web list: $c is allowed" "$PROBE" --web "$c"
	done
else
	echo "ok - # SKIP sandbox_probe checks: sanitizer build (the filter only logs) or no probe"
fi

# kill_one WHICH: SIGKILL that process; the service must end non-zero
# within 2 s, with no process left.
kill_one() {
	local which=$1 victim other t0 rc
	port=$(free_port)
	start "$port" || { fail "$which run: serve did not start"; return; }
	coll=$SERVE_PID web=$(pgrep -P "$coll")
	[ "$which" = web ] && victim=$web other=$coll || victim=$coll other=$web
	t0=$(now_us)
	kill -KILL "$victim"
	wait_until 2 eval '! alive "$other" && ! alive "$coll"'
	local ms=$(( ($(now_us) - t0) / 1000 ))
	wait "$coll"; rc=$?
	check "kill -9 the $which process: the service ended in ${ms} ms (<= 2000)" test "$ms" -le $((2000 * SLOW))
	check "kill -9 the $which process: exit status $rc is not 0" test "$rc" -ne 0
	check "kill -9 the $which process: no process left" eval '! alive "$web" && ! alive "$coll"'
}
stop_serve
kill_one web
check "  the collector says why" grep -q 'msg="web process ended" signal=9 proc=collector' "$TMP/serve-$port.log"
kill_one collector
finish
