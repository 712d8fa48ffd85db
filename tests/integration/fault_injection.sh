#!/usr/bin/env bash
# Faults around a running `serve`, each checked by what a scraper sees:
# /metrics keeps answering within 1 s and the process keeps running.
#  1. FIFOs in place of /proc files, with no writer and with a writer that
#     holds the FIFO open and dribbles a byte every 0.5 s (a stuck source);
#  2. a FIFO as a namespace target (--netns=all over a tree whose
#     PID/ns/net is a FIFO, and `check --netns=FIFO`);
#  3. network namespaces created and deleted while `serve --netns=all`
#     collects, named (/run/netns) and held only by a process that exits;
#  4. SIGHUP with good, broken, empty, multi-document, non-regular, missing
#     and swapped-out web configs, one at a time and as a storm, with TLS
#     and basic auth on: protection is never lowered by a refused file;
#  5. SIGTERM with scrapes, keep-alive connections and stalled clients in
#     flight.
# Vanishing, shrinking and unreadable /proc files and the full disk are in
# faults.sh; interface flaps are in the soak (soak.sh). Needs root.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/faultlib.sh"

[ "$(id -u)" = 0 ] || skip "needs root (namespaces, serve keeping CAP_SYS_ADMIN)"
command -v ip >/dev/null || skip "needs iproute2"
command -v openssl >/dev/null || skip "needs openssl"
TAG=fi$$
FEEDERS=()
fi_cleanup() {
	for p in "${FEEDERS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	for n in $(ip netns list 2>/dev/null | awk -v t="$TAG" 'index($1, t) == 1 { print $1 }'); do
		ip netns del "$n" 2>/dev/null
	done
	cleanup
}
trap fi_cleanup EXIT

# ---- 1. FIFOs and stuck writers in place of /proc files ---------------
P="$TMP/proc"; R="$TMP/root"; mkdir -p "$R"
cp -a "$FIXTURES/linux-6.18" "$P"
port=$(free_port)
start_serve "$port" --path.procfs="$P" --path.rootfs="$R" --collect.min-interval=0s || die "serve on the fixture"
base="http://127.0.0.1:$port"
succ() { metric "$base/metrics" "twaudit_collector_success{collector=\"$1\"}"; }
# fifo_in REL: REL replaced by a FIFO (the file kept as REL.orig).
fifo_in() { mv "$P/$1" "$P/$1.orig" && mkfifo "$P/$1"; }
fifo_out() { rm -f "$P/$1" && mv "$P/$1.orig" "$P/$1"; }
# A writer that opens the FIFO and writes one byte every 0.5 s for 60 s.
dribble() { ( exec 3>"$P/$1"; for _ in $(seq 120); do printf 'x' >&3 || exit; sleep 0.5; done ) & FEEDERS+=($!); }

for f in net/netstat net/snmp net/sockstat sys/net/ipv4/tcp_tw_reuse sys/kernel/osrelease; do
	fifo_in "$f"
	check "FIFO at $f (no writer): /metrics 200 within 1 s" answers_within 1000 "$base/metrics"
	dribble "$f"; sleep 0.3
	check "FIFO at $f with a dribbling writer: /metrics 200 within 1 s" answers_within 1000 "$base/metrics"
	check "FIFO at $f: /healthz and /advice answer" bash -c "curl -fsS -m 2 -o /dev/null '$base/healthz' && curl -fsS -m 2 -o /dev/null '$base/advice'"
	kill "${FEEDERS[-1]}" 2>/dev/null; wait "${FEEDERS[-1]}" 2>/dev/null
	fifo_out "$f"
