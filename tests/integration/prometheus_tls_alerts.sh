#!/usr/bin/env bash
# A real Prometheus (Debian's prometheus) scrapes two running twaudit serve
# instances, both auditing the linux-3.10-recycle fixture (tcp_tw_recycle=1
# with timestamps on): one over plain HTTP, one over TLS with basic auth
# (--web.config.file, certificate and bcrypt hash made here). It loads
# deploy/alerts.yml. Through Prometheus's HTTP API: up{job="twaudit"} is 1
# for both targets after two scrapes, twaudit_sysctl series are stored for
# both, the tw_recycle alert is firing for both, and a third job with a wrong
# password is refused (up 0, HTTP 401).
. "$(dirname "$0")/lib.sh"

command -v prometheus >/dev/null || { fail "prometheus is installed (Debian package prometheus)"; finish; exit; }
FIX="$FIXTURES/linux-3.10-recycle"
EMPTY_ROOT="$TMP/emptyroot"; mkdir -p "$EMPTY_ROOT"
D="$TMP/pki"; mkdir -p "$D"

# --- a CA and a server certificate for 127.0.0.1 (as webconfig_tls.sh) ---
ossl() { openssl "$@" >/dev/null 2>&1; }
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj "/CN=twaudit test CA" -keyout "$D/ca.key" -out "$D/ca.crt"
ossl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
	-subj "/CN=localhost" -keyout "$D/server.key" -out "$D/server.csr"
printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >"$D/server.ext"
ossl x509 -req -in "$D/server.csr" -CA "$D/ca.crt" -CAkey "$D/ca.key" \
	-CAcreateserial -days 2 -extfile "$D/server.ext" -out "$D/server.crt"
check "test certificate made with openssl" test -s "$D/server.crt" -a -s "$D/server.key"

# bcrypt hash through libcrypt (python's crypt module), cost 10.
H=$($PY -W ignore -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<10)))')
cat >"$TMP/web.yml" <<EOF
tls_server_config:
  cert_file: pki/server.crt
  key_file: pki/server.key
basic_auth_users:
  prometheus: '$H'
EOF

# --- the two exporters ---
pport=$(free_port)
start_serve "$pport" --path.procfs="$FIX" --path.rootfs="$EMPTY_ROOT" || { fail "plain serve starts"; finish; exit; }

# start_tls PORT: like webconfig_tls.sh's start_tls, on the recycle fixture
# and without the sampler (the fixture describes another host).
start_tls() {
	local port=$1
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --web.config.file="$TMP/web.yml" \
		--no-sampler.enabled --security.user= --path.procfs="$FIX" --path.rootfs="$EMPTY_ROOT" 2>>"$TMP/serve-$port.log" &
	PIDS+=($!)
	WAIT_CURL_OPTS="--cacert $D/ca.crt" wait_serve "https://127.0.0.1:$port/healthz" "$!" "$TMP/serve-$port.log"
}
tport=$(free_port)
start_tls "$tport" || { fail "TLS serve starts"; finish; exit; }
check "TLS exporter refuses a scrape without credentials (401)" \
	test "$(curl -s -o /dev/null -w '%{http_code}' --cacert "$D/ca.crt" "https://127.0.0.1:$tport/metrics")" = 401

# --- Prometheus ---
# The alert rules under test, unchanged except for `for:`: production waits
# 1m-1h before an alert fires; this copy has every `for:` rewritten to 0s by
# sed so that the test sees "firing" after one evaluation, not minutes later.
sed -E 's/^([[:space:]]*for:).*/\1 0s/' "$SRC/deploy/alerts.yml" >"$TMP/alerts.yml"
check "test copy of alerts.yml has every for: at 0s" \
	test "$(grep -c '^[[:space:]]*for:' "$TMP/alerts.yml")" = "$(grep -c '^[[:space:]]*for: 0s$' "$TMP/alerts.yml")"
printf 's3cret\n' >"$TMP/scrape.pw"
printf 'wrong\n' >"$TMP/wrong.pw"
promport=$(free_port)
# Three jobs. The TLS job is relabelled to job="twaudit", the name the alert
# rules expect, so both exporters are up{job="twaudit"} (instances differ).
cat >"$TMP/prometheus.yml" <<EOF
global: { scrape_interval: 1s, scrape_timeout: 900ms, evaluation_interval: 1s }
rule_files: [ '$TMP/alerts.yml' ]
scrape_configs:
  - job_name: twaudit
    static_configs: [ { targets: ['127.0.0.1:$pport'], labels: { transport: plain } } ]
  - job_name: twaudit-tls
    scheme: https
    tls_config: { ca_file: '$D/ca.crt' }
    basic_auth: { username: prometheus, password_file: '$TMP/scrape.pw' }
    static_configs: [ { targets: ['127.0.0.1:$tport'], labels: { transport: tls } } ]
    relabel_configs: [ { target_label: job, replacement: twaudit } ]
  - job_name: twaudit-wrong-password
    scheme: https
    tls_config: { ca_file: '$D/ca.crt' }
    basic_auth: { username: prometheus, password_file: '$TMP/wrong.pw' }
    static_configs: [ { targets: ['127.0.0.1:$tport'] } ]
EOF
check "promtool check config" promtool check config "$TMP/prometheus.yml" >/dev/null
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$promport" >"$TMP/prom.log" 2>&1 &
PIDS+=($!)
API="http://127.0.0.1:$promport/api/v1"

