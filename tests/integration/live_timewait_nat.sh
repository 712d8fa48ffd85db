#!/bin/bash
# `twaudit serve` with its live sampler in a server namespace behind an
# nftables masquerade NAT, against the real kernel's TIME-WAIT PAWS checks
# (docs/kernel.md §7, measured on 6.18 in §11.3). Namespaces made by
# this test and deleted on exit:
#
#   client A 10.14.1.2:40000 --+
#   client B 10.14.2.2:40000 --+-- NAT 10.14.0.2 (masquerade, conntrack
#   client C 10.14.3.2:40000 --+     TIME_WAIT 1 s) ------ server 10.14.0.1
#
# Every client connects from the same fixed port 40000, so the NAT maps
# each of them to 10.14.0.2:40000 once the previous client's conntrack
# entry has expired (1 s): the next client's SYN meets the server's
# TIME-WAIT socket for the previous client's connection. Linux 6.18 gives
# each 4-tuple its own TS offset (§11.2): one steady, unrelated clock per
# client. A small python server closes every connection first (0.3 s
# after accept).
#
# Phases (a fresh `twaudit serve --sampler.enabled` per phase, each phase
# on its own server port so no TIME-WAIT of an earlier phase is involved):
#   1 ts       tcp_timestamps=1, tcp_rfc1337=0: A B A C B C A (each pair
#              both ways: exactly one SYN per pair is PAWS-refused)
#   2 nots     tcp_timestamps=0: the same sequence (refusals by seq only,
#              no counter)
#   3 rfc1337  tcp_rfc1337=1: A, then B, then A again if B got through:
#              the client whose clock is behind fails (2.5 s timeout)
# Asserts, per phase, with exact equality:
#   * the model's timewait_paws (/model rejections_by_reason) == the
#     server namespace's TcpExt PAWSTimewait delta;
#   * the model's refused SYNs (/model predicted_rejections) == the SYNs
#     the server answered with a bare ACK or not at all (server-side
#     tcpdump on s0, tcpdump installed with apt-get when missing) == the
#     SYNs the clients had to send again (TCP_INFO total_retrans, + 1 per
#     failed connection);
#   * the model's observed_unanswered_syns == the capture's refused SYNs,
#     the last one of a client that gave up included (the live model
#     settles SYNs left unanswered for 1 s);
#   * silently refused SYNs in the capture == TCPACKSkippedTimeWait delta;
#   * no sampler drops (kernel, queue);
#   * the NAT source 10.14.0.2 is found with 3 hosts (phase 1);
#   * /metrics twaudit_model_predicted_rejections_total{profile="6.16+"}
#     and twaudit_model_observed_unanswered_syns_total as /model;
#   * rfc1337: a client really failed, and /advice has rfc1337_timewait_nat;
#   * twaudit_tcp_sockets (every state; time_wait with 300+ sockets) ==
#     `ss -tan` run within the same second, in the server namespace, after
#     8 s without traffic (scrapes reuse the 5 s tick's sock_diag dump).
# Whole run: about 50 s. LIVETW_KEEP=1 keeps the captures and JSON.
#
# Needs root. Skips (exit 77) with a message where the machine lacks
# namespaces or nftables. Traffic stays inside these namespaces.
set -uo pipefail

TWAUDIT=${TWAUDIT:-build/twaudit}
SUF=$$
NS_S=twl-srv-$SUF
NS_N=twl-nat-$SUF
NS_A=twl-ca-$SUF
NS_B=twl-cb-$SUF
NS_C=twl-cc-$SUF
CLIENTS="A B C"
# Each unordered pair of clients follows each other both ways: of the two
# SYNs meeting the other's TIME-WAIT, exactly one carries the older clock
# (s32 comparison), whatever the random offsets are.
SEQ="A B A C B C A"
WEB=127.0.0.1:19477

. "$(dirname "$0")/lib.sh"
NETNS=("$NS_A" "$NS_B" "$NS_C" "$NS_N" "$NS_S")
KEEP_TMP=${LIVETW_KEEP:-}

[ "$(id -u)" -eq 0 ] || skip "needs root to create network namespaces"
for t in ip ss curl "$PY"; do
	command -v "$t" >/dev/null || skip "$t not installed"
done
if ! command -v nft >/dev/null; then
	apt-get install -y nftables >/dev/null 2>&1
	command -v nft >/dev/null || skip "nft (nftables) not installed"
