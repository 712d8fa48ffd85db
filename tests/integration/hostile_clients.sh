#!/usr/bin/env bash
# Hostile clients against `serve` with basic auth (bcrypt cost 10), over
# plain HTTP and over TLS, while the scraper (127.0.0.1, the right
# password, one keep-alive connection) keeps getting 200 within 1 s:
#  1. wrong-password floods over TLS: 100 keep-alive connections, some
#     from the scraper's own address (a NAT), plus unknown users;
#  2. a connection-limit flood: one address holds its limit and connects
#     in a loop; refusals are counted and the log stays short;
#  3. slow clients: headers dribbled a byte every 0.5 s over TLS, and
#     clients that pipeline requests and never read the answers;
#  4. oversized and malformed requests (huge URL, headers, method and
#     Authorization, invalid methods, bad HTTP versions, NUL bytes, bare
#     LF, folded headers, bad base64): never 200 without credentials;
#  5. TLS handshakes that stall: silent connections and half a ClientHello,
#     cut after the request timeout.
# http_abuse.sh covers the same kinds of attack without authentication
# (status codes, 10 000 idle connections, the global limit). The attackers
# run at nice 10: here they share two cores with serve and the scraper,
# where on a real host they would be elsewhere.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faultlib.sh"

command -v openssl >/dev/null || skip "needs openssl"
LIM="${SRC:-$(dirname "$0")/../..}/web/twlimits.h"
limit() { sed -n "s/^#define $1 \([0-9]*\).*/\1/p" "$LIM"; }
PERIP=$(limit HTTP_MAX_PER_CLIENT) TMO=$(limit HTTP_TIMEOUT_SECONDS)
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
R="$TMP/root"; mkdir -p "$R"
make_pki "$TMP/pki" || die "test PKI"
CAF="$TMP/pki/ca.crt"
H=$(bcrypt_hash secret 10)
printf 'basic_auth_users:\n  prometheus: %s\n' "'$H'" >"$TMP/auth.yml"
{ printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$TMP/pki/server.crt" "$TMP/pki/server.key"
  cat "$TMP/auth.yml"; } >"$TMP/tls.yml"

# serve_with CONFIG URL_SCHEME: start serve on a new port (PORT, LOG).
serve_with() {
	PORT=$(free_port); LOG="$TMP/serve-$PORT.log"
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$PORT" --web.config.file="$1" \
		--no-sampler.enabled --security.user= --path.procfs="$FIXTURES/linux-6.18" \
		--path.rootfs="$R" 2>>"$LOG" &
	PIDS+=($!); SERVE_PID=$!
	WAIT_CURL_OPTS="--cacert $CAF" wait_serve "$2://127.0.0.1:$PORT/healthz" "$SERVE_PID" "$LOG"
}
# scraper SECONDS URL OUT: the right password, keep-alive, every 0.1 s;
# "slow" counts answers of 1 s or more (x SLOW under sanitizers).
scraper() { $PY "$HOSTILE" scrape "$2" "$1" 0.1 --auth prometheus:secret --cafile "$CAF" \
	--slow-ms $((1000 * SLOW)) >"$3" & SCR=$!; }
# scrapes_ok NAME OUT: every scrape 200, none 1 s or more (x SLOW).
scrapes_ok() {
	local r; r=$(cat "$2")
	echo "# $1: scraper: $r"
	check "$1: every authenticated scrape 200 ($r)" test "$(field fail "$r")" = 0 -a "$(field ok "$r")" -gt 0
	check "$1: no scrape took $SLOW s or more (max $(field max_ms "$r") ms, p50 $(field p50_ms "$r") ms)" \
		test "$(field slow "$r")" = 0
}

# ---- TLS + basic auth --------------------------------------------------
serve_with "$TMP/tls.yml" https || die "serve with TLS and basic auth"
U="https://127.0.0.1:$PORT"
M=(--cacert "$CAF" -u prometheus:secret)
check "baseline: authenticated scrape within 1 s" answers_within 1000 "$U/metrics" "${M[@]}"
fd0=$(proc_count "$SERVE_PID" fd); th0=$(proc_count "$SERVE_PID" task)

