#!/usr/bin/env bash
# Exporter conventions of serve, as node_exporter has them:
# --web.telemetry-path (metrics served there, /metrics then 404, the page
# links it, bad paths refused), --web.disable-exporter-metrics (process_*,
# twaudit_http_* and twaudit_log_lines_suppressed_total left out, the rest
# kept), --web.max-requests (slow scrapes hold their places: one more is
# answered 503 at once and counted; 0 disables the limit); process_*
# against the collector's /proc/PID, twaudit_web_process_* against the web
# process's; twaudit_http_requests_total by handler and code; the
# request duration histogram's buckets never decrease and +Inf = count.
# promtool check metrics stays silent on each body.
. "$(dirname "$0")/lib.sh"

FIX="$FIXTURES/linux-6.18"
ROOT="$TMP/root"; mkdir -p "$ROOT"
M=(--path.procfs="$FIX" --path.rootfs="$ROOT" --collect.min-interval=0s)
command -v promtool >/dev/null || skip "promtool not installed"

# sample BODYFILE SERIES: the value of one series ("" when absent).
sample() { awk -v m="$2" '$1 == m { print $2 }' "$1"; }
promtool_silent() { # promtool_silent FILE
	local out
	out=$(promtool check metrics <"$1" 2>&1) && [ -z "$out" ] || { echo "$out" >&2; return 1; }
}

# --- bad telemetry paths are usage errors ------------------------------
for p in metrics / /advice /healthz /model /api/history '/a//b' '/a/../b' '/a b' '/x?y'; do
	out=$("$TWAUDIT" serve --web.listen-address=127.0.0.1:1 --web.telemetry-path="$p" 2>&1)
	rc=$?
	check "--web.telemetry-path='$p' refused (exit $rc: $out)" \
		eval '[ "$rc" = 1 ] && grep -q -- "--web.telemetry-path" <<<"$out"'
done
out=$("$TWAUDIT" serve --web.max-requests=-1 2>&1); rc=$?
check "--web.max-requests=-1 refused (exit $rc)" test "$rc" = 1
# Read whole first: with pipefail, grep -q quitting at its match could kill
# a slower (sanitized) twaudit with SIGPIPE mid-write.
help=$("$TWAUDIT" serve --help 2>&1)
check "--help lists the three flags" eval 'grep -q -- "--web.telemetry-path" <<<"$help" &&
	grep -q -- "--web.disable-exporter-metrics" <<<"$help" &&
	grep -q -- "--web.max-requests" <<<"$help"'

# --- the telemetry path ------------------------------------------------
port=$(free_port)
start_serve "$port" "${M[@]}" --web.telemetry-path=/probe/metrics || die "serve"
U="http://127.0.0.1:$port"
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
check "metrics at /probe/metrics" eval 'curl -fsS "$U/probe/metrics" >"$TMP/mp" && grep -q "^twaudit_build_info" "$TMP/mp"'
check "/metrics is 404 then" test "$(code "$U/metrics")" = 404
curl -fsS "$U/" >"$TMP/page"
check "/ links the telemetry path" grep -q 'href="/probe/metrics"' "$TMP/page"
check "/ no longer links /metrics" eval '! grep -q "href=\"/metrics\"" "$TMP/page"'

# --- requests by handler and code --------------------------------------
curl -fsS "$U/probe/metrics" >"$TMP/m0"
n200=$(sample "$TMP/m0" 'twaudit_http_requests_total{handler="metrics",code="200"}')
n404=$(sample "$TMP/m0" 'twaudit_http_requests_total{handler="other",code="404"}')
nadv=$(sample "$TMP/m0" 'twaudit_http_requests_total{handler="advice",code="200"}')
n405=$(sample "$TMP/m0" 'twaudit_http_requests_total{handler="metrics",code="405"}')
n431=$(sample "$TMP/m0" 'twaudit_http_requests_total{handler="metrics",code="431"}')
for i in 1 2 3; do curl -s -o /dev/null "$U/probe/metrics"; done
for i in 1 2; do curl -s -o /dev/null "$U/nothing-here"; done
curl -s -o /dev/null "$U/advice"
curl -s -o /dev/null -X POST "$U/probe/metrics"
# libmicrohttpd's own answer (headers over the connection's memory): the
# status it sent is counted too.
curl -s -o /dev/null -H "X-Big: $(head -c 9000 /dev/zero | tr '\0' a)" "$U/probe/metrics"
# The snapshot copies the counters when built; a response is counted once
# libmicrohttpd reports it complete, just after the client has it.
want() { # want FILE SERIES MIN
	local v; v=$(sample "$1" "$2"); [ -n "$v" ] && [ "$v" -ge "$3" ]
}
got_all() {
	curl -fsS "$U/probe/metrics" >"$TMP/m1" &&
	want "$TMP/m1" 'twaudit_http_requests_total{handler="metrics",code="200"}' $(( ${n200:-0} + 4 )) &&
	want "$TMP/m1" 'twaudit_http_requests_total{handler="other",code="404"}' $(( ${n404:-0} + 2 )) &&
	want "$TMP/m1" 'twaudit_http_requests_total{handler="advice",code="200"}' $(( ${nadv:-0} + 1 )) &&
	want "$TMP/m1" 'twaudit_http_requests_total{handler="metrics",code="405"}' $(( ${n405:-0} + 1 )) &&
	want "$TMP/m1" 'twaudit_http_requests_total{handler="metrics",code="431"}' $(( ${n431:-0} + 1 ))
}
check "twaudit_http_requests_total counts handler/code: metrics 200 ${n200:-0}->+4, other 404 ${n404:-0}->+2, advice 200 +1, metrics 405 +1, metrics 431 +1" \
	wait_until 10 got_all
