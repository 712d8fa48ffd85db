#!/usr/bin/env bash
# Connection flood: one address holds its HTTP_MAX_PER_CLIENT connections
# (web/twlimits.h), then connects in a loop for 5 s. Every refusal is
# counted in twaudit_http_connections_refused_total{reason="per_address"},
# the log stays under a small line budget (the rate limit writes a "log
# lines suppressed" line with the count instead; the count is in
# twaudit_log_lines_suppressed_total), and a scrape from another address
# still answers. Without the accounting libmicrohttpd 0.9.75 writes one
# warning per refused connection (49 000 lines in 5 s).
. "$(dirname "$0")/lib.sh"

ATK="$(dirname "$0")/http_attack.py"
LIM="${SRC:-$(dirname "$0")/../..}/web/twlimits.h"
PERIP=$(sed -n "s/^#define HTTP_MAX_PER_CLIENT \([0-9]*\).*/\1/p" "$LIM")
BUDGET=60	# log lines for the whole flood
ROOT="$TMP/root"; mkdir -p "$ROOT"
port=$(free_port)
log="$TMP/serve-$port.log"
start_serve "$port" --path.procfs="$FIXTURES/linux-6.18" --path.rootfs="$ROOT" || die "serve"
metric() { # metric NAME_WITH_LABELS: its value in a fresh scrape (empty if absent)
	curl -fsS "http://127.0.0.1:$port/metrics" | awk -v m="$1" '$1 == m { print $2 }'
}
lines0=$(wc -l <"$log")

# Hold PERIP connections from 127.0.0.9, then 5 s (at most 100 000
# attempts) of connect-and-wait-for-the-close from the same address.
out=$($PY "$ATK" flood "$port" 127.0.0.9 "$PERIP" 5 100000)
echo "# flood: $out"
held=$(sed -n 's/.*held=\([0-9]*\).*/\1/p' <<<"$out")
attempts=$(sed -n 's/.*attempts=\([0-9]*\).*/\1/p' <<<"$out")
refused=$(sed -n 's/.*refused=\([0-9]*\).*/\1/p' <<<"$out")
accepted=$(sed -n 's/.*accepted=\([0-9]*\).*/\1/p' <<<"$out")
check "flood: the $PERIP held connections stay open ($held)" test "${held:-0}" = "$PERIP"
check "flood: over 1000 connection attempts in 5 s ($attempts)" test "${attempts:-0}" -gt 1000
check "flood: every attempt refused at once ($refused of $attempts, $accepted accepted)" \
	test "${refused:-0}" = "$attempts" -a "${accepted:-1}" = 0

# Counted: every refused connection is one per_address refusal (the scrape
# waits for the collector's next snapshot, --collect.min-interval).
want="twaudit_http_connections_refused_total{reason=\"per_address\"}"
got() { [ "$(metric "$want")" = "$refused" ]; }
wait_until 10 got
check "refusals counted: $want = $(metric "$want") (refused $refused)" got
check "no refusal for the global limit" \
	test "$(metric 'twaudit_http_connections_refused_total{reason="limit"}')" = 0

# The log stays under budget, and says how much it left out.
lines=$(( $(wc -l <"$log") - lines0 ))
echo "# log: $lines lines during the flood"
tail -n 3 "$log" | sed 's/^/# /'
check "log: $lines lines for $attempts refusals (budget $BUDGET)" test "$lines" -le "$BUDGET"
check "log: refusals are logged (rate-limited, not silenced)" \
	grep -q 'msg="HTTP connection refused" reason=per_address' "$log"
sup=$(metric twaudit_log_lines_suppressed_total)
check "twaudit_log_lines_suppressed_total counts the rest ($sup)" \
	test "${sup:-0}" -ge $(( attempts - BUDGET ))

# Another client is served during and after the flood.
check "/metrics from 127.0.0.1 answers after the flood" \
	curl -fsS -m 2 -o /dev/null "http://127.0.0.1:$port/metrics"
check "serve alive" kill -0 "$SERVE_PID"

# At exit the rate limit reports what it still held back: written and
# suppressed refusal lines add up to the refusals.
stop_serve
written=$(grep -c 'msg="HTTP connection refused"' "$log")
reported=$(sed -n 's/.*msg="log lines suppressed" of="HTTP connection refused" suppressed=\([0-9]*\).*/\1/p' "$log" |
	awk '{ s += $1 } END { print s + 0 }')
check "log: $written refusal lines + $reported reported as suppressed = $refused refusals" \
	test $(( written + reported )) = "$refused"
finish