fi
if ! command -v tcpdump >/dev/null; then
	apt-get install -y tcpdump >/dev/null 2>&1
	command -v tcpdump >/dev/null || skip "tcpdump not installed"
fi
[ -x "$TWAUDIT" ] || die "twaudit binary $TWAUDIT not built"
ip netns add "$NS_S" 2>"$TMP/netns.err" ||
	skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
for ns in "$NS_N" "$NS_A" "$NS_B" "$NS_C"; do
	ip netns add "$ns" || die "ip netns add $ns"
done

# Background processes are started with `ip netns exec` itself, not
# through these functions, so that $! is their pid.
xs() { ip netns exec "$NS_S" "$@"; }
xn() { ip netns exec "$NS_N" "$@"; }
nsof() { local v=NS_$1; echo "${!v}"; }
T0=$(date +%s.%N)
elapsed() { $PY -c "import sys,time; print('%.1f' % (time.time() - float(sys.argv[1])))" "$T0"; }

# --- topology (as tests/integration/sampler_netns.sh) -----------------------
set -e
for ns in "$NS_S" "$NS_N" "$NS_A" "$NS_B" "$NS_C"; do
	ip -n "$ns" link set lo up
done
ip -n "$NS_S" link add s0 type veth peer name n0 netns "$NS_N"
ip -n "$NS_S" addr add 10.14.0.1/24 dev s0
ip -n "$NS_N" addr add 10.14.0.2/24 dev n0
ip -n "$NS_S" link set s0 up
ip -n "$NS_N" link set n0 up
i=0
for c in $CLIENTS; do
	i=$((i + 1))
	ns=$(nsof "$c")
	ip -n "$ns" link add c0 type veth peer name "n$i" netns "$NS_N"
	ip -n "$NS_N" addr add "10.14.$i.1/24" dev "n$i"
	ip -n "$ns" addr add "10.14.$i.2/24" dev c0
	ip -n "$NS_N" link set "n$i" up
	ip -n "$ns" link set c0 up
	ip -n "$ns" route add default via "10.14.$i.1"
	# Per-4-tuple TS offsets (the 6.18 default): one clock per client
	# with its fixed port.
	ip netns exec "$ns" sysctl -qw net.ipv4.tcp_timestamps=1
done
xn sysctl -qw net.ipv4.ip_forward=1
xn nft -f - <<'EOF'
table ip twnat {
	chain post {
		type nat hook postrouting priority srcnat; policy accept;
		ip saddr 10.14.0.0/16 oifname "n0" masquerade
	}
}
EOF
set +e
# Conntrack exists once the NAT table does: mapped ports repeat after 1 s.
xn sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=1 ||
	skip "cannot set the NAT namespace's conntrack TIME_WAIT timeout"
xs sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_rfc1337=0 >/dev/null

# --- programs ---------------------------------------------------------------
cat >"$TMP/server.py" <<'PYEOF'
import socket, sys, threading, time
def serve(port):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("10.14.0.1", port))
    ls.listen(128)
    while True:
        s, _ = ls.accept()
        time.sleep(0.3)   # SYN and FIN >= 100 ms apart (NAT clustering)
        s.close()         # the server closes first: its side TIME-WAITs
for p in (8080, 8081, 8082):
    threading.Thread(target=serve, args=(p,), daemon=True).start()
open(sys.argv[1], "w").write("ready\n")
threading.Event().wait()
PYEOF

# client.py NAME PORT TIMEOUT: one connection from 10.14.x.2:40000; waits
# for the server's FIN, closes, prints a JSON line: whether it got through
# and how many SYNs it sent again (TCP_INFO tcpi_total_retrans).
cat >"$TMP/client.py" <<'PYEOF'
import json, socket, struct, sys, time
name, port, timeout = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
src = {"A": "10.14.1.2", "B": "10.14.2.2", "C": "10.14.3.2"}[name]
c = socket.socket()
c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
c.bind((src, 40000))
c.settimeout(timeout)
t = time.time()
okay = True
try:
    c.connect(("10.14.0.1", port))
except OSError:
    okay = False
info = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 104)
retrans = struct.unpack_from("I", info, 100)[0]
ms = (time.time() - t) * 1000
if okay:
    c.settimeout(5)
    assert c.recv(1) == b""
c.close()
print(json.dumps({"client": name, "ok": okay, "retrans": retrans,
                  "connect_ms": round(ms, 1)}))
