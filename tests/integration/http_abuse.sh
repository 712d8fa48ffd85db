#!/usr/bin/env bash
# HTTP abuse (issue 7): limits from web/twlimits.h enforced by
# libmicrohttpd, hostile requests answered with the right status or cut,
# and /metrics answering within 100 ms from 127.0.0.1 (the scraper) while
# attackers on 127.0.0.2 and up hold slow, idle or garbage connections.
# Figures go to docs/reliability.md ("HTTP under attack").
. "$(dirname "$0")/lib.sh"

ATK="$(dirname "$0")/http_attack.py"
LIM="${SRC:-$(dirname "$0")/../..}/web/twlimits.h"
limit() { sed -n "s/^#define $1 \([0-9]*\).*/\1/p" "$LIM"; }
MAXC=$(limit HTTP_MAX_CONNECTIONS) PERIP=$(limit HTTP_MAX_PER_CLIENT) TMO=$(limit HTTP_TIMEOUT_SECONDS)
ulimit -n 20000 2>/dev/null || ulimit -n "$(ulimit -Hn)"
port=$(free_port)
start_serve "$port" --path.procfs="$FIXTURES/linux-6.18" --path.rootfs="$TMP"
# The web process holds the connections (lib.sh web_pid).
WEB=$(web_pid)
fds() { ls /proc/"$WEB"/fd | wc -l; }
# scrape_during N: N scrapes 0.2 s apart; every one 200 and under 100 ms.
scrape_ok() { # scrape_ok NAME RESULT
	echo "# $1: scrapes: $2"
	local max fail p90
	fail=$(sed -n 's/.*fail=\([0-9]*\).*/\1/p' <<<"$2")
	max=$(sed -n 's/.*max_ms=\([0-9.]*\).*/\1/p' <<<"$2")
	p90=$(sed -n 's/.*p90_ms=\([0-9.]*\).*/\1/p' <<<"$2")
	check "$1: /metrics from 127.0.0.1 always 200 ($2)" test "$fail" = 0
	# 100 ms for 9 scrapes in 10; one slower is tolerated up to 1 s, as the
	# two cores are shared with the attacker (and with whatever else runs:
	# load $(cut -d' ' -f1 /proc/loadavg) now).
	check "$1: /metrics within 100 ms (p90 $p90 ms, max $max ms)" \
		awk -v p="$p90" -v m="$max" 'BEGIN { exit !(p >= 0 && p < 100 && m < 1000) }'
}

# --- hostile requests: status as libmicrohttpd + twaudit answer them ----
probe() { $PY "$ATK" probe "$port" 127.0.0.2 "$1"; }
expect() { # expect KIND WANTED...
	local kind=$1 got; shift
	got=$(probe "$kind")
	local w; for w in "$@"; do [ "$got" = "$w" ] && { ok "$kind -> $got"; return; }; done
	fail "$kind -> $got (want $*)"
}
expect long-url 414               # request line over HTTP_CONNECTION_MEMORY
expect long-header 431            # one header over the limit
expect many-headers 431           # 2000 small headers
expect unknown-method 405         # routed: only GET and HEAD
expect bad-version 505
expect bad-content-length 400
expect big-body 405               # body never buffered: 405, not read
expect chunked-body 405
expect garbage 400 cut            # a TLS ClientHello on plain HTTP
expect nul-in-url 404 400
expect pipelined-garbage "200,cut" "200,400,cut"
check "serve alive after the hostile requests" kill -0 "$SERVE_PID"

# --- per-client limit: 40 connections from one address -----------------
out=$($PY "$ATK" hold "$port" 40 1 3 idle 2 2>/dev/null)
echo "# per-client: $out"
cut=$(sed -n 's/.*cut=\([0-9]*\).*/\1/p' <<<"$out")
# The accept policy reserves the place (check and count in one step), so
# polling threads accepting at once never keep more than the limit.
check "per-client limit: $((40 - PERIP)) of 40 connections from 127.0.0.3 cut at once ($out)" \
	test "$cut" -eq $((40 - PERIP))

# --- per-connection timeout: an idle connection is closed --------------
t=$($PY - "$port" <<'PYEOF'
import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.4", 0)); s.connect(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /metrics HTTP/1.1\r\n")   # and never finish
t0 = time.monotonic(); s.settimeout(30)
try: s.recv(1)
except OSError: pass
print("%.1f" % (time.monotonic() - t0))
PYEOF
)
check "idle half-request cut after ${t}s (timeout ${TMO}s)" awk -v t="$t" -v m="$TMO" 'BEGIN { exit !(t >= m - 1 && t <= m + 3) }'

# --- slowloris: 600 connections over 20 addresses, a header line every 2 s
$PY "$ATK" hold "$port" 600 20 10 slow 8 >"$TMP/hold" 2>"$TMP/hold.err" &
atk=$!
wait_until 30 grep -q 'connecting done' "$TMP/hold.err"
sleep 1
echo "# slowloris: serve holds $(fds) descriptors"
res=$($PY "$ATK" scrape "$port" 25 0.2)
wait $atk
scrape_ok "slowloris (600 slow connections, 20 addresses)" "$res"
echo "# slowloris attacker: $(cat "$TMP/hold")"

