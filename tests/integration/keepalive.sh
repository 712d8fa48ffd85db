#!/usr/bin/env bash
# HTTP keep-alive: responses do not say "Connection: close", one TCP
# connection serves 50 scrapes (curl with 50 URLs, python's http.client,
# curl over TLS), an idle kept-alive connection outlives the 10 s request
# timeout (--web.idle-timeout, default 120 s) while a request under way
# still has 10 s, and neither the 50 scrapes nor a real Prometheus scraping
# every 15 s for two minutes leave a TIME-WAIT socket on serve's port: the
# client closes first, so the TIME-WAIT stays on its side.
# KEEPALIVE_PROM_SECONDS shortens the Prometheus run (default 120).
. "$(dirname "$0")/lib.sh"

FIX="$FIXTURES/linux-6.18"
ROOT="$TMP/root"; mkdir -p "$ROOT"
PROM_SECONDS=${KEEPALIVE_PROM_SECONDS:-120}
tw_server() { ss -Htan state time-wait "( sport = :$1 )" | wc -l; }
tw_client() { ss -Htan state time-wait "( dport = :$1 )" | wc -l; }

# A: keep-alive and Prometheus. B: the short timeout of a request under
# way. C: --web.idle-timeout=3s. D: TLS. Only B and C close connections
# themselves, so A's and D's ports must never hold a TIME-WAIT.
port=$(free_port)
start_serve "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" || die "serve A"
A_PID=$SERVE_PID
portb=$(free_port)
start_serve "$portb" --path.procfs="$FIX" --path.rootfs="$ROOT" || die "serve B"
portc=$(free_port)
start_serve "$portc" --path.procfs="$FIX" --path.rootfs="$ROOT" --web.idle-timeout=3s
C_UP=$?

# --- a real Prometheus, every 15 s, in the background of the rest -------
have_prom=0
if command -v prometheus >/dev/null; then
	have_prom=1
	pport=$(free_port)
	cat >"$TMP/prom.yml" <<EOC
global: { scrape_interval: 15s, scrape_timeout: 10s }
scrape_configs:
  - job_name: twaudit
    static_configs: [ { targets: ['127.0.0.1:$port'] } ]
