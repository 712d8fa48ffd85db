#!/bin/bash
# Replay benchmark (issue 4): a generated capture of >= 5 M SYNs, read by
# `twaudit replay` (with and without the what-if models), by
# `tcpdump -r FILE -w /dev/null FILTER` with replay's own BPF filter, and
# by `p0f -r FILE`, one after the other; prints times and ratios. Then the
# model alone (bench-model at 64k and 1M sources) and the 1 M-source
# spoofed SYN flood test (tests/integration/replay.sh, REPLAY_FLOOD).
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

load() { uptime | sed 's/.*load average: /load /'; }
# secs CMD...: wall-clock seconds of CMD (output discarded)
secs() {
	local t0 t1
	t0=$(date +%s.%N)
	"$@" >/dev/null 2>&1 || true
	t1=$(date +%s.%N)
	python3 -c "print('%.2f' % ($t1 - $t0))"
}

echo "== model alone (one core) =="
for n in 65536 1048576; do
	echo "$($BENCH_MODEL $n 8000000)  [$(load)]"
done

echo "== replay vs tcpdump vs p0f =="
if [ ! -s "$PCAP" ]; then
	# Real NAT traffic with SYN-ACKs and FINs (so the server is learned)
	# plus SYNS spoofed SYNs from distinct addresses, Ethernet pcap.
	"$SYNTH" --seed=42 --sources=2000 --hosts=2 --conn-rate=50 \
		--seconds=600 --no-reference --flood="$SYNS" --out "$PCAP"
fi
ls -l "$PCAP"
FILTER=$("$TWAUDIT" replay --print-filter "$PCAP")
echo "filter: $FILTER"
# Warm the page cache so every reader starts equal.
cat "$PCAP" >/dev/null

t_tcpdump=$(secs tcpdump -r "$PCAP" -w /dev/null "$FILTER")
echo "tcpdump -r FILE -w /dev/null FILTER: $t_tcpdump s  [$(load)]"
t_nowhatif=$(secs "$TWAUDIT" replay --what-if=false --format=json "$PCAP")
echo "twaudit replay --what-if=false: $t_nowhatif s  [$(load)]"
t_replay=$(secs "$TWAUDIT" replay --format=json "$PCAP")
echo "twaudit replay (what-if on): $t_replay s  [$(load)]"
if command -v p0f >/dev/null; then
	t_p0f=$(secs p0f -r "$PCAP")
	echo "p0f -r FILE: $t_p0f s  [$(load)]"
else
	t_p0f=""
	echo "p0f not installed (apt-get install -y p0f)"
fi
python3 - "$t_tcpdump" "$t_nowhatif" "$t_replay" "$t_p0f" <<'EOF'
import sys
td, nw, rp = map(float, sys.argv[1:4])
p0f = float(sys.argv[4]) if sys.argv[4] else None
print("replay --what-if=false / tcpdump: %.2f (target <= 1)" % (nw / td))
print("replay (what-if)       / tcpdump: %.2f (target <= 1)" % (rp / td))
if p0f:
    print("p0f / replay --what-if=false: %.1fx (target >= 5x)" % (p0f / nw))
    print("p0f / replay (what-if):       %.1fx (target >= 5x)" % (p0f / rp))
EOF
"$TWAUDIT" replay --stats --format=json "$PCAP" 2>&1 >/dev/null | tail -1

echo "== 1 M-source spoofed SYN flood (tests/integration/replay.sh) =="
REPLAY_FLOOD=1000000 TWAUDIT=$TWAUDIT SCHEMAS=docs/schema BUILD=$BUILD \
	bash tests/integration/replay.sh | grep -E 'flood|replay-stats'
echo "[$(load)]"
[ -n "${BENCH_DIR:-}" ] || rm -rf "$DIR"
