#!/usr/bin/env bash
# twaudit serve against every fixture procfs tree: metrics lint with promtool,
# /advice validated against its schema, HTTP basics.
. "$(dirname "$0")/lib.sh"

EMPTY_ROOT="$TMP/emptyroot"; mkdir -p "$EMPTY_ROOT"
PROMTOOL=$(command -v promtool)

for dir in "$FIXTURES"/linux-* "$FIXTURES"/broken-*; do
	[ -d "$dir" ] || continue
	name=$(basename "$dir")
	port=$(free_port)
	start_serve "$port" --path.procfs="$dir" --path.rootfs="$EMPTY_ROOT" || { fail "$name: serve starts"; continue; }
	base="http://127.0.0.1:$port"

	curl -fsS -D "$TMP/h" -o "$TMP/metrics" "$base/metrics"
	check "$name: /metrics content type" grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/h"
	check "$name: promtool check metrics is silent" \
		bash -c "out=\$('$PROMTOOL' check metrics < '$TMP/metrics' 2>&1); [ -z \"\$out\" ] || { echo \"\$out\" >&2; false; }"
	check "$name: build_info carries the fixture's kernel release" \
		grep -q "twaudit_build_info{version=\"[^\"]*\",kernel_release=\"$(cat "$dir/sys/kernel/osrelease")\"} 1" "$TMP/metrics"
	check "$name: every collector has a state" \
		test "$(grep -c "^twaudit_collector_state{.*} 1$" "$TMP/metrics")" -eq "$(grep -c "^twaudit_collector_success{" "$TMP/metrics")"

	curl -fsS -D "$TMP/h" -o "$TMP/advice.json" "$base/advice"
	check "$name: /advice content type" grep -qi '^content-type: application/json' "$TMP/h"
	check "$name: /advice validates against the schema" validate_json "$SCHEMAS/advice.schema.json" "$TMP/advice.json"
	status=$(json_get "$TMP/advice.json" 'd["status"]')
	mstatus=$(sed -n 's/^twaudit_audit_status \([0-9]\)$/\1/p' "$TMP/metrics")
	check "$name: /advice status ($status) agrees with twaudit_audit_status ($mstatus)" \
		test "$(echo ok warning critical unknown | cut -d' ' -f$((mstatus + 1)))" = "$status"

	stop_serve
done

# HTTP behaviour, on one fixture.
dir="$FIXTURES/linux-4.19"
port=$(free_port)
start_serve "$port" --path.procfs="$dir" --path.rootfs="$EMPTY_ROOT"
base="http://127.0.0.1:$port"
check "healthz says ok" test "$(curl -fsS "$base/healthz")" = "ok"
check "unknown path is 404" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/nope")" = 404
check "POST is 405" test "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$base/metrics")" = 405
check "405 carries Allow: GET, HEAD" bash -c "curl -s -D - -o /dev/null -X DELETE '$base/advice' | grep -qi '^allow: GET, HEAD'"
check "HEAD /metrics is 200 without a body" bash -c "
	out=\$(curl -s -I '$base/metrics'); echo \"\$out\" | grep -q '^HTTP/1.1 200' &&
	echo \"\$out\" | grep -qi '^content-length: [1-9]'"
check "page at / is HTML with the status" bash -c "curl -fsS '$base/' | grep -q 'id=\"status\"'"
check "query strings are ignored" test "$(curl -s -o /dev/null -w '%{http_code}' "$base/metrics?x=1")" = 200
check "Content-Length matches the body" bash -c "
	len=\$(curl -s -D - -o '$TMP/body' '$base/advice' | tr -d '\r' | sed -n 's/^[Cc]ontent-[Ll]ength: //p');
	test \"\$len\" = \"\$(stat -c %s '$TMP/body')\""
start=$(date +%s%N)
kill -TERM "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "SIGTERM stops serve cleanly (rc=$rc) within $SLOW s ($ms ms; x SLOW: leak scans at exit)" test "$rc" -eq 0 -a "$ms" -lt $((1000 * SLOW))

# Bad flags: one line, exit 1.
"$TWAUDIT" serve --no-such-flag >/dev/null 2>"$TMP/err"; rc=$?
check "serve: unknown flag exits 1 (got $rc)" test "$rc" -eq 1
check "serve: unknown flag gives one line" test "$(wc -l < "$TMP/err")" -eq 1
"$TWAUDIT" serve --web.listen-address=nonsense >/dev/null 2>"$TMP/err"; rc=$?
check "serve: bad listen address fails (got $rc)" test "$rc" -ne 0
check "serve --help lists the listen flag" bash -c "'$TWAUDIT' serve --help | grep -q -- '--web.listen-address'"

# ":PORT" falls back to IPv4 alone only where IPv6 is missing: with the
# IPv6 wildcard port taken by another process, serve must fail, not
# quietly serve IPv4 only.
if [ -e /proc/net/if_inet6 ]; then
	p6=$(free_port)
	$PY -c 'import socket, sys, time
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
s.bind(("::", int(sys.argv[1]))); s.listen(1)
open(sys.argv[2], "w").close(); time.sleep(30)' "$p6" "$TMP/v6.ready" &
	holder=$!
	PIDS+=($holder)
	for _ in $(seq 1 100); do [ -e "$TMP/v6.ready" ] && break; sleep 0.05; done
	timeout 20 "$TWAUDIT" serve --web.listen-address=":$p6" --security.user= \
		--no-sampler.enabled >/dev/null 2>"$TMP/err6"; rc=$?
	check "serve :PORT with [::]:PORT taken: fails (rc $rc), names the cause" \
		bash -c "[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -q 'Address already in use' '$TMP/err6'"
	kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
fi

finish
