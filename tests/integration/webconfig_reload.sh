#!/usr/bin/env bash
# SIGHUP fails closed: with TLS and basic auth running, a reload from an
# empty file, a FIFO, a directory, a file that does not parse, a file
# with two YAML documents, a forbidden header or a bcrypt cost outside
# 4..31 keeps TLS and auth on and logs at error level (never hangs on
# the FIFO); a symlink swapped as Kubernetes swaps secrets is followed; a
# valid file that drops TLS and auth is applied, with a warning. Then the
# same for a plain-HTTP server with auth.
. "$(dirname "$0")/lib.sh"

FIX="$FIXTURES/linux-4.19"
D="$TMP/pki"; mkdir -p "$D"
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=twaudit reload CA" -keyout "$D/ca.key" -out "$D/ca.crt"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=localhost" -keyout "$D/server.key" -out "$D/server.csr"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$D/server.ext"
ossl x509 -req -in "$D/server.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" \
	-CAcreateserial -days 2 -extfile "$D/server.ext" -out "$D/server.crt"
check "test PKI made" test -s "$D/server.crt"
H=$($PY -W ignore -c 'import crypt; print(crypt.crypt("secret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<4)))')

GOOD_TLS=$(printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\nbasic_auth_users:\n  prometheus: %s\n' "$D/server.crt" "$D/server.key" "'$H'")
GOOD_PLAIN=$(printf 'basic_auth_users:\n  prometheus: %s\n' "'$H'")
code() { curl -s -o /dev/null -m 5 -w '%{http_code}' "$@"; }
LOG=

# reload_case NAME: SIGHUP, the reload is logged at error level and kept.
reload_kept() {
	local name=$1 n
	n=$(grep -c 'level=error.*SIGHUP' "$LOG")
	check "$name: SIGHUP answered (no hang)" hup_serve "$LOG"
	check "$name: error logged, old config kept" \
		bash -c '[ "$(grep -c "level=error.*SIGHUP: web config not reloaded" "$1")" -gt "$2" ]' _ "$LOG" "$n"
}
# protected_tls: TLS and auth still on.
protected_tls() {
	check "$1: TLS + right password: 200" test "$(code --cacert "$D/ca.crt" -u prometheus:secret "$U/metrics")" = 200
	check "$1: TLS, no password: 401" test "$(code --cacert "$D/ca.crt" "$U/metrics")" = 401
	check "$1: plain HTTP refused" bash -c "[ \"\$(curl -s -o /dev/null -m 5 -w '%{http_code}' 'http://127.0.0.1:$port/metrics')\" != 200 ]"
}

# The config lives behind a symlink, as Kubernetes mounts secrets:
# web.yml -> ..data/web.yml, ..data -> a versioned directory.
CFG="$TMP/cfg"; mkdir -p "$CFG/v1"
printf '%s\n' "$GOOD_TLS" >"$CFG/v1/web.yml"
ln -s v1 "$CFG/..data"; ln -s ..data/web.yml "$CFG/web.yml"
port=$(free_port)
"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --web.config.file="$CFG/web.yml" \
	--security.user= --no-sampler.enabled --path.procfs="$FIX" --path.rootfs="$TMP" 2>>"$TMP/serve-$port.log" &
PIDS+=($!); SERVE_PID=$!
LOG="$TMP/serve-$port.log"
WAIT_CURL_OPTS="--cacert $D/ca.crt" wait_serve "https://127.0.0.1:$port/healthz" "$SERVE_PID" "$LOG" ||
	{ fail "serve starts with TLS and auth through a symlinked config"; finish; exit 1; }
U="https://127.0.0.1:$port"
protected_tls "start"

# set_config CONTENT: replace the file the symlink chain ends at.
set_config() { rm -rf "$CFG/v1/web.yml"; printf '%s' "$1" >"$CFG/v1/web.yml"; }
set_config ""
reload_kept "empty file"
protected_tls "after an empty file"
set_config $'# only a comment\n'
reload_kept "comments only"
protected_tls "after a comment-only file"
rm -f "$CFG/v1/web.yml"; mkfifo "$CFG/v1/web.yml"
reload_kept "FIFO"
grep 'SIGHUP' "$LOG" | tail -1 | grep -q 'not a regular file' && ok "FIFO: error says not a regular file" || fail "FIFO: error says not a regular file"
protected_tls "after a FIFO"
rm -f "$CFG/v1/web.yml"; mkdir "$CFG/v1/web.yml"
reload_kept "directory"
rmdir "$CFG/v1/web.yml"
set_config $'basic_auth_users: [unclosed\n'
reload_kept "YAML syntax error"
set_config "$(printf '%s\n---\nbasic_auth_users:\n' "$GOOD_TLS")"
reload_kept "two YAML documents"
grep 'SIGHUP' "$LOG" | tail -1 | grep -q 'more than one YAML document' && ok "two documents: error says so" || fail "two documents: error says so"
set_config "$(printf '%s\nhttp_server_config:\n  headers:\n    Connection: close\n' "$GOOD_TLS")"
reload_kept "forbidden header"
set_config "$(printf 'basic_auth_users:\n  prometheus: %s\n' "'\$2b\$03\$${H:7}'")"
reload_kept "bcrypt cost 03"
grep 'SIGHUP' "$LOG" | tail -1 | grep -q 'outside 4..31' && ok "bcrypt cost: error says 4..31" || fail "bcrypt cost: error says 4..31"
set_config "$(printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$D/server.crt" "$TMP/nokey.pem")"
reload_kept "missing key file"
mkfifo "$TMP/fifo.pem"
set_config "$(printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' "$D/server.crt" "$TMP/fifo.pem")"
reload_kept "key file is a FIFO"
protected_tls "after every broken reload"

