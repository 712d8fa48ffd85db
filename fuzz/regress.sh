#!/usr/bin/env bash
# Fuzz regression for `make test-fuzz` (and so `make test`):
#  1. build the libFuzzer targets (build-fuzz, see fuzz/run.sh --build);
#  2. run each target once over every file of its committed corpus
#     fuzz/corpus/NAME and over the saved reproducers fuzz/crashes/NAME
#     (bugs already fixed must stay fixed);
#  3. fuzz each target for a short bounded time (REGRESS_SECONDS, default
#     10) from that corpus into a scratch directory that is then removed.
# Fails on any crash, leak, timeout or sanitizer report. Nothing in the
# tree is modified; artifacts of a failure go to fuzz/artifacts/regress/.
#
# usage: fuzz/regress.sh [TARGET...]
set -u
cd "$(dirname "$0")/.." || exit 2

BUILD=${FUZZ_BUILD:-build-fuzz}
SECS=${REGRESS_SECONDS:-10}
export FUZZ_BUILD=$BUILD

if [ -z "${FUZZ_NO_BUILD:-}" ]; then
	bash fuzz/run.sh --build || { echo "fuzz-regress: build failed" >&2; exit 1; }
fi
TARGETS=${*:-$(FUZZ_NO_BUILD=1 bash fuzz/run.sh --list)}
if [ -z "$TARGETS" ]; then
	echo "fuzz-regress: no fuzz targets in $BUILD/fuzz" >&2
	exit 1
fi

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
fail=0
start=$(date +%s)
printf '%-10s %8s %12s %8s\n' target inputs fuzz-execs result
for t in $TARGETS; do
	bin=$BUILD/fuzz/fuzz_$t
	art=fuzz/artifacts/regress/$t/
	log=$scratch/$t.log
	len=$(bash fuzz/run.sh --max-len "$t")
	if [ ! -x "$bin" ]; then
		printf '%-10s %8s %12s %8s\n' "$t" - - missing
		fail=1
		continue
	fi
	mkdir -p "$art" "$scratch/$t"
	mapfile -t inputs < <(find fuzz/corpus/"$t" fuzz/crashes/"$t" \
	    -maxdepth 1 -type f ! -name '*.log' ! -name '*.txt' 2>/dev/null |
	    sort)
	result=ok
	# 1-2: every committed input, whole (no -max_len truncation).
	if [ "${#inputs[@]}" -gt 0 ] &&
	    ! "$bin" -timeout=10 -rss_limit_mb=2048 -artifact_prefix="$art" \
	    "${inputs[@]}" >"$log" 2>&1; then
		result=CRASH
	fi
	# 3: a short bounded campaign.
	execs=-
	if [ "$result" = ok ]; then
		if ! "$bin" -max_total_time="$SECS" -max_len="${len:-4096}" \
		    -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
		    -artifact_prefix="$art" "$scratch/$t" fuzz/corpus/"$t" \
		    >>"$log" 2>&1; then
			result=CRASH
		fi
		execs=$(awk '/^stat::number_of_executed_units:/ { n = $2 }
	    END { print n + 0 }' "$log")
	fi
	printf '%-10s %8s %12s %8s\n' "$t" "${#inputs[@]}" "$execs" "$result"
	if [ "$result" != ok ]; then
		fail=1
		cp "$log" "$art"/regress.log
		grep -E -A25 '^==[0-9]+==ERROR|runtime error|^SUMMARY' "$log" |
		    head -60 >&2
		echo "fuzz-regress: $t failed; log in ${art}regress.log" >&2
	fi
done
echo "fuzz-regress: $(($(date +%s) - start)) s"
exit "$fail"
