#!/usr/bin/env bash
# --web.config.file (exporter-toolkit format): TLS with a certificate made
# here, basic auth with bcrypt hashes, client certificates, min_version,
# SIGHUP reload (passwords and TLS settings), config errors; and
# --web.listen-address given twice, once on IPv6 [::1].
. "$(dirname "$0")/lib.sh"

EMPTY_ROOT="$TMP/emptyroot"; mkdir -p "$EMPTY_ROOT"
FIX="$FIXTURES/linux-4.19"
D="$TMP/pki"; mkdir -p "$D"

# A CA, a server certificate for 127.0.0.1/::1/localhost, a client
# certificate from the CA and one self-signed client certificate.
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=twaudit test CA" -keyout "$D/ca.key" -out "$D/ca.crt"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=localhost" -keyout "$D/server.key" -out "$D/server.csr"
printf 'subjectAltName=IP:127.0.0.1,IP:::1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$D/server.ext"
ossl x509 -req -in "$D/server.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" \
	-CAcreateserial -days 2 -extfile "$D/server.ext" -out "$D/server.crt"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=prometheus" -keyout "$D/client.key" -out "$D/client.csr"
printf 'extendedKeyUsage=clientAuth\n' >"$D/client.ext"
ossl x509 -req -in "$D/client.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" \
	-CAcreateserial -days 2 -extfile "$D/client.ext" -out "$D/client.crt"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=intruder" -keyout "$D/rogue.key" -out "$D/rogue.crt"
check "test PKI made with openssl" test -s "$D/server.crt" -a -s "$D/client.crt" -a -s "$D/rogue.crt"

# bcrypt hashes (libcrypt through python's crypt module). Cost 12 makes an
# uncached check take about a quarter of a second.
bcrypt() {
	$PY -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<int(sys.argv[2]))))' "$1" "$2"
}
H_SECRET=$(bcrypt secret 12)
H_NEW=$(bcrypt newpass 10)
check "bcrypt hash made (\$2b\$)" bash -c "[[ '$H_SECRET' == '\$2b\$12\$'* ]]"

# start_tls PORT CONFIG [ARGS...]: serve with the config, wait until it answers TLS.
start_tls() {
	local port=$1 cfg=$2; shift 2
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --web.config.file="$cfg" \
		--security.user= --path.procfs="$FIX" --path.rootfs="$EMPTY_ROOT" "$@" 2>>"$TMP/serve-$port.log" &
	PIDS+=($!)
	SERVE_PID=$!
	# Any HTTP status means the TLS listener is up.
	WAIT_CURL_OPTS="--cacert $D/ca.crt" wait_serve "https://127.0.0.1:$port/healthz" "$SERVE_PID" "$TMP/serve-$port.log"
}
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

cat >"$TMP/web.yml" <<EOF
# exporter-toolkit web config; paths relative to this file
tls_server_config:
  cert_file: pki/server.crt
  key_file: pki/server.key
basic_auth_users:
  prometheus: '$H_SECRET'
EOF
port=$(free_port)
start_tls "$port" "$TMP/web.yml" || fail "serve starts with TLS and basic auth"
U="https://127.0.0.1:$port"
check "right password: 200" test "$(code --cacert "$D/ca.crt" -u prometheus:secret "$U/metrics")" = 200
check "metrics served over TLS" bash -c "curl -fsS --cacert '$D/ca.crt' -u prometheus:secret '$U/metrics' | grep -q '^twaudit_audit_status '"
check "wrong password: 401" test "$(code --cacert "$D/ca.crt" -u prometheus:wrong "$U/metrics")" = 401
check "unknown user: 401" test "$(code --cacert "$D/ca.crt" -u nobody:secret "$U/metrics")" = 401
check "no credentials: 401" test "$(code --cacert "$D/ca.crt" "$U/metrics")" = 401
check "401 carries WWW-Authenticate: Basic realm" bash -c \
	"curl -s -D - -o /dev/null --cacert '$D/ca.crt' '$U/advice' | tr -d '\r' | grep -qi '^www-authenticate: basic realm=\"twaudit\"'"
