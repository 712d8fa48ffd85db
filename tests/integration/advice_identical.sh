#!/bin/bash
# `check` output over every procfs fixture x rootfs x policy x format, against
# the digests in tests/fixtures/expected/advice.sha256: findings, evidence,
# remediation and metrics must not change when their code does. Normalized:
# generated_at, collector durations and success times, snapshot age, the
# build version, this machine's host name (a fixture tree, not this host's,
# reports `unknown`); the live netlink collectors and the sampler are off
# (disabled).
#   RECORD=1 ... advice_identical.sh   rewrites the digest file
#   BASE=/path/to/old/twaudit ...        diffs against another binary instead
. "$(dirname "$0")/lib.sh"
# Output bytes do not depend on the build: the 624 digests are compared in
# the plain pass; the sanitizer pass runs check over the fixtures in
# check_exit.sh, serve_fixtures.sh and the unit tests.
sanitized && skip "sanitizer pass: output digests are compared in the plain pass"

SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
EXP="$FIXTURES/expected"
DIGESTS="$EXP/advice.sha256"
OFF="--collector.sock_diag=false --collector.tcp_metrics=false --sampler.enabled=false"
HOST=$(hostname)

norm() {
	sed -E -e 's/"generated_at": ?"[^"]*"/"generated_at":"-"/g' \
		-e "s/\"host\": ?\"$HOST\"/\"host\":\"-\"/g" -e "s/ host=$HOST / host=- /" \
		-e '/^twaudit_collector_duration_seconds\{/d' -e '/^twaudit_build_info\{/d' \
		-e '/^twaudit_snapshot_age_seconds /d' \
		-e '/^twaudit_collector_last_success_timestamp_seconds\{/d'
}

# One run: normalized output, then the exit code.
run() {	# BIN PROCFS ROOTFS POLICY FORMAT
	local pol=()
	[ "$4" != none ] && pol=(--policy="$4")
	# From the checkout, with the policy named relative to it: its name
	# is evidence, and the digests must hold wherever the tree is cloned.
	(cd "$SRC" && "$1" check $OFF --format="$5" --path.procfs="$2" \
		--path.rootfs="$3" "${pol[@]}" 2>/dev/null) | norm
	echo "rc=${PIPESTATUS[0]}"
}

out="$TMP/digests"; : >"$out"; ndiff=0; n=0
for fx in "$FIXTURES"/linux-* "$FIXTURES"/broken-*; do
	[ -d "$fx/net" ] || [ -d "$fx/sys" ] || continue
	for root in "$FIXTURES/rootfs-empty" "$FIXTURES/rootfs-debian" \
		"$FIXTURES/rootfs-precedence" "$EXP/rootfs-recycle"; do
		for pol in none deploy/policy.json tests/fixtures/expected/policy-strict.json; do
			for fmt in json jsonl text prom; do
				name="$(basename "$fx")/$(basename "$root")/$(basename "$pol")/$fmt"
				n=$((n + 1))
				run "$TWAUDIT" "$fx" "$root" "$pol" "$fmt" >"$TMP/new"
				if [ -n "${BASE:-}" ]; then
					run "$BASE" "$fx" "$root" "$pol" "$fmt" >"$TMP/old"
					if ! cmp -s "$TMP/old" "$TMP/new"; then
						ndiff=$((ndiff + 1))
						echo "differs: $name" >&2
						diff "$TMP/old" "$TMP/new" | head -20 >&2
					fi
				fi
				echo "$(sha256sum <"$TMP/new" | cut -c1-64)  $name" >>"$out"
			done
		done
	done
done

if [ "${RECORD:-0}" = 1 ]; then
	cp "$out" "$DIGESTS"
	echo "recorded $n digests in $DIGESTS"
	exit 0
fi
check "$n runs, all outputs as recorded" diff -u "$DIGESTS" "$out"
[ -n "${BASE:-}" ] && check "$n runs identical to $BASE" test "$ndiff" -eq 0
finish
