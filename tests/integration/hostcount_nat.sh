#!/bin/bash
# Host counts and the diagnosis of `twaudit replay` on captures of real
# Linux clients behind an nftables masquerade NAT (docs/model.md "NAT
# clock clustering", measured in docs/kernel.md §11.8). Namespaces made
# by this test and deleted on exit:
#
#   client 1 10.151.1.2  --+
#   ...                    +-- br0 | router 10.151.0.2 ------ server 10.151.0.1
#   client 20 10.151.1.21 --+        (masquerade)               (tcpdump on s0)
#
# Each run sets net.ipv4.tcp_timestamps (per network namespace) on its
# clients, captures on the server's link and replays the capture with
# `twaudit replay --format=json`:
#   * tcp_timestamps=1 with 1, 4 and 20 clients: the kernel draws a
#     timestamp offset per 4-tuple (each source port an unrelated clock),
#     so the NAT address must be classed "per_connection" with no host
#     count;
#   * tcp_timestamps=1, clients bound to a few ports, each used twice (a
#     4-tuple used again keeps its clock): one client on 3 ports is
#     "unknown" (3 fixed-port hosts would look the same), one on 8 ports
#     "per_connection", 4 clients on the same 4 ports (the NAT remaps
#     some) get no host count;
#   * tcp_timestamps=2 with 4 and 20 clients: no offset, and every
#     namespace reads the same kernel clock, so the clients are one clock:
#     class "hosts" with estimated_hosts 1 (the count is of clocks; the
#     capture cannot tell these clients from one host, and neither could
#     a tw_recycle server);
#   * both: nothing unanswered, the diagnosis names the defaults and
#     "explains" is true;
#   * "firewall": an nft rule in the server namespace drops the SYNs to
#     one port, which one client connects to: those SYNs stay unanswered
#     and no setting explains them ("explains": false).
# Every connection lasts 150 ms or more: its SYN and the client's FIN are
# two timestamped points far enough apart for a clock rate. The clients
# run in one process, a thread per client namespace (setns(2)), so that
# 20 of them start together without 20 interpreters.
#
# Needs root. Skips (exit 77) where the machine lacks namespaces, nftables
# or tcpdump. Traffic stays inside these namespaces. About 40 s.
# HOSTCOUNT_KEEP=1 keeps the captures and JSON.
set -uo pipefail

TWAUDIT=${TWAUDIT:-build/twaudit}
. "$(dirname "$0")/lib.sh"
SUF=$$
NS_S=hc-srv-$SUF
NS_R=hc-rtr-$SUF
MAXC=20
CONNS=8			# connections per client and run
PORT=8080		# the server's port (the client closes first)
CPORT=8081		# the server closes first (0.15 s after accept)
FWPORT=8090		# SYNs to it dropped in the "firewall" run
KEEP_TMP=${HOSTCOUNT_KEEP:-}
nsc() { echo "hc-c$1-$SUF"; }
NETNS=("$NS_S" "$NS_R")
for i in $(seq 1 $MAXC); do NETNS+=("$(nsc "$i")"); done

[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
command -v ip >/dev/null || skip "ip not installed"
command -v nft >/dev/null || skip "nft (nftables) not installed"
command -v tcpdump >/dev/null || skip "tcpdump not installed"
[ -x "$TWAUDIT" ] || die "twaudit binary $TWAUDIT not built"
ip netns add "$NS_S" 2>"$TMP/netns.err" ||
	skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
xs() { ip netns exec "$NS_S" "$@"; }
T0=$(now_us)
elapsed() { echo $(( ($(now_us) - T0) / 1000000 )); }
xr() { ip netns exec "$NS_R" "$@"; }

# --- topology ---------------------------------------------------------------
# Batched (`ip -b`, one process per namespace): a client namespace takes 5
# commands, and 20 namespaces one command at a time take seconds on a
# busy machine.
set -e
ip netns add "$NS_R"
for i in $(seq 1 $MAXC); do echo "netns add $(nsc "$i")"; done | ip -b -
ip -n "$NS_S" -b - <<EOF
link set lo up
link add s0 type veth peer name r0 netns $NS_R
addr add 10.151.0.1/24 dev s0
link set s0 up
EOF
for i in $(seq 1 $MAXC); do
	ip -n "$(nsc "$i")" -b - <<EOF
link set lo up
link add c0 type veth peer name p$i netns $NS_R
addr add 10.151.1.$((i + 1))/24 dev c0
link set c0 up
route add default via 10.151.1.1
EOF
done
{
	echo "link set lo up"
	echo "addr add 10.151.0.2/24 dev r0"
	echo "link set r0 up"
	echo "link add br0 type bridge"
	echo "addr add 10.151.1.1/24 dev br0"
	echo "link set br0 up"
	for i in $(seq 1 $MAXC); do echo "link set p$i master br0"; echo "link set p$i up"; done
} | ip -n "$NS_R" -b -
xr sysctl -qw net.ipv4.ip_forward=1
xr nft -f - <<'EOF'
table ip hcnat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.151.1.0/24 oifname "r0" masquerade
	}
}
EOF
set +e
xs sysctl -qw net.ipv4.tcp_timestamps=1 || die "server tcp_timestamps"