check "the page and /healthz are protected too" test "$(code --cacert "$D/ca.crt" "$U/")$(code --cacert "$D/ca.crt" "$U/healthz")" = 401401
check "unknown CA: curl refuses the certificate" bash -c "! curl -fsS -o /dev/null -u prometheus:secret '$U/healthz' 2>/dev/null"
out=$(curl -sS -m 3 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/metrics" 2>&1); rc=$?
check "plain HTTP to the TLS port fails (curl rc=$rc, ${out//$'\n'/ })" test "$rc" -ne 0 -o "$out" = 400
check "still serving after the plain-HTTP attempt" test "$(code --cacert "$D/ca.crt" -u prometheus:secret "$U/healthz")" = 200

# bcrypt costs ~250 ms at cost 12; 20 scrapes must hit the cache: 20
# uncached checks would add ~5 s to 20 requests without credentials (401,
# no bcrypt), which measure what curl and TLS cost on this machine now.
start=$(date +%s%N)
for _ in $(seq 1 20); do curl -s -o /dev/null --cacert "$D/ca.crt" "$U/healthz"; done
base_ms=$(( ($(date +%s%N) - start) / 1000000 ))
start=$(date +%s%N)
for _ in $(seq 1 20); do curl -fsS -o /dev/null --cacert "$D/ca.crt" -u prometheus:secret "$U/healthz"; done
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "20 authenticated scrapes in $ms ms, 20 without credentials in $base_ms ms: < 2500 ms more (bcrypt verdict cached)" \
	test $((ms - base_ms)) -lt 2500
# Both processes (the web process checks passwords).
ticks() { awk '{ t += $14 + $15 } END { print t }' "/proc/$SERVE_PID/stat" "/proc/$(web_pid)/stat"; }
t0=$(ticks)
for _ in $(seq 1 20); do curl -fsS -o /dev/null --cacert "$D/ca.crt" -u prometheus:secret "$U/healthz"; done
cpu=$(( ($(ticks) - t0) * 1000 / $(getconf CLK_TCK) ))
# One bcrypt at cost 12 is ~250 ms of CPU, so 20 uncached scrapes would
# cost ~5 s; < 500 ms proves the cache with room for sanitizer builds
# (ASan measured 100 ms) and the 10 ms tick granularity.
check "20 cached scrapes cost $cpu ms of server CPU (< 25 ms each, one bcrypt is ~250 ms)" test "$cpu" -lt 500

# SIGHUP: a new password; then a broken file keeps the last good config.
cat >"$TMP/web.yml" <<EOF
tls_server_config:
  cert_file: pki/server.crt
  key_file: pki/server.key
basic_auth_users:
  prometheus: '$H_NEW'
EOF
# hup_serve: SIGHUP, and wait for serve to log the reload's outcome.
check "SIGHUP: reload logged" hup_serve "$TMP/serve-$port.log"
check "SIGHUP: new password accepted" test "$(code --cacert "$D/ca.crt" -u prometheus:newpass "$U/healthz")" = 200
check "SIGHUP: old password refused" test "$(code --cacert "$D/ca.crt" -u prometheus:secret "$U/healthz")" = 401
printf 'tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n  colour: blue\n' >"$TMP/web.yml"
check "SIGHUP with a broken file: reload logged" hup_serve "$TMP/serve-$port.log"
check "SIGHUP with a broken file: old config kept" test "$(code --cacert "$D/ca.crt" -u prometheus:newpass "$U/healthz")" = 200
check "SIGHUP with a broken file: error logged" grep -q 'level=error.*not reloaded.*colour' "$TMP/serve-$port.log"
# SIGHUP that changes TLS settings restarts the listener on the same socket.
printf 'tls_server_config:\n  cert_file: pki/server.crt\n  key_file: pki/server.key\n  min_version: TLS13\n' >"$TMP/web.yml"
check "before: a TLS 1.2 client is accepted" test "$(code --cacert "$D/ca.crt" --tls-max 1.2 -u prometheus:newpass "$U/healthz")" = 200
check "SIGHUP to min_version TLS13: reload logged" hup_serve "$TMP/serve-$port.log"
check "SIGHUP to min_version TLS13: TLS 1.2 client refused" bash -c "! curl -fsS -o /dev/null --cacert '$D/ca.crt' --tls-max 1.2 '$U/healthz' 2>/dev/null"
check "SIGHUP to min_version TLS13: TLS 1.3 works, auth now off" test "$(code --cacert "$D/ca.crt" --tlsv1.3 "$U/healthz")" = 200
check "serve survived every reload" kill -0 "$SERVE_PID"
stop_serve

# min_version from the start.
printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n  min_version: TLS13\n' "$D/server.crt" "$D/server.key" >"$TMP/tls13.yml"
port=$(free_port)
start_tls "$port" "$TMP/tls13.yml" || fail "serve starts with min_version TLS13"
check "min_version TLS13 refuses a TLS 1.2-only client" bash -c "! curl -fsS -o /dev/null --cacert '$D/ca.crt' --tls-max 1.2 'https://127.0.0.1:$port/healthz' 2>/dev/null"
check "min_version TLS13 serves TLS 1.3" test "$(code --cacert "$D/ca.crt" --tlsv1.3 "https://127.0.0.1:$port/healthz")" = 200
stop_serve

# Client certificates required and verified against client_ca_file.
cat >"$TMP/mtls.yml" <<EOF
tls_server_config:
  cert_file: $D/server.crt
  key_file: $D/server.key
  client_auth_type: RequireAndVerifyClientCert
  client_ca_file: $D/ca.crt
EOF
port=$(free_port)
start_tls "$port" "$TMP/mtls.yml" || fail "serve starts with client certificates"
U="https://127.0.0.1:$port"
check "client cert from the CA: 200" test "$(code --cacert "$D/ca.crt" --cert "$D/client.crt" --key "$D/client.key" "$U/metrics")" = 200
c=$(code --cacert "$D/ca.crt" "$U/metrics")
check "no client cert: refused ($c)" test "$c" != 200
c=$(code --cacert "$D/ca.crt" --cert "$D/rogue.crt" --key "$D/rogue.key" "$U/metrics")
check "untrusted client cert: refused ($c)" test "$c" != 200
stop_serve

# Startup errors are one clear line and exit 2 (input error).
bad_config() { # DESCRIPTION PATTERN YAML
	printf '%s' "$3" >"$TMP/bad.yml"
	# timeout: a config wrongly accepted would serve on forever.
	timeout -k 2 $((10 * SLOW)) "$TWAUDIT" serve --web.listen-address=127.0.0.1:0 --web.config.file="$TMP/bad.yml" \
		--path.procfs="$FIX" --path.rootfs="$EMPTY_ROOT" >/dev/null 2>"$TMP/err"; rc=$?
	check "config error, $1: exit $rc: $(head -c 160 "$TMP/err")" \
		bash -c '[ "$1" -ne 0 ] && [ "$(wc -l < "$3")" -eq 1 ] && grep -qF -- "$2" "$3"' _ "$rc" "$2" "$TMP/err"
}
bad_config "unknown top-level key" "line 1: unknown key 'tls_config'" $'tls_config:\n  cert_file: x\n'
bad_config "unknown TLS key" "line 4: tls_server_config: unknown key 'colour'" \
	"$(printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n  colour: blue\n' "$D/server.crt" "$D/server.key")"
bad_config "not a bcrypt hash" "not a bcrypt hash" $'basic_auth_users:\n  alice: plaintext\n'
bad_config "missing certificate file" "cannot read" $'tls_server_config:\n  cert_file: /nonexistent.crt\n  key_file: /nonexistent.key\n'
bad_config "key does not match cert" "cert_file/key_file" \
	"$(printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$D/server.crt" "$D/client.key")"
