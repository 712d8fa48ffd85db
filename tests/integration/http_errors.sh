#!/usr/bin/env bash
# Error answers of serve, over curl (and a raw socket for request lines
# curl will not send): the status, the headers that go with it, a body that
# matches its Content-Length, and a server that keeps serving after each.
# Hostile volumes and timeouts are http_abuse.sh's and hostile_clients.sh's;
# this one is about answering each mistake correctly.
. "$(dirname "$0")/lib.sh"

port=$(free_port)
start_serve "$port" --path.procfs="$FIXTURES/linux-4.19" --path.rootfs="$TMP" \
	--no-collector.sock_diag --no-collector.tcp_metrics || die "serve starts"
base="http://127.0.0.1:$port"
LIM="${SRC:-$(dirname "$0")/../..}/web/twlimits.h"
MEM=$(sed -n 's/^#define HTTP_CONNECTION_MEMORY (\([0-9]*\) \* 1024).*/\1/p' "$LIM")
MEM=$(( ${MEM:-8} * 1024 ))

# req NAME CURL-ARGS...: one request; sets CODE, headers in $TMP/h (CR
# stripped), body in $TMP/b; then asserts the server still answers.
req() {
	shift	# the name, for the reader
	CODE=$(curl -s -m 10 -D "$TMP/h.raw" -o "$TMP/b" -w '%{http_code}' "$@")
	tr -d '\r' < "$TMP/h.raw" > "$TMP/h"
}
hdr() { sed -n "s/^$1: //Ip" "$TMP/h" | head -1; }
still_serving() {
	check "$1: serve still answers /healthz" \
		test "$(curl -s -m 5 "$base/healthz")" = ok
	check "$1: serve still running" kill -0 "$SERVE_PID"
}
# length_matches NAME: Content-Length is the body's size.
length_matches() {
	check "$1: Content-Length $(hdr Content-Length) is the body's size ($(stat -c %s "$TMP/b"))" \
		test "$(hdr Content-Length)" = "$(stat -c %s "$TMP/b")"
}

# --- 404 --------------------------------------------------------------
for p in /nope /metrics/ /METRICS /api /favicon.ico "/%2e%2e/etc/passwd" "/metrics%2f"; do
	req "404 $p" "$base$p"
	check "GET $p -> 404 (got $CODE)" test "$CODE" = 404
	check "GET $p: text/plain body 'not found'" \
		bash -c "[ \"\$(cat '$TMP/b')\" = 'not found' ] && grep -qi '^content-type: text/plain; charset=utf-8$' '$TMP/h'"
	length_matches "GET $p"
	check "GET $p: nosniff" test "$(hdr X-Content-Type-Options)" = nosniff
done
still_serving "after the 404s"

# --- 405 and Allow ----------------------------------------------------
for m in POST PUT DELETE PATCH OPTIONS TRACE CONNECT-ME; do
	for p in /metrics /advice / /nope; do
		req "$m $p" -X "$m" "$base$p"
		check "$m $p -> 405 (got $CODE)" test "$CODE" = 405
		check "$m $p: Allow: GET, HEAD ($(hdr Allow))" test "$(hdr Allow)" = "GET, HEAD"
	done
done
length_matches "405"
check "405 body says why" grep -qx 'method not allowed' "$TMP/b"
# A body is never read: answered at once, and the connection closed.
head -c 65536 /dev/zero > "$TMP/body"
req "POST with a body" -X POST --data-binary @"$TMP/body" "$base/metrics"
check "POST with a 64 KiB body -> 405 (got $CODE)" test "$CODE" = 405
check "POST with a body: Connection: close" test "$(hdr Connection)" = close
still_serving "after the 405s"

