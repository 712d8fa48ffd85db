#!/usr/bin/env bash
# /metrics as Prometheus really fetches it: Accept negotiation (OpenMetrics
# checked by prometheus_client's parser), gzip, and a real Prometheus scrape.
. "$(dirname "$0")/lib.sh"

EMPTY_ROOT="$TMP/emptyroot"; mkdir -p "$EMPTY_ROOT"
port=$(free_port)
# A scrape never collects (min-interval of an hour): snapshots change only
# at the 5 s tick, so bodies fetched close together can be compared.
start_serve "$port" --path.procfs="$FIXTURES/linux-3.10-recycle" --path.rootfs="$EMPTY_ROOT" \
	--collect.min-interval=3600s
base="http://127.0.0.1:$port"
OM='application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1'

curl -fsS -D "$TMP/h" -H "Accept: $OM" -o "$TMP/om" "$base/metrics"
check "OpenMetrics content type when asked" grep -qi '^content-type: application/openmetrics-text; version=1.0.0' "$TMP/h"
check "OpenMetrics ends with # EOF" test "$(tail -n 1 "$TMP/om")" = "# EOF"
check "OpenMetrics counter family named without _total" grep -q '^# TYPE twaudit_tcpext_paws_passive counter$' "$TMP/om"
check "OpenMetrics sample keeps _total" grep -q '^twaudit_tcpext_paws_passive_total 1234$' "$TMP/om"
check "OpenMetrics UNIT for seconds" grep -q '^# UNIT twaudit_collector_duration_seconds seconds$' "$TMP/om"
check "OpenMetrics parses with prometheus_client" $PY - "$TMP/om" <<'PYEOF'
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
fams = {f.name: f for f in text_string_to_metric_families(open(sys.argv[1]).read())}
assert fams["twaudit_tcpext_paws_passive"].type == "counter"
assert fams["twaudit_tcpext_paws_passive"].samples[0].value == 1234
assert fams["twaudit_audit_status"].samples[0].value == 2
PYEOF

curl -fsS -D "$TMP/h" -H 'Accept: text/plain' -o "$TMP/plain" "$base/metrics"
check "text/plain gets 0.0.4" grep -qi '^content-type: text/plain; version=0.0.4' "$TMP/h"
check "0.0.4 has no # EOF" bash -c "! grep -q '^# EOF' '$TMP/plain'"
# gzip and plain bodies of one snapshot: a plain body fetched right before
# and right after the gzipped one, equal, so no tick came in between (at
# most 5 tries; a tick lands in a try's few milliseconds rarely).
same_snapshot=false
for _ in 1 2 3 4 5; do
	curl -fsS -H 'Accept: text/plain' -o "$TMP/plain1" "$base/metrics"
	curl -fsS -D "$TMP/h" -H 'Accept-Encoding: gzip' -o "$TMP/gz" "$base/metrics"
	curl -fsS -H 'Accept: text/plain' -o "$TMP/plain2" "$base/metrics"
	if cmp -s "$TMP/plain1" "$TMP/plain2"; then same_snapshot=true; break; fi
done
check "gzip when accepted" grep -qi '^content-encoding: gzip' "$TMP/h"
check "plain bodies around the gzip one come from one snapshot" $same_snapshot
check "gzip body decodes to the same text" bash -c "gzip -dc '$TMP/gz' | diff -q - '$TMP/plain1' >/dev/null"
curl -fsS -D "$TMP/h" -H 'Accept-Encoding: gzip;q=0, identity' -o /dev/null "$base/metrics"
check "gzip;q=0 is not gzipped" bash -c "! grep -qi '^content-encoding' '$TMP/h'"

# A real Prometheus scrapes it (negotiating OpenMetrics and gzip itself).
if command -v prometheus >/dev/null; then
	pport=$(free_port)
	cat >"$TMP/prom.yml" <<EOC
global: { scrape_interval: 1s, scrape_timeout: 900ms }
scrape_configs:
  - job_name: twaudit
    static_configs: [ { targets: ['127.0.0.1:$port'] } ]
EOC
	prometheus --config.file="$TMP/prom.yml" --storage.tsdb.path="$TMP/tsdb" \
		--web.listen-address="127.0.0.1:$pport" >"$TMP/prom.log" 2>&1 &
	PIDS+=($!)
	q() { curl -fsS "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		$PY -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(r[0]["value"][1] if r else "")'; }
	scraped() { [ "$(q up 2>/dev/null)" = 1 ] && [ -n "$(q twaudit_audit_status 2>/dev/null)" ]; }
	# Prometheus starts, then scrapes within its 1 s interval: allow a slow machine.
	wait_until 60 scraped
	check "Prometheus scrape: up == 1" test "$(q up)" = 1
	check "Prometheus scrape: twaudit_audit_status == 2" test "$(q twaudit_audit_status)" = 2
	check "Prometheus scrape: PAWSPassive counter stored" test "$(q twaudit_tcpext_paws_passive_total)" = 1234
	check "Prometheus scrape: finding series" test "$(q 'twaudit_finding{id="tw_recycle_nat_drops",severity="critical"}')" = 1
	curl -fsS "http://127.0.0.1:$pport/api/v1/targets" >"$TMP/targets.json"
	check "Prometheus scrape: no scrape error" \
		test "$(json_get "$TMP/targets.json" 'd["data"]["activeTargets"][0]["lastError"]')" = ""
else
	fail "prometheus is installed (Debian package prometheus)"
fi

finish