PYEOF

# pcap_syns.py FILE PORT: every SYN to 10.14.0.1:PORT and how the server
# answered it: a SYN-ACK for it (accepted), a bare ACK (refused), nothing
# (refused silently), before the next SYN on the same 4-tuple.
cat >"$TMP/pcap_syns.py" <<'PYEOF'
import json, struct, sys
path, port = sys.argv[1], int(sys.argv[2])
data = open(path, "rb").read()
magic = struct.unpack_from("<I", data, 0)[0]
e = "<" if magic in (0xa1b2c3d4, 0xa1b23c4d) else ">"
nano = magic in (0xa1b23c4d, 0x4d3cb2a1)
linktype = struct.unpack_from(e + "I", data, 20)[0]
assert linktype == 1, "expected an Ethernet capture"
off, pkts = 24, []
while off + 16 <= len(data):
    sec, frac, incl, orig = struct.unpack_from(e + "IIII", data, off)
    frame = data[off + 16:off + 16 + incl]
    off += 16 + incl
    t = sec + frac / (1e9 if nano else 1e6)
    if len(frame) < 34 or frame[12:14] != b"\x08\x00":
        continue
    ip = frame[14:]
    ihl = (ip[0] & 15) * 4
    if ip[9] != 6:
        continue
    src, dst = ip[12:16], ip[16:20]
    tcp = ip[ihl:]
    sport, dport, seq, ack = struct.unpack_from("!HHII", tcp, 0)
    flags = tcp[13]
    tsval = None
    doff = (tcp[12] >> 4) * 4
    opts, i = tcp[20:doff], 0
    while i < len(opts):
        k = opts[i]
        if k == 0: break
        if k == 1: i += 1; continue
        if i + 1 >= len(opts): break
        l = opts[i + 1]
        if k == 8 and l == 10:
            tsval = struct.unpack_from("!I", opts, i + 2)[0]
        if l < 2: break
        i += l
    pkts.append((t, src, dst, sport, dport, seq, ack, flags, tsval))
SYN, ACK, RST, FIN = 2, 16, 4, 1
res = {"syns": 0, "accepted": 0, "refused_ack": 0, "refused_silent": 0,
       "refused_then_retried": 0}
syns = []   # (index, tuple, seq)
for n, p in enumerate(pkts):
    t, src, dst, sport, dport, seq, ack, flags, tsval = p
    if dport == port and flags & (SYN | ACK | RST) == SYN:
        syns.append((n, (src, sport, dst, dport), seq))
for k, (n, tup, seq) in enumerate(syns):
    res["syns"] += 1
    nxt = next((m for m, tu, _ in syns[k + 1:] if tu == tup), len(pkts))
    verdict = "refused_silent"
    for p in pkts[n + 1:nxt]:
        t, src, dst, sport, dport, s2, ack, flags, tsval = p
        if (dst, dport, src, sport) != tup:
            continue
        if flags & (SYN | ACK) == (SYN | ACK) and ack == (seq + 1) & 0xffffffff:
            verdict = "accepted"
            break
        if flags & (SYN | ACK | RST | FIN) == ACK and verdict == "refused_silent":
            verdict = "refused_ack"
    res[verdict] += 1
    if verdict != "accepted" and nxt < len(pkts):
        res["refused_then_retried"] += 1
res["refused"] = res["refused_ack"] + res["refused_silent"]
print(json.dumps(res))
PYEOF

tcpext() { # tcpext NAME: a TcpExt/Tcp counter of the server namespace
	xs cat /proc/net/netstat /proc/net/snmp | awk -v k="$1" '
		/^(TcpExt|Tcp):/ { if (!h[$1]) { h[$1] = 1; for (i = 2; i <= NF; i++) n[$1, i] = $i; next }
		  for (i = 2; i <= NF; i++) if (n[$1, i] == k) print $i }' | head -1
}
scrape() { xs curl -fsS --max-time 5 "http://$WEB$1"; }

