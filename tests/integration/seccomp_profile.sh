#!/usr/bin/env bash
# Each seccomp role's real calls against its allow-list (agent/sandbox.c,
# docs/security.md). Runs serve under `strace -f` with seccomp off (so a
# call outside a list is seen, not fatal) through every path that runs
# after start-up, in namespaces this test makes:
#   - every endpoint, with and without gzip/openmetrics, plain HTTP with
#     basic auth, then TLS + basic auth after a SIGHUP that loads new TLS
#     material (TLS handshakes), a broken config on SIGHUP, back to plain;
#   - the live sampler on a veth (fl0): traffic, fl0 down/up and deleted/
#     recreated (the capture's reopen), each until the handle is open again;
#   - --netns=NAME (a namespace switch on every collection), two 5 s ticks;
#   - SIGTERM.
# The processes are told apart by the fork (a clone without CLONE_THREAD):
# every thread of the web process (HTTP, bcrypt, its main thread) runs
# under the web list. In the collector, threads are told apart by name:
# tw-capture and tw-model (the sampler, which add their role filter on
# themselves) and every other thread (IPC, tick, main, namespace helpers),
# which run under the collector's base list. Asserts,
# for the calls each makes after the "listening" line: every syscall name
# is on its role's list (sandbox_probe --list), socket() families and
# openat() flags stay within the argument checks, clone() makes threads
# only, kill() signals only the web process; and that each path really ran (a reopen's AF_PACKET socket on the
# capture thread, setns, the TLS key read after start-up). Prints the calls
# per role ("count syscall"), to review the lists (KEEP=DIR keeps traces).
#
# Normal build only: under a sanitizer the filter runs in log mode and the
# sanitizer runtime makes calls of its own.
. "$(dirname "$0")/lib.sh"
PROBE="$BUILD/tests/sandbox_probe"
NS=scprof-s-$$
NC=scprof-c-$$
NX=scprof-x-$$
NETNS=("$NC" "$NX" "$NS")

[ "$(id -u)" -eq 0 ] || skip "needs root (namespaces, capture)"
if sanitized; then
	echo "SKIP: seccomp runs in log mode under ASan and the sanitizer makes calls of its own; this profile runs on the normal build"
	exit 77
fi
command -v strace >/dev/null || apt-get install -y strace >/dev/null 2>&1
command -v strace >/dev/null || skip "strace not installed"
command -v openssl >/dev/null || skip "openssl not installed"
[ -x "$PROBE" ] || die "probe $PROBE not built"
ip netns add "$NS" 2>"$TMP/netns.err" ||
	skip "cannot create a network namespace: $(cat "$TMP/netns.err")"
ip netns add "$NC" && ip netns add "$NX" || die "ip netns add"
for n in "$NS" "$NC" "$NX"; do ip -n "$n" link set lo up; done
SRV=10.204.0.1
make_link() {
	ip -n "$NS" link add fl0 type veth peer name flc0 netns "$NC" &&
	ip -n "$NS" addr add "$SRV/24" dev fl0 &&
	ip -n "$NC" addr add 10.204.0.2/24 dev flc0 &&
	ip -n "$NC" link set flc0 up && ip -n "$NS" link set fl0 up
}
make_link || die "veth"

d="$TMP/wc"; mkdir -p "$d"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
	-days 2 -subj /CN=localhost >/dev/null 2>&1 || die "openssl req"
hash=$($PY -c "import crypt; print(crypt.crypt('pw', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))" 2>/dev/null)
[ -n "$hash" ] || die "no bcrypt hash"
printf 'basic_auth_users:\n  u: %s\n' "$hash" > "$d/plain.yml"
printf 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  u: %s\n' "$hash" > "$d/tls.yml"
cp "$d/plain.yml" "$d/web.yml"

port=$(free_port)
LOG=$TMP/log
xs() { ip netns exec "$NS" "$@"; }
ip netns exec "$NS" strace -f -qq -s 128 -o "$TMP/trace" -e trace=all -e signal=none \
	"$TWAUDIT" serve --security.seccomp=false --security.user= \
	--web.listen-address="127.0.0.1:$port" --web.config.file="$d/web.yml" \
	--sampler.interface=fl0 --sampler.server="$SRV" --netns="$NX" 2>"$LOG" &