bad_config "YAML syntax" "line" $'basic_auth_users: [unclosed\n'
bad_config "bad min_version" "unknown TLS version" \
	"$(printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n  min_version: SSL3\n' "$D/server.crt" "$D/server.key")"
bad_config "verify without CA" "needs client_ca_file" \
	"$(printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n  client_auth_type: RequireAndVerifyClientCert\n' "$D/server.crt" "$D/server.key")"
printf '' >"$TMP/empty.yml"
port=$(free_port)
start_serve "$port" --web.config.file="$TMP/empty.yml" --path.procfs="$FIX" --path.rootfs="$EMPTY_ROOT" &&
	check "an empty web config file means plain HTTP, no auth" test "$(code "http://127.0.0.1:$port/healthz")" = 200
stop_serve
bad_config "forbidden header" "'Transfer-Encoding' cannot be configured" \
	$'http_server_config:\n  headers:\n    Transfer-Encoding: chunked\n'
bad_config "header given twice" "X-Frame-Options given twice" \
	$'http_server_config:\n  headers:\n    X-Frame-Options: deny\n    x-frame-options: deny\n'
bad_config "bcrypt cost 32" "outside 4..31" "$(printf 'basic_auth_users:\n  alice: %s\n' "'\$2b\$32\$${H_NEW:7}'")"
bad_config "two YAML documents" "more than one YAML document" \
	"$(printf 'basic_auth_users:\n  alice: %s\n---\nbasic_auth_users:\n' "'$H_NEW'")"
