#!/bin/bash
# Live sampler benchmark (issue 5): `twaudit serve --sampler.enabled`
# (capture thread + model thread with the running kernel's model and the
# two what-if models serve adds) under a SYN load that tcpreplay sends
# into a veth pair between two network namespaces made here (deleted on
# exit), on this machine's cores. The rate steps up (tcpreplay --pps=R,
# pcap preloaded); for each step the script reports the rate tcpreplay
# really reached, the sampler's packets, its kernel (pcap_stats) and queue
# (ring) drops from /metrics (twaudit_sampler_dropped_total), serve's CPU
# (utime + stime from /proc) and the machine's busy CPU over the step.
#
#   bash bench/sampler.sh [BUILD] [RATES] [RATIO]
#       (defaults: build "50000 100000 200000 300000 400000 500000
#        700000 1000000 topspeed" 1)
#
# Load: `twaudit-synth --seed=7 --sources=200 --hosts=2 --conn-rate=5
# --seconds=60 --no-reference --flood=1000000`: 1 M spoofed SYNs from 1 M
# distinct addresses to 10.0.0.1:443 (the worst case for the model's
# tables: every SYN a new source and a new 4-tuple) plus 300 real
# connections; Ethernet, 74-byte frames. Each step sends 3 s of traffic
# (at most the 1 M-packet file once). The server namespace drops the
# frames at its netdev ingress hook (nftables), after the capture taps:
# the kernel answers nothing, so only the SYNs reach the sampler.
#
# Root only; needs tcpreplay and nft (apt-get install -y tcpreplay
# nftables). Other work on the machine skews the figures: the load
# (uptime) is printed with them. Figures: docs/performance.md, "Live
# sampler".
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
RATES=${2:-"50000 100000 200000 300000 400000 500000 700000 1000000 topspeed"}
RATIO=${3:-1}
TWAUDIT=$BUILD/twaudit
SYNTH=$BUILD/tests/synth/twaudit-synth
DIR=${BENCH_DIR:-$(mktemp -d /tmp/twaudit-bench-sampler.XXXXXX)}
PCAP=$DIR/flood.pcap
NG=twb-gen-$$
NSV=twb-srv-$$
WEB=127.0.0.1:19478
SERVE=

