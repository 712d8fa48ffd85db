#!/usr/bin/env bash
# `make test`: every test, in two lanes that run side by side.
#
#   lane 1: the normal build's suite (unit + integration), then the fuzz
#           corpus regression (fuzz/regress.sh, its own clang build);
#   lane 2: the ASan+UBSan build, then the same suite under it.
#
# Most integration tests spend their time waiting (timers, Prometheus
# scrape intervals, TCP timeouts), so two lanes on two cores take about
# the time of the longer one instead of the sum. Tests are written to run
# beside each other: ports from free_port, namespace names with the PID.
# Each lane's output goes to its log (printed when the lane ends, failures
# with their error logs); the exit status is non-zero when any lane failed.
#
# The sanitizer lane shortens keepalive's real-Prometheus run to 45 s
# (KEEPALIVE_PROM_SECONDS): the normal lane runs the full two minutes, and
# what the sanitizers check does not depend on the length.
#
# usage: tools/run-tests.sh BUILD ASAN_BUILD
set -u
cd "$(dirname "$0")/.." || exit 2
BUILD=${1:-build}
ASAN_BUILD=${2:-build-asan}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT

lane1() {
	meson test -C "$BUILD" --print-errorlogs || return 1
	bash fuzz/regress.sh
}

lane2() {
	[ -f "$ASAN_BUILD/build.ninja" ] ||
	    meson setup "$ASAN_BUILD" -Db_sanitize=address,undefined \
	    -Db_lundef=false >/dev/null || return 1
	meson setup --reconfigure "$ASAN_BUILD" >/dev/null || return 1
	ninja -C "$ASAN_BUILD" || return 1
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	KEEPALIVE_PROM_SECONDS=${KEEPALIVE_PROM_SECONDS:-45} \
	    meson test -C "$ASAN_BUILD" --print-errorlogs
}

start=$(date +%s)
lane1 >"$logs/1" 2>&1 & p1=$!
lane2 >"$logs/2" 2>&1 & p2=$!
rc=0
# Report each lane as soon as it ends.
left=("$p1" "$p2")
for _ in 1 2; do
	wait -n -p done "${left[@]}"; r=$?
	if [ "$done" = "$p1" ]; then n=1 name="normal build + fuzz regression" left=("$p2")
	else n=2 name="ASan+UBSan build" left=("$p1"); fi
	echo "======== lane $n ($name): exit $r after $(( $(date +%s) - start )) s"
	cat "$logs/$n"
	[ "$r" = 0 ] || rc=1
done
echo "======== make test: $([ "$rc" = 0 ] && echo PASSED || echo FAILED) in $(( $(date +%s) - start )) s"
exit "$rc"