# A Kubernetes-style swap: a new version directory, ..data re-pointed.
mkdir -p "$CFG/v2"
printf '%s\n' "$GOOD_TLS" | sed 's/prometheus:/scraper:/' >"$CFG/v2/web.yml"
ln -sfn v2 "$CFG/..data.tmp" && mv -T "$CFG/..data.tmp" "$CFG/..data"
check "symlink swap: SIGHUP reloaded" hup_serve "$LOG"
check "symlink swap: new user accepted" test "$(code --cacert "$D/ca.crt" -u scraper:secret "$U/metrics")" = 200
check "symlink swap: old user refused" test "$(code --cacert "$D/ca.crt" -u prometheus:secret "$U/metrics")" = 401

# A deliberate edit that removes TLS and auth: applied, with a warning.
printf 'http_server_config:\n  http2: true\n' >"$CFG/v2/web.yml"
check "TLS and auth removed: SIGHUP reloaded" hup_serve "$LOG"
check "TLS and auth removed: warning logged" grep -q 'level=warn.*removes protection.*removed="TLS, basic auth"' "$LOG"
check "TLS and auth removed: plain HTTP now 200" test "$(code "http://127.0.0.1:$port/metrics")" = 200
check "serve survived every reload" kill -0 "$SERVE_PID"
stop_serve

# Plain HTTP with basic auth: an empty file keeps auth.
printf '%s\n' "$GOOD_PLAIN" >"$TMP/plain.yml"
port=$(free_port)
start_serve "$port" --web.config.file="$TMP/plain.yml" --path.procfs="$FIX" --path.rootfs="$TMP" ||
	{ finish; exit 1; }
LOG="$TMP/serve-$port.log"; U="http://127.0.0.1:$port"
check "plain: no password 401 before" test "$(code "$U/metrics")" = 401
: >"$TMP/plain.yml"
reload_kept "plain: empty file"
check "plain: after an empty file, no password still 401" test "$(code "$U/metrics")" = 401
check "plain: right password 200" test "$(code -u prometheus:secret "$U/metrics")" = 200
printf 'basic_auth_users:\n' >"$TMP/plain.yml"
check "plain: auth removed by a valid file: reloaded" hup_serve "$LOG"
check "plain: auth removed: warning logged" grep -q 'level=warn.*removes protection.*removed="basic auth"' "$LOG"
check "plain: auth removed: no password 200" test "$(code "$U/metrics")" = 200
stop_serve
finish