cleanup() {
	[ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null && wait "$SERVE" 2>/dev/null
	ip netns del "$NG" 2>/dev/null || true
	ip netns del "$NSV" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP
command -v tcpreplay >/dev/null || { echo "tcpreplay not installed" >&2; exit 1; }

[ -s "$PCAP" ] || "$SYNTH" --seed=7 --sources=200 --hosts=2 --conn-rate=5 \
	--seconds=60 --no-reference --flood=1000000 --out="$PCAP" >/dev/null
NPKT=$(( $(stat -c %s "$PCAP") > 0 ? 1000000 : 0 ))

ip netns add "$NG"
ip netns add "$NSV"
ip -n "$NG" link set lo up
ip -n "$NSV" link set lo up
ip -n "$NG" link add g0 type veth peer name s0 netns "$NSV"
# The capture's frames go to 02:00:00:00:00:02 (twaudit-synth's server MAC).
ip -n "$NSV" link set s0 address 02:00:00:00:00:02
ip -n "$NSV" addr add 10.0.0.1/8 dev s0
ip -n "$NG" link set g0 up
ip -n "$NSV" link set s0 up
ip netns exec "$NSV" nft -f - <<'EOF'
table netdev twbench {
	chain in {
		type filter hook ingress device "s0" priority 0; policy drop;
	}
}
EOF

ip netns exec "$NSV" "$TWAUDIT" serve --web.listen-address="$WEB" \
	--sampler.enabled --sampler.server=10.0.0.1 --sampler.ratio="$RATIO" \
	--collect.min-interval=0s >"$DIR/serve.log" 2>&1 </dev/null &
SERVE=$!
for _ in $(seq 1 100); do
	ip netns exec "$NSV" curl -fsS "http://$WEB/healthz" >/dev/null 2>&1 && break
	sleep 0.05
done

metric() { # metric NAME: one sample of /metrics
	ip netns exec "$NSV" curl -fsS "http://$WEB/metrics" |
		awk -v k="$1" '$1 == k {print $2}'
}
snap() { # snap: packets kdrop qdrop syns cpu_ticks busy_ticks total_ticks
	local m
	m=$(ip netns exec "$NSV" curl -fsS "http://$WEB/metrics")
	for k in twaudit_sampler_packets_total \
	    'twaudit_sampler_dropped_total{where="kernel"}' \
	    'twaudit_sampler_dropped_total{where="queue"}' \
	    twaudit_model_syns_total; do
		awk -v k="$k" '$1 == k {printf "%s ", $2}' <<<"$m"
	done
	awk '{printf "%d ", $14 + $15}' "/proc/$SERVE/stat"
	awk '/^cpu / {t = 0; for (i = 2; i <= 9; i++) t += $i; printf "%d %d\n", t - $5 - $6, t}' /proc/stat
}
# settle: wait until the sampler has published everything it got.
settle() {
	local a b
	a=$(metric twaudit_sampler_packets_total)
	for _ in $(seq 1 40); do
		sleep 0.25
		b=$(metric twaudit_sampler_packets_total)
		[ "$a" = "$b" ] && return
		a=$b
	done
}

HZ=$(getconf CLK_TCK)
echo "ratio $RATIO, $(nproc) cores, $(uname -r), pcap $PCAP  [$(uptime | sed 's/.*load average: /load /')]"
printf "%-9s %10s %10s %9s %9s %9s %9s %8s %10s %s\n" target reached sent \
	captured kdrop qdrop fed serve_cpu cpu/100k machine_busy
settle
for R in $RATES; do
	if [ "$R" = topspeed ]; then
		args=(--topspeed --limit="$NPKT")
	else
		n=$((R * 3)); [ "$n" -gt "$NPKT" ] && n=$NPKT
		args=(--pps="$R" --limit="$n")
	fi
	s0=($(snap))
	t0=$(date +%s.%N)
	out=$(ip netns exec "$NG" tcpreplay -i g0 -K "${args[@]}" "$PCAP" 2>&1)
	t1=$(date +%s.%N)
	settle
	s1=($(snap))
	sent=$(awk '/Actual:/ {print $2}' <<<"$out")
	secs=$(awk '/Actual:/ {for (i = 1; i <= NF; i++) if ($i == "seconds") print $(i - 1)}' <<<"$out" | tr -d ' ')
	pps=$(awk '/Rated:/ {for (i = 1; i <= NF; i++) if ($i == "pps") print $(i - 1)}' <<<"$out" | tr -d ',')
	python3 - "$R" "$sent" "$secs" "$pps" "$t0" "$t1" "$HZ" "${s0[@]}" "${s1[@]}" <<'PYEOF'
import sys
import os
R, sent, secs, pps, t0, t1, hz = sys.argv[1:8]
ncpu = os.cpu_count()
a = [int(x) for x in sys.argv[8:15]]
b = [int(x) for x in sys.argv[15:22]]
d = [y - x for x, y in zip(a, b)]
secs, pps, hz = float(secs), float(pps), int(hz)
cpu = d[4] / hz / secs                       # serve's cores while sending
busy = d[5] / d[6] * ncpu if d[6] else 0     # whole machine, cores
per100k = d[4] / hz / int(sent) * 1e5 if int(sent) else 0  # cores per 100k/s
print("%-9s %10.0f %10s %9d %9d %9d %9d %8.2f %10.2f %.2f" % (
    R, pps, sent, d[0], d[1], d[2], d[3], cpu, per100k, busy))
PYEOF
done
echo "columns: target pps; pps tcpreplay reached; packets sent; packets the sampler"
echo "captured, kernel drops, queue drops, SYNs fed to the model (deltas of"
echo "/metrics over the step); serve's CPU in cores over the sending time, the"
echo "serve's CPU seconds per 100k packets (= cores per 100k SYN/s); the machine's busy cores (of $(nproc)) over the step."
echo "[$(uptime | sed 's/.*load average: /load /')]"