# --- 414: a URL over the connection's memory ---------------------------
long=$(head -c $((MEM + 1024)) /dev/zero | tr '\0' a)
req "414" "$base/$long"
check "GET /<$((MEM + 1024)) bytes> -> 414 (got $CODE)" test "$CODE" = 414
check "414 closes the connection" test "$(hdr Connection)" = close
length_matches "414"
# Just under it, the URL is routed (and not found).
short=$(head -c $((MEM / 2)) /dev/zero | tr '\0' a)
req "long 404" "$base/$short"
check "GET /<$((MEM / 2)) bytes> is routed: 404 (got $CODE)" test "$CODE" = 404
still_serving "after the 414"

# --- 431: headers over the connection's memory -------------------------
big=$(head -c $((MEM + 1024)) /dev/zero | tr '\0' b)
req "431 one header" -H "X-Big: $big" "$base/metrics"
check "one $((MEM + 1024))-byte header -> 431 (got $CODE)" test "$CODE" = 431
check "431 closes the connection" test "$(hdr Connection)" = close
length_matches "431"
many=()
for i in $(seq 1 $((MEM / 40))); do many+=(-H "X-H$i: vvvvvvvvvvvvvvvvvvvvvvvvvvvvvv"); done
req "431 many headers" "${many[@]}" "$base/metrics"
check "$((MEM / 40)) headers of 40 bytes -> 431 (got $CODE)" test "$CODE" = 431
small=$(head -c $((MEM / 4)) /dev/zero | tr '\0' b)
req "big header ok" -H "X-Big: $small" "$base/healthz"
check "a $((MEM / 4))-byte header is fine: 200 (got $CODE)" test "$CODE" = 200
still_serving "after the 431s"

