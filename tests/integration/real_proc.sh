#!/usr/bin/env bash
# Against this machine's real /proc and /: check runs, serve serves, promtool is silent.
. "$(dirname "$0")/lib.sh"

"$TWAUDIT" check --format=json >"$TMP/real.json" 2>"$TMP/err"; rc=$?
check "check on real /proc exits 0-3 (got $rc)" test "$rc" -ge 0 -a "$rc" -le 3
check "real /proc: JSON validates" validate_json "$SCHEMAS/advice.schema.json" "$TMP/real.json"
check "real /proc: kernel release is this kernel's" \
	test "$(json_get "$TMP/real.json" 'd["kernel_release"]')" = "$(uname -r)"
check "real /proc: netstat source ok" test "$(json_get "$TMP/real.json" 'd["sources"]["netstat"]["state"]')" = ok
check "real /proc: snmp source ok" test "$(json_get "$TMP/real.json" 'd["sources"]["snmp"]["state"]')" = ok
check "real /proc: tcp_timestamps read" \
	test "$(json_get "$TMP/real.json" 'd["sources"]["sysctl"]["keys"]["net.ipv4.tcp_timestamps"]["value"]')" = "$(cat /proc/sys/net/ipv4/tcp_timestamps)"

port=$(free_port)
# As serve runs by default when started as root: switched to nobody, keeping
# CAP_NET_RAW for the sampler (the collectors below must all still work).
start_serve "$port" --sampler.enabled --security.user=nobody
if [ "$(id -u)" = 0 ]; then
	check "real /proc: serve runs as nobody" test "$(awk '/^Uid:/ { print $2 $3 $4 $5 }' /proc/"$SERVE_PID"/status)" = "$(id -u nobody)$(id -u nobody)$(id -u nobody)$(id -u nobody)"
fi
# Read the kernel first: the scrape must then see at least as many segments.
want=$(awk '/^Tcp:/ { if (!h) { for (i = 1; i <= NF; i++) if ($i == "InSegs") c = i; h = 1 } else print $c }' /proc/net/snmp)
sleep 1.1  # past --collect.min-interval, so the scrape collects afresh
curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/m"
check "real /proc: promtool check metrics is silent" bash -c "[ -z \"\$(promtool check metrics < '$TMP/m' 2>&1)\" ]"
got=$(sed -n 's/^twaudit_tcp_in_segs_total //p' "$TMP/m")
check "real /proc: InSegs is read ($got >= $want)" test "${got:-0}" -ge "$want"
# Coalescing: two scrapes inside --collect.min-interval (1s) see one snapshot
# (generated_at has milliseconds: a fresh collection per scrape differs).
# The two go back to back from one curl, past min-interval so that the
# first collects; a second pair only when the 5 s background tick (which
# replaces the snapshot) came between the two.
gen_at() { $PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["generated_at"])' "$1"; }
for _ in 1 2; do
	sleep 1.1
	curl -fsS -o "$TMP/adv-a.json" "http://127.0.0.1:$port/advice" -o "$TMP/adv-b.json" "http://127.0.0.1:$port/advice"
	a=$(gen_at "$TMP/adv-a.json") b=$(gen_at "$TMP/adv-b.json")
	[ "$a" = "$b" ] && break
done
check "scrapes within min-interval share a snapshot ($a = $b)" test "$a" = "$b"
check "real kernel: sock_diag source ok" grep -q '^twaudit_collector_state{collector="sock_diag",state="ok"} 1$' "$TMP/m"
check "real kernel: sockets per state" grep -q '^twaudit_tcp_sockets{state="listen"} [0-9]' "$TMP/m"
check "real kernel: tcp_metrics ok" grep -q '^twaudit_collector_state{collector="tcp_metrics",state="ok"} 1$' "$TMP/m"
check "6.18: no recent_stamps (no TW attributes after 4.12)" bash -c "! grep -q '^twaudit_tcp_metrics_recent_stamps' '$TMP/m'"

# Live mode: the sampler sees this test's own loopback SYNs to serve.
base="http://127.0.0.1:$port"
for _ in $(seq 1 8); do curl -fsS -o /dev/null "$base/healthz"; done
# The model counts them once the sampler's threads got to them and a scrape
# collected afresh (min-interval): poll.
model_syns() {
	curl -fsS "$base/metrics" >"$TMP/m2" &&
		[ "$(sed -n 's/^twaudit_model_syns_total //p' "$TMP/m2")" -ge 8 ] 2>/dev/null
}
sleep 1.1
wait_until 20 model_syns
check "live: sampler source ok" grep -q '^twaudit_collector_state{collector="sampler",state="ok"} 1$' "$TMP/m2"
syns=$(sed -n 's/^twaudit_model_syns_total //p' "$TMP/m2")
check "live: the model saw the 8 SYNs just sent (saw ${syns:-none})" test "${syns:-0}" -ge 8
check "live: predicted rejections carry the running kernel's profile" \
	grep -qE '^twaudit_model_predicted_rejections_total\{profile="[0-9.+-]+"\} [0-9]+$' "$TMP/m2"
check "live: promtool still silent with model metrics" bash -c "[ -z \"\$(promtool check metrics < '$TMP/m2' 2>&1)\" ]"
curl -fsS "$base/model" >"$TMP/model.json"
check "live: /model says ok" test "$(json_get "$TMP/model.json" 'd["state"]')" = ok
check "live: /model lists what-if rows" test "$(json_get "$TMP/model.json" 'len(d["what_if"])')" -ge 1
curl -fsS "$base/advice" >"$TMP/adv.json"
check "live: /advice carries the model object" test "$(json_get "$TMP/adv.json" 'd["model"]["sampling_ratio"]')" = 1
check "live: /advice with model validates" validate_json "$SCHEMAS/advice.schema.json" "$TMP/adv.json"
stop_serve

# Without CAP_NET_RAW the sampler is unavailable and says why; the rest serves.
port=$(free_port)
setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --no-security.seccomp 2>"$TMP/unpriv.log" &
PIDS+=($!); SERVE_PID=$!
wait_serve "$port" "$SERVE_PID" "$TMP/unpriv.log" --no-security.seccomp
curl -fsS "http://127.0.0.1:$port/advice" >"$TMP/unpriv.json"
check "unprivileged: sampler unavailable" test "$(json_get "$TMP/unpriv.json" 'd["sources"]["sampler"]["state"]')" = unavailable
check "unprivileged: the reason names CAP_NET_RAW" grep -q CAP_NET_RAW "$TMP/unpriv.json"
check "unprivileged: the audit still runs (netstat ok)" test "$(json_get "$TMP/unpriv.json" 'd["sources"]["netstat"]["state"]')" = ok
stop_serve

"$TWAUDIT" check --format=json --no-collector.sock_diag --collector.tcp_metrics=false >"$TMP/off.json" 2>/dev/null
check "disabled sock_diag is disabled, saying which flag" \
	test "$(json_get "$TMP/off.json" 'd["sources"]["sock_diag"]["error"]')" = "disabled by --no-collector.sock_diag"
check "disabled tcp_metrics is disabled" \
	test "$(json_get "$TMP/off.json" 'd["sources"]["tcp_metrics"]["state"]')" = disabled
check "disabled collectors do not change the status" bash -c "'$TWAUDIT' check --no-collector.sock_diag >/dev/null 2>&1; test \$? -eq 0"

finish