EOC
	prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/tsdb" \
		--web.listen-address="127.0.0.1:$pport" >"$TMP/prom.log" 2>&1 &
	PROM_PID=$!
	PIDS+=($PROM_PID)
	q() { curl -fsS "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		$PY -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }
	# Prometheus's own connections to serve A, as "local-port" lines.
	prom_ports() { ss -Htnp state established "( dport = :$port )" |
		awk -v p="pid=$PROM_PID," 'index($0, p) { n = split($3, a, ":"); print a[n] }'; }
	(
		# Sample Prometheus's connections every 2 s for the whole run.
		end=$(( $(now_us) + (PROM_SECONDS + 20) * 1000000 ))
		while [ "$(now_us)" -lt "$end" ] && kill -0 "$PROM_PID" 2>/dev/null; do
			prom_ports; sleep 2
		done >"$TMP/prom.ports"
	) &
	PIDS+=($!)
	SAMPLER=$!
	wait_until 60 eval '[ "$(q up 2>/dev/null)" = 1 ]'
	PROM_T0=$(now_us)
	check "Prometheus scrapes serve (up == 1)" test "$(q up)" = 1
else
	fail "prometheus is installed (Debian package prometheus)"
fi

# --- response headers --------------------------------------------------
curl -sS -D "$TMP/h" -o /dev/null "http://127.0.0.1:$port/metrics"
check "GET /metrics: no 'Connection: close' ($(grep -i '^connection' "$TMP/h" | tr -d '\r'))" \
	bash -c "! grep -qi '^connection: *close' '$TMP/h'"
curl -sS -I -D "$TMP/h" -o /dev/null "http://127.0.0.1:$port/healthz"
check "HEAD /healthz: no 'Connection: close'" bash -c "! grep -qi '^connection: *close' '$TMP/h'"

# --- 50 scrapes on one connection: curl, 50 URLs in one invocation ------
args=()
for _ in $(seq 50); do args+=(-o /dev/null "http://127.0.0.1:$port/metrics"); done
out=$(curl -sS -w '%{http_code} %{num_connects}\n' "${args[@]}")
n200=$(grep -c '^200 ' <<<"$out")
conns=$(awk '{ s += $2 } END { print s }' <<<"$out")
check "curl: 50 scrapes, all 200 ($n200)" test "$n200" = 50
check "curl: 50 scrapes over one TCP connection ($conns connects)" test "$conns" = 1

# --- 50 scrapes on one connection: python's http.client ----------------
res=$($PY - "$port" <<'PYEOF'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.connect()
sock, local = c.sock, c.sock.getsockname()
ok = close_hdr = n = 0
for _ in range(50):
    c.request("GET", "/metrics")
    r = c.getresponse()
    body = r.read()
    n += 1
    ok += r.status == 200 and b"twaudit_audit_status" in body
    close_hdr += (r.getheader("Connection") or "").lower() == "close"
    if c.sock is not sock:      # http.client dropped it: serve closed
        break
same = c.sock is sock and c.sock.getsockname() == local
print("requests=%d ok=%d close=%d same_socket=%d" % (n, ok, close_hdr, same))
c.close()
PYEOF
)
echo "# http.client: $res"
check "http.client: 50 scrapes, all 200, one socket ($res)" \
	test "$res" = "requests=50 ok=50 close=0 same_socket=1"
sleep 0.5
check "after 100 scrapes: no TIME-WAIT on serve's port ($(tw_server "$port"); client side: $(tw_client "$port"))" \
	test "$(tw_server "$port")" = 0

# --- TLS: one handshake for 10 scrapes ---------------------------------
portd=$(free_port)
if openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=localhost" -addext "subjectAltName=IP:127.0.0.1" \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" >/dev/null 2>&1; then
	printf 'tls_server_config:\n  cert_file: %s\n  key_file: %s\n' \
		"$TMP/cert.pem" "$TMP/key.pem" >"$TMP/web.yml"
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$portd" --no-sampler.enabled \
		--security.user= --path.procfs="$FIX" --path.rootfs="$ROOT" \
		--web.config.file="$TMP/web.yml" 2>>"$TMP/serve-$portd.log" &
	PIDS+=($!)
	WAIT_CURL_OPTS="--cacert $TMP/cert.pem" wait_serve "https://127.0.0.1:$portd/healthz" $! "$TMP/serve-$portd.log"
	args=()
	for _ in $(seq 10); do args+=(-o /dev/null "https://127.0.0.1:$portd/metrics"); done
	out=$(curl -sS --cacert "$TMP/cert.pem" -w '%{http_code} %{num_connects}\n' "${args[@]}")
	check "TLS: 10 scrapes, all 200 ($(grep -c '^200 ' <<<"$out"))" test "$(grep -c '^200 ' <<<"$out")" = 10
	check "TLS: 10 scrapes over one connection and handshake ($(awk '{ s += $2 } END { print s }' <<<"$out") connects)" \
		test "$(awk '{ s += $2 } END { print s }' <<<"$out")" = 1
	sleep 0.5
	check "TLS: no TIME-WAIT on serve's port ($(tw_server "$portd"))" test "$(tw_server "$portd")" = 0
else
	fail "openssl makes a test certificate"
fi

# --- timeouts, three at once -------------------------------------------
# A: a kept-alive connection idle for 12 s (over the 10 s request timeout)
# still serves the next request. B: after a complete request, a request
# line without its headers is cut after the 10 s request timeout, not the
# 120 s idle one. C: --web.idle-timeout=3s closes an idle connection.
$PY - "$port" >"$TMP/idle" <<'PYEOF' &
import http.client, sys, time
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=5)
c.connect()
sock = c.sock       # http.client drops it when serve says "close"
c.request("GET", "/healthz"); r = c.getresponse(); r.read()
time.sleep(12)
try:
    c.request("GET", "/metrics"); r = c.getresponse(); r.read()
    print("status=%d same_socket=%d" % (r.status, c.sock is sock))