# --- HEAD -------------------------------------------------------------
for p in /metrics /advice /model / /healthz /api/history /nope; do
	want=200; [ "$p" = /nope ] && want=404
	read -r CODE size < <(curl -s -m 10 -I -D "$TMP/h.raw" -o /dev/null -w '%{http_code} %{size_download}\n' "$base$p")
	tr -d '\r' < "$TMP/h.raw" > "$TMP/h"
	check "HEAD $p -> $want (got $CODE), no body ($size bytes)" test "$CODE" = "$want" -a "$size" -eq 0
	check "HEAD $p: a Content-Length ($(hdr Content-Length))" test -n "$(hdr Content-Length)"
	check "HEAD $p: Content-Type like GET's" bash -c "
		g=\$(curl -s -m 10 -D - -o /dev/null '$base$p' | tr -d '\r' | sed -n 's/^[Cc]ontent-[Tt]ype: //p')
		[ -n \"\$g\" ] && [ \"\$g\" = '$(hdr Content-Type)' ]"
done
curl -s -m 10 -I -D "$TMP/h.raw" -o /dev/null "$base/healthz"; tr -d '\r' < "$TMP/h.raw" > "$TMP/h"
check "HEAD /healthz: Content-Length 3, as GET's 'ok\\n'" test "$(hdr Content-Length)" = 3
# HEAD then GET on one connection: no body bytes between the two answers.
check "HEAD then GET on one connection: the GET's answer follows the headers" $PY - "$port" <<'PYEOF'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(b"HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
d = b""
while True:
    c = s.recv(65536)
    if not c:
        break
    d += c
head, rest = d.split(b"\r\n\r\n", 1)
assert head.startswith(b"HTTP/1.1 200"), head[:40]
assert rest.startswith(b"HTTP/1.1 200"), rest[:40]
assert rest.endswith(b"\r\n\r\nok\n"), rest[-40:]
PYEOF
still_serving "after HEAD"

# --- HTTP/1.0 ---------------------------------------------------------
req "HTTP/1.0" --http1.0 "$base/metrics"
check "HTTP/1.0 GET /metrics -> 200 (got $CODE)" test "$CODE" = 200
check "HTTP/1.0: answered with Connection: close" test "$(hdr Connection)" = close
length_matches "HTTP/1.0 /metrics"
check "HTTP/1.0: a 0.0.4 body" grep -q '^twaudit_audit_status 0$' "$TMP/b"
req "HTTP/1.0 404" --http1.0 "$base/nope"
check "HTTP/1.0 GET /nope -> 404 (got $CODE)" test "$CODE" = 404
req "HTTP/1.0 405" --http1.0 -X POST "$base/metrics"
check "HTTP/1.0 POST -> 405 (got $CODE) with Allow" test "$CODE" = 405 -a "$(hdr Allow)" = "GET, HEAD"
still_serving "after HTTP/1.0"

# --- bad request lines (raw) ------------------------------------------
# raw KIND: the status code of the answer to a hand-made request, or "cut".
raw() {
	$PY - "$port" "$1" <<'PYEOF'
import socket, sys
port, kind = int(sys.argv[1]), sys.argv[2]
H = b"Host: 127.0.0.1\r\n"
reqs = {
    "no-version": b"GET /metrics\r\n\r\n",
    "method-only": b"GET\r\n\r\n",
    "extra-token": b"GET /metrics HTTP/1.1 extra\r\n" + H + b"\r\n",
    "header-no-colon": b"GET /metrics HTTP/1.1\r\n" + H + b"NoColonHere\r\n\r\n",
    "lower-case-method": b"get /metrics HTTP/1.1\r\n" + H + b"\r\n",
    "options-star": b"OPTIONS * HTTP/1.1\r\n" + H + b"\r\n",
    "version-0.9": b"GET /metrics HTTP/0.9\r\n" + H + b"\r\n",
    "version-2": b"GET /metrics HTTP/2.0\r\n" + H + b"\r\n",
    "h2-preface": b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
    "no-host": b"GET /metrics HTTP/1.1\r\n\r\n",
    "two-hosts": b"GET /metrics HTTP/1.1\r\n" + H + H + b"\r\n",
    "space-before-colon": b"GET /metrics HTTP/1.1\r\nHost : x\r\n\r\n",
    "absolute-form": b"GET http://127.0.0.1/metrics HTTP/1.1\r\n" + H + b"\r\n",
}
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(reqs[kind])
d = b""
try:
    while b"\r\n\r\n" not in d:
        c = s.recv(65536)
        if not c:
            break
        d += c
except (socket.timeout, ConnectionResetError):
    pass
print(d.split(b" ", 2)[1].decode() if d.startswith(b"HTTP/1.") else "cut")
PYEOF
}
expect_raw() { # expect_raw KIND WANTED...
	local kind=$1 got w; shift
	got=$(raw "$kind")
	for w in "$@"; do
		if [ "$got" = "$w" ]; then ok "request line $kind -> $got"; still_serving "after $kind"; return; fi
	done
	fail "request line $kind -> $got (want $*)"
	still_serving "after $kind"
}
expect_raw no-version 400
expect_raw method-only 400 cut
expect_raw extra-token 400
expect_raw header-no-colon 400
expect_raw lower-case-method 405		# methods are case-sensitive
expect_raw options-star 405
expect_raw version-0.9 505 400
expect_raw version-2 505
expect_raw h2-preface 505 400 cut

# RFC 9112 wants 400 for a HTTP/1.1 request without Host, with two, or with
# space before a colon (§3.2, §5.1), and the absolute form served (§3.2.2).
# libmicrohttpd 0.9.75 lets these through and twaudit does not check them:
# reported, shown here, not failed on.
for k in no-host two-hosts space-before-colon absolute-form; do
	echo "# KNOWN (RFC 9112): request $k -> $(raw "$k")"
done
# The URL is compared after percent-decoding, up to its first NUL.
echo "# KNOWN: GET /metrics%00 -> $(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/metrics%00") (the /metrics route)"
still_serving "after the RFC 9112 cases"

# Sanitizer builds: no report from serve (UBSan's do not stop it).
check "serve logs carry no sanitizer report" \
	bash -c "! cat '$TMP'/serve-*.log | grep -E 'runtime error|Sanitizer' >&2"

finish