# --- programs ---------------------------------------------------------------
# server.py READY: accepts on PORT and FWPORT, reads to EOF, closes (the
# client closes first: no TIME-WAIT on the server, nothing refused); on
# CPORT it closes first, 0.15 s after accept (the client can then use
# its 4-tuple again: the server's TIME-WAIT takes a SYN with a newer
# timestamp).
cat >"$TMP/server.py" <<PYEOF
import socket, sys, threading, time
def conn(s):
    s.settimeout(10)
    try:
        while s.recv(4096):
            pass
    except OSError:
        pass
    s.close()
def first(s):
    time.sleep(0.15)
    s.close()
def serve(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("10.151.0.1", port))
    ls.listen(512)
    while True:
        s, _ = ls.accept()
        threading.Thread(target=first if port == $CPORT else conn, args=(s,),
                         daemon=True).start()
for p in ($PORT, $CPORT, $FWPORT):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
open(sys.argv[1], "w").write("ready\n")
threading.Event().wait()
PYEOF
# clients.py TIMESTAMPS CLIENT...: every client in one process, a thread
# each, moved into its namespace with setns(2) (a thread's sockets and
# its /proc/sys/net are its own namespace's, and threads it starts stay
# there): sets the namespace's net.ipv4.tcp_timestamps, waits for the
# others, then connects. CLIENT is NAMESPACE:KIND:A:B:
#   eph:N:TIMEOUT  N connections to PORT from ephemeral ports, one every
#                  30 ms, each open 150 ms, the client closing first
#   fw:N:TIMEOUT   the same to FWPORT
#   reuse:P:T      to CPORT from client ports 41000 ... (P of them), each
#                  used T times (all ports in turn, T rounds); waits for
#                  the server's FIN, then closes (one 4-tuple used again
#                  keeps its timestamp offset)
# Prints the number of connections made; errors go to stderr.
cat >"$TMP/clients.py" <<PYEOF
import ctypes, os, socket, sys, threading, time
libc = ctypes.CDLL(None, use_errno=True)   # os.setns is Python 3.12+
CLONE_NEWNET = 0x40000000
tsv, specs = sys.argv[1], [a.split(":") for a in sys.argv[2:]]
ready = threading.Barrier(len(specs))
made, lock = [0], threading.Lock()
def ok():
    with lock:
        made[0] += 1
def eph(port, n, timeout):
    def one():
        c = socket.socket()
        c.settimeout(timeout)
        try:
            c.connect(("10.151.0.1", port))
            time.sleep(0.15)
            ok()
        except OSError:
            pass
        c.close()
    ts = []
    for _ in range(n):
        t = threading.Thread(target=one); t.start(); ts.append(t)
        time.sleep(0.03)
    for t in ts:
        t.join()
def reuse(ports, times):
    for _ in range(times):
        for p in range(41000, 41000 + ports):
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            c.settimeout(5)
            try:
                c.bind(("0.0.0.0", p))
                c.connect(("10.151.0.1", $CPORT))
                if c.recv(1) == b"":
                    ok()
            except OSError as e:
                print(p, e, file=sys.stderr)
            c.close()
def client(ns, kind, a, b):
    fd = os.open("/run/netns/" + ns, os.O_RDONLY)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns " + ns)
    os.close(fd)
    with open("/proc/sys/net/ipv4/tcp_timestamps", "w") as f:
        f.write(tsv)
    # The reuse ports are never an ephemeral port: a client-side
    # TIME-WAIT on one (the eph clients close first) would refuse the
    # bind for 60 s (EADDRINUSE: it was not bound with SO_REUSEADDR).
    with open("/proc/sys/net/ipv4/ip_local_reserved_ports", "w") as f:
        f.write("41000-41099")
    ready.wait(10)
    if kind == "eph":
        eph($PORT, int(a), float(b))
    elif kind == "fw":
        eph($FWPORT, int(a), float(b))
    else:
        reuse(int(a), int(b))
ts = [threading.Thread(target=client, args=s) for s in specs]
for t in ts:
    t.start()
for t in ts:
    t.join()
print(made[0])
PYEOF

ip netns exec "$NS_S" "$PY" "$TMP/server.py" "$TMP/server.ready" >"$TMP/server.log" 2>&1 </dev/null &
PIDS+=($!)
wait_until 10 test -f "$TMP/server.ready" || die "server did not start: $(cat "$TMP/server.log")"

