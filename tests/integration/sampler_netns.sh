#!/bin/bash
# The live sampler against the real kernel, in namespaces this test makes
# (and deletes on exit): a server namespace, a NAT namespace (nftables
# masquerade) and two client namespaces, veth pairs between them:
#
#   client A 10.9.1.2 (tcp_timestamps=2: raw clock, port 40001) ---+
#                                                                  NAT 10.9.0.2 --- server 10.9.0.1
#   client B 10.9.2.2 (tcp_timestamps=1: per-4-tuple offset,   ---+   (+ direct clients 10.9.0.20-23,
#             fixed port 40002: one steady clock too)                  not masqueraded)
#
# A small server closes every connection first. Probes (tests/sampler_probe)
# run the sampler inside the server namespace:
#   P1 "any", ratio 1, what-if 4.1-4.11 with tw_recycle=1
#   P2 "any", ratio 2
#   P3 on the server's veth only, taken down and up before the traffic
# Asserts: SYNs seen == SYNs the server accepted (PassiveOpens, no loss),
# loopback connections counted once on "any", the kernel filter in effect
# (every packet the kernel passed reached the sampler), ratio 2 keeps
# exactly the clients with an even last byte, the NAT source is classed
# "unknown" with no host count (two steady clocks, each on its own fixed
# port: the trace one host with per-4-tuple offsets leaves on two ports
# too), no rejection predicted on this kernel (PAWSTimewait moves only
# for late segments, each ending in an RST), the what-if predicts the
# behind host's SYNs refused, the sampler survives its interface going down and up, and
# an unprivileged run says unavailable and why.
#
# Needs root. Skips (exit 77) with a message where the machine lacks
# namespaces or nftables. Network traffic stays inside these namespaces.
set -uo pipefail

PROBE=${BUILD:-build}/tests/sampler_probe
SUF=$$
NS_S=twa-srv-$SUF
NS_N=twa-nat-$SUF
NS_A=twa-ca-$SUF
NS_B=twa-cb-$SUF

. "$(dirname "$0")/lib.sh"
NETNS=("$NS_A" "$NS_B" "$NS_N" "$NS_S")

[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
for t in ip setpriv "$PY"; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
if ! command -v nft >/dev/null; then
	apt-get install -y nftables >/dev/null 2>&1
	command -v nft >/dev/null || skip "nft (nftables) not installed"
fi
[ -x "$PROBE" ] || die "probe $PROBE not built"
ip netns add "$NS_S" 2>"$TMP/netns.err" ||
	skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
for ns in "$NS_N" "$NS_A" "$NS_B"; do
	ip netns add "$ns" || die "ip netns add $ns"
done

xs() { ip netns exec "$NS_S" "$@"; }
xn() { ip netns exec "$NS_N" "$@"; }

# --- topology ---------------------------------------------------------------
set -e
for ns in "$NS_S" "$NS_N" "$NS_A" "$NS_B"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_S" link add s0 type veth peer name n0 netns "$NS_N"
ip -n "$NS_A" link add a0 type veth peer name n1 netns "$NS_N"
ip -n "$NS_B" link add b0 type veth peer name n2 netns "$NS_N"
ip -n "$NS_S" addr add 10.9.0.1/24 dev s0
ip -n "$NS_N" addr add 10.9.0.2/24 dev n0
for i in 20 21 22 23; do
	ip -n "$NS_N" addr add 10.9.0.$i/24 dev n0
done
# IPv6, direct: server fd00:9::1, clients fd00:9::14 (last byte 0x14,
# even) and fd00:9::15 (odd).
ip netns exec "$NS_S" sysctl -qw net.ipv6.conf.s0.keep_addr_on_down=1
ip -n "$NS_S" addr add fd00:9::1/64 dev s0 nodad
for a in 2 14 15; do
	ip -n "$NS_N" addr add fd00:9::$a/64 dev n0 nodad
done
ip -n "$NS_N" addr add 10.9.1.1/24 dev n1
ip -n "$NS_N" addr add 10.9.2.1/24 dev n2
ip -n "$NS_A" addr add 10.9.1.2/24 dev a0
ip -n "$NS_B" addr add 10.9.2.2/24 dev b0
for l in "$NS_S s0" "$NS_N n0" "$NS_N n1" "$NS_N n2" "$NS_A a0" "$NS_B b0"; do
	set -- $l
	ip -n "$1" link set "$2" up
done
ip -n "$NS_A" route add default via 10.9.1.1
ip -n "$NS_B" route add default via 10.9.2.1
xn sysctl -qw net.ipv4.ip_forward=1
xn nft -f - <<'EOF'
table ip twnat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr { 10.9.1.0/24, 10.9.2.0/24 } oifname "n0" masquerade
	}
}
EOF
xn sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1 2>/dev/null || true
ip netns exec "$NS_A" sysctl -qw net.ipv4.tcp_timestamps=2
ip netns exec "$NS_B" sysctl -qw net.ipv4.tcp_timestamps=1
xs sysctl -qw net.ipv4.tcp_timestamps=1
set +e

