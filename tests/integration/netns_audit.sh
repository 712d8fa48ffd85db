#!/usr/bin/env bash
# --netns: namespaces with their own tcp_timestamps / tcp_tw_reuse, a
# process-only namespace found through /proc, a fixture rootfs with a
# persisted setting, --policy; JSON, JSONL, prom and serve. Only the
# namespaces this test creates are asserted on. Needs root and iproute2.
. "$(dirname "$0")/lib.sh"

if [ "$(id -u)" != 0 ] || ! command -v ip >/dev/null || ! command -v unshare >/dev/null; then
	echo "SKIP: needs root, ip and unshare"; exit 77
fi
A=twa-$$-a; B=twa-$$-b
UPID=
ns_cleanup() {
	ip netns del "$A" 2>/dev/null; ip netns del "$B" 2>/dev/null
	[ -n "$UPID" ] && kill "$UPID" 2>/dev/null
	cleanup
}
trap ns_cleanup EXIT
ip netns add "$A" && ip netns add "$B" || { echo "SKIP: ip netns add failed"; exit 77; }
ip netns exec "$A" sysctl -qw net.ipv4.tcp_timestamps=0 net.ipv4.tcp_tw_reuse=1
ip netns exec "$B" sysctl -qw net.ipv4.tcp_timestamps=1 net.ipv4.tcp_tw_reuse=2 net.ipv4.tcp_rfc1337=1
# A namespace no name points to: only a process holds it.
# (Killed on exit; long enough for a slow run.)
unshare --net sleep 900 & UPID=$!
own_netns() { [ "$(readlink /proc/$UPID/ns/net)" != "$(readlink /proc/self/ns/net)" ]; }
wait_until 10 own_netns || { echo "FAIL - unshare --net did not take effect" >&2; exit 1; }
nsenter --net=/proc/$UPID/ns/net sysctl -qw net.ipv4.tcp_timestamps=2 net.ipv4.tcp_tw_reuse=0
UINO=$(stat -L -c %i /proc/$UPID/ns/net)

# The host's persisted configuration (fixture rootfs) and a policy.
ROOT="$TMP/root"; mkdir -p "$ROOT/etc/sysctl.d"
HOST_REUSE=$(cat /proc/sys/net/ipv4/tcp_tw_reuse)
printf '# test\nnet.ipv4.tcp_tw_reuse = 1\n' >"$ROOT/etc/sysctl.d/50-test.conf"
cat >"$TMP/policy.json" <<'PEOF'
{"version": 1, "sysctls": {
  "net.ipv4.tcp_tw_reuse": {"allowed": [0, 2], "severity": "warning"},
  "net.ipv4.tcp_timestamps": {"allowed": [1, 2], "severity": "warning"},
  "net.ipv4.tcp_rfc1337": {"allowed": [0], "severity": "critical"}}}
PEOF

"$TWAUDIT" check --netns=all --format=json --path.rootfs="$ROOT" \
	--policy="$TMP/policy.json" >"$TMP/all.json" 2>"$TMP/err"; rc=$?
check "check --netns=all: JSON validates" validate_json "$SCHEMAS/advice.schema.json" "$TMP/all.json"
check "check --netns=all: exit is the worst status (critical: rfc1337 in $B) (got $rc)" test "$rc" -eq 2
# Python repr of an expression on the document (strings bare).
jq_() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if isinstance(v,str) else repr(v))' "$1" "$2"; }
q() { jq_ "$TMP/all.json" "$1"; }
ns() { echo "[n for n in d['namespaces'] if n['netns']=='$1'][0]"; }
ids() { echo "sorted(set(f['id'] for f in $(ns "$1")['findings']))"; }
key() { echo "$(ns "$1")['sources']['sysctl']['keys']['net.ipv4.$2'].get('value')"; }

