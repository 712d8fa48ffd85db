#!/usr/bin/env bash
# Fuzzing campaign: `make fuzz` (FUZZ_SECONDS=N make fuzz to change the time).
#
# usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]   (default 600 s, all)
#        fuzz/run.sh --build    only configure and build build-fuzz
#        fuzz/run.sh --seed     only refresh fuzz/corpus/*/fixture-* seeds
#        fuzz/run.sh --list     print the targets that are built
#        fuzz/run.sh --max-len NAME   print the -max_len used for NAME
#        fuzz/run.sh --totals   executions and crashes per target, summed
#                               over fuzz/campaigns.tsv
#
# TARGET is a short name (netstat, sockstat, sysctl, persist, cli, packet,
# netlink, pcap, policy, negotiate). For each target it runs libFuzzer for
# the given time on the working corpus fuzz/corpus-work/NAME (ignored by
# git) seeded from the committed corpus fuzz/corpus/NAME, merges the new
# coverage back into fuzz/corpus/NAME (-merge=1: the seeds plus a minimal
# set of inputs that add coverage, so the committed corpus stays small),
# prints the executions and crashes, and appends one line per target to
# fuzz/campaigns.tsv. A crash stops that target: the input is minimised and
# kept under fuzz/crashes/NAME/ with its report.
#
# Environment: FUZZ_JOBS (targets run at once, default 2), FUZZ_BUILD
# (build directory, default build-fuzz), CC (default clang), FUZZ_NO_BUILD=1
# (run the targets already built, e.g. while a parser is mid-edit).
set -u
cd "$(dirname "$0")/.." || exit 2

BUILD=${FUZZ_BUILD:-build-fuzz}
JOBS=${FUZZ_JOBS:-2}
# Preferred order; any other fuzz_* program built is appended.
ALL_TARGETS="netstat sockstat sysctl persist cli packet netlink pcap policy negotiate ipc"

# Longest input libFuzzer generates per target (real inputs are smaller:
# /proc/net/netstat is ~4 KiB, a sysctl value a few bytes).
max_len() {
	case $1 in
	netstat) echo 16384 ;;
	sockstat) echo 4096 ;;
	sysctl) echo 256 ;;
	persist) echo 8192 ;;
	cli) echo 1024 ;;
	packet) echo 4096 ;;
	netlink) echo 8192 ;;
	pcap) echo 16384 ;;
	policy) echo 8192 ;;
	ipc) echo 4096 ;;
	*) echo 4096 ;;
	esac
}

build() {
	local cc=${CC:-clang}

	if ! command -v "$cc" >/dev/null 2>&1; then
		echo "fuzz: $cc not found (apt-get install clang libclang-rt-dev)" >&2
		return 1
	fi
	if [ ! -f "$BUILD/build.ninja" ]; then
		local log

		log=$(mktemp)
		CC=$cc meson setup "$BUILD" -Dfuzz=true -Dtests=false \
		    -Db_sanitize=address,undefined -Db_lundef=false \
		    -Dwerror=false \
		    "-Dc_args=-fsanitize=fuzzer-no-link -fno-sanitize-recover=all" \
		    >"$log" 2>&1 || {
			cat "$log" >&2
			rm -f "$log"
			return 1
		}
		rm -f "$log"
	else
		# fuzz_packet.c / fuzz_netlink.c may have appeared since.
		meson setup --reconfigure "$BUILD" >/dev/null || return 1
	fi
	ninja -C "$BUILD" >/dev/null || {
		echo "fuzz: build failed (libclang-rt-dev installed?)" >&2
		ninja -C "$BUILD" 2>&1 | tail -30 >&2
		return 1
	}
}

built_targets() {
	local t f

	for t in $ALL_TARGETS; do
		[ -x "$BUILD/fuzz/fuzz_$t" ] && echo "$t"
	done
	for f in "$BUILD"/fuzz/fuzz_*; do
		t=${f##*/fuzz_}
		[ -f "$f" ] && [ -x "$f" ] || continue
		case " $ALL_TARGETS " in *" $t "*) ;; *) echo "$t" ;; esac
	done
}