# The probe must be readable by nobody for the unprivileged run.
chmod 755 "$TMP"
install -m 755 "$PROBE" "$TMP/sampler_probe"
PROBE=$TMP/sampler_probe

# --- programs ---------------------------------------------------------------
cat >"$TMP/server.py" <<'PYEOF'
import socket, sys, threading, time
def serve(addr, port):
    ls = socket.socket(socket.AF_INET6 if ":" in addr else socket.AF_INET)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((addr, port))
    ls.listen(128)
    while True:
        s, _ = ls.accept()
        time.sleep(0.3)       # a connection that lasts (see below)
        s.close()             # the server closes first: its side TIME-WAITs
threading.Thread(target=serve, args=("10.9.0.1", 8080), daemon=True).start()
threading.Thread(target=serve, args=("127.0.0.1", 8081), daemon=True).start()
threading.Thread(target=serve, args=("fd00:9::1", 8082), daemon=True).start()
open(sys.argv[1], "w").write("ready\n")
threading.Event().wait()
PYEOF

# client.py DST PORT SRC SPORT(0=ephemeral) N GAP: N connections, each
# waits for the server's FIN and closes. Prints how many succeeded.
cat >"$TMP/client.py" <<'PYEOF'
import socket, sys, time
dst, port, src, sport, n, gap = sys.argv[1], int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6])
done = 0
for i in range(n):
    c = socket.socket(socket.AF_INET6 if ":" in dst else socket.AF_INET)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((src, sport))
    c.settimeout(5)
    c.connect((dst, port))
    assert c.recv(1) == b""
    c.close()
    done += 1
    time.sleep(gap)
print(done)
PYEOF

tcpext() { # tcpext NAME [NS]: a TcpExt/Tcp counter of NS (the server's)
	ip netns exec "${2:-$NS_S}" cat /proc/net/netstat /proc/net/snmp | awk -v k="$1" '
		/^(TcpExt|Tcp):/ { if (!h[$1]) { h[$1] = 1; for (i = 2; i <= NF; i++) n[$1, i] = $i; next }
		  for (i = 2; i <= NF; i++) if (n[$1, i] == k) print $i }' | head -1
}

start_probe() { # start_probe NAME ARGS...
	local name=$1; shift
	# Ended by the stop file; --seconds only bounds a run gone wrong (a
	# slow machine takes well over a minute for the traffic below).
	ip netns exec "$NS_S" "$PROBE" --seconds=600 --stop-file="$TMP/stop" \
		--ready-file="$TMP/$name.ready" --max=16384 "$@" \
		>"$TMP/$name.json" 2>"$TMP/$name.err" </dev/null &
	PIDS+=($!)
	eval "PID_$name=$!"
	# 30 s: a sanitizer build on a slow, busy machine.
	for _ in $(seq 1 600); do
		[ -f "$TMP/$name.ready" ] && break
		kill -0 "$!" 2>/dev/null || break
		sleep 0.05
	done
	[ "$(cat "$TMP/$name.ready" 2>/dev/null)" = started ] ||
		die "probe $name did not start: $(cat "$TMP/$name.err")"
}

# --- run --------------------------------------------------------------------
ip netns exec "$NS_S" "$PY" "$TMP/server.py" "$TMP/server.ready" \
	>"$TMP/server.log" 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 1 100); do [ -f "$TMP/server.ready" ] && break; sleep 0.05; done
[ -f "$TMP/server.ready" ] || die "server did not start"

# Debugging: SAMPLER_TEST_PCAP=FILE keeps a capture of the server's veth.
if [ -n "${SAMPLER_TEST_PCAP:-}" ] && command -v tcpdump >/dev/null; then
	ip netns exec "$NS_S" tcpdump -i any -s 200 -w "$SAMPLER_TEST_PCAP" \
		'tcp' 2>/dev/null </dev/null &
	PIDS+=($!)
	sleep 0.5