# 1 (TLS). Wrong-password flood over TLS: 50 connections, some from
# 127.0.0.1 (the scraper's address), a new wrong password every request.
scraper 15 "$U/metrics" "$TMP/s1"
nice -n 10 $PY "$HOSTILE" authflood 127.0.0.1 "$PORT" 50 12 127.0.0.1,127.0.0.2,127.0.0.3 --cafile "$CAF" >"$TMP/a1" 2>&1 &
wait $! $SCR
echo "# wrong-password flood over TLS: $(cat "$TMP/a1")"
scrapes_ok "50 wrong-password connections over TLS" "$TMP/s1"
check "wrong-password flood over TLS: attackers got 401s, never 200" bash -c "grep -q \"'401'\" '$TMP/a1' && ! grep -q \"'200'\" '$TMP/a1'"

# 3. Slow clients over TLS: 100 connections dribbling headers.
scraper 12 "$U/metrics" "$TMP/s3"
$PY "$HOSTILE" slowheaders 127.0.0.1 "$PORT" 100 "$(echo 127.0.3.{1..5} | tr ' ' ,)" 12 --cafile "$CAF" >"$TMP/h3" 2>&1 &
wait $! $SCR
echo "# slow TLS headers: $(tail -1 "$TMP/h3")"
scrapes_ok "100 TLS clients dribbling headers" "$TMP/s3"

# 5. Stalled TLS handshakes: 300 silent, 300 with half a ClientHello, from
# 20 addresses (under the per-address limit), held past the timeout.
scraper 12 "$U/metrics" "$TMP/s5"
$PY "$HOSTILE" stall 127.0.0.1 "$PORT" 300 "$(echo 127.0.1.{1..10} | tr ' ' ,)" $((TMO + 6)) silent >"$TMP/st1" 2>&1 &
st1=$!
$PY "$HOSTILE" stall 127.0.0.1 "$PORT" 300 "$(echo 127.0.2.{1..10} | tr ' ' ,)" $((TMO + 6)) halfhello >"$TMP/st2" 2>&1 &
st2=$!
wait $SCR
scrapes_ok "600 stalled TLS handshakes" "$TMP/s5"
wait $st1 $st2
echo "# stalled silent: $(tail -1 "$TMP/st1"); half ClientHello: $(tail -1 "$TMP/st2")"
check "stalled TLS handshakes cut by the ${TMO} s timeout (silent: $(tail -1 "$TMP/st1"))" grep -q 'still_open=0' "$TMP/st1"
check "half ClientHellos cut by the ${TMO} s timeout ($(tail -1 "$TMP/st2"))" grep -q 'still_open=0' "$TMP/st2"

# 4 (TLS). Malformed requests inside TLS: never 200.
for k in huge-url huge-header version-0.9 h2-preface nul-in-auth auth-bad-base64; do
	got=$($PY "$HOSTILE" malformed 127.0.0.1 "$PORT" 127.0.0.7 "$k" --cafile "$CAF")
	check "TLS: $k -> $got (an error or cut, never 200)" bash -c "[[ '$got' == cut || '$got' == [45]?? ]]"
done
check "TLS: serve alive after the hostile clients" kill -0 "$SERVE_PID"
check "TLS: threads back to $th0 after the attacks" wait_until $((TMO + 5)) eval '[ "$(proc_count "$SERVE_PID" task)" -le "$th0" ]'
check "TLS: descriptors back to $fd0 after the attacks" wait_until $((TMO + 5)) eval '[ "$(proc_count "$SERVE_PID" fd)" -le $((fd0 + 2)) ]'
tlslog=$(log_lines "$LOG")
echo "# TLS serve log: $tlslog lines"
check "TLS: log under 200 lines after every attack ($tlslog)" test "$tlslog" -lt 200
stop_serve

# ---- plain HTTP + basic auth -------------------------------------------
serve_with "$TMP/auth.yml" http || die "serve with basic auth"
U="http://127.0.0.1:$PORT"
M=(-u prometheus:secret)
fd0=$(proc_count "$SERVE_PID" fd)

# 2. Connection-limit flood from 127.0.0.8: hold the per-address limit,
# then connect and close in a loop for 5 s.
l0=$(log_lines "$LOG")
r0=$(metric "$U/metrics" 'twaudit_http_connections_refused_total{reason="per_address"}' "${M[@]}")
scraper 8 "$U/metrics" "$TMP/s2"
$PY "$HOSTILE" connflood 127.0.0.1 "$PORT" 127.0.0.8 "$PERIP" 5 >"$TMP/c2" 2>&1 &
wait $! $SCR
l1=$(log_lines "$LOG")
echo "# connection-limit flood: $(cat "$TMP/c2"); log $l0 -> $l1 lines"
scrapes_ok "connection-limit flood from one address" "$TMP/s2"
r1=$(metric "$U/metrics" 'twaudit_http_connections_refused_total{reason="per_address"}' "${M[@]}")
check "refusals counted: twaudit_http_connections_refused_total{reason=\"per_address\"} ${r0:-absent} -> ${r1:-absent}" \
	num_gt "$r1" "${r0:-0}"