grep '^twaudit_http_requests_total' "$TMP/m1" | sed 's/^/# /'
check "no series for a handler label outside the fixed set" \
	eval '! grep "^twaudit_http_requests_total" "$TMP/m1" | grep -vqE "handler=\"(metrics|page|advice|model|history|healthz|other)\""'

# --- the duration histogram ---------------------------------------------
hist_ok() { # every handler: buckets non-decreasing, +Inf = _count, sum >= 0
	awk '
	/^twaudit_http_request_duration_seconds_bucket/ {
		match($1, /handler="[a-z]*"/); h = substr($1, RSTART + 9, RLENGTH - 10)
		if (h in last && $2 < last[h]) { print "decreasing: " $0; bad = 1 }
		last[h] = $2
		if ($1 ~ /le="\+Inf"/) inf[h] = $2
	}
	/^twaudit_http_request_duration_seconds_count/ {
		match($1, /handler="[a-z]*"/); h = substr($1, RSTART + 9, RLENGTH - 10); cnt[h] = $2
	}
	/^twaudit_http_request_duration_seconds_sum/ { if ($2 < 0) bad = 1 }
	END {
		n = 0
		for (h in cnt) { n++; if (!(h in inf) || inf[h] != cnt[h]) { print "+Inf != count for " h; bad = 1 } }
		for (h in inf) if (!(h in cnt)) bad = 1
		exit bad || n < 3
	}' "$1"
}
check "histogram: buckets monotone, +Inf = _count per handler" hist_ok "$TMP/m1"
mc=$(sample "$TMP/m1" 'twaudit_http_request_duration_seconds_count{handler="metrics"}')
mr=$(awk '/^twaudit_http_requests_total\{handler="metrics"/ { s += $2 } END { print s + 0 }' "$TMP/m1")
check "histogram count of metrics ($mc) = its requests over all codes ($mr)" test "${mc:-x}" = "$mr"
check "promtool check metrics silent (telemetry path, exporter metrics)" promtool_silent "$TMP/m1"

# --- process_* against /proc/PID ---------------------------------------
pid=$SERVE_PID
curl -fsS "$U/probe/metrics" >"$TMP/m2"
read -r -a st < <(sed 's/.*) //' /proc/$pid/stat)	# st[0] is field 3
tck=$(getconf CLK_TCK); pg=$(getconf PAGESIZE)
btime=$(awk '$1 == "btime" { print $2 }' /proc/stat)
want_start=$(awk -v b="$btime" -v s="${st[19]}" -v t="$tck" 'BEGIN { printf "%.2f", b + s / t }')
got_start=$(sample "$TMP/m2" process_start_time_seconds)
check "process_start_time_seconds $got_start = btime + starttime/CLK_TCK $want_start" \
	awk -v a="$got_start" -v b="$want_start" 'BEGIN { d = a - b; exit !(a != "" && d < 0.02 && d > -0.02) }'
fds=$(ls /proc/$pid/fd | wc -l)
got_fds=$(sample "$TMP/m2" process_open_fds)
check "process_open_fds $got_fds ~ $fds entries in /proc/$pid/fd" \
	awk -v a="$got_fds" -v b="$fds" 'BEGIN { exit !(a != "" && a - b <= 3 && b - a <= 3) }'
lim=$(awk '/^Max open files/ { print $4 }' /proc/$pid/limits)
check "process_max_fds = soft 'Max open files' ($lim)" test "$(sample "$TMP/m2" process_max_fds)" = "$lim"
rss=$(( st[21] * pg )); vsz=${st[20]}
got_rss=$(sample "$TMP/m2" process_resident_memory_bytes)
got_vsz=$(sample "$TMP/m2" process_virtual_memory_bytes)
check "process_resident_memory_bytes $got_rss within 25 % of rss*pagesize $rss" \
	awk -v a="$got_rss" -v b="$rss" 'BEGIN { exit !(a > 0 && a > b * 0.75 && a < b * 1.25) }'