fi
start_probe p1 --ratio=1 --whatif=4.1-4.11,tw_recycle=1
start_probe p2 --ratio=2
start_probe p3 --interface=s0

# P3's interface goes down and up; the handle must survive or be reopened.
# On this kernel it gets ENETDOWN, is closed and reopened with backoff (1 s,
# then 2 s: about 3 s after the down) once s0 is up. The traffic must not
# start before: wait until a new packet socket bound to s0 runs (the
# namespace's /proc/net/packet: Iface = s0's index, R = 1; P1 and P2 are on
# "any", index 0), and both ends of the link are up.
S0_IDX=$(ip -n "$NS_S" -o link show s0 | cut -d: -f1)
p3_socks() { xs cat /proc/net/packet | awk -v i="$S0_IDX" 'NR > 1 && $5 == i && $6 == 1 { print $9 }'; }
# (Not `ip | grep -q`: with pipefail an early grep exit can fail the pipe.)
link_up() { grep -q 'state UP' <<<"$(ip -n "$NS_S" link show s0)" && grep -q 'state UP' <<<"$(ip -n "$NS_N" link show n0)"; }
P3_SOCK=$(p3_socks)
[ -n "$P3_SOCK" ] || die "no packet socket of p3 on s0 (index $S0_IDX): $(xs cat /proc/net/packet)"
ip -n "$NS_S" link set s0 down
sleep 1.5
ip -n "$NS_S" link set s0 up
for _ in $(seq 1 600); do
	[ -n "$(p3_socks | grep -vxF "$P3_SOCK")" ] && link_up && break
	sleep 0.05
done
[ -n "$(p3_socks | grep -vxF "$P3_SOCK")" ] ||
	echo "# p3 did not reopen its handle within 30 s (kept it?): $(xs cat /proc/net/packet | tr '\n' ';')"
link_up || die "s0/n0 not up again: $(ip -n "$NS_S" link show s0; ip -n "$NS_N" link show n0)"

