#!/usr/bin/env bash
# Every benchmark, one after the other, each printing its figures.
# Usage: bench/run-all.sh [BUILD_DIR]   (make bench). Long: tens of minutes.
# Figures go into docs/performance.md by hand, with the load (uptime) shown.
set -uo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
status=0
run() {
	echo "=== $* ($(date -u +%FT%TZ), load $(cut -d' ' -f1-3 /proc/loadavg))"
	"$@" || { echo "=== FAILED: $*"; status=1; }
}
run bash bench/scrape.sh "$BUILD" 10
run "$BUILD/bench/bench-model" 65536 8000000
run "$BUILD/bench/bench-model" 1048576 8000000
run bash bench/replay.sh "$BUILD"
run bash bench/report.sh "$BUILD" 100000
run bash bench/sock_diag.sh "$BUILD" 100000 9
run bash bench/sampler.sh "$BUILD"
exit $status
