#!/usr/bin/env bash
# promtool (Debian's prometheus package) on twaudit's exposition, every
# fixture tree, both formats:
#  - text 0.0.4 from `check --format=prom` (netlink off, and once with the
#    running kernel's sock_diag and tcp_metrics) and from serve's /metrics:
#    `promtool check metrics` prints nothing;
#  - OpenMetrics 1.0.0 from serve's /metrics: promtool's OpenMetrics parser
#    (tsdb create-blocks-from openmetrics, which wants a timestamp on every
#    sample, so one is added) reads every sample, and the same body with
#    0.0.4 family names (counters with _total, no UNIT, no EOF) lints clean;
#  - a tree whose kernel release has quotes, a backslash and bytes that are
#    not UTF-8 still lints clean in both formats.
. "$(dirname "$0")/lib.sh"

PROMTOOL=${PROMTOOL:-/usr/bin/promtool}
[ -x "$PROMTOOL" ] || skip "promtool not installed ($PROMTOOL; Debian package prometheus)"

EMPTY_ROOT="$TMP/emptyroot"; mkdir -p "$EMPTY_ROOT"
OM_ACCEPT='application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

# lint_silent NAME FILE: promtool check metrics exits 0 and says nothing.
lint_silent() {
	local out rc
	out=$("$PROMTOOL" check metrics < "$2" 2>&1); rc=$?
	if [ "$rc" -eq 0 ] && [ -z "$out" ] && [ -s "$2" ]; then
		ok "$1: promtool check metrics is silent"
	else
		fail "$1: promtool check metrics (rc $rc): $(echo "$out" | head -5)"
	fi
}

# om_to_004 FILE: the OpenMetrics body with 0.0.4 names, for the linter:
# counter families get their _total back, # UNIT and # EOF go.
om_to_004() {
	awk 'FNR == NR { if ($1 == "#" && $2 == "TYPE" && $4 == "counter") c[$3] = 1; next }
	/^# UNIT / || /^# EOF$/ { next }
	$1 == "#" && ($2 == "HELP" || $2 == "TYPE") && ($3 in c) {
		sub("^# " $2 " " $3 " ", "# " $2 " " $3 "_total ")
	}
	{ print }' "$1" "$1"
}

# om_parse NAME FILE: promtool's OpenMetrics parser takes every sample; the
# block holds as many series as the body has samples.
om_parse() {
	local ts=1700000000 blk="$TMP/blocks.$RANDOM" out n want
	awk -v ts=$ts '/^#/ { print; next } { print $0 " " ts }' "$2" > "$TMP/om-ts"
	out=$("$PROMTOOL" tsdb create-blocks-from openmetrics "$TMP/om-ts" "$blk" 2>&1)
	if [ $? -ne 0 ]; then
		fail "$1: promtool's OpenMetrics parser refuses the body: $(echo "$out" | tail -2)"
		rm -rf "$blk"; return
	fi
	want=$(grep -v '^#' "$2" | sed 's/ [^ ]*$//' | sort -u | wc -l)
	n=$(echo "$out" | awk 'NR == 2 { print $7 }')
	check "$1: OpenMetrics parsed by promtool, $n series (body has $want)" \
		test "${n:-0}" -eq "$want" -a "$want" -gt 0
	rm -rf "$blk"
}

# no_duplicates NAME FILE: every series (name and labels) appears once
# (twaudit_finding included: two failed sources are one source_failed series).
no_duplicates() {
	local d
	d=$(grep -v '^#' "$2" | sed 's/ [^ ]*$//' | sort | uniq -d)
	check "$1: no duplicate series${d:+: $d}" test -z "$d"
}

# 0.0.4 from check, every fixture (the broken ones too: a failed source
# changes which families appear, never the format).
for dir in "$FIXTURES"/linux-* "$FIXTURES"/broken-*; do
	[ -d "$dir" ] || continue
	name=$(basename "$dir")
	"$TWAUDIT" check --format=prom --path.procfs="$dir" --path.rootfs="$EMPTY_ROOT" \
		--no-collector.sock_diag --no-collector.tcp_metrics > "$TMP/check.prom" 2>"$TMP/check.err"
	rc=$?
	check "$name: check --format=prom exits with a status (0-3, got $rc)" test "$rc" -le 3
	lint_silent "$name: check --format=prom" "$TMP/check.prom"
	no_duplicates "$name: check --format=prom" "$TMP/check.prom"