PO0=$(tcpext PassiveOpens)
PT0=$(tcpext PAWSTimewait)
# nsum NAME: a Tcp counter (IPv4 and IPv6 alike) summed over every
# namespace of the test. Beyond one SYN, SYN-ACK and two FINs
# per connection, the wire can carry segments TCP sent again (RetransSegs:
# a SYN-ACK or FIN whose ACK a loaded machine held back past the RTO) and
# RSTs (OutRsts). For instance, veth hands packets to the sending CPU's
# backlog, so a client that moves between CPUs can have its FIN overtake
# the ACK it sent before; the server, in TIME-WAIT by then, answers the
# late ACK (and counts PAWSTimewait when its timestamp is older than the
# FIN's), and the closed client answers that with an RST.
nsum() {
	local ns t=0 v
	for ns in "$NS_S" "$NS_N" "$NS_A" "$NS_B"; do
		v=$(tcpext "$1" "$ns")
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
RT0=$(nsum RetransSegs) RST0=$(nsum OutRsts)

# Each connection lasts 0.3 s (the server waits before closing). The NAT
# clock clustering learns a line's tick rate from its first two points; a
# connection whose SYN and FIN come within a millisecond or two fits every
# rate, and natclust then keeps the first one (1 Hz), so the host's next
# connection starts a new line and the source looks like per-connection
# offsets: a limitation of model/natclust.c with very short connections,
# reported, not tested here.
#
# NAT: A and B alternate, each from its fixed port; 1.2 s between two
# connections of one client, more than the 3.5 x RTO (700 ms) TIME-WAIT of
# the what-if tw_recycle kernel, so the what-if passive check judges them.
NNAT=6
: >"$TMP/nat.out"
for i in $(seq 1 $NNAT); do
	ip netns exec "$NS_A" "$PY" "$TMP/client.py" 10.9.0.1 8080 10.9.1.2 40001 1 0.6 >>"$TMP/nat.out" 2>&1
	ip netns exec "$NS_B" "$PY" "$TMP/client.py" 10.9.0.1 8080 10.9.2.2 40002 1 0.6 >>"$TMP/nat.out" 2>&1
done
# Direct clients: 3 connections from each of 10.9.0.20..23.
: >"$TMP/direct.out"; : >"$TMP/direct6.out"
for i in 20 21 22 23; do
	xn "$PY" "$TMP/client.py" 10.9.0.1 8080 10.9.0.$i 0 3 0.05 >>"$TMP/direct.out" 2>&1
done
for a in 14 15; do
	xn "$PY" "$TMP/client.py" fd00:9::1 8082 fd00:9::$a 0 2 0.05 >>"$TMP/direct6.out" 2>&1
done
# Loopback inside the server namespace.
xs "$PY" "$TMP/client.py" 127.0.0.1 8081 127.0.0.1 0 3 0.05 >"$TMP/lo.out" 2>&1

# The probes read their last capture blocks (100 ms block timeout) before
# the stop file; they wait 0.5 s more themselves. Generous for a slow box.
sleep 1.5
PO1=$(tcpext PassiveOpens)
PT1=$(tcpext PAWSTimewait)
touch "$TMP/stop"
for p in $PID_p1 $PID_p2 $PID_p3; do wait "$p"; done
RT1=$(nsum RetransSegs) RST1=$(nsum OutRsts)

# Unprivileged: no CAP_NET_RAW.
ip netns exec "$NS_S" setpriv --reuid=65534 --regid=65534 --clear-groups \
	--inh-caps=-all --bounding-set=-all "$PROBE" --seconds=0.1 \
	>"$TMP/p4.json" 2>"$TMP/p4.err"

for p in p1 p2 p3 p4; do echo "== $p"; cat "$TMP/$p.json"; done

NATOK=$(awk '{s += $1} END {print s + 0}' "$TMP/nat.out")
DIROK=$(awk '{s += $1} END {print s + 0}' "$TMP/direct.out")
LOOK=$(awk '{s += $1} END {print s + 0}' "$TMP/lo.out")
DIR6OK=$(awk '{s += $1} END {print s + 0}' "$TMP/direct6.out")
SENT=$((NATOK + DIROK + LOOK + DIR6OK))
ACCEPTED=$((PO1 - PO0))
echo "connections: nat $NATOK direct $DIROK direct IPv6 $DIR6OK loopback $LOOK; PassiveOpens +$ACCEPTED"

check "clients made every connection (12 + 12 + 4 + 3)" [ "$NATOK/$DIROK/$DIR6OK/$LOOK" = 12/12/4/3 ]
check "server accepted each SYN once (PassiveOpens +$ACCEPTED == $SENT)" \
	[ "$ACCEPTED" = "$SENT" ]

# P1: ratio 1 on "any".
check "p1 state ok on LINUX_SLL2" \
	[ "$(jget "$TMP/p1.json" '[d["state"], d["linktype"]]')" = '["ok", "LINUX_SLL2"]' ]
check "p1 SYNs seen == SYNs sent ($SENT)" \
	[ "$(jget "$TMP/p1.json" 'd["model"]["syns"]')" = "$SENT" ]
check "p1 connections == $SENT" \
	[ "$(jget "$TMP/p1.json" 'd["model"]["connections"]')" = "$SENT" ]
check "p1 loopback connections counted once (127.0.0.1: 3 SYNs)" \
	[ "$(jget "$TMP/p1.json" '[s["syns"] for s in d["top"] if s["addr"] == "127.0.0.1"]')" = "[3]" ]
check "p1 IPv6 clients seen (fd00:9::14 and ::15: 2 SYNs each)" \
	[ "$(jget "$TMP/p1.json" 'sorted(s["syns"] for s in d["top"] if s["addr"].startswith("fd00:9::"))')" = "[2, 2]" ]
check "p1 server TIME-WAITs: one per connection ($SENT)" \
	[ "$(jget "$TMP/p1.json" 'd["model"]["tw"]')" = "$SENT" ]
check "p1 kernel filter in effect: kernel passed == frames read, no drops" \
	[ "$(jget "$TMP/p1.json" '[d["kernel_received"] == d["packets"], d["kernel_dropped"], d["ring_dropped"], d["foreign"], d["unsampled"]]')" = "[true, 0, 0, 0, 0]" ]
# IPv6 packets starting with an extension header pass the filter for the
# decoder (MLD reports: hop-by-hop, then ICMPv6); nothing else is skipped.
check "p1 nothing skipped but IPv6 non-TCP behind an extension header" \
	[ "$(jget "$TMP/p1.json" 'set(d["skipped_by"]) <= {"not_tcp"}')" = true ]
FED=$(jget "$TMP/p1.json" 'd["fed"]')
EXTRA=$((RT1 - RT0 + RST1 - RST0))
check "p1 every packet of the $SENT connections: SYN, SYN-ACK, 2 FINs, and what was sent again or reset ($FED fed, $((4 * SENT)) + at most $((RT1 - RT0)) retransmitted + $((RST1 - RST0)) RSTs)" \
	test "${FED:-0}" -ge $((4 * SENT)) -a "${FED:-0}" -le $((4 * SENT + EXTRA))
check "p1 no rejection predicted on $(uname -r) (6.16+), none observed" \
	[ "$(jget "$TMP/p1.json" '[d["profile"], d["predicted_rejections"], d["model"]["observed_unanswered_syns"]]')" = '["6.16+", 0, 0]' ]
# No SYN was refused (every SYN seen once, none unanswered, above); a late
# ACK overtaken by the FIN sent after it can still meet a TIME-WAIT (see
# nsum), and each such one ends in an RST.
check "PAWSTimewait moved only for late segments (+$((PT1 - PT0)), RSTs +$((RST1 - RST0)))" \
	test $((PT1 - PT0)) -le $((RST1 - RST0))
# Two steady clocks, each on one fixed port: two hosts, or one host with
# per-4-tuple offsets on two 4-tuples (docs/model.md): no count.
check "p1 NAT source 10.9.0.2: class unknown, no host count, not a NAT source" \
	[ "$(jget "$TMP/p1.json" '[d["nat_sources"], d["nat"]] + [[s["nat_class"], s["estimated_hosts"], s["syns"]] for s in d["top"] if s["addr"] == "10.9.0.2"]')" = '[0, [], ["unknown", 0, 12]]' ]
# What-if 4.1-4.11 with tw_recycle=1: the host whose clock is behind loses
# every SYN after the other's first stamp: 5 (A behind) or 6 (B behind)
# from the NAT address alone; single hosts with per-connection offsets
# (the direct clients, loopback) add about half of their later SYNs.
check "p1 what-if 4.1-4.11 tw_recycle=1 predicts >= 5 passive refusals" \
	[ "$(jget "$TMP/p1.json" 'd["whatif"][0]["profile"] == "4.1-4.11" and d["whatif"][0]["passive_paws"] >= 5 and d["whatif"][0]["predicted_rejections_per_min"] > 0')" = true ]

# P2: ratio 2: clients with an even last byte: 10.9.0.2 (NAT, 12 SYNs),
# 10.9.0.20 and 10.9.0.22 (3 each), fd00:9::14 (2); not .21, .23,
# fd00:9::15, 127.0.0.1.
check "p2 ratio 2: exactly the even clients (IPv4 and IPv6)" \
	[ "$(jget "$TMP/p2.json" 'sorted([s["addr"], s["syns"]] for s in d["top"])')" = '[["10.9.0.2", 12], ["10.9.0.20", 3], ["10.9.0.22", 3], ["fd00:9::14", 2]]' ]
check "p2 sampled 20 SYNs, scaled to 40, ratio carried" \
	[ "$(jget "$TMP/p2.json" '[d["ratio"], d["model"]["syns"], d["syns"], d["unsampled"], d["kernel_received"] == d["packets"]]')" = "[2, 20, 40, 0, true]" ]
check "p2 NAT source still seen whole (12 SYNs, class unknown)" \
	[ "$(jget "$TMP/p2.json" '[[s["nat_class"], s["syns"]] for s in d["top"] if s["addr"] == "10.9.0.2"]')" = '[["unknown", 12]]' ]

# P3: on s0 after down/up.
check "p3 survived s0 down/up: ok, all 28 non-loopback SYNs seen" \
	[ "$(jget "$TMP/p3.json" '[d["state"], d["interfaces_open"], d["model"]["syns"]]')" = '["ok", 1, 28]' ]
echo "p3 reopens $(jget "$TMP/p3.json" 'd["reopens"]'), capture errors $(jget "$TMP/p3.json" 'd["capture_errors"]')"

# P4: unprivileged.
check "unprivileged: unavailable, says CAP_NET_RAW" \
	[ "$(jget "$TMP/p4.json" '[d["state"], "CAP_NET_RAW" in d["error"]]')" = '["unavailable", true]' ]

finish