# Copy test fixtures into the seed corpora, skipping contents already there.
seed_one() {		# TARGET FILE NAME
	local dir=fuzz/corpus/$1 f=$2 name=$3 sum

	[ -f "$f" ] || return 0
	[ "$(stat -c %s "$f")" -le "$(max_len "$1")" ] || return 0
	mkdir -p "$dir"
	sum=$(sha1sum <"$f" | cut -d' ' -f1)
	if [ -z "$(find "$dir" -type f -exec sha1sum {} + 2>/dev/null |
	    awk -v s="$sum" '$1 == s { print; exit }')" ]; then
		cp "$f" "$dir/$name"
	fi
}

seed() {
	local d f n

	for d in tests/fixtures/*/; do
		n=$(basename "$d")
		for f in netstat snmp; do
			seed_one netstat "$d/net/$f" "fixture-$n-$f"
		done
		for f in sockstat sockstat6; do
			seed_one sockstat "$d/net/$f" "fixture-$n-$f"
		done
		if [ -d "$d/sys" ]; then
			find "$d/sys" -type f | while read -r f; do
				seed_one sysctl "$f" "fixture-$n-$(basename "$f")"
			done
		fi
		case $n in rootfs-*)
			find "$d" -type f | while read -r f; do
				seed_one persist "$f" \
				    "fixture-$n-$(basename "$f")"
			done
		esac
	done
	find tests -type f \( -name '*.pcap' -o -name '*.pcapng' \) |
	    while read -r f; do
		seed_one pcap "$f" "fixture-$(basename "$f")"
	done
}

# Run one target; writes fuzz/corpus-work/results/NAME (execs crashes).
run_target() {
	local t=$1 secs=$2 bin=$BUILD/fuzz/fuzz_$t len stamp log art \
	    work=fuzz/corpus-work/$t execs crashes cmd rc a

	len=$(max_len "$t")
	stamp=$(date -u +%Y%m%dT%H%M%SZ)
	log=fuzz/corpus-work/logs/$t-$stamp.log
	art=fuzz/artifacts/$t/$stamp/
	mkdir -p "$work" "$art" fuzz/corpus/"$t" fuzz/corpus-work/logs \
	    fuzz/corpus-work/results
	cmd="$bin -max_total_time=$secs -max_len=$len -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -artifact_prefix=$art $work fuzz/corpus/$t"
	echo "fuzz: $t: $cmd"
	# shellcheck disable=SC2086
	$cmd >"$log" 2>&1
	rc=$?
	execs=$(awk '/^stat::number_of_executed_units:/ { n = $2 }
	    END { print n + 0 }' "$log")
	if [ "$execs" = 0 ]; then	# stats missing: take the last status line
		execs=$(sed -n 's/^#\([0-9][0-9]*\).*/\1/p' "$log" | tail -1)
		execs=${execs:-0}
	fi
	crashes=0
	for a in "$art"*; do
		[ -f "$a" ] || continue
		crashes=$((crashes + 1))
		mkdir -p fuzz/crashes/"$t"
		cp "$a" fuzz/crashes/"$t"/
		cp "$log" fuzz/crashes/"$t"/"$(basename "$a")".log
		case $(basename "$a") in crash-*)
			"$bin" -minimize_crash=1 -max_total_time=120 \
			    -exact_artifact_path=fuzz/crashes/"$t"/"$(basename "$a")".min \
			    "$a" >"$log.minimize" 2>&1
		esac
	done
	if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
		echo "fuzz: $t: exited $rc without an artifact, see $log" >&2
		crashes=1
	fi
	# The committed corpus becomes the named seeds (hand-made, fixture
	# copies, whatever a target's owner put there: every file not named
	# by its SHA-1) plus a minimal set of the other inputs, old and new,
	# that add coverage.
	rm -rf "$work.merge"
	mkdir -p "$work.merge"
	find fuzz/corpus/"$t" -maxdepth 1 -type f -regextype posix-basic ! -regex \
	    '.*/[0-9a-f]\{40\}' -exec cp {} "$work.merge"/ \;
	if "$bin" -merge=1 -max_len="$len" "$work.merge" fuzz/corpus/"$t" \
	    "$work" >"$log.merge" 2>&1; then
		rm -rf fuzz/corpus/"$t"
		mv "$work.merge" fuzz/corpus/"$t"
	else
		echo "fuzz: $t: merge failed, see $log.merge" >&2
	fi
	printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" "$t" "$secs" \
	    "$execs" "$crashes" "$cmd" >>fuzz/campaigns.tsv
	echo "$execs $crashes $(find fuzz/corpus/"$t" -type f | wc -l)" \
	    >fuzz/corpus-work/results/"$t"
	echo "fuzz: $t: $execs executions, $crashes crashes"
}

