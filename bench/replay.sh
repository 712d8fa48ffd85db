#!/bin/bash
# Replay benchmark: two generated captures, a spoofed SYN flood (5 M
# SYNs) and ordinary traffic (250 000 connections, 1.25 M packets), each
# read by `twaudit replay` (with and without the what-if table), by
# `tcpdump -r FILE -w /dev/null FILTER` with replay's own BPF filter, and
# by `p0f -r FILE`, one after the other, best of BENCH_ROUNDS (3; p0f
# BENCH_P0F_ROUNDS, 1: it is the slow side); prints times and ratios.
# Then the model alone (bench-model at 64k and 1M sources) and the 1
# M-source spoofed SYN flood test (tests/integration/replay.sh,
# REPLAY_FLOOD). The captures are generated at run time (BENCH_DIR keeps
# them between runs: about 460 MB and 107 MB).
#
#   bash bench/replay.sh [BUILD]        (default BUILD: build)
#
# Needs tcpdump and p0f (apt-get install -y tcpdump p0f). The machine
# load is printed next to each figure (uptime): other work skews them.
# Figures and commands: docs/performance.md, "Model and replay".
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
TWAUDIT=$BUILD/twaudit
SYNTH=$BUILD/tests/synth/twaudit-synth
BENCH_MODEL=$BUILD/bench/bench-model
SYNS=${BENCH_SYNS:-5000000}
DIR=${BENCH_DIR:-$(mktemp -d /tmp/twaudit-bench.XXXXXX)}
PCAP=$DIR/bench.pcap
ORDINARY=$DIR/ordinary.pcap
ROUNDS=${BENCH_ROUNDS:-3}
P0F_ROUNDS=${BENCH_P0F_ROUNDS:-1}

[ -n "${BENCH_DIR:-}" ] || trap 'rm -rf "$DIR"' EXIT

load() { uptime | sed 's/.*load average: /load /'; }
# secs CMD...: wall-clock seconds of CMD (output discarded)
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	python3 -c "print('%.2f' % ($t1 - $t0))"
}

if [ "${BENCH_MODEL_SKIP:-0}" != 1 ]; then
	echo "== model alone (one core) =="
	for n in 65536 1048576; do
		echo "$($BENCH_MODEL $n 8000000)  [$(load)]"
	done
fi

# best CMD...: the best wall-clock seconds of ROUNDS runs of CMD.
best() {
	local b="" t
	for _ in $(seq "$ROUNDS"); do
		t=$(secs "$@")
		b=$(python3 -c "print('%.2f' % min(float('$t'), float('${b:-inf}')))")
	done
	echo "$b"
}

# compare NAME PCAP: tcpdump with replay's filter, replay without and with
# the what-if table, p0f; best of ROUNDS each (p0f: P0F_ROUNDS), ratios.
compare() {
	local name=$1 pcap=$2 filter t_tcpdump t_nowhatif t_replay t_p0f
	echo "== $name: replay vs tcpdump vs p0f (best of $ROUNDS) =="
	ls -l "$pcap"
	filter=$("$TWAUDIT" replay --print-filter "$pcap")
	# Warm the page cache so every reader starts equal.
	cat "$pcap" >/dev/null
	t_tcpdump=$(best tcpdump -r "$pcap" -w /dev/null "$filter")
	echo "tcpdump -r FILE -w /dev/null FILTER: $t_tcpdump s  [$(load)]"
	t_nowhatif=$(best "$TWAUDIT" replay --what-if=false --format=json "$pcap")
	echo "twaudit replay --what-if=false: $t_nowhatif s  [$(load)]"
	t_replay=$(best "$TWAUDIT" replay --format=json "$pcap")
	echo "twaudit replay (what-if on): $t_replay s  [$(load)]"
	t_p0f=""
	if command -v p0f >/dev/null; then
		t_p0f=$(ROUNDS=$P0F_ROUNDS best p0f -r "$pcap")
		echo "p0f -r FILE (best of $P0F_ROUNDS): $t_p0f s  [$(load)]"
	else
		echo "p0f not installed (apt-get install -y p0f)"
	fi
	python3 - "$t_tcpdump" "$t_nowhatif" "$t_replay" "$t_p0f" "$3" <<'EOF2'
import sys
td, nw, rp = map(float, sys.argv[1:4])
p0f = float(sys.argv[4]) if sys.argv[4] else None
goal = float(sys.argv[5])
print("replay --what-if=false / tcpdump: %.2fx (goal <= 1x)" % (nw / td))
print("replay (what-if)       / tcpdump: %.2fx (goal <= %gx)" % (rp / td, goal))
if p0f:
    print("p0f / replay --what-if=false:     %.1fx (goal >= 10x)" % (p0f / nw))
EOF2
	"$TWAUDIT" replay --stats --format=json "$pcap" 2>&1 >/dev/null | tail -1
}

if [ ! -s "$PCAP" ]; then
	# Real NAT traffic with SYN-ACKs and FINs (so the server is learned)
	# plus SYNS spoofed SYNs from distinct addresses, Ethernet pcap.
	"$SYNTH" --seed=42 --sources=2000 --hosts=2 --conn-rate=50 \
		--seconds=600 --no-reference --flood="$SYNS" --out "$PCAP"
fi
if [ ! -s "$ORDINARY" ]; then
	# Ordinary traffic: 250 000 connections (SYN, SYN-ACK, ACK, FIN,
	# FIN) from 2000 NAT addresses over 500 s, every SYN answered.
	"$SYNTH" --seed=42 --sources=2000 --hosts=2 --conn-rate=500 \
		--seconds=500 --no-reference --out "$ORDINARY"
fi
echo "filter: $("$TWAUDIT" replay --print-filter "$PCAP")"
compare "spoofed SYN flood ($SYNS SYNs)" "$PCAP" 5
compare "ordinary traffic (250 000 connections)" "$ORDINARY" 2

[ "${BENCH_FLOOD_TEST_SKIP:-0}" = 1 ] && exit 0
echo "== 1 M-source spoofed SYN flood (tests/integration/replay.sh) =="
REPLAY_FLOOD=1000000 TWAUDIT=$TWAUDIT SCHEMAS=docs/schema BUILD=$BUILD \
	bash tests/integration/replay.sh | grep -E 'flood|replay-stats'
echo "[$(load)]"