check "process_virtual_memory_bytes $got_vsz within 25 % of vsize $vsz" \
	awk -v a="$got_vsz" -v b="$vsz" 'BEGIN { exit !(a > 0 && a > b * 0.75 && a < b * 1.25) }'
cpu=$(awk -v u="${st[11]}" -v s="${st[12]}" -v t="$tck" 'BEGIN { print (u + s) / t }')
got_cpu=$(sample "$TMP/m2" process_cpu_seconds_total)
check "process_cpu_seconds_total $got_cpu in [0, (utime+stime)/CLK_TCK $cpu]" \
	awk -v a="$got_cpu" -v b="$cpu" 'BEGIN { exit !(a != "" && a >= 0 && a <= b + 0.01) }'
check "HELP texts are client_golang's" eval 'grep -qx "# HELP process_open_fds Number of open file descriptors." "$TMP/m2" &&
	grep -qx "# HELP process_cpu_seconds_total Total user and system CPU time spent in seconds." "$TMP/m2"'
# process_* are the collector's (the main PID); the web process, which
# holds the sockets and connections, has twaudit_web_process_*.
wpid=$(web_pid)
check "serve runs a web process ($wpid) beside the collector ($pid)" eval '[ -n "$wpid" ] && [ "$wpid" != "$pid" ]'
read -r -a wst < <(sed 's/.*) //' /proc/$wpid/stat)
wfds=$(ls /proc/$wpid/fd | wc -l)
got_wfds=$(sample "$TMP/m2" twaudit_web_process_open_fds)
check "twaudit_web_process_open_fds $got_wfds ~ $wfds entries in /proc/$wpid/fd (the collector has $fds)" \
	awk -v a="$got_wfds" -v b="$wfds" 'BEGIN { exit !(a != "" && a - b <= 3 && b - a <= 3) }'
wrss=$(( wst[21] * pg ))
got_wrss=$(sample "$TMP/m2" twaudit_web_process_resident_memory_bytes)
check "twaudit_web_process_resident_memory_bytes $got_wrss within 25 % of the web process's rss $wrss" \
	awk -v a="$got_wrss" -v b="$wrss" 'BEGIN { exit !(a > 0 && a > b * 0.75 && a < b * 1.25) }'
wcpu=$(awk -v u="${wst[11]}" -v s="${wst[12]}" -v t="$tck" 'BEGIN { print (u + s) / t }')
got_wcpu=$(sample "$TMP/m2" twaudit_web_process_cpu_seconds_total)
check "twaudit_web_process_cpu_seconds_total $got_wcpu in [0, $wcpu]" \
	awk -v a="$got_wcpu" -v b="$wcpu" 'BEGIN { exit !(a != "" && a >= 0 && a <= b + 0.01) }'
stop_serve

# --- --web.disable-exporter-metrics ------------------------------------
port=$(free_port)
start_serve "$port" "${M[@]}" --web.disable-exporter-metrics || die "serve"
U="http://127.0.0.1:$port"
curl -s -o /dev/null "$U/nothing"
curl -fsS "$U/metrics" >"$TMP/m3"
check "no process_* families" eval '! grep -q "^# TYPE process_" "$TMP/m3"'
check "no twaudit_http_*, twaudit_web_process_* nor twaudit_log_lines_suppressed_total" \
	eval '! grep -qE "^# TYPE (twaudit_http_|twaudit_web_process_|twaudit_log_lines_suppressed)" "$TMP/m3"'
check "build info and collector families stay" eval 'grep -q "^twaudit_build_info" "$TMP/m3" &&
	grep -q "^twaudit_collector_success{" "$TMP/m3" && grep -q "^twaudit_audit_status " "$TMP/m3"'
check "promtool check metrics silent (exporter metrics off)" promtool_silent "$TMP/m3"
stop_serve

# --- the web process's counters are at most --collect.min-interval old --
# It sends them with the requests it passes on to the collector; a 404 is
# answered by the web process alone. A snapshot the 5 s tick builds in
# between carries the counters of the last request before it: younger than
# min-interval itself, it is not answered once those counters are older.
port=$(free_port)
start_serve "$port" --path.procfs="$FIX" --path.rootfs="$ROOT" --collect.min-interval=8s || die "serve"
U="http://127.0.0.1:$port"
curl -fsS "$U/metrics" >"$TMP/m5"
n404=$(sample "$TMP/m5" 'twaudit_http_requests_total{handler="other",code="404"}')
curl -s -o /dev/null "$U/nothing"; curl -s -o /dev/null "$U/nothing"
sleep 8.5	# past min-interval, with at least one tick in between
curl -fsS "$U/metrics" >"$TMP/m6"
got=$(sample "$TMP/m6" 'twaudit_http_requests_total{handler="other",code="404"}')
check "--collect.min-interval=8s: a scrape 8.5 s after the last, a tick in between, counts the two 404s since (${n404:-0} -> ${got:-absent})" \
	test "${got:-0}" -ge $(( ${n404:-0} + 2 ))