start_capture() { # start_capture RUN
	ip netns exec "$NS_S" tcpdump -i s0 --immediate-mode -U -s 128 -w "$TMP/$1.pcap" 'tcp and host 10.151.0.1' \
		>"$TMP/tcpdump-$1.log" 2>&1 </dev/null &
	CAP_PID=$!
	PIDS+=($CAP_PID)
	wait_until 10 grep -q 'listening on' "$TMP/tcpdump-$1.log" ||
		die "tcpdump did not start: $(cat "$TMP/tcpdump-$1.log")"
}
# stop_capture RUN: once the file has not grown for 0.3 s (immediate
# mode: tcpdump writes each packet as the kernel hands it over; the
# clients have exited, so their last segments are out), then SIGINT
# (tcpdump flushes and prints its counts).
stop_capture() {
	local a b
	for _ in $(seq 1 30); do
		a=$(stat -c %s "$TMP/$1.pcap"); sleep 0.3; b=$(stat -c %s "$TMP/$1.pcap")
		[ "$a" = "$b" ] && break
	done
	kill -INT "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null
	grep -q '^0 packets dropped by kernel' "$TMP/tcpdump-$1.log" ||
		fail "[$1] tcpdump dropped packets: $(cat "$TMP/tcpdump-$1.log")"
}

# run NAME TIMESTAMPS N KIND A B [FW]: N clients of KIND (clients.py)
# with tcp_timestamps=TIMESTAMPS, and FW more, each connecting twice to
# FWPORT (2.5 s timeout: the SYN and its retransmission at +1 s).
# CONNECTED: connections made. Then the replay: $TMP/NAME.json.
run() {
	local name=$1 tsv=$2 n=$3 kind=$4 a=$5 b=$6 fw=${7:-0} i specs=()
	for i in $(seq 1 "$n"); do specs+=("$(nsc "$i"):$kind:$a:$b"); done
	for i in $(seq $((n + 1)) $((n + fw))); do specs+=("$(nsc "$i"):fw:2:2.5"); done
	start_capture "$name"
	CONNECTED=$("$PY" "$TMP/clients.py" "$tsv" "${specs[@]}" 2>"$TMP/$name.err")
	head -5 "$TMP/$name.err"
	stop_capture "$name"
	"$TWAUDIT" replay --format=json "$TMP/$name.pcap" >"$TMP/$name.json" 2>"$TMP/$name.rerr" ||
		fail "[$name] replay exit $?: $(cat "$TMP/$name.rerr")"
	echo "[$name] ($(elapsed) s) tcp_timestamps=$tsv, $n clients $kind:$a:$b ($CONNECTED connections made), $fw to the firewalled port:" \
		"$(jget "$TMP/$name.json" '{"sources": [[s["address"], s["syns"], s["class"], s["estimated_hosts"], s["confidence"]] for s in d["sources"]], "observed_unanswered_syns": d["observed_unanswered_syns"], "diagnosis": {k: v for k, v in d["diagnosis"].items() if k != "equivalent"}}')"
	validate_json "$SCHEMAS/replay.schema.json" "$TMP/$name.json" ||
		fail "[$name] replay JSON does not match the schema"
}

# src NAME: the NAT address's [class, estimated_hosts] in run NAME.
src() { jget "$TMP/$1.json" '[[s["class"], s["estimated_hosts"]] for s in d["sources"] if s["address"] == "10.151.0.2"]'; }
# defaults NAME: nothing unanswered, and the diagnosis is the defaults row
# of the selected profile (6.16+, tcp_tw_recycle=0), explaining.
defaults() {
	jget "$TMP/$1.json" '[d["observed_unanswered_syns"], d["diagnosis"]["profile"], d["diagnosis"]["settings"]["net.ipv4.tcp_tw_recycle"], d["diagnosis"]["explains"], d["diagnosis"]["unexplained_unanswered"], d["diagnosis"]["predicted_but_answered"]]'
}
DEFAULTS='[0, "6.16+", 0, true, 0, 0]'
# explained NAME: the diagnosis is that defaults row and it explains every
# unanswered SYN, with none predicted but answered. Where clients behind
# the NAT use the same ports again, a SYN can meet the server's TIME-WAIT
# of another client's connection on the same public 4-tuple, with an
# older timestamp (docs/kernel.md §11.8):
# the kernel's PAWS check drops it, answers an ACK, the client's RST ends
# the TIME-WAIT and the retransmission gets through. Whether the NAT makes
# such a pair differs from run to run; the defaults model each one.
explained() { defaults "$1" | sed 's/^\[[0-9]*, /[N, /'; }
EXPLAINED='[N, "6.16+", 0, true, 0, 0]'