done
check "FIFO at net/netstat: the netstat source failed, not hung" bash -c "
	mv '$P/net/netstat' '$P/net/netstat.orig' && mkfifo '$P/net/netstat'
	v=\$(curl -fsS -m 2 '$base/metrics' | awk '\$1 == \"twaudit_collector_success{collector=\\\"netstat\\\"}\" { print \$2 }')
	rm -f '$P/net/netstat'; mv '$P/net/netstat.orig' '$P/net/netstat'; [ \"\$v\" = 0 ]"
check "FIFOs gone: netstat and sysctl succeed again" wait_until 5 eval '[ "$(succ netstat)$(succ sysctl)" = 11 ]'
check "serve alive after the FIFOs" kill -0 "$SERVE_PID"
stop_serve

# ---- 2. a FIFO as a namespace target ----------------------------------
# A process directory in the fixture tree whose ns/net is a FIFO: --netns=all
# finds it. serve must not collect on its HTTP threads nor block on the
# FIFO: /metrics, /advice and /healthz answer, SIGTERM stops it.
mkdir -p "$P/4242/ns"; mkfifo "$P/4242/ns/net"
echo "0::/fifo.slice" >"$P/4242/cgroup"; echo fifo >"$P/4242/comm"
port=$(free_port)
"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --no-sampler.enabled --security.user= \
	--path.procfs="$P" --path.rootfs="$R" --netns=all 2>>"$TMP/serve-$port.log" &
PIDS+=($!); SERVE_PID=$!
base="http://127.0.0.1:$port"
WAIT_SERVE_SECONDS=10 wait_serve "$port" "$SERVE_PID" "$TMP/serve-$port.log" --netns=all >/dev/null 2>&1
for ep in healthz metrics advice; do
	check "--netns=all with a FIFO ns/net: /$ep within 1 s" answers_within 1000 "$base/$ep"
done
t0=$(now_us); kill -TERM "$SERVE_PID"
wait_until 5 eval '! kill -0 "$SERVE_PID" 2>/dev/null'; alive=$?
ms=$(( ($(now_us) - t0) / 1000 ))
check "--netns=all with a FIFO ns/net: SIGTERM stops serve ($ms ms)" test "$alive" = 0
kill -KILL "$SERVE_PID" 2>/dev/null; wait "$SERVE_PID" 2>/dev/null

mkfifo "$TMP/nsfifo"
t0=$(now_us)
timeout -s KILL 30 "$TWAUDIT" check --netns="$TMP/nsfifo" --path.procfs="$FIXTURES/linux-6.18" \
	--path.rootfs="$R" >"$TMP/out" 2>&1; rc=$?
ms=$(( ($(now_us) - t0) / 1000 ))
check "check --netns=FIFO: exit 3 within its 8 s budget (rc $rc, $ms ms)" test "$rc" = 3 -a "$ms" -lt 10000
t0=$(now_us)
timeout -s KILL 30 "$TWAUDIT" check --netns=all --path.procfs="$P" --path.rootfs="$R" >"$TMP/out" 2>&1; rc=$?
ms=$(( ($(now_us) - t0) / 1000 ))
check "check --netns=all over a tree with a FIFO ns/net: returns within 10 s (rc $rc, $ms ms)" \
	test "$rc" != 137 -a "$ms" -lt 10000
rm -rf "$P/4242"

# ---- 3. namespaces created and deleted during --netns=all --------------
# Real /proc and /run/netns. Other tests may add namespaces meanwhile: only
# this test's (named $TAG-*) are asserted on.
port=$(free_port)
start_serve "$port" --netns=all --path.rootfs="$R" --collect.min-interval=0s || die "serve --netns=all"
base="http://127.0.0.1:$port"
curl -fsS -m 10 -o /dev/null "$base/metrics"
fd0=$(proc_count "$SERVE_PID" fd)
ip netns add "$TAG-keep" && ip -n "$TAG-keep" link set lo up
check "a namespace added while serving appears in /metrics within 15 s" \
	wait_until 15 eval 'curl -fsS -m 5 "$base/metrics" | grep -q "netns=\"$TAG-keep\""'
# Churn: namespaces come and go (named ones, and ones only a short-lived
# process holds) while a scraper reads /metrics 5 times a second.
$PY "$HOSTILE" scrape "$base/metrics" 20 0.2 --slow-ms $((1000 * SLOW)) >"$TMP/scrape.churn" &
scr=$!
end=$(( $(now_us) + 18000000 )); i=0
while [ "$(now_us)" -lt "$end" ] && [ $i -lt 200 ]; do
	i=$((i + 1))
	ip netns add "$TAG-$i" 2>/dev/null
	timeout 5 unshare --net sleep 0.3 &
	sleep 0.1
	ip netns del "$TAG-$i" 2>/dev/null
	wait $! 2>/dev/null
done
wait $scr
res=$(cat "$TMP/scrape.churn")
echo "# namespace churn: $i namespaces added and deleted; scrapes: $res"
check "namespace churn: every scrape 200 ($res)" test "$(field fail "$res")" = 0 -a "$(field ok "$res")" -gt 0
check "namespace churn: no scrape took $SLOW s or more ($res)" test "$(field slow "$res")" = 0
check "namespace churn: serve alive" kill -0 "$SERVE_PID"
ip netns del "$TAG-keep"
check "deleted namespaces leave /metrics within 15 s" \
	wait_until 15 eval '! curl -fsS -m 5 "$base/metrics" | grep -q "netns=\"$TAG-"'
fd1=$(proc_count "$SERVE_PID" fd)
check "namespace churn: no descriptor kept for deleted namespaces ($fd0 -> $fd1)" test "$fd1" -le $((fd0 + 2))
stop_serve

# ---- 4. SIGHUP with good, bad and swapped-out web configs --------------
make_pki "$TMP/pki" || die "test PKI"
H1=$(bcrypt_hash secret 6); H2=$(bcrypt_hash rotated 6)
good() { # good FILE HASH
	printf 'tls_server_config:\n  cert_file: %s/pki/server.crt\n  key_file: %s/pki/server.key\nbasic_auth_users:\n  prometheus: %s\n' \
		"$TMP" "$TMP" "'$2'" >"$1"
}
W="$TMP/web.yml"
good "$W" "$H1"
port=$(free_port)
"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --web.config.file="$W" --no-sampler.enabled \
	--security.user= --path.procfs="$FIXTURES/linux-6.18" --path.rootfs="$R" 2>>"$TMP/serve-$port.log" &
PIDS+=($!); SERVE_PID=$!
LOG="$TMP/serve-$port.log"
WAIT_CURL_OPTS="--cacert $TMP/pki/ca.crt" wait_serve "https://127.0.0.1:$port/healthz" "$SERVE_PID" "$LOG" ||
	die "serve with TLS and basic auth"
U="https://127.0.0.1:$port"
CA=(--cacert "$TMP/pki/ca.crt")
code() { curl -s -m 5 -o /dev/null -w '%{http_code}' "$@"; }
# protected PASSWORD: TLS on, auth on, PASSWORD accepted within 1 s.
protected() {
	local plain nocred
	plain=$(code "http://127.0.0.1:$port/metrics")
	nocred=$(code "${CA[@]}" "$U/metrics")
	PROT="plain http $plain, https without credentials $nocred"
	[ "$plain" != 200 ] && [ "$nocred" = 401 ] &&
		answers_within 1000 "$U/metrics" "${CA[@]}" -u "prometheus:$1"
}
check "good config: TLS and basic auth on" protected secret

# One reload at a time: each refused file keeps TLS and auth and logs an error.
cp "$W" "$TMP/web.good"
reload_with() { # reload_with NAME SETUP...: SETUP makes $W, then SIGHUP
	local name=$1 e0; shift
	e0=$(grep -c 'level=error' "$LOG")
	"$@"
	hup_serve "$LOG" || fail "$name: the SIGHUP is handled within 20 s"
	check "SIGHUP with $name: TLS and auth stay on ($PROT)" protected secret
	check "SIGHUP with $name: an error is logged" test "$(grep -c 'level=error' "$LOG")" -gt "$e0"
	check "SIGHUP with $name: serve alive" kill -0 "$SERVE_PID"
	# Back to the good file, so that each case starts protected.
	rm -rf "$W"; cp "$TMP/web.good" "$W"
	hup_serve "$LOG"; wait_until 5 protected secret
}
reload_with "broken YAML" eval 'printf "tls_server_config: [\n  cert_file\n" >"$W"'
reload_with "an empty file" eval ': >"$W"'
reload_with "two YAML documents" eval '{ printf "basic_auth_users: {}\n---\n"; cat "$TMP/web.good"; } >"$W"'
reload_with "a directory" eval 'rm -f "$W"; mkdir "$W"'
reload_with "a missing file" eval 'rm -f "$W"'
reload_with "a missing certificate" eval 'sed "s#server.crt#gone.crt#" "$TMP/web.good" >"$W"'
# A FIFO with no writer: a reload that opens it blocking would hang the
# signal thread; the next SIGHUP would then never be handled.
reload_with "a FIFO" eval 'rm -f "$W"; mkfifo "$W"'

# Storm: 60 SIGHUPs 50 ms apart, the file cycling through good, broken,
# empty, multi-document and swapped-in copies (rename over it, as editors
# and config managers do), while a keep-alive scraper reads /metrics over
# TLS with the password every good file has.
good "$TMP/web.swap" "$H1"
$PY "$HOSTILE" scrape "$U/metrics" 12 0.1 --slow-ms $((1000 * SLOW)) --auth prometheus:secret --cafile "$TMP/pki/ca.crt" >"$TMP/scrape.storm" &
scr=$!
for i in $(seq 60); do
	case $((i % 5)) in
	0) cp "$TMP/web.good" "$W.tmp" && mv "$W.tmp" "$W" ;;
	1) printf 'basic_auth_users: [\n' >"$W.tmp" && mv "$W.tmp" "$W" ;;
	2) : >"$W.tmp" && mv "$W.tmp" "$W" ;;
	3) { printf 'basic_auth_users: {}\n---\n'; cat "$TMP/web.good"; } >"$W.tmp" && mv "$W.tmp" "$W" ;;
	4) cp "$TMP/web.swap" "$W.tmp" && mv "$W.tmp" "$W" ;;
	esac
	kill -HUP "$SERVE_PID" 2>/dev/null
	sleep 0.05
	# Right after an empty file and its SIGHUP: the last good config holds.
	[ $((i % 10)) = 2 ] && { sleep 0.3; plain=$(code "http://127.0.0.1:$port/metrics"); nocred=$(code "${CA[@]}" "$U/metrics")
		check "SIGHUP storm step $i: still protected (plain $plain, no credentials $nocred)" test "$plain" != 200 -a "$nocred" = 401; }