start_serve() { # start_serve PHASE: serve in the server namespace
	local ph=$1
	ip netns exec "$NS_S" "$TWAUDIT" serve --web.listen-address="$WEB" --sampler.enabled \
		--sampler.server=10.14.0.1 --collect.min-interval=0s \
		>"$TMP/serve-$ph.log" 2>&1 </dev/null &
	SERVE_PID=$!
	PIDS+=($SERVE_PID)
	# 30 s: a sanitizer build on a slow, busy machine.
	for _ in $(seq 1 600); do
		scrape /healthz >/dev/null 2>&1 && break
		kill -0 "$SERVE_PID" 2>/dev/null || break
		sleep 0.05
	done
	scrape /healthz >/dev/null 2>&1 || die "serve did not come up: $(cat "$TMP/serve-$ph.log")"
}
stop_serve() {
	kill "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null
}
# wait_settings TS RFC1337: until the sampler's model runs with these
# settings (serve pushes the live sysctls to it on its 5 s tick; allow a
# few ticks on a loaded machine).
wait_settings() {
	local want="[$1, $2, 0]" got=
	for _ in $(seq 1 300); do
		scrape /model >"$TMP/m.json" 2>/dev/null &&
			got=$(jget "$TMP/m.json" '[d["settings"]["net.ipv4.tcp_timestamps"], d["settings"]["net.ipv4.tcp_rfc1337"], d["dropped"]["queue"]]' 2>/dev/null)
		if [ "$got" = "$want" ]; then
			RESETS0=$(jget "$TMP/m.json" 'd["model_resets"]')
			return 0
		fi
		sleep 0.1
	done
	die "sampler settings never became $want (last: $got; $(cat "$TMP/m.json"))"
}
start_capture() {
	ip netns exec "$NS_S" tcpdump -i s0 -U -s 128 -w "$TMP/$1.pcap" 'tcp and host 10.14.0.1' \
		>"$TMP/tcpdump-$1.log" 2>&1 </dev/null &
	CAP_PID=$!
	PIDS+=($CAP_PID)
	for _ in $(seq 1 600); do
		grep -q 'listening on' "$TMP/tcpdump-$1.log" && return 0
		kill -0 "$CAP_PID" 2>/dev/null || break
		sleep 0.05
	done
	die "tcpdump did not start: $(cat "$TMP/tcpdump-$1.log")"
}
stop_capture() {
	# tcpdump -U writes each packet as it reads it; the last ones are 1.3 s
	# old. Stop once the file no longer grows (a busy tcpdump may lag).
	local a b
	for _ in $(seq 1 30); do
		a=$(stat -c %s "$TMP/$PHASE.pcap"); sleep 0.3; b=$(stat -c %s "$TMP/$PHASE.pcap")
		[ "$a" = "$b" ] && break
	done
	kill -TERM "$CAP_PID" 2>/dev/null; wait "$CAP_PID" 2>/dev/null
}
# connect NAME PORT TIMEOUT: one connection, its JSON line appended to
# $TMP/PHASE.clients; then 1.3 s for the NAT's conntrack entry to expire.
connect() {
	ip netns exec "$(nsof "$1")" "$PY" "$TMP/client.py" "$1" "$2" "$3" \
		>>"$TMP/$PHASE.clients" 2>>"$TMP/$PHASE.clients.err"
	tail -1 "$TMP/$PHASE.clients"
	sleep 1.3
}
last_ok() { jget /dev/stdin 'd["ok"]' <<<"$(tail -1 "$TMP/$PHASE.clients")"; }

COUNTERS="PAWSTimewait TCPACKSkippedTimeWait PAWSEstab PassiveOpens TW"
snap_counters() { # snap_counters FILE
	for k in $COUNTERS; do echo "$k $(tcpext "$k")"; done >"$1"
}
delta() { # delta NAME: counter delta of the current phase
	echo $(( $(awk -v k="$1" '$1 == k {print $2}' "$TMP/$PHASE.c1") -
		$(awk -v k="$1" '$1 == k {print $2}' "$TMP/$PHASE.c0") ))
}
# model_settled N: wait until the model has fed every SYN of the capture.
model_settled() {
	local want=$1 got=
	for _ in $(seq 1 300); do	# 30 s +: a sanitizer build on a busy machine
		scrape /model >"$TMP/$PHASE.model.json" &&
			got=$(jget "$TMP/$PHASE.model.json" 'd["sampled_syns"]')
		[ "$got" = "$want" ] && return 0
		sleep 0.1
	done
	echo "model saw $got SYNs, capture $want" >&2
	return 1
}

