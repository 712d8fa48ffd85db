#!/usr/bin/env bash
# deploy/recording-rules.yml in a real Prometheus scraping four twaudit
# serve instances (fixture procfs trees on loopback ports): the rolled-up
# series by status, kernel release and finding, read back over the API.
. "$(dirname "$0")/lib.sh"
RULES="$SRC/deploy/recording-rules.yml"
command -v prometheus >/dev/null || { echo "SKIP: no prometheus"; exit 77; }

check "promtool check rules" promtool check rules "$RULES"
mkdir -p "$TMP/empty"
targets=""
# fixture: expected status
for fx in linux-3.10-recycle linux-6.18 linux-6.18-rfc1337 linux-4.4; do
	p=$(free_port)
	start_serve "$p" --path.procfs="$FIXTURES/$fx" --path.rootfs="$TMP/empty" || fail "serve $fx"
	targets="$targets'127.0.0.1:$p',"
done
PP=$(free_port)
cat >"$TMP/prometheus.yml" <<PEOF
global: {scrape_interval: 1s, evaluation_interval: 1s}
rule_files: ['$TMP/rules.yml']
scrape_configs:
  - job_name: twaudit
    static_configs: [{targets: [${targets%,}]}]
PEOF
# The shipped rules, evaluated every second for the test.
sed 's/interval: 30s/interval: 1s/' "$RULES" >"$TMP/rules.yml"
prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
	--web.listen-address="127.0.0.1:$PP" >"$TMP/prom.log" 2>&1 &
PIDS+=($!)

# query EXPR: the result vector as "labels=value" lines, sorted.
query() {
	curl -fsS --get "http://127.0.0.1:$PP/api/v1/query" --data-urlencode "query=$1" |
	$PY -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
for s in sorted(r, key=lambda s: sorted(s["metric"].items())):
    m = {k: v for k, v in s["metric"].items() if k not in ("__name__", "job")}
    print(",".join("%s=%s" % kv for kv in sorted(m.items())) + "=" + s["value"][1])'
}
ready=0
rules_ready() {
	[ "$(query 'sum(twaudit:hosts:count)' 2>/dev/null)" = "=4" ] &&
	[ -n "$(query 'twaudit:hosts:by_finding' 2>/dev/null)" ]
}
# Prometheus start-up, a scrape of each target and an evaluation: 60 s (x SLOW).
wait_until 60 rules_ready && ready=1
check "prometheus scraped 4 twaudit instances and evaluated the rules" test "$ready" = 1
[ "$ready" = 1 ] || { tail -20 "$TMP/prom.log" >&2; finish; exit; }

check "hosts by status: 1 critical, 2 ok, 1 warning" \
	test "$(query 'twaudit:hosts:by_status' | tr '\n' ' ')" = "status=critical=1 status=ok=2 status=warning=1 "
check "hosts at risk: 2" test "$(query 'twaudit:hosts_at_risk:count')" = "=2"
kr() { "$TWAUDIT" check --format=json --path.procfs="$FIXTURES/$1" --path.rootfs="$TMP/empty" 2>/dev/null |
	$PY -c 'import json,sys; print(json.load(sys.stdin)["kernel_release"])'; }
exp_k=$(for fx in linux-3.10-recycle linux-6.18 linux-6.18-rfc1337 linux-4.4; do kr $fx; done | sort | uniq -c |
	awk '{print "kernel_release=" $2 "=" $1}' | sort | tr '\n' ' ')
check "hosts by kernel release ($exp_k)" test "$(query 'twaudit:hosts:by_kernel_release' | sort | tr '\n' ' ')" = "$exp_k"
check "hosts by finding: tw_recycle_nat_drops 1" grep -qx 'id=tw_recycle_nat_drops=1' <(query 'twaudit:hosts:by_finding')
check "hosts by finding: rfc1337_timewait_nat 1" grep -qx 'id=rfc1337_timewait_nat=1' <(query 'twaudit:hosts:by_finding')
check "hosts with tcp_tw_recycle on: 1" test "$(query 'twaudit:hosts:tw_recycle_on')" = "=1"
# A rate needs two scrapes inside its window, and the rule one evaluation
# after them: wait for it rather than assume one interval was enough.
rate_ready() { [ -n "$(query 'twaudit:paws_passive:rate5m' 2>/dev/null)" ]; }
wait_until 30 rate_ready
check "PAWSPassive rate summed by job exists" test -n "$(query 'twaudit:paws_passive:rate5m')"
finish
