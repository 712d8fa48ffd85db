#!/usr/bin/env bash
# serve holds the procfs files it reads on every scrape open and reads them
# with pread (lib/filecache.h). A fresh scrape must still show each change
# at once, the descriptors must not grow, and a namespace audit must read
# its own namespace, not the held files of serve's.
#
# serve runs inside a network namespace this test makes (loopback only), so
# the sysctls it flips are that namespace's, never the machine's. Needs root
# (ip netns); skips (exit 77) with the reason otherwise.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
command -v nsenter >/dev/null || skip "nsenter (util-linux) not installed"
NS=twaudit-hf-$$
OTHER=twaudit-hf2-$$
ip netns add "$NS" 2>"$TMP/ns.err" || skip "cannot create a network namespace: $(cat "$TMP/ns.err")"
NETNS+=("$NS")
ip netns add "$OTHER" || die "second namespace"
NETNS+=("$OTHER")
nsx() { ip netns exec "$NS" "$@"; }
nsx ip link set lo up || die "lo up"
nsx sysctl -qw net.ipv4.tcp_tw_reuse=2 net.ipv4.tcp_timestamps=1
ip netns exec "$OTHER" sysctl -qw net.ipv4.tcp_tw_reuse=1 net.ipv4.tcp_timestamps=0

port=$(free_port)
# nsenter execs serve (ip netns exec forks): $! is serve's collector.
nsenter --net=/run/netns/"$NS" "$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --no-sampler.enabled \
	--security.user= --collect.min-interval=0 --netns="$OTHER" 2>>"$TMP/serve.log" &
PIDS+=($!); SERVE_PID=$!
up() { nsx curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"; }
wait_until 20 up || { cat "$TMP/serve.log" >&2; die "serve did not come up"; }

scrape() { nsx curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/m"; }
host_val() { sed -n "s/^twaudit_sysctl{name=\"$1\"} //p" "$TMP/m"; }
other_val() { sed -n "s/^twaudit_sysctl{netns=\"$OTHER\",name=\"$1\"} //p" "$TMP/m"; }
segs() { sed -n 's/^twaudit_tcp_in_segs_total //p' "$TMP/m"; }

# Each change, seen by the next scrape (no min-interval: every scrape
# collects), through descriptors opened by the first.
scrape || die "first scrape"
for v in 0 1 2 1; do
	nsx sysctl -qw net.ipv4.tcp_tw_reuse="$v"
	scrape
	check "tcp_tw_reuse=$v: the next scrape says $(host_val net.ipv4.tcp_tw_reuse)" \
		test "$(host_val net.ipv4.tcp_tw_reuse)" = "$v"
	check "the other namespace still says 1 ($(other_val net.ipv4.tcp_tw_reuse))" \
		test "$(other_val net.ipv4.tcp_tw_reuse)" = 1
done
for v in 0 1; do
	nsx sysctl -qw net.ipv4.tcp_timestamps="$v"
	scrape
	check "tcp_timestamps=$v: the next scrape says $(host_val net.ipv4.tcp_timestamps)" \
		test "$(host_val net.ipv4.tcp_timestamps)" = "$v"
	check "the other namespace still says 0" test "$(other_val net.ipv4.tcp_timestamps)" = 0
done
# /proc/net/snmp read again each time: each scrape's own connection adds
# segments in this namespace.
a=$(segs); scrape; b=$(segs)
check "InSegs moves between two scrapes ($a < $b)" test "${a:-0}" -lt "${b:-0}"

# Each count is the least of five reads 0.1 s apart: the 5 s tick opens
# the other namespace's files (and netlink sockets) for the moment it
# reads them.
least() { local v m=; for _ in 1 2 3 4 5; do v=$("$@"); [ -z "$m" ] || [ "$v" -lt "$m" ] && m=$v; sleep 0.1; done; echo "$m"; }
held() { least eval "ls -l /proc/$SERVE_PID/fd 2>/dev/null | grep -cE ' -> /proc/(sys|[0-9]+/net)/'"; }
fds() { least eval "ls /proc/$SERVE_PID/fd 2>/dev/null | wc -l"; }
n=$(held)
check "the collector holds the files it reads ($n procfs descriptors)" test "$n" -ge 10
before=$(fds)
for _ in $(seq 1 50); do scrape; done
after=$(fds)
check "50 more scrapes: descriptors $before -> $after" test "$before" -eq "$after"
check "still one descriptor per file ($(held))" test "$(held)" -eq "$n"
check "no error in the log" bash -c "! grep -q 'level=error' '$TMP/serve.log'"
stop_serve
finish