done
wait $scr
res=$(cat "$TMP/scrape.storm")
echo "# SIGHUP storm: scrapes: $res"
check "SIGHUP storm: every authenticated scrape 200 ($res)" test "$(field fail "$res")" = 0 -a "$(field ok "$res")" -gt 50
check "SIGHUP storm: no scrape took $SLOW s or more" test "$(field slow "$res")" = 0
check "SIGHUP storm: serve alive" kill -0 "$SERVE_PID"
# Swapped out for a new password: applied (a valid file is a deliberate edit).
good "$W.tmp" "$H2"; mv "$W.tmp" "$W"
hup_serve "$LOG"
check "swapped-out config with a new password: new one accepted" wait_until 5 protected rotated
check "swapped-out config: old password refused" test "$(code "${CA[@]}" -u prometheus:secret "$U/metrics")" = 401
# A valid file that removes TLS and auth: applied, with a warning.
w0=$(grep -c 'level=warn' "$LOG")
printf '# plain HTTP on purpose\nhttp_server_config:\n  http2: false\n' >"$W.tmp"; mv "$W.tmp" "$W"
hup_serve "$LOG"
check "a valid config without TLS and auth is applied" wait_until 5 eval '[ "$(code "http://127.0.0.1:$port/metrics")" = 200 ]'
check "lowering protection logs a warning" test "$(grep -c 'level=warn' "$LOG")" -gt "$w0"

# ---- 5. SIGTERM with clients in flight --------------------------------
# Keep-alive scrapes, 50 slow header senders and 50 silent connections.
good "$W" "$H1"; hup_serve "$LOG"
$PY "$HOSTILE" scrape "$U/metrics" 10 0.05 --auth prometheus:secret --cafile "$TMP/pki/ca.crt" >/dev/null 2>&1 &
$PY "$HOSTILE" slowheaders 127.0.0.1 "$port" 50 127.0.0.2 10 >/dev/null 2>&1 &
$PY "$HOSTILE" stall 127.0.0.1 "$port" 50 127.0.0.3 10 silent >/dev/null 2>&1 &
sleep 2
pid=$SERVE_PID; t0=$(now_us)
kill -TERM "$pid"; wait "$pid"; rc=$?
ms=$(( ($(now_us) - t0) / 1000 ))
wait
echo "# SIGTERM with clients in flight: $ms ms"
check "SIGTERM with scrapes, slow and silent clients in flight: exit 0 within 1 s (rc $rc, $ms ms)" \
	test "$rc" = 0 -a "$ms" -lt $((1000 * SLOW))
check "SIGTERM: no task left" test ! -e "/proc/$pid"
finish
