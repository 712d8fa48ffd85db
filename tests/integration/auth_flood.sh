#!/usr/bin/env bash
# Wrong-password flood: basic_auth_users at bcrypt cost 10, 100 kept-alive
# connections from 127.0.0.1 to 127.0.0.5 sending wrong passwords as fast
# as they are answered, while a scraper with the right password scrapes
# from 127.0.0.1 (an address it shares with attackers) and from 127.0.0.3.
# Every scrape must answer 200 in under 1 s (the median is printed);
# wrong passwords are counted in twaudit_http_auth_failures_total and the
# ones refused without bcrypt in twaudit_http_auth_throttled_total.
# A fresh login (no remembered success) during the flood works too.
. "$(dirname "$0")/lib.sh"

FIX="$FIXTURES/linux-4.19"
bcrypt() {
	$PY -W ignore -c 'import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=1<<int(sys.argv[2]))))' "$1" "$2"
}
H=$(bcrypt secret 10)
check "bcrypt cost 10 hash made" bash -c "[[ '$H' == '\$2b\$10\$'* ]]"
printf 'basic_auth_users:\n  prometheus: %s\n  grafana: %s\n' "'$H'" "'$H'" >"$TMP/web.yml"
port=$(free_port)
start_serve "$port" --web.config.file="$TMP/web.yml" --path.procfs="$FIX" \
	--path.rootfs="$TMP" || { finish; exit 1; }
U="http://127.0.0.1:$port"
code() { curl -s -o /dev/null -m 10 -w '%{http_code}' "$@"; }
check "right password before the flood: 200" test "$(code -u prometheus:secret "$U/metrics")" = 200

# The attackers: 100 connections, 20 from each of 127.0.0.1..5, each
# sending requests with a new wrong password as soon as the last one is
# answered, until $TMP/stop exists (at most DURATION seconds); reconnects
# when the server closes.
DURATION=$((60 * SLOW))
$PY - "$port" "$DURATION" "$TMP/stop" >"$TMP/attack.out" 2>&1 <<'PYEOF' &
import base64, http.client, os, sys, threading, time
port, duration, stop = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
end = time.monotonic() + duration
def watch():
    global end
    while time.monotonic() < end and not os.path.exists(stop):
        time.sleep(0.1)
    end = 0
threading.Thread(target=watch).start()
counts, lock = {}, threading.Lock()
def run(i):
    src = "127.0.0.%d" % (1 + i % 5)
    conn = None
    n = 0
    while time.monotonic() < end:
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5,
                                                  source_address=(src, 0))
            pw = base64.b64encode(b"prometheus:wrong%d-%d" % (i, n)).decode()
            n += 1
            conn.request("GET", "/metrics", headers={"Authorization": "Basic " + pw})
            r = conn.getresponse(); r.read()
            st = r.status
            if r.getheader("Connection", "").lower() == "close":
                conn.close(); conn = None
        except Exception as e:
            st = type(e).__name__
            if conn is not None:
                conn.close()
            conn = None
            time.sleep(0.05)
        with lock:
            counts[st] = counts.get(st, 0) + 1
ts = [threading.Thread(target=run, args=(i,)) for i in range(100)]
for t in ts: t.start()
for t in ts: t.join()
print(" ".join("%s=%d" % (k, v) for k, v in sorted(counts.items(), key=str)))
PYEOF
ATTACK=$!
PIDS+=("$ATTACK")
sleep 2	# let the flood drain every bucket first

# scrape SRC USER: time_total of one scrape, or FAIL:code.
scrape() {
	local out
	out=$(curl -s -o /dev/null -m 10 --interface "$1" -u "$2:secret" -w '%{http_code} %{time_total}' "$U/metrics")
	case $out in 200\ *) echo "${out#* }";; *) echo "FAIL:${out%% *}";; esac
}
times=()
for i in $(seq 1 20); do
	src=127.0.0.1; [ $((i % 2)) = 0 ] && src=127.0.0.3
	times+=("$(scrape "$src" prometheus)")
	sleep 0.3
done
# A login with nothing remembered (grafana has not logged in yet), from an
# address the attackers do not use.
fresh=$(scrape 127.0.0.6 grafana)
alive=$(kill -0 "$ATTACK" 2>/dev/null && echo yes || echo no)
touch "$TMP/stop"
echo "# scrape seconds during the flood: ${times[*]}"
fails=$(printf '%s\n' "${times[@]}" | grep -c FAIL)
median=$(printf '%s\n' "${times[@]}" | grep -v FAIL | sort -n | awk '{a[NR]=$1} END {print (NR ? a[int((NR+1)/2)] : "none")}')
max=$(printf '%s\n' "${times[@]}" | grep -v FAIL | sort -n | tail -1)
echo "# median scrape during the flood: ${median} s, max ${max:-none} s"
check "the flood ran through all the scrapes" test "$alive" = yes
check "20 scrapes with the right password during the flood: all 200 (failed: $fails)" test "$fails" = 0
check "every scrape under $SLOW s (max ${max:-none} s, median $median s; x SLOW under sanitizers)" \
	awk -v m="${max:-99}" -v s="$SLOW" 'BEGIN { exit !(m < 1.0 * s) }'
# One bcrypt at cost 10 takes 0.2 s here when idle, and more with the
# flood on both cores: 2 s.
check "a first login during the flood: 200 within 2 s ($fresh s)" \
	awk -v m="$fresh" -v s="$SLOW" 'BEGIN { exit !(m ~ /^[0-9.]+$/ && m < 2.0 * s) }'
wait "$ATTACK"
echo "# attacker responses: $(cat "$TMP/attack.out")"
n401=$(sed -n 's/.*\b401=\([0-9]*\).*/\1/p' "$TMP/attack.out")
check "the attackers got 401s (${n401:-0})" test "${n401:-0}" -gt 100

# Both counters from one scrape, once settled. The web process's counters
# reach /metrics with the next snapshot, and a scrape within
# --collect.min-interval answers the body of a snapshot collected while the
# flood still ran: two scrapes could each show another moment. Settled: two
# scrapes more than min-interval apart say the same.
counts() {
	curl -s -m 10 -u prometheus:secret "$U/metrics" | awk '
		$1 == "twaudit_http_auth_failures_total" { f = $2 }
		$1 == "twaudit_http_auth_throttled_total" { t = $2 }
		END { if (f != "" && t != "") print f, t }'
}
settled() {
	local a b
	a=$(counts); sleep 1.1; b=$(counts)
	[ -n "$b" ] && [ "$a" = "$b" ] && echo "$b" >"$TMP/counts"
}
fails_total= thr_total=
wait_until 20 settled && read -r fails_total thr_total <"$TMP/counts"
echo "# twaudit_http_auth_failures_total=$fails_total twaudit_http_auth_throttled_total=$thr_total"
check "twaudit_http_auth_failures_total counts the wrong passwords (${fails_total:-none})" \
	awk -v v="${fails_total:-0}" 'BEGIN { exit !(v > 100) }'
check "twaudit_http_auth_throttled_total counts refusals without bcrypt (${thr_total:-none})" \
	awk -v v="${thr_total:-0}" -v f="${fails_total:-0}" 'BEGIN { exit !(v > 0 && v <= f) }'
check "serve still running" kill -0 "$SERVE_PID"
stop_serve
finish