stop_serve

# --- --web.max-requests, in a namespace whose TCP send buffers are 4 KiB:
# a client that does not read keeps its ~16 KB /metrics response from
# going out, so its request stays under way (up to the 10 s request
# timeout). Only this namespace's loopback is used.
NS=exporter_flags$$
ip netns add "$NS" || skip "cannot create a network namespace"
NETNS+=("$NS")
ip -n "$NS" link set lo up
ip netns exec "$NS" sysctl -qw net.ipv4.tcp_wmem="4096 4096 4096" || skip "tcp_wmem is not per namespace here"
nsx() { ip netns exec "$NS" "$@"; }
# slow N PORT SECONDS: N connections that ask for /metrics and never read;
# "held" on stderr once all have sent their request.
cat >"$TMP/slow.py" <<'PYEOF'
import socket, sys, time
n, port, hold = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
cs = []
for i in range(n):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1)
    c.connect(("127.0.0.1", port))
    c.sendall(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
    cs.append(c)
print("held", file=sys.stderr, flush=True)
time.sleep(hold)
PYEOF
max_case() { # max_case LIMIT SLOW: serve with --web.max-requests=LIMIT, SLOW stuck scrapes
	local limit=$1 nslow=$2 mport=9477 sp slowpid code secs
	# ip netns exec execs the command: $! is serve itself.
	ip netns exec "$NS" "$TWAUDIT" serve --web.listen-address=127.0.0.1:$mport --security.user= \
		--no-sampler.enabled "${M[@]}" --web.max-requests="$limit" 2>>"$TMP/ns-serve.log" &
	sp=$!; PIDS+=($sp)
	wait_until 20 nsx curl -fs -o /dev/null "http://127.0.0.1:$mport/healthz" || { fail "serve in $NS"; return; }
	nsx curl -fs -o /dev/null "http://127.0.0.1:$mport/metrics"	# a first snapshot
	ip netns exec "$NS" $PY "$TMP/slow.py" "$nslow" "$mport" 8 2>"$TMP/slow.err" &
	slowpid=$!; PIDS+=($slowpid)
	wait_until 5 grep -q held "$TMP/slow.err"
	sleep 0.5
	# curl's own time (connect to last byte): not the start of ip and curl.
	one() { read -r code secs < <(nsx curl -s -m 5 -o "$TMP/body" -w '%{http_code} %{time_total}\n' \
		"http://127.0.0.1:$mport/metrics"); }
	one
	if [ "$limit" -gt 0 ] && [ "$nslow" -ge "$limit" ]; then
		# On a loaded machine serve may not have taken up the stuck
		# requests yet: then this one is answered 200; ask again.
		for _ in $(seq 10); do [ "$code" = 503 ] && break; sleep 0.3; one; done
		check "max-requests=$limit, $nslow stuck scrapes: one more is 503 (got $code) in ${secs}s" \
			eval '[ "$code" = 503 ] && awk -v t="$secs" -v m="$SLOW" "BEGIN { exit !(t < 0.5 * m) }"'
		check "the 503 says why: $(head -c 80 "$TMP/body")" grep -q "Limit of concurrent requests reached ($limit)" "$TMP/body"
		check "/advice and /healthz are not limited" eval '
			[ "$(nsx curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$mport/advice")" = 200 ] &&
			[ "$(nsx curl -s -o /dev/null -w "%{http_code}" "http://127.0.0.1:$mport/healthz")" = 200 ]'
	else
		check "max-requests=$limit, $nslow stuck scrapes: another scrape is 200 (got $code)" test "$code" = 200
	fi
	kill "$slowpid" 2>/dev/null; wait "$slowpid" 2>/dev/null
	# The stuck requests end when their clients go: places are given back.
	body() { nsx curl -fsS -m 5 "http://127.0.0.1:$mport/metrics" >"$TMP/m4"; }
	check "after the slow clients left, /metrics is 200 again" wait_until 10 body
	if [ "$limit" -gt 0 ] && [ "$nslow" -ge "$limit" ]; then
		got503() { body && want "$TMP/m4" 'twaudit_http_requests_total{handler="metrics",code="503"}' 1; }
		check "the 503 is counted: twaudit_http_requests_total{handler=\"metrics\",code=\"503\"} $(sample "$TMP/m4" 'twaudit_http_requests_total{handler="metrics",code="503"}')" \
			wait_until 10 got503
	fi
	kill "$sp"; wait "$sp" 2>/dev/null
}
max_case 2 2
max_case 0 3
max_case 40 3
finish