check "$A listed once, kind named" test "$(q "[n['kind'] for n in d['namespaces'] if n['netns']=='$A']")" = "['named']"
check "$A: tcp_timestamps 0" test "$(q "$(key "$A" tcp_timestamps)")" = 0
check "$A: tcp_tw_reuse 1" test "$(q "$(key "$A" tcp_tw_reuse)")" = 1
check "$A: timestamps_disabled + policy_violation" \
	test "$(q "$(ids "$A")")" = "['policy_violation', 'timestamps_disabled']"
check "$A: policy_violation names tcp_tw_reuse (timestamps: the built-in stands)" \
	test "$(q "[f['evidence']['name'] for f in $(ns "$A")['findings'] if f['id']=='policy_violation']")" = "['net.ipv4.tcp_tw_reuse']"
check "$A: timestamps_disabled escalated to the policy's warning" \
	test "$(q "[f['severity'] for f in $(ns "$A")['findings'] if f['id']=='timestamps_disabled']")" = "['warning']"
check "$A: status warning" test "$(q "$(ns "$A")['status']")" = warning
check "$A: persisted settings belong to the host" test "$(q "$(ns "$A")['sources']['persist']['state']")" = not_applicable
check "$A: its own netstat" test "$(q "$(ns "$A")['sources']['netstat']['state']")" = ok
check "$B: tcp_timestamps 1, tcp_tw_reuse 2" test "$(q "[$(key "$B" tcp_timestamps), $(key "$B" tcp_tw_reuse)]")" = "[1, 2]"
check "$B: rfc1337_timewait_nat, escalated to critical by the policy, no policy_violation" \
	test "$(q "[(f['id'], f['severity']) for f in $(ns "$B")['findings']]")" = "[('rfc1337_timewait_nat', 'critical')]"

UNS="[n for n in d['namespaces'] if n['inode']==$UINO]"
check "unshare'd namespace found through /proc (pid $UPID)" test "$(q "len($UNS)")" = 1
check "unshare'd namespace: kind process, labelled by pid and inode" \
	test "$(q "[(n['kind'], n['netns']) for n in $UNS]")" = "[('process', 'pid:$UPID ino:$UINO')]"
check "unshare'd namespace: tcp_timestamps 2, tcp_tw_reuse 0, clean" \
	test "$(q "[(n['sources']['sysctl']['keys']['net.ipv4.tcp_timestamps']['value'], n['sources']['sysctl']['keys']['net.ipv4.tcp_tw_reuse']['value'], n['status']) for n in $UNS]")" = "[(2, 0, 'ok')]"
check "namespaces deduplicated by inode" \
	test "$(q "len(d['namespaces']) == len(set(n['inode'] for n in d['namespaces']))")" = True
check "the host's own namespace is not repeated" \
	test "$(q "$(stat -L -c %i /proc/self/ns/net) in [n['inode'] for n in d['namespaces']]")" = False

# The host: the persisted line the policy points at.
HP="[f for f in d['findings'] if f['id']=='policy_violation' and f['evidence']['name']=='net.ipv4.tcp_tw_reuse']"
check "host: policy_violation for the persisted tcp_tw_reuse = 1" test "$(q "len($HP)")" = 1
check "host: evidence names 50-test.conf line 2" \
	test "$(q "[(f['evidence']['persisted']['file'], f['evidence']['persisted']['line']) for f in $HP]")" = "[('/etc/sysctl.d/50-test.conf', 2)]"
check "host: host_status is the host's own" test "$(q "d['host_status'] in ('ok','warning')")" = True

# Only the named one.
"$TWAUDIT" check --netns="$A" --netns="/run/netns/$B" --netns="/proc/$UPID/ns/net" --format=json \
	--path.rootfs="$ROOT" >"$TMP/some.json" 2>/dev/null
check "explicit --netns: exactly the three asked for" \
	test "$(jq_ "$TMP/some.json" "sorted(n['netns'] for n in d['namespaces'])")" = "$($PY -c "print(sorted(['$A','$B','pid:$UPID ino:$UINO']))")"
"$TWAUDIT" check --format=json --path.rootfs="$ROOT" >"$TMP/none.json" 2>/dev/null
check "without --netns: no namespaces key" test "$(json_get "$TMP/none.json" "'namespaces' in d")" = False
"$TWAUDIT" check --netns=a/b >/dev/null 2>&1; rc=$?
check "bad --netns value: exit 3 (got $rc)" test "$rc" -eq 3