except (OSError, http.client.HTTPException) as e:
    print("error=%s" % type(e).__name__)
PYEOF
idle_pid=$!
half() { # half PORT [REQUEST_LINE]: seconds until serve closes, after one request
	$PY - "$@" <<'PYEOF'
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
s.settimeout(5); d = b""
while b"ok\n" not in d:
    c = s.recv(4096)
    if not c: print("-1"); sys.exit()
    d += c
if len(sys.argv) > 2:
    s.sendall(b"GET /metrics HTTP/1.1\r\n")   # and never the headers
t0 = time.monotonic(); s.settimeout(150)
try:
    while s.recv(4096): pass
except OSError:
    pass
print("%.1f" % (time.monotonic() - t0))
PYEOF
}
half "$portb" line >"$TMP/half" &
half_pid=$!
if [ "$C_UP" = 0 ]; then half "$portc" >"$TMP/idlec" & idlec_pid=$!; fi
wait "$idle_pid" "$half_pid"
[ -n "${idlec_pid:-}" ] && wait "$idlec_pid"
check "idle 12 s between two requests: same connection, 200 ($(cat "$TMP/idle"))" \
	test "$(cat "$TMP/idle")" = "status=200 same_socket=1"
t=$(cat "$TMP/half")
check "a request under way on a kept-alive connection is cut after ${t}s (10 s timeout)" \
	awk -v t="$t" 'BEGIN { exit !(t >= 9 && t <= 13) }'
t=$(cat "$TMP/idlec" 2>/dev/null)
check "--web.idle-timeout=3s: idle connection closed after ${t:-?}s" \
	awk -v t="${t:--1}" 'BEGIN { exit !(t >= 2 && t <= 6) }'
"$TWAUDIT" serve --web.idle-timeout=0 --web.listen-address=127.0.0.1:1 >/dev/null 2>&1
check "serve refuses --web.idle-timeout=0 (usage error, exit $?)" test $? = 1

# --- the end of the Prometheus run -------------------------------------
if [ "$have_prom" = 1 ]; then
	left=$(( PROM_SECONDS - ($(now_us) - PROM_T0) / 1000000 ))
	[ "$left" -gt 0 ] && sleep "$left"
	scrapes=$(q "count_over_time(up[10m])")
	check "Prometheus: $scrapes scrapes in ${PROM_SECONDS}s, every one up" \
		test "$(q "min_over_time(up[10m])")" = 1 -a "${scrapes:-0}" -ge $((PROM_SECONDS / 15))
	curl -fsS "http://127.0.0.1:$pport/api/v1/targets" >"$TMP/targets.json"
	check "Prometheus: no scrape error" \
		test "$(json_get "$TMP/targets.json" 'd["data"]["activeTargets"][0]["lastError"]')" = ""
	kill "$SAMPLER" 2>/dev/null; wait "$SAMPLER" 2>/dev/null
	nports=$(sort -u "$TMP/prom.ports" | grep -c .)
	check "Prometheus: all its scrapes over one connection (client ports seen: $(sort -u "$TMP/prom.ports" | tr '\n' ' '))" \
		test "$nports" = 1
	check "Prometheus run: no TIME-WAIT on serve's port ($(tw_server "$port"))" \
		test "$(tw_server "$port")" = 0
	kill "$PROM_PID"; wait "$PROM_PID" 2>/dev/null
	sleep 1
	check "Prometheus stopped: still no TIME-WAIT on serve's port (client side: $(tw_client "$port"))" \
		test "$(tw_server "$port")" = 0
fi
check "serve alive" kill -0 "$A_PID"
finish