check "connection-limit flood: at most 40 log lines for 5 s of refusals ($((l1 - l0)))" test $((l1 - l0)) -le 40
s1=$(metric "$U/metrics" twaudit_log_lines_suppressed_total "${M[@]}")
echo "# twaudit_log_lines_suppressed_total ${s1:-absent}"

# 3. Stuck readers: 50 connections pipeline 50 scrapes each, never read.
scraper 10 "$U/metrics" "$TMP/s4"
$PY "$HOSTILE" stuckreader 127.0.0.1 "$PORT" 30 127.0.0.9 8 /metrics >/dev/null 2>&1 &
sr=$!
$PY "$HOSTILE" stuckreader 127.0.0.1 "$PORT" 30 127.0.0.10 8 /healthz >/dev/null 2>&1 &
wait $sr $! $SCR
scrapes_ok "60 clients that never read their answers" "$TMP/s4"

# 4. Malformed requests on plain HTTP: an error status or cut, never 200
# (none carries the right credentials), and the scraper answered after each.
for k in $($PY -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import hostile; print(" ".join(sorted(hostile.MALFORMED)))' "$(dirname "$HOSTILE")"); do
	got=$($PY "$HOSTILE" malformed 127.0.0.1 "$PORT" 127.0.0.11 "$k")
	check "$k -> $got (an error or cut, never 200)" bash -c "[[ '$got' == cut || '$got' == [45]?? ]]"
done
check "after the malformed requests: authenticated scrape within 1 s" answers_within 1000 "$U/metrics" "${M[@]}"
check "lower-case scheme 'basic' accepted" test "$(curl -s -m 5 -o /dev/null -w '%{http_code}' \
	-H "Authorization: basic $(printf prometheus:secret | base64)" "$U/metrics")" = 200
# 1. Wrong-password flood (last: a server that falls behind stays behind
# for as long as its queue of bcrypt checks): 100 keep-alive
# connections, 25 of them from 127.0.0.1 (the scraper's address, as behind a NAT), a new wrong password
# every request, and 20 more for a user that does not exist.
f0=$(metric "$U/metrics" twaudit_http_auth_failures_total "${M[@]}")
scraper 20 "$U/metrics" "$TMP/s1"
nice -n 10 $PY "$HOSTILE" authflood 127.0.0.1 "$PORT" 100 15 127.0.0.1,127.0.0.2,127.0.0.3,127.0.0.4 >"$TMP/a1" 2>&1 &
a1=$!
nice -n 10 $PY "$HOSTILE" authflood 127.0.0.1 "$PORT" 20 15 127.0.0.5 --user nosuchuser >"$TMP/a2" 2>&1 &
a2=$!
wait $a1 $a2 $SCR
echo "# wrong-password flood: $(cat "$TMP/a1"); unknown user: $(cat "$TMP/a2")"
scrapes_ok "100 wrong-password connections" "$TMP/s1"
check "wrong-password flood: attackers got 401s, never 200" bash -c "grep -q \"'401'\" '$TMP/a1' && ! grep -q \"'200'\" '$TMP/a1' '$TMP/a2'"
f1=$(metric "$U/metrics" twaudit_http_auth_failures_total "${M[@]}")
t1=$(metric "$U/metrics" twaudit_http_auth_throttled_total "${M[@]}")
check "twaudit_http_auth_failures_total counts the flood (${f0:-absent} -> ${f1:-absent})" \
	num_gt "$f1" "${f0:-0}"
check "twaudit_http_auth_throttled_total > 0 after the flood (${t1:-absent})" num_gt "$t1" 0

check "plain: serve alive after the hostile clients" kill -0 "$SERVE_PID"
check "plain: descriptors back to $fd0" wait_until $((TMO + 5)) eval '[ "$(proc_count "$SERVE_PID" fd)" -le $((fd0 + 2)) ]'
plainlog=$(log_lines "$LOG")
echo "# plain serve log: $plainlog lines"
check "plain: log under 200 lines after every attack ($plainlog)" test "$plainlog" -lt 200
finish
