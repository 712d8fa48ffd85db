#!/usr/bin/env bash
# Scrape latency, throughput and idle RSS: twaudit against node_exporter,
# side by side, same load. Usage: bench/scrape.sh [BUILD_DIR] [SECONDS]
# Needs: prometheus-node-exporter, wrk (Debian packages). Loopback only.
set -euo pipefail
BUILD=${1:-build}
SECS=${2:-10}
TW=$BUILD/twaudit
NE=$(command -v prometheus-node-exporter || command -v node_exporter)
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
TMP=$(mktemp -d)
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT

port() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -fs "http://127.0.0.1:$1/metrics" >/dev/null && return; sleep 0.05; done; echo "port $1 did not come up" >&2; exit 1; }
# tree_pids PID: a process and its descendants (serve is a collector and
# its web process), as the fault and soak tests count them.
. "$(dirname "$0")/../tests/integration/faultlib.sh"
sum_kb() { # FIELD FILE PID: FIELD summed over PID's process tree
	local p t=0 v
	for p in $(tree_pids "$3"); do
		v=$(awk -v f="$1" '$1 == f {print $2}' "/proc/$p/$2" 2>/dev/null)
		t=$((t + ${v:-0}))
	done
	echo "$t"
}
rss_kb() { sum_kb VmRSS: status "$1"; }

declare -A PORT PID
start() { # name cmd...
	local name=$1; shift
	local p; p=$(port)
	"$@" "$p" >"$TMP/$name.log" 2>&1 &
	PID[$name]=$!; PIDS+=($!); PORT[$name]=$p
	wait_up "$p"
}
start ne_default        bash -c "exec '$NE' --web.listen-address=127.0.0.1:\$0"
start ne_netstat        bash -c "exec '$NE' --collector.disable-defaults --collector.netstat --collector.sockstat --web.listen-address=127.0.0.1:\$0"
# The exporter alone, like for like with node_exporter (no packet capture);
# then with the live sampler on, for its own cost.
start twaudit_fresh     bash -c "exec '$TW' serve --no-sampler.enabled --collect.min-interval=0 --web.listen-address=127.0.0.1:\$0"
start twaudit_cached    bash -c "exec '$TW' serve --no-sampler.enabled --web.listen-address=127.0.0.1:\$0"
start twaudit_live      bash -c "exec '$TW' serve --collect.min-interval=0 --web.listen-address=127.0.0.1:\$0"

sleep 2   # let both settle; then idle RSS and PSS, each summed over the
          # target's processes
declare -A RSS PSS MED P99 RPS
pss_kb() { sum_kb Pss: smaps_rollup "$1"; }
for n in ne_default ne_netstat twaudit_fresh twaudit_cached twaudit_live; do RSS[$n]=$(rss_kb "${PID[$n]}"); PSS[$n]=$(pss_kb "${PID[$n]}"); done

to_ms() { # wrk latency like 1.23ms / 456.00us / 1.02s -> ms
	awk -v v="$1" 'BEGIN { if (v ~ /us$/) { sub(/us$/,"",v); print v/1000 } else if (v ~ /ms$/) { sub(/ms$/,"",v); print v+0 } else if (v ~ /s$/) { sub(/s$/,"",v); print v*1000 } else print v }'
}
for n in ne_default ne_netstat twaudit_fresh twaudit_cached twaudit_live; do
	# One connection: sequential scrapes, as one Prometheus server would send them.
	wrk -t1 -c1 -d"${SECS}s" --latency "http://127.0.0.1:${PORT[$n]}/metrics" >"$TMP/$n.wrk"
	MED[$n]=$(to_ms "$(awk '$1 == "50%" {print $2}' "$TMP/$n.wrk")")
	P99[$n]=$(to_ms "$(awk '$1 == "99%" {print $2}' "$TMP/$n.wrk")")
	RPS[$n]=$(awk '/^Requests\/sec/ {print $2}' "$TMP/$n.wrk")
done

echo "# $(date -u +%FT%TZ) $(uname -r) load: $(cut -d' ' -f1-3 /proc/loadavg) nproc=$(nproc)"
echo "# twaudit $("$TW" --version | cut -d' ' -f2), node_exporter $("$NE" --version 2>&1 | head -1 | awk '{print $3}'), wrk -t1 -c1 -d${SECS}s"
printf '%-16s %12s %12s %12s %12s %12s\n' target median_ms p99_ms scrapes/s idle_rss_kB idle_pss_kB
for n in ne_default ne_netstat twaudit_fresh twaudit_cached twaudit_live; do
	printf '%-16s %12.3f %12.3f %12.0f %12d %12d\n' "$n" "${MED[$n]}" "${P99[$n]}" "${RPS[$n]}" "${RSS[$n]}" "${PSS[$n]}"
done
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }'; }
echo
echo "median latency, ne_netstat / twaudit_fresh:  $(ratio "${MED[ne_netstat]}" "${MED[twaudit_fresh]}")x  (target >= 5x)"
echo "median latency, ne_netstat / twaudit_cached: $(ratio "${MED[ne_netstat]}" "${MED[twaudit_cached]}")x  (target >= 20x)"
echo "idle RSS, twaudit_fresh / ne_netstat:        $(ratio "${RSS[twaudit_fresh]}" "${RSS[ne_netstat]}")    (target <= 0.25)"
echo "idle PSS, twaudit_fresh / ne_netstat:        $(ratio "${PSS[twaudit_fresh]}" "${PSS[ne_netstat]}")    (shared library pages split among their users)"