# q EXPR: the query result as "label=value ... value" lines, sorted.
q() {
	curl -fsS "$API/query" --data-urlencode "query=$1" 2>/dev/null | $PY -c '
import json, sys
body = sys.stdin.read()   # empty while Prometheus is starting
for r in (json.loads(body)["data"]["result"] if body else []):
    m = r["metric"]
    print(" ".join("%s=%s" % (k, m[k]) for k in sorted(m)), r["value"][1])' | sort
}
# Two scrapes of each twaudit target, then rules evaluated after them.
t0=$(date +%s)
two_scrapes() { [ "$(q 'count_over_time(up{job="twaudit"}[1m]) >= 2' | wc -l)" = 2 ]; }
# Prometheus start-up and two 1 s scrape intervals: 60 s (x SLOW) on a slow machine.
wait_until 60 two_scrapes
echo "two scrapes of both targets after $(( $(date +%s) - t0 )) s" >&2
check "Prometheus scraped both exporters at least twice" \
	test "$(q 'count_over_time(up{job="twaudit"}[1m]) >= 2' | wc -l)" = 2
check "up{job=\"twaudit\"} == 1 for the plain target" \
	test "$(q 'up{job="twaudit",transport="plain"}' | awk '{print $NF}')" = 1
check "up{job=\"twaudit\"} == 1 for the TLS + basic auth target" \
	test "$(q 'up{job="twaudit",transport="tls"}' | awk '{print $NF}')" = 1
check "twaudit_sysctl series stored from both targets" \
	test "$(q 'count by (transport) (twaudit_sysctl{job="twaudit"})' | wc -l)" = 2
check "twaudit_sysctl tw_recycle == 1 from the TLS target" \
	test "$(q 'twaudit_sysctl{job="twaudit",transport="tls",name="net.ipv4.tcp_tw_recycle"}' | awk '{print $NF}')" = 1
curl -fsS "$API/targets" >"$TMP/targets.json"
check "no scrape error on either twaudit target" $PY - "$TMP/targets.json" <<'PYEOF'
import json, sys
ts = [t for t in json.load(open(sys.argv[1]))["data"]["activeTargets"] if t["labels"]["job"] == "twaudit"]
for t in ts:
    print(t["scrapeUrl"], t["health"], repr(t["lastError"]), file=sys.stderr)
sys.exit(0 if len(ts) == 2 and all(t["health"] == "up" and t["lastError"] == "" for t in ts) else 1)
PYEOF
check "TLS target scraped over https" grep -q "\"scrapeUrl\":\"https://127.0.0.1:$tport/metrics\"" "$TMP/targets.json"
check "wrong password: up == 0" test "$(q 'up{job="twaudit-wrong-password"}' | awk '{print $NF}')" = 0
check "wrong password: the scrape error is the 401" $PY - "$TMP/targets.json" <<'PYEOF'
import json, sys
ts = [t for t in json.load(open(sys.argv[1]))["data"]["activeTargets"] if t["labels"]["job"] == "twaudit-wrong-password"]
print([t["lastError"] for t in ts], file=sys.stderr)
sys.exit(0 if ts and "401" in ts[0]["lastError"] else 1)
PYEOF

# Rules loaded, then the alert for tcp_tw_recycle with timestamps fires.
curl -fsS "$API/rules" >"$TMP/rules.json"
check "deploy/alerts.yml loaded: every rule healthy" $PY - "$TMP/rules.json" <<'PYEOF'
import json, sys
rules = [r for g in json.load(open(sys.argv[1]))["data"]["groups"] for r in g["rules"]]
bad = [(r["name"], r.get("lastError")) for r in rules if r.get("health") not in ("ok", "unknown")]
print(len(rules), "rules", bad, file=sys.stderr)
sys.exit(0 if len(rules) >= 8 and not bad else 1)
PYEOF
firing() { # firing ALERTNAME: the transport label of each firing instance of it
	curl -fsS "$API/alerts" 2>/dev/null | $PY -c '
import json, sys
body = sys.stdin.read()
for a in (json.loads(body)["data"]["alerts"] if body else []):
    if a["labels"]["alertname"] == sys.argv[1] and a["state"] == "firing":
        print(a["labels"].get("transport", "?"))' "$1" | sort | tr '\n' ' '
}
both_firing() {
	[ "$(firing TwauditTwRecycleWithTimestamps)" = "plain tls " ] && [ -n "$(firing TwauditCritical)" ]
}
wait_until 30 both_firing
curl -fsS "$API/alerts" >"$TMP/alerts.json"
check "TwauditTwRecycleWithTimestamps is firing for both targets ($(firing TwauditTwRecycleWithTimestamps))" \
	test "$(firing TwauditTwRecycleWithTimestamps)" = "plain tls "
check "TwauditCritical is firing (audit status 2)" test -n "$(firing TwauditCritical)"
check "the firing alert carries its runbook" $PY - "$TMP/alerts.json" <<'PYEOF'
import json, sys
a = [a for a in json.load(open(sys.argv[1]))["data"]["alerts"] if a["labels"]["alertname"] == "TwauditTwRecycleWithTimestamps"]
sys.exit(0 if a and "sysctl -w net.ipv4.tcp_tw_recycle=0" in a[0]["annotations"]["runbook"] else 1)
PYEOF
check "TwauditDown is not firing (both exporters up)" test -z "$(firing TwauditDown)"
echo "done $(( $(date +%s) - t0 )) s after Prometheus started" >&2
[ "$FAILS" -eq 0 ] || tail -n 20 "$TMP/prom.log" >&2

finish