# --- garbage trickle from 20 addresses --------------------------------
$PY "$ATK" hold "$port" 600 20 40 garbage 6 >"$TMP/hold" 2>"$TMP/hold.err" &
atk=$!
wait_until 30 grep -q 'connecting done' "$TMP/hold.err"
sleep 1
res=$($PY "$ATK" scrape "$port" 20 0.2)
wait $atk
scrape_ok "garbage trickle (600 connections)" "$res"
echo "# garbage attacker: $(cat "$TMP/hold")"
# Random bytes containing a newline end the "request line": 400 and cut; the
# rest wait for their line until the timeout like any slow client.

# --- 10 000 concurrent idle connections from 320 addresses -------------
rss0=$(sed -n 's/VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$WEB"/status)
$PY "$ATK" hold "$port" 10000 320 100 idle $((TMO + 4)) >"$TMP/hold" 2>"$TMP/hold.err" &
atk=$!
wait_until 30 grep -q 'connecting done' "$TMP/hold.err"
sleep 1
n=$(fds)
res=$($PY "$ATK" scrape "$port" 30 0.2)
rss=$(sed -n 's/VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' /proc/"$WEB"/status)
wait $atk
echo "# 10k: serve held $n descriptors, RSS ${rss0} -> ${rss} KiB"
scrape_ok "10 000 concurrent connections" "$res"
check "10 000 connections all cut by the timeout ($(cat "$TMP/hold"))" grep -q 'still_open=0' "$TMP/hold"
if sanitized; then   # lib.sh
	echo "ok - # SKIP RSS bound under sanitizers (redzones, quarantine)"
else
	check "10 000 connections: RSS grew by less than 128 MiB ($rss0 -> $rss KiB)" test $((rss - rss0)) -lt 131072
fi

# --- global limit: more connections than HTTP_MAX_CONNECTIONS ----------
# (no scrape promise here: past the cap the kernel queue fills, by design)
# The attackers dribble a header line every 2 s, so serve's timeout never
# cuts them and the cap stays reached while a connection over it is tried:
# idle ones are cut HTTP_TIMEOUT_SECONDS after their accept, so whether
# any surplus reached the accept policy while the cap held was timing.
if [ "${HTTP_ABUSE_GLOBAL:-1}" = 1 ] && [ "$(ulimit -n)" -ge $((MAXC + 1200)) ]; then
	base=$(fds)
	$PY "$ATK" hold "$port" $((MAXC + 1000)) $(( (MAXC + 1000) / (PERIP - 1) + 1 )) 100 slow 30 >"$TMP/hold" 2>"$TMP/hold.err" &
	atk=$!
	wait_until 30 grep -q 'connecting done' "$TMP/hold.err"
	# The highest descriptor count while the accept queue drains.
	n=0
	for _ in $(seq 50); do
		m=$(fds); [ "$m" -gt "$n" ] && n=$m
		[ "$n" -ge $((base + MAXC - 8)) ] && break
		sleep 0.4
	done
	# At the cap, a connection from an address that holds none is accepted
	# and closed at once by the accept policy, and counted (checked below
	# with the other refusals; "refused" here also counts a connect that
	# timed out in a full accept queue).
	over=$($PY "$ATK" flood "$port" 127.0.0.2 0 6 3)
	for _ in $(seq 4); do m=$(fds); [ "$m" -gt "$n" ] && n=$m; sleep 0.4; done
	kill "$atk" 2>/dev/null; wait "$atk" 2>/dev/null
	echo "# global limit: $base descriptors before, at most $n during; over the cap: $over"
	check "global limit: serve holds at most $MAXC connections ($n descriptors)" test "$n" -le $((MAXC + 64))
	check "global limit: serve holds close to $MAXC (no lower hidden cap) ($n)" test "$n" -ge $((MAXC - 64))
fi
sleep $((TMO + 1))
check "serve still answers after every attack" curl -fsS -o /dev/null "http://127.0.0.1:$port/metrics"
check "serve alive" kill -0 "$SERVE_PID"
# Refusals are counted by reason; the log stays small through all of it
# (refusals and libmicrohttpd's messages are rate-limited).
curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/m"
refused() { awk -v m="twaudit_http_connections_refused_total{reason=\"$1\"}" '$1 == m { print $2 }' "$TMP/m"; }
check "per-address refusals counted ($(refused per_address), at least $((40 - PERIP)))" \
	test "$(refused per_address)" -ge $((40 - PERIP))
if [ "${HTTP_ABUSE_GLOBAL:-1}" = 1 ] && [ "$(ulimit -n)" -ge $((MAXC + 1200)) ]; then
	check "global-limit refusals counted ($(refused limit))" test "$(refused limit)" -gt 0
fi
lines=$(wc -l <"$TMP/serve-$port.log")
check "log: $lines lines for the whole attack series (budget 200)" test "$lines" -le 200
finish