# phase_check PORT: the equality checks of a phase.
phase_check() {
	local port=$1 cap syns refused silent retried paws model
	$PY "$TMP/pcap_syns.py" "$TMP/$PHASE.pcap" "$port" >"$TMP/$PHASE.cap.json"
	cap=$TMP/$PHASE.cap.json
	syns=$(jget "$cap" 'd["syns"]')
	refused=$(jget "$cap" 'd["refused"]')
	silent=$(jget "$cap" 'd["refused_silent"]')
	retried=$(jget "$cap" 'd["refused_then_retried"]')
	model_settled "$syns"
	sleep 2.2	# NAT clustering figures are refreshed every 2 s
	# The model settles a SYN left unanswered 1 s after it, and refreshes
	# the NAT figures every 2 s, on its own thread's time: on a slow, busy
	# machine that can come later than 2.2 s. Wait (30 s at most) until
	# every refused SYN of the capture is settled (and, in phase ts, the NAT
	# figures cover every client); the checks below then compare exactly.
	local settled=no
	for _ in $(seq 1 150); do
		scrape /model >"$TMP/$PHASE.model.json" &&
			[ "$(jget "$TMP/$PHASE.model.json" 'd["observed_unanswered_syns"] >= '"$refused"' and ("'"$PHASE"'" != "ts" or [s["estimated_hosts"] for s in d["nat_sources"]] == [3])')" = true ] &&
			{ settled=yes; break; }
		sleep 0.2
	done
	[ "$settled" = yes ] || echo "[$PHASE] the model did not settle within 30 s (checks below say how)" >&2
	scrape /model >"$TMP/$PHASE.model.json"
	scrape /metrics >"$TMP/$PHASE.metrics"
	model=$TMP/$PHASE.model.json
	local cli_resent cli_failed
	cli_resent=$($PY -c 'import json,sys; print(sum(json.loads(l)["retrans"] for l in open(sys.argv[1])))' "$TMP/$PHASE.clients")
	cli_failed=$($PY -c 'import json,sys; print(sum(not json.loads(l)["ok"] for l in open(sys.argv[1])))' "$TMP/$PHASE.clients")
	echo "[$PHASE] capture: $(cat "$cap")"
	echo "[$PHASE] clients: resent $cli_resent SYNs, $cli_failed failed"
	echo "[$PHASE] model: $($PY -c 'import json,sys; d=json.load(open(sys.argv[1])); print(json.dumps({k: d[k] for k in ("sampled_syns","predicted_rejections","rejections_by_reason","observed_unanswered_syns","dropped","settings","model_resets","nat_sources","top_sources")}))' "$model")"
	echo "[$PHASE] kernel: $(for k in $COUNTERS; do printf '%s +%s ' "$k" "$(delta "$k")"; done)"

	paws=$(jget "$model" 'd["rejections_by_reason"]["timewait_paws"]')
	check "[$PHASE] model timewait_paws ($paws) == PAWSTimewait delta ($(delta PAWSTimewait))" \
		[ "$paws" = "$(delta PAWSTimewait)" ]
	check "[$PHASE] model refused SYNs ($(jget "$model" 'd["predicted_rejections"]')) == SYNs answered by a bare ACK or not at all ($refused)" \
		[ "$(jget "$model" 'd["predicted_rejections"]')" = "$refused" ]
	check "[$PHASE] refused SYNs in the capture ($refused) == SYNs the clients resent + failed connections ($cli_resent + $cli_failed)" \
		[ "$refused" = $((cli_resent + cli_failed)) ]
	# Every refused SYN, including the last one of a client that gave up:
	# the live model settles SYNs unanswered for 1 s (model_settle).
	check "[$PHASE] model observed_unanswered_syns ($(jget "$model" 'd["observed_unanswered_syns"]')) == refused SYNs in the capture ($refused; $retried of them retried)" \
		[ "$(jget "$model" 'd["observed_unanswered_syns"]')" = "$refused" ]
	check "[$PHASE] silently refused SYNs ($silent) == TCPACKSkippedTimeWait delta ($(delta TCPACKSkippedTimeWait))" \
		[ "$silent" = "$(delta TCPACKSkippedTimeWait)" ]
	check "[$PHASE] model SYNs ($(jget "$model" 'd["syns"]')) == captured SYNs ($syns)" \
		[ "$(jget "$model" 'd["syns"]')" = "$syns" ]
	# serve pushes the live sysctls at its first tick, before any traffic;
	# they are applied to the running model in place (settings_changes),
	# so model_resets stays 0 (RESETS0); none may happen after either.
	check "[$PHASE] no sampler drops (kernel, queue), no model reset during the traffic" \
		[ "$(jget "$model" '[d["dropped"]["kernel"], d["dropped"]["queue"], d["model_resets"]]')" = "[0, 0, $RESETS0]" ]
	check "[$PHASE] /metrics: predicted_rejections_total{profile=\"6.16+\"} and observed_unanswered_syns_total as /model" \
		[ "$(awk '$1 == "twaudit_model_predicted_rejections_total{profile=\"6.16+\"}" {a = $2} $1 == "twaudit_model_observed_unanswered_syns_total" {b = $2} END {print a, b}' "$TMP/$PHASE.metrics")" = "$(jget "$model" 'd["predicted_rejections"]') $(jget "$model" 'd["observed_unanswered_syns"]')" ]
}

run_phase() { # run_phase NAME TIMESTAMPS RFC1337
	PHASE=$1
	xs sysctl -qw net.ipv4.tcp_timestamps="$2" net.ipv4.tcp_rfc1337="$3"
	start_serve "$PHASE"
	wait_settings "$2" "$3"
	start_capture "$PHASE"
	snap_counters "$TMP/$PHASE.c0"
}
end_phase() {
	stop_capture
	snap_counters "$TMP/$PHASE.c1"
}

# --- run --------------------------------------------------------------------
ip netns exec "$NS_S" "$PY" "$TMP/server.py" "$TMP/server.ready" >"$TMP/server.log" 2>&1 </dev/null &
PIDS+=($!)
for _ in $(seq 1 600); do [ -f "$TMP/server.ready" ] && break; sleep 0.05; done
[ -f "$TMP/server.ready" ] || die "server did not start"

# Phase 1: timestamps on. Of two clients following each other, the one
# whose clock is behind is PAWS-refused (bare ACK, PAWSTimewait +1); its
# RST kills the TIME-WAIT and its retry ~10 ms later gets in.
run_phase ts 1 0
for c in $SEQ; do connect "$c" 8080 5; done
end_phase

# sock_diag against ss, in the same namespace and second. /metrics takes
# its netlink dumps from serve's 5 s background tick (scrapes reuse them),
# so the namespace is left quiet (no connection, no scrape) for longer
# than a tick first: the tick's dump and ss then see the same sockets.
# 300 more TIME-WAITs on loopback (the server closes first) make the
# count worth comparing. ss runs first: the scrape's own connection
# TIME-WAITs after it.
xs "$PY" - <<'PYEOF'
import socket
ls = socket.socket(); ls.bind(("127.0.0.1", 0)); ls.listen(512)
for _ in range(300):
    c = socket.create_connection(ls.getsockname())
    s, _ = ls.accept(); s.close()
    assert c.recv(1) == b""; c.close()
PYEOF
# 8 s: one 5 s tick, with 3 s to spare for a late tick on a busy machine.
sleep 8
xs ss -tan >"$TMP/ss.txt"
SS_SEC=$(date +%s.%N)
scrape /metrics >"$TMP/sd.metrics"
MET_SEC=$(date +%s.%N)
SS_TW=$(awk 'NR > 1 && $1 == "TIME-WAIT"' "$TMP/ss.txt" | wc -l)
SS_TW2=$(xs ss -tan state time-wait | tail -n +2 | wc -l)
MET_TW=$(awk '$1 == "twaudit_tcp_sockets{state=\"time_wait\"}" {print $2}' "$TMP/sd.metrics")
MET_TWS=$(awk '$1 == "twaudit_tcp_timewait_sockets" {print $2}' "$TMP/sd.metrics")
echo "sock_diag: twaudit_tcp_sockets{state=\"time_wait\"} $MET_TW, twaudit_tcp_timewait_sockets $MET_TWS; ss -tan: $SS_TW (then $SS_TW2 with the scrape's own); seconds $SS_SEC/$MET_SEC"
check "sock_diag time_wait ($MET_TW) == ss -tan state time-wait ($SS_TW), >= 300" \
	[ "$MET_TW" = "$SS_TW" -a "$SS_TW" -ge 300 ]
check "ss and the scrape within the same second ($SS_SEC, $MET_SEC)" \
	$PY -c 'import sys; sys.exit(float(sys.argv[2]) - float(sys.argv[1]) >= 1)' "$SS_SEC" "$MET_SEC"
check "twaudit_tcp_timewait_sockets ($MET_TWS) == $SS_TW" [ "$MET_TWS" = "$SS_TW" ]
# Every state, as ss names them.
SS_STATES=$(awk 'NR > 1 { n[tolower($1)]++ } END { for (k in n) print k, n[k] }' "$TMP/ss.txt" |
	sed 's/-/_/g; s/^fin_wait_/fin_wait/; s/^unconn/close/; s/^estab /established /' | sort)
MET_STATES=$(awk -F'[{}" ]+' '$1 == "twaudit_tcp_sockets" && $NF != 0 {print $3, $NF}' "$TMP/sd.metrics" | sort)
echo "ss states: $(echo $SS_STATES); twaudit: $(echo $MET_STATES)"
check "sock_diag counts per state == ss -tan (every non-zero state)" [ "$SS_STATES" = "$MET_STATES" ]

phase_check 8080
check "[ts] NAT source 10.14.0.2 found with 3 hosts" \
	[ "$(jget "$TMP/ts.model.json" '[[s["address"], s["class"], s["estimated_hosts"]] for s in d["nat_sources"]]')" = '[["10.14.0.2", "hosts", 3]]' ]
check "[ts] /metrics twaudit_model_nat_sources 1" \
	grep -qx 'twaudit_model_nat_sources 1' "$TMP/ts.metrics"
check "[ts] 3 SYNs PAWS-refused: one per pair of clients" \
	[ "$(delta PAWSTimewait)" = 3 ]
stop_serve
echo "elapsed $(elapsed) s"

# Phase 2: server timestamps off. The TIME-WAIT has no TS to compare: a
# SYN whose seq is not after the old rcv_nxt is refused (bare ACK, RST,
# retry) and no counter moves (§11.3). Client ISNs are keyed hashes of
# their own 4-tuples, so again about one direction per pair is refused.
run_phase nots 0 0
for c in $SEQ; do connect "$c" 8081 5; done
end_phase
phase_check 8081
check "[nots] refusals happened, all by seq (timewait_seq $(jget "$TMP/nots.model.json" 'd["rejections_by_reason"]["timewait_seq"]') == refused, > 0), no PAWS counter" \
	[ "$(jget "$TMP/nots.model.json" '[d["rejections_by_reason"]["timewait_seq"] == d["predicted_rejections"] > 0, d["rejections_by_reason"]["timewait_paws"]]')" = "[true, 0]" ]
stop_serve
echo "elapsed $(elapsed) s"

# Phase 3: tcp_rfc1337=1. The client's RST no longer kills the TIME-WAIT:
# every retry of the client whose clock is behind is refused and re-arms
# the 60 s timer; it gives up after 2.5 s (4 SYNs). A, then B; if B got
# through (its clock ahead of A's), A again, now behind B's.
run_phase rfc1337 1 1
connect A 8082 5
connect B 8082 2.5
[ "$(last_ok)" = true ] && connect A 8082 2.5
end_phase
phase_check 8082
FAILED=$($PY -c 'import json,sys; print(sum(not json.loads(l)["ok"] for l in open(sys.argv[1])))' "$TMP/rfc1337.clients")
check "[rfc1337] a client really failed (exactly 1 of $(wc -l <"$TMP/rfc1337.clients"))" [ "$FAILED" = 1 ]
check "[rfc1337] every refused SYN (the failed client's $(jget "$TMP/rfc1337.cap.json" 'd["refused"]')) was PAWS-refused (PAWSTimewait +$(delta PAWSTimewait)), >= 3" \
	[ "$(delta PAWSTimewait)" = "$(jget "$TMP/rfc1337.cap.json" 'd["refused"]')" -a "$(delta PAWSTimewait)" -ge 3 ]
scrape /advice >"$TMP/advice.json"
check "[rfc1337] /advice has rfc1337_timewait_nat ($(jget "$TMP/advice.json" '[f["severity"] for f in d["findings"] if f["id"] == "rfc1337_timewait_nat"]'))" \
	[ "$(jget "$TMP/advice.json" 'any(f["id"] == "rfc1337_timewait_nat" for f in d["findings"])')" = true ]
check "[rfc1337] /advice model object: timewait_paws == PAWSTimewait delta ($(delta PAWSTimewait))" \
	[ "$(jget "$TMP/advice.json" 'd["model"]["rejections_by_reason"]["timewait_paws"]')" = "$(delta PAWSTimewait)" ]
stop_serve

echo "elapsed $(elapsed) s"
finish