tpid=$!
PIDS+=("$tpid")
wait_until 20 eval 'grep -q "msg=\"listening\"" "$LOG"' || { cat "$LOG" >&2; die "serve did not start"; }
spid=$(pgrep -P "$tpid")   # strace blocks fatal signals: signal serve itself
[ -n "$spid" ] || die "no serve process under strace"

metric() {
	xs curl -sk -u u:pw -m 5 "$1://127.0.0.1:$port/metrics" | awk -v n="$2" '$1 == n { print $2 }'
}
open_is() { [ "$(metric "$scheme" twaudit_sampler_interfaces_open)" = "$1" ]; }
syns() {
	ip netns exec "$NC" "$PY" -c '
import socket
for _ in range(5):
    s = socket.socket(); s.settimeout(1)
    try: s.connect(("'"$SRV"'", 9))
    except OSError: pass
    s.close()'
}
hup() { SERVE_PID=$spid hup_serve "$LOG"; }	# lib.sh

sleep 0.5
for scheme in http https; do
	b="$scheme://127.0.0.1:$port"
	for p in /metrics /advice /healthz / /api/history /model /nope; do
		xs curl -ks -u u:pw -o /dev/null "$b$p"
		xs curl -ks -u u:pw -o /dev/null -H 'Accept: application/openmetrics-text; version=1.0.0' \
			-H 'Accept-Encoding: gzip' "$b$p"
		xs curl -ks -o /dev/null "$b$p"                 # 401
		xs curl -ks -u u:pw -o /dev/null -X POST "$b$p" # 405
		xs curl -ks -u u:pw -I -o /dev/null "$b$p"      # HEAD
	done
	syns
	# The capture's reopen: down/up, then deleted and recreated.
	check "$scheme: capturing" wait_until 10 open_is 1
	xs ip link set fl0 down
	check "$scheme: fl0 down: handle closed" wait_until 15 open_is 0
	xs ip link set fl0 up
	check "$scheme: fl0 up: handle reopened" wait_until 45 open_is 1
	xs ip link del fl0
	check "$scheme: fl0 deleted: handle closed" wait_until 15 open_is 0
	make_link
	check "$scheme: fl0 recreated: handle reopened" wait_until 45 open_is 1
	syns
	if [ $scheme = http ]; then cp "$d/tls.yml" "$d/web.yml"; hup; fi
done
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n' | timeout 2 ip netns exec "$NS" "$PY" -c '
import socket,sys; s=socket.create_connection(("127.0.0.1",'"$port"')); s.sendall(sys.stdin.buffer.read()); s.settimeout(1)
try: s.recv(65536)
except Exception: pass' || true
echo 'not: [valid' > "$d/web.yml"; hup
cp "$d/plain.yml" "$d/web.yml"; hup
sleep 11   # two more 5 s ticks, each entering $NX
kill -TERM "$spid"; wait "$tpid"; rc=$?
check "serve under strace exits 0 on SIGTERM (rc=$rc)" [ "$rc" -eq 0 ]

for r in base capture model web; do "$PROBE" --list $r | sort -u > "$TMP/list-$r"; done
[ -n "${KEEP:-}" ] && cp "$TMP"/trace "$TMP"/list-* "$KEEP"/

# Per role: the calls after the "listening" line, and the argument checks.
$PY - "$TMP/trace" "$TMP" <<'PYEOF' > "$TMP/report"
import re, sys
trace, out = sys.argv[1], sys.argv[2]
line_re = re.compile(r'^(\d+) +([a-z_0-9]+)\((.*)$')
resumed_re = re.compile(r'^(\d+) +<\.\.\. (clone3?) resumed>.*= (\d+)')
role, calls, bad = {}, {"base": {}, "capture": {}, "model": {}, "web": {}}, []
seen = {"packet_after": False, "setns_after": False, "key_after": False,
        "web_process": False, "kill_after": False}
# Which process each thread is in: the first one is the collector; a clone
# without CLONE_THREAD is the fork of the web process.
proc, pending, first = {}, {}, None
on = False
def child(tid, flags_thread, res):
    proc[res] = proc.get(tid, "collector") if flags_thread else "web"