# --- runs -------------------------------------------------------------------
for n in 1 4 20; do
	run "ts1-$n" 1 "$n" eph $CONNS 5
	check "[ts1-$n] all $((n * CONNS)) connections made" [ "$CONNECTED" = $((n * CONNS)) ]
	check "[ts1-$n] NAT address classed per_connection, no host count ($(src "ts1-$n"))" \
		[ "$(src "ts1-$n")" = '[["per_connection", null]]' ]
	check "[ts1-$n] diagnosis: the defaults, nothing unanswered ($(defaults "ts1-$n"))" \
		[ "$(defaults "ts1-$n")" = "$DEFAULTS" ]
done
# One 4-tuple used again keeps its offset: one client on 3 ports, each
# used twice, is 3 steady clocks of 2 connections each (the same trace
# as 3 hosts with fixed ports, each connecting twice): too little to
# tell, so no count. One client on 8 ports, each used twice: 8 clocks,
# none shared across ports: per-connection offsets. 4 clients on the
# same 4 ports, each used twice: masquerade gives some 4-tuples another
# public port when they are used again (docs/kernel.md §11.8), so a
# clock can show on two ports; still no host count.
run ts1-reuse-1 1 1 reuse 3 2
check "[ts1-reuse-1] all 6 connections made" [ "$CONNECTED" = 6 ]
check "[ts1-reuse-1] 3 ports each used twice: class unknown, no count ($(src ts1-reuse-1))" \
	[ "$(src ts1-reuse-1)" = '[["unknown", null]]' ]
check "[ts1-reuse-1] diagnosis: the defaults, nothing unanswered ($(defaults ts1-reuse-1))" \
	[ "$(defaults ts1-reuse-1)" = "$DEFAULTS" ]
run ts1-reuse-8 1 1 reuse 8 2
check "[ts1-reuse-8] all 16 connections made" [ "$CONNECTED" = 16 ]
check "[ts1-reuse-8] 8 ports each used twice: per_connection, no count ($(src ts1-reuse-8))" \
	[ "$(src ts1-reuse-8)" = '[["per_connection", null]]' ]
run ts1-reuse-4x4 1 4 reuse 4 2
check "[ts1-reuse-4x4] all 32 connections made" [ "$CONNECTED" = 32 ]
check "[ts1-reuse-4x4] 4 clients x the same 4 ports, each used twice: no host count ($(src ts1-reuse-4x4))" \
	[ "$(jget "$TMP/ts1-reuse-4x4.json" '[s["estimated_hosts"] for s in d["sources"]]')" = '[null]' ]
check "[ts1-reuse-4x4] diagnosis: the defaults, explaining every unanswered SYN ($(defaults ts1-reuse-4x4))" \
	[ "$(explained ts1-reuse-4x4)" = "$EXPLAINED" ]
for n in 4 20; do
	run "ts2-$n" 2 "$n" eph $CONNS 5
	check "[ts2-$n] all $((n * CONNS)) connections made" [ "$CONNECTED" = $((n * CONNS)) ]
	check "[ts2-$n] $n clients on one kernel clock: class hosts, 1 clock ($(src "ts2-$n"))" \
		[ "$(src "ts2-$n")" = '[["hosts", 1]]' ]
	check "[ts2-$n] diagnosis: the defaults, nothing unanswered ($(defaults "ts2-$n"))" \
		[ "$(defaults "ts2-$n")" = "$DEFAULTS" ]
done

# Firewall: SYNs to FWPORT dropped in the server namespace (after the
# capture point: tcpdump sees them, the listener never does).
xs nft -f - <<EOF || die "nft rule in the server namespace"
table inet hcfw {
	chain in {
		type filter hook input priority filter; policy accept;
		tcp dport $FWPORT tcp flags & (syn | ack) == syn drop
	}
}
EOF
run fw 1 4 eph $CONNS 5 1
check "[fw] 32 connections made, none to the firewalled port" [ "$CONNECTED" = 32 ]
check "[fw] unanswered SYNs: at least the 2 firewalled connections' first SYNs and retries (>= 4: $(jget "$TMP/fw.json" 'd["observed_unanswered_syns"]'))" \
	[ "$(jget "$TMP/fw.json" 'd["observed_unanswered_syns"] >= 4')" = true ]
check "[fw] diagnosis: no setting explains them ($(jget "$TMP/fw.json" '{k: v for k, v in d["diagnosis"].items() if k != "equivalent"}'))" \
	[ "$(jget "$TMP/fw.json" '[d["diagnosis"]["explains"], d["diagnosis"]["unexplained_unanswered"] > 0]')" = '[false, true]' ]
"$TWAUDIT" replay "$TMP/fw.pcap" >"$TMP/fw.txt" 2>&1
check "[fw] text output says no setting explains them" grep -qi 'no setting explains' "$TMP/fw.txt"

echo "elapsed $(elapsed) s"
finish