# JSONL: host and netns on every line.
"$TWAUDIT" check --netns=all --format=jsonl --path.rootfs="$ROOT" --policy="$TMP/policy.json" >"$TMP/all.jsonl" 2>/dev/null
check "jsonl: every line has host, netns, record, status" $PY - "$TMP/all.jsonl" "$A" <<'PYEOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
ok = all({"host", "netns", "record", "status", "generated_at", "kernel_release"} <= set(l) for l in lines)
a = [l for l in lines if l["netns"] == sys.argv[2]]
ok = ok and sorted(l.get("id") for l in a if l["record"] == "finding") == ["policy_violation", "timestamps_disabled"]
ok = ok and [l["status"] for l in a if l["record"] == "status"] == ["warning"]
ok = ok and sum(1 for l in lines if l["netns"] is None and l["record"] == "status") == 1
sys.exit(0 if ok else 1)
PYEOF

# Prometheus: per-namespace series carry netns, the host's do not.
"$TWAUDIT" check --netns=all --format=prom --output="$TMP/tw.prom" --path.rootfs="$ROOT" >/dev/null 2>&1
check "prom --output: promtool clean" sh -c "promtool check metrics <'$TMP/tw.prom'"
check "prom: $A tcp_timestamps 0 with netns label" grep -qx "twaudit_sysctl{netns=\"$A\",name=\"net.ipv4.tcp_timestamps\"} 0" "$TMP/tw.prom"
check "prom: host series unlabelled" grep -q '^twaudit_sysctl{name="net.ipv4.tcp_timestamps"} ' "$TMP/tw.prom"
check "prom: per-netns finding" grep -q "^twaudit_finding{netns=\"$A\",id=\"timestamps_disabled\"" "$TMP/tw.prom"
check "prom: per-netns counters" grep -q "^twaudit_tcpext_.*{netns=\"$A\"} " "$TMP/tw.prom"
"$TWAUDIT" check --format=prom --path.rootfs="$ROOT" 2>/dev/null | grep -c 'netns=' >"$TMP/n" || true
check "prom without --netns: no netns label" test "$(cat "$TMP/n")" = 0

# Without CAP_SYS_ADMIN: said per namespace, status unknown.
if command -v setpriv >/dev/null; then
	setpriv --reuid=65534 --regid=65534 --clear-groups --inh-caps=-all \
		"$TWAUDIT" check --netns="$A" --format=json >"$TMP/unpriv.json" 2>/dev/null
	check "unprivileged: $A not audited, says CAP_SYS_ADMIN" \
		test "$(jq_ "$TMP/unpriv.json" "[(n['audited'], n['status'], 'CAP_SYS_ADMIN' in n['error'], n['sources']['sysctl']['state']) for n in d['namespaces']]")" = "[(False, 'unknown', True, 'unavailable')]"
fi

# serve --netns=all
PORT=$(free_port)
if start_serve "$PORT" --netns=all --path.rootfs="$ROOT" --policy="$TMP/policy.json"; then
	curl -fsS "http://127.0.0.1:$PORT/metrics" >"$TMP/serve.prom"
	check "serve: promtool clean" sh -c "promtool check metrics <'$TMP/serve.prom'"
	check "serve: $A tcp_tw_reuse with netns label" grep -qx "twaudit_sysctl{netns=\"$A\",name=\"net.ipv4.tcp_tw_reuse\"} 1" "$TMP/serve.prom"
	curl -fsS "http://127.0.0.1:$PORT/advice" >"$TMP/serve.json"
	check "serve: /advice validates" validate_json "$SCHEMAS/advice.schema.json" "$TMP/serve.json"
	check "serve: /advice lists $A" test "$(json_get "$TMP/serve.json" "'$A' in [n['netns'] for n in d['namespaces']]")" = True
	stop_serve
else
	fail "serve --netns=all starts"
fi
finish
