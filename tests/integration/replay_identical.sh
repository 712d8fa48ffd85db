#!/bin/bash
# `replay --format=json` gives the same bytes as the recorded reference
# on every capture the replay test (replay.sh) reads: replay.sh runs with
# TWAUDIT pointing at a recording wrapper, which keeps the sha256 of each
# JSON output (keyed by the arguments, a file argument by the sha256 of
# its contents) and runs the same replay again with --threads=1 and
# --threads=2. The digests are compared with
# tests/integration/replay_digests.txt.
#
#   REPLAY_DIGESTS_WRITE=1 ... bash tests/integration/replay_identical.sh
# writes that file instead (run it with the reference build's TWAUDIT).
#
# Environment: TWAUDIT, SCHEMAS, BUILD, SRC (meson sets them).
. "$(dirname "$0")/lib.sh"
# Output bytes do not depend on the build: the digests are compared in the
# plain pass; the sanitizer pass runs the same replays through replay.sh.
sanitized && skip "sanitizer pass: replay digests are compared in the plain pass (replay.sh runs here)"

SRC=${SRC:-$(cd "$(dirname "$0")/../.." && pwd)}
DIGESTS=${REPLAY_DIGESTS:-$SRC/tests/integration/replay_digests.txt}
REC=$TMP/record
WRAP=$TMP/twaudit-rec
: >"$REC"

# The wrapper: the real binary's result unchanged, plus a record line
# "DIGEST RC KEY" for each JSON replay (and its two thread variants).
cat >"$WRAP" <<'WEOF'
#!/bin/bash
real=$TWAUDIT_REAL
[ "$1" = replay ] || exec "$real" "$@"
json=0 key=replay stdin="" path="" running=""
for a in "${@:2}"; do
	case $a in
	--format=json) json=1 ;;
	--print-filter*) json=0; break ;;
	esac
done
# Without --kernel, "kernel" is the running kernel's release, whose local
# suffix names the machine's build (6.18.44-fc-v1272, 6.18.44-fc-v1300):
# it is digested as RUNNING.
case " ${*:2}" in *" --kernel"*) ;; *) running=$(cat /proc/sys/kernel/osrelease) ;; esac
[ $json = 1 ] || exec "$real" "$@"
for a in "${@:2}"; do
	if [ "$a" = - ]; then
		stdin=$(mktemp "$TWAUDIT_REC_DIR/stdin.XXXXXX")
		cat >"$stdin"
		key="$key stdin:$(sha256sum <"$stdin" | cut -c1-16)"
	elif [ -f "$a" ]; then
		key="$key file:$(sha256sum <"$a" | cut -c1-16)"
		path=$a
	else
		key="$key $a"
	fi
done
out=$(mktemp "$TWAUDIT_REC_DIR/out.XXXXXX")
# The digest of the output with the capture's (temporary) path as FILE,
# the running kernel's release as RUNNING, and without the "diagnosis"
# key: it came after the digests were recorded, so everything else is
# still compared byte for byte (jansson writes it on its own lines,
# "  "diagnosis": null," or an object from "  "diagnosis": {" to "  },";
# replay_diagnosis.sh tests its content).
digest() {
	awk -v p="$path" -v k="$running" 'skip { if ($0 ~ /^  },?$/) skip = 0; next }
		/^  "diagnosis": null,?$/ { next }
		/^  "diagnosis": \{$/ { skip = 1; next }
		k != "" && $0 == "  \"kernel\": \"" k "\"," { print "  \"kernel\": \"RUNNING\","; next }
		p != "" { while ((i = index($0, p)) > 0)
		$0 = substr($0, 1, i - 1) "FILE" substr($0, i + length(p)) }
		{ print }' "$1" | sha256sum | cut -c1-64
}
run() {
	if [ -n "$stdin" ]; then "$real" "$@" <"$stdin"; else "$real" "$@"; fi
}
run "$@" >"$out"
rc=$?
echo "$(digest "$out") $rc $key" >>"$TWAUDIT_REC"
for t in 1 2; do
	o2=$(mktemp "$TWAUDIT_REC_DIR/out.XXXXXX")
	run replay --threads=$t "${@:2}" >"$o2" 2>/dev/null
	rc2=$?
	echo "$(digest "$o2") $rc2 $key [threads=$t]" >>"$TWAUDIT_REC"
	rm -f "$o2"
done
cat "$out"
rm -f "$out" "$stdin"
exit $rc
WEOF
chmod +x "$WRAP"

TWAUDIT_REAL=$TWAUDIT TWAUDIT_REC=$REC TWAUDIT_REC_DIR=$TMP TWAUDIT=$WRAP \
	REPLAY_FLOOD=${REPLAY_FLOOD:-200000} \
	bash "$SRC/tests/integration/replay.sh" >"$TMP/replay.log" 2>&1
rc=$?
check "replay.sh passes through the recording wrapper" test $rc = 0
[ $rc = 0 ] || tail -20 "$TMP/replay.log"
sort -u "$REC" >"$TMP/got"
n=$(wc -l <"$TMP/got")
check "replay.sh ran JSON replays ($n outputs recorded)" test "$n" -gt 100

if [ "${REPLAY_DIGESTS_WRITE:-0}" = 1 ]; then
	{
		echo "# sha256 of \`twaudit replay --format=json\` output, exit code, arguments"
		echo "# (files by the sha256 of their contents), for every replay that"
		echo "# tests/integration/replay.sh runs; written by replay_identical.sh."
		cat "$TMP/got"
	} >"$DIGESTS"
	echo "wrote $n digests to $DIGESTS"
	finish
	exit
fi

grep -v "^#" "$DIGESTS" | sort -u >"$TMP/want"
# The replays without --kernel model the running kernel: the reference
# was recorded on 6.18 (profile 6.16+); on a kernel of another profile
# their outputs differ by design and are left out, loudly.
rel=$(cat /proc/sys/kernel/osrelease)
if ! printf '%s\n' "$rel" | awk -F. '{ exit !($1 > 6 || ($1 == 6 && $2 + 0 >= 16)) }'; then
	echo "note: running kernel $rel is not in profile 6.16+: the $(grep -vc -- ' --kernel' "$TMP/want") reference replays without --kernel are NOT compared"
	grep -- ' --kernel' "$TMP/want" >"$TMP/want.k"; mv "$TMP/want.k" "$TMP/want"
	grep -- ' --kernel' "$TMP/got" >"$TMP/got.k"; mv "$TMP/got.k" "$TMP/got"
fi
check "the same replays as the reference ($(wc -l <"$TMP/want"))" \
	diff <(cut -d' ' -f3- "$TMP/want" | sort) <(cut -d' ' -f3- "$TMP/got" | sort)
check "every JSON output and exit code identical to the reference" \
	diff "$TMP/want" "$TMP/got"
check "--threads=1 and --threads=2 give the default's output" \
	awk '{ k = $0; sub(/^[^ ]+ [^ ]+ /, "", k); t = k; sub(/ \[threads=[12]\]$/, "", t);
		if (t == k) base[t] = $1; else other[t] = other[t] " " $1 }
	     END { for (t in other) { n = split(other[t], a, " ");
		for (i = 1; i <= n; i++) if (a[i] != base[t]) { print "differs: " t; bad = 1 } }
		exit bad }' "$TMP/got"
finish