done

# With the running kernel's netlink sources (their families appear; named,
# since a fixture is not this host's tree and they would be not_applicable).
"$TWAUDIT" check --format=prom --path.procfs="$FIXTURES/linux-6.18" \
	--path.rootfs="$EMPTY_ROOT" --collector.sock_diag --collector.tcp_metrics \
	> "$TMP/check-nl.prom" 2>/dev/null
if grep -q '^twaudit_tcp_sockets{' "$TMP/check-nl.prom"; then
	lint_silent "linux-6.18 with sock_diag/tcp_metrics" "$TMP/check-nl.prom"
else
	echo "# netlink sources unavailable here: sock_diag families not linted"
fi

# Both formats from serve, every fixture.
for dir in "$FIXTURES"/linux-* "$FIXTURES"/broken-*; do
	[ -d "$dir" ] || continue
	name=$(basename "$dir")
	port=$(free_port)
	start_serve "$port" --path.procfs="$dir" --path.rootfs="$EMPTY_ROOT" \
		--no-collector.sock_diag --no-collector.tcp_metrics || { fail "$name: serve starts"; continue; }
	url="http://127.0.0.1:$port/metrics"
	curl -fsS -m 10 -D "$TMP/h004" -o "$TMP/serve.prom" "$url" || fail "$name: GET /metrics"
	check "$name: serve 0.0.4 content type" grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/h004"
	lint_silent "$name: serve /metrics 0.0.4" "$TMP/serve.prom"
	curl -fsS -m 10 -H "Accept: $OM_ACCEPT" -D "$TMP/hom" -o "$TMP/serve.om" "$url" || fail "$name: GET /metrics (OpenMetrics)"
	check "$name: serve OpenMetrics content type" grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$TMP/hom"
	om_parse "$name: serve /metrics OpenMetrics" "$TMP/serve.om"
	no_duplicates "$name" "$TMP/serve.om"
	om_to_004 "$TMP/serve.om" > "$TMP/serve.om004"
	lint_silent "$name: serve /metrics OpenMetrics (0.0.4 names)" "$TMP/serve.om004"
	# The same series in both formats (values move between two scrapes).
	check "$name: OpenMetrics and 0.0.4 carry the same series" \
		bash -c "diff <(grep -v '^#' '$TMP/serve.prom' | sed 's/ [^ ]*\$//' | sort) \
			<(grep -v '^#' '$TMP/serve.om' | sed 's/ [^ ]*\$//' | sort) >&2"
	stop_serve
done

# Untrusted kernel release: quotes, a backslash, bytes that are not UTF-8.
odd="$TMP/odd"
cp -r "$FIXTURES/linux-6.18" "$odd"
printf '6.18.0-"odd"\\x-\xff\xfe-caf\xc3\xa9\n' > "$odd/sys/kernel/osrelease"
"$TWAUDIT" check --format=prom --path.procfs="$odd" --path.rootfs="$EMPTY_ROOT" \
	--no-collector.sock_diag --no-collector.tcp_metrics > "$TMP/odd.prom" 2>/dev/null
lint_silent "odd kernel release: check --format=prom" "$TMP/odd.prom"
check "odd kernel release: escaped, stray bytes as U+FFFD" \
	grep -qF "kernel_release=\"6.18.0-\\\"odd\\\"\\\\x-$(printf '\xef\xbf\xbd\xef\xbf\xbd')-caf$(printf '\xc3\xa9')\"} 1" "$TMP/odd.prom"
port=$(free_port)
if start_serve "$port" --path.procfs="$odd" --path.rootfs="$EMPTY_ROOT" \
	--no-collector.sock_diag --no-collector.tcp_metrics; then
	curl -fsS -m 10 -H "Accept: $OM_ACCEPT" -o "$TMP/odd.om" "http://127.0.0.1:$port/metrics"
	om_parse "odd kernel release: OpenMetrics" "$TMP/odd.om"
	stop_serve
else
	fail "odd kernel release: serve starts"
fi

# Sanitizer builds: no report from serve (UBSan's do not stop it).
check "serve logs carry no sanitizer report" \
	bash -c "! cat '$TMP'/serve-*.log | grep -E 'runtime error|Sanitizer' >&2"

finish
