#!/usr/bin/env bash
# Fleet report bench: `twaudit report` over 100 000 generated host documents
# (check --format=json shape), as one file per host and as JSONL on stdin.
# usage: bench/report.sh [BUILD_DIR] [HOSTS]   (default build, 100000)
set -euo pipefail
BUILD=${1:-build}
N=${2:-100000}
SRC=$(cd "$(dirname "$0")/.." && pwd)
TW="$BUILD/twaudit"
[ -x "$TW" ] || TW="$SRC/$BUILD/twaudit"
TW=$(realpath "$TW")
T=$(mktemp -d /tmp/twaudit-bench-report.XXXXXX)
trap 'rm -rf "$T"' EXIT

/usr/bin/python3 "$SRC/tests/integration/gen_hosts.py" "$N" "$T/hosts" >/dev/null
/usr/bin/python3 "$SRC/tests/integration/gen_hosts.py" "$N" "$T/hosts.jsonl" --jsonl >/dev/null
bytes=$(du -sb "$T/hosts" | cut -f1)
jbytes=$(stat -c %s "$T/hosts.jsonl")

run() { # run LABEL CMD...: best of 3 wall-clock seconds
	local best=""
	for _ in 1 2 3; do
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >/dev/null
		t1=$(date +%s.%N)
		best=$(echo "$t0 $t1 $best" | awk '{d=$2-$1; if ($3=="" || d<$3) print d; else print $3}')
	done
	echo "$best"
}
cd "$T/hosts"
files=$(run sh -c "find . -name '*.json' -print0 | xargs -0 '$TW' report --format=json --top=0 -- >/dev/null")
calls=$(find . -name '*.json' -print0 | xargs -0 sh -c 'echo x' sh | wc -l)
jsonl=$(run sh -c "'$TW' report --format=json --top=0 < '$T/hosts.jsonl'")
printf 'hosts=%d files: %.2f s (%.0f MB indented JSON, %d report run(s) by xargs)  jsonl stdin: %.2f s (%.0f MB)\n' \
	"$N" "$files" "$(echo "$bytes/1000000" | bc -l)" "$calls" "$jsonl" "$(echo "$jbytes/1000000" | bc -l)"