for line in open(trace, errors="replace"):
    r = resumed_re.match(line)
    if r:
        tid, _, res = r.groups()
        child(tid, pending.pop(tid, True), res)
        continue
    m = line_re.match(line)
    if not m:
        continue
    tid, name, args = m.groups()
    if first is None:
        first = tid
        proc[tid] = "collector"
    if name in ("clone", "clone3"):
        th = "CLONE_THREAD" in args
        if "<unfinished" in args:
            pending[tid] = th
        else:
            res = re.search(r'= (\d+)$', args.strip())
            if res:
                child(tid, th, res.group(1))
    if name == "prctl" and "PR_SET_NAME" in args:
        n = re.search(r'"([^"]*)"', args)
        if n and n.group(1) in ("tw-capture", "tw-model"):
            role[tid] = n.group(1)[3:]
    if not on:
        on = name == "write" and args.startswith("2,") and 'listening' in args
        continue
    p = proc.get(tid, "collector")
    r = "web" if p == "web" else role.get(tid, "base")
    if r == "web":
        seen["web_process"] = True
    calls[r][name] = calls[r].get(name, 0) + 1
    if name == "socket":
        fam = args.split(",")[0]
        ok = {"capture": ("AF_PACKET", "AF_NETLINK"), "model": (),
              "web": ()}.get(r, ("AF_NETLINK", "AF_PACKET"))
        if fam not in ok:
            bad.append("%s: socket(%s" % (r, fam))
        if r == "capture" and fam == "AF_PACKET":
            seen["packet_after"] = True
    if name in ("openat", "open"):
        if re.search(r'O_(WRONLY|RDWR|CREAT|TRUNC|APPEND|TMPFILE)', args):
            bad.append("%s: %s(%s" % (r, name, args[:80]))
        if "key.pem" in args:
            seen["key_after"] = True
    if name in ("clone", "clone3") and "CLONE_THREAD" not in args:
        bad.append("%s: %s without CLONE_THREAD" % (r, name))
    if name == "prctl" and not re.match(r'PR_(SET|GET)_NAME', args):
        bad.append("%s: prctl(%s" % (r, args[:40]))
    if name == "kill":
        k = re.match(r'(\d+), (SIG[A-Z]+)', args)
        if not k or proc.get(k.group(1)) != "web" or \
                k.group(2) not in ("SIGHUP", "SIGTERM", "SIGKILL"):
            bad.append("%s: kill(%s" % (r, args[:40]))
        seen["kill_after"] = True
    if name == "setns":
        seen["setns_after"] = True
for r, c in calls.items():
    with open("%s/calls-%s" % (out, r), "w") as f:
        for k, v in sorted(c.items(), key=lambda kv: -kv[1]):
            f.write("%d %s\n" % (v, k))
print("roles", " ".join(sorted(set(role.values()))))
for k, v in seen.items():
    print(k, "yes" if v else "no")
for b in bad:
    print("bad", b)
PYEOF
cat "$TMP/report"
check "the trace names both sampler threads" grep -qx 'roles capture model' "$TMP/report"
check "the capture thread reopened (AF_PACKET socket after start-up)" grep -qx 'packet_after yes' "$TMP/report"
check "the namespace switch ran (setns after start-up)" grep -qx 'setns_after yes' "$TMP/report"
check "the TLS material was loaded after start-up (SIGHUP)" grep -qx 'key_after yes' "$TMP/report"
check "the web process served (its own list)" grep -qx 'web_process yes' "$TMP/report"
check "the collector passed SIGHUP on to the web process (kill)" grep -qx 'kill_after yes' "$TMP/report"
check "argument checks hold (socket families, read-only opens, threads, prctl)" \
	eval '! grep -q "^bad" "$TMP/report"'
for r in base capture model web; do
	awk '{ print $2 }' "$TMP/calls-$r" | sort -u > "$TMP/names-$r"
	extra=$(comm -23 "$TMP/names-$r" "$TMP/list-$r" | tr '\n' ' ')
	check "role $r: every call on its list${extra:+ (outside: $extra)}" [ -z "$extra" ]
	echo "# role $r: $(wc -l <"$TMP/names-$r") distinct calls, list of $(wc -l <"$TMP/list-$r")"
	sed 's/^/#   /' "$TMP/calls-$r"
done
finish