# Extra response headers from http_server_config: a configured header
# replaces twaudit's own (nosniff, the page's Content-Security-Policy).
printf 'http_server_config:\n  http2: true\n  headers:\n    Strict-Transport-Security: max-age=31536000\n    X-Content-Type-Options: nosniff\n    Content-Security-Policy: "default-src \x27none\x27"\n' >"$TMP/hdr.yml"
port=$(free_port)
start_serve "$port" --web.config.file="$TMP/hdr.yml" --path.procfs="$FIX" --path.rootfs="$EMPTY_ROOT" &&
	check "http_server_config.headers are sent" bash -c "curl -s -D - -o /dev/null 'http://127.0.0.1:$port/metrics' | grep -qi '^strict-transport-security: max-age=31536000'"
curl -s -D "$TMP/page.hdr" -o /dev/null "http://127.0.0.1:$port/"
check "configured X-Content-Type-Options sent once" test "$(grep -ci '^x-content-type-options:' "$TMP/page.hdr")" = 1
check "configured Content-Security-Policy replaces the page's own (one header, the configured value)" \
	bash -c "[ \"\$(grep -ci '^content-security-policy:' '$TMP/page.hdr')\" = 1 ] && grep -qi \"^content-security-policy: default-src 'none'\" '$TMP/page.hdr'"
stop_serve

# The Authorization header: the scheme in any case; a NUL in the password
# is refused, not cut ("newpass\0junk" must not pass for "newpass").
printf 'basic_auth_users:\n  prometheus: %s\n' "'$H_NEW'" >"$TMP/auth.yml"
port=$(free_port)
start_serve "$port" --web.config.file="$TMP/auth.yml" --path.procfs="$FIX" --path.rootfs="$EMPTY_ROOT"
b64() { printf "$1" | base64 -w0; }
for scheme in Basic basic BASIC bAsIc; do
	check "scheme '$scheme': 200" test "$(code -H "Authorization: $scheme $(b64 'prometheus:newpass')" "http://127.0.0.1:$port/healthz")" = 200
done
check "NUL in the password: 401" test "$(code -H "Authorization: Basic $(b64 'prometheus:newpass\0junk')" "http://127.0.0.1:$port/healthz")" = 401
check "NUL in the user name: 401" test "$(code -H "Authorization: Basic $(b64 'prometheus\0x:newpass')" "http://127.0.0.1:$port/healthz")" = 401
check "another scheme: 401" test "$(code -H "Authorization: Bearer $(b64 'prometheus:newpass')" "http://127.0.0.1:$port/healthz")" = 401
stop_serve

# --web.listen-address twice: IPv4 and IPv6 loopback.
p4=$(free_port)
p6=$($PY -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0)); print(s.getsockname()[1])' 2>/dev/null)
if [ -n "$p6" ]; then
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$p4" --web.listen-address="[::1]:$p6" \
		--security.user= --path.procfs="$FIX" --path.rootfs="$EMPTY_ROOT" 2>>"$TMP/serve-multi.log" &
	PIDS+=($!); SERVE_PID=$!
	WAIT_CURL_OPTS=-g wait_serve "http://[::1]:$p6/healthz" "$SERVE_PID" "$TMP/serve-multi.log"
	check "listen address 1 (127.0.0.1:$p4) serves" test "$(code "http://127.0.0.1:$p4/healthz")" = 200
	check "listen address 2 ([::1]:$p6) serves over IPv6" test "$(code -g "http://[::1]:$p6/healthz")" = 200
	check "both addresses logged" test "$(grep -c 'msg="listening"' "$TMP/serve-multi.log")" = 2
	stop_serve
else
	fail "IPv6 loopback ::1 is available"
fi

finish