totals() {
	[ -f fuzz/campaigns.tsv ] || return 0
	awk -F'\t' 'NR > 1 { if (!($2 in e)) order[n++] = $2
		e[$2] += $4; c[$2] += $5; s[$2] += $3; r[$2]++ }
	    END { printf "%-10s %6s %9s %14s %8s\n", "target", "runs",
		    "seconds", "executions", "crashes"
		for (i = 0; i < n; i++) { t = order[i]
		    printf "%-10s %6d %9d %14d %8d%s\n", t, r[t], s[t], e[t],
			c[t], (e[t] >= 10000000 && c[t] == 0) ? "" : "  (< 10 M or crashed)" } }' \
	    fuzz/campaigns.tsv
}

# The whole body is one function so that bash has read all of it before it
# runs: editing this file during a campaign cannot derail the run.
main() {
	case ${1:-} in
	--build) build; return ;;
	--seed) seed; return ;;
	--list) [ -n "${FUZZ_NO_BUILD:-}" ] || build >/dev/null || exit 1
		built_targets; return ;;
	--max-len) max_len "${2:-}"; return ;;
	--totals) totals; return ;;
	esac

	SECS=${1:-600}
	shift 2>/dev/null
	case $SECS in
	'' | *[!0-9]*) echo "usage: fuzz/run.sh [SECONDS_PER_TARGET] [TARGET...]" >&2
		exit 2 ;;
	esac
	if [ -n "${FUZZ_NO_BUILD:-}" ]; then
		echo "fuzz: FUZZ_NO_BUILD set: using the targets already in $BUILD"
	else
		build || return 1
	fi
	seed
	TARGETS=${*:-$(built_targets)}
	[ -f fuzz/campaigns.tsv ] ||
	    printf 'date\ttarget\tseconds\texecs\tcrashes\tcommand\n' >fuzz/campaigns.tsv

	for t in $TARGETS; do
		if [ ! -x "$BUILD/fuzz/fuzz_$t" ]; then
			echo "fuzz: no target fuzz_$t in $BUILD/fuzz" >&2
			continue
		fi
		rm -f fuzz/corpus-work/results/"$t"
		while [ "$(jobs -rp | wc -l)" -ge "$JOBS" ]; do
			wait -n
		done
		run_target "$t" "$SECS" &
	done
	wait

	status=0
	printf '\n%-10s %14s %8s %8s\n' target executions crashes corpus
	for t in $TARGETS; do
		f=fuzz/corpus-work/results/$t
		[ -f "$f" ] || continue
		read -r execs crashes files <"$f"
		printf '%-10s %14s %8s %8s\n' "$t" "$execs" "$crashes" "$files"
		[ "$crashes" -eq 0 ] || status=1
	done
	[ "$status" -eq 0 ] || echo "crashes: see fuzz/crashes/" >&2
	return "$status"
}

main "$@"
exit $?
