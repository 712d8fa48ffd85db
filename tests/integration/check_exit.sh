#!/usr/bin/env bash
# twaudit check: exit codes per fixture, formats, --output atomicity, --sample.
. "$(dirname "$0")/lib.sh"

EMPTY_ROOT="$TMP/emptyroot"; mkdir -p "$EMPTY_ROOT"

# fixture  expected-exit  a finding id that must be present ("-" for none)
while read -r fx want finding; do
	[ -d "$FIXTURES/$fx" ] || { fail "fixture $fx exists"; continue; }
	"$TWAUDIT" check --format=json --path.procfs="$FIXTURES/$fx" \
		--path.rootfs="$EMPTY_ROOT" >"$TMP/out.json" 2>"$TMP/err"; rc=$?
	check "$fx: check exits $want (got $rc)" test "$rc" -eq "$want"
	check "$fx: JSON validates" validate_json "$SCHEMAS/advice.schema.json" "$TMP/out.json"
	if [ "$finding" != "-" ]; then
		check "$fx: finding $finding present" \
			bash -c "$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if any(f[\"id\"]==sys.argv[2] for f in d[\"findings\"]) else 1)' '$TMP/out.json' '$finding'"
	fi
	"$TWAUDIT" check --format=text --path.procfs="$FIXTURES/$fx" \
		--path.rootfs="$EMPTY_ROOT" >"$TMP/out.txt" 2>/dev/null; rc2=$?
	check "$fx: text format exits the same" test "$rc2" -eq "$rc"
	check "$fx: text starts with the status line" grep -qE '^TWAUDIT (OK|WARNING|CRITICAL|UNKNOWN) - ' "$TMP/out.txt"
	# monitoring-plugins: one '|', then 'label=value[UOM];warn;crit;min'
	# items; counters end in c, what the kernel lacks is U.
	check "$fx: the status line ends in perfdata" bash -c "head -1 '$TMP/out.txt' | grep -qE \
		'^TWAUDIT [A-Z]+ - [^|]* \| critical=[0-9]+ warning=[0-9]+ unknown=[0-9]+ info=[0-9]+ PAWSPassive=([0-9]+c|U) (PAWSTimewait|PAWSEstab)=([0-9]+c|U) timewait_sockets=([0-9]+;;;0|U)\$'"
done <<'EOT'
linux-3.10-recycle 2 tw_recycle_nat_drops
linux-4.10-recycle 2 tw_recycle_nat_drops
linux-4.4 0 -
linux-4.19 0 -
linux-6.18 0 -
linux-6.18-rfc1337 1 rfc1337_timewait_nat
linux-6.18-tsoff 0 timestamps_disabled
linux-3.10-container 0 -
broken-truncated 3 source_failed
broken-mismatch 3 source_failed
broken-nonnumeric 3 source_failed
broken-empty 3 source_failed
EOT

# The perfdata figures are the tree's: netstat's counters, sockstat's tw.
"$TWAUDIT" check --path.procfs="$FIXTURES/linux-3.10-recycle" --path.rootfs="$EMPTY_ROOT" \
	--no-collector.sock_diag --no-collector.tcp_metrics 2>/dev/null | head -1 >"$TMP/line"
want_pp=$(awk '/^TcpExt:/ { if (!h) { for (i = 2; i <= NF; i++) n[$i] = i; h = 1 } else print $n["PAWSPassive"] "c " $n["PAWSEstab"] "c" }' \
	"$FIXTURES/linux-3.10-recycle/net/netstat")
want_tw=$(awk '/^TCP:/ { for (i = 2; i < NF; i++) if ($i == "tw") print $(i + 1) }' \
	"$FIXTURES/linux-3.10-recycle/net/sockstat")
check "3.10 recycle: perfdata has the fixture's counters ($want_pp, tw $want_tw)" grep -qF \
	"| critical=1 warning=0 unknown=0 info=0 PAWSPassive=${want_pp% *} PAWSEstab=${want_pp#* } timewait_sockets=$want_tw;;;0" "$TMP/line"

# The container fixture: tw_recycle is "unavailable" (global on 3.10), never "absent".
"$TWAUDIT" check --format=json --path.procfs="$FIXTURES/linux-3.10-container" \
	--path.rootfs="$EMPTY_ROOT" >"$TMP/c.json" 2>/dev/null
check "3.10 container: tcp_tw_recycle is unavailable" \
	test "$(json_get "$TMP/c.json" 'd["sources"]["sysctl"]["keys"]["net.ipv4.tcp_tw_recycle"]["state"]')" = unavailable
"$TWAUDIT" check --format=json --path.procfs="$FIXTURES/linux-4.19" \
	--path.rootfs="$EMPTY_ROOT" >"$TMP/c.json" 2>/dev/null
check "4.19: tcp_tw_recycle is absent" \
	test "$(json_get "$TMP/c.json" 'd["sources"]["sysctl"]["keys"]["net.ipv4.tcp_tw_recycle"]["state"]')" = absent

# Usage errors exit 3 for check.
"$TWAUDIT" check --format=xml >/dev/null 2>&1; rc=$?
check "check: bad --format exits 3 (got $rc)" test "$rc" -eq 3
"$TWAUDIT" check --bogus >/dev/null 2>&1; rc=$?
check "check: unknown flag exits 3 (got $rc)" test "$rc" -eq 3
"$TWAUDIT" check --path.procfs=/nonexistent >/dev/null 2>&1; rc=$?
check "check: unreadable procfs exits 3 (got $rc)" test "$rc" -eq 3
"$TWAUDIT" check --sample=soon >/dev/null 2>&1; rc=$?
check "check: bad duration exits 3 (got $rc)" test "$rc" -eq 3

# An UNKNOWN says why on stdout too (the plugin's output), and on stderr;
# not where stdout is a document (json, jsonl, prom).
unknown_says() {	# NAME REASON-SUBSTRING ARGS...
	local name=$1 why=$2; shift 2
	"$TWAUDIT" check "$@" >"$TMP/u.out" 2>"$TMP/u.err"
	check "check $name: stdout is 'TWAUDIT UNKNOWN - ...$why...'" bash -c \
		'[ "$(wc -l <"$1")" -eq 1 ] && grep -q "^TWAUDIT UNKNOWN - " "$1" && grep -qF -- "$2" "$1"' \
		_ "$TMP/u.out" "$why"
	check "check $name: stderr says it too" grep -qF -- "$why" "$TMP/u.err"
}
unknown_says "unreadable procfs" "cannot read --path.procfs /nonexistent" --path.procfs=/nonexistent
unknown_says "unreadable rootfs" "cannot read --path.rootfs /nonexistent" --path.rootfs=/nonexistent
unknown_says "unknown flag" "unknown flag '--bogus'" --bogus
unknown_says "bad --format" "'xml' is not one of" --format=xml
unknown_says "unwritable --output" "nonexistent-dir" --output=/nonexistent-dir/x.prom \
	--path.procfs="$FIXTURES/linux-4.19" --path.rootfs="$EMPTY_ROOT"
"$TWAUDIT" check --format=json --path.procfs=/nonexistent >"$TMP/u.out" 2>/dev/null
check "check --format=json: an UNKNOWN leaves stdout empty" test ! -s "$TMP/u.out"

# From cron: nothing on stderr when all is well, as root, as root without
# capabilities (the sampler is unavailable: a source state, not a warning),
# and as the shipped check unit runs it. The live model's line is debug.
"$TWAUDIT" check --sample=1s --format=prom --output="$TMP/cron.prom" 2>"$TMP/cron.err"; rc=$?
check "cron check --sample: stderr empty (rc $rc): $(head -c 300 "$TMP/cron.err")" test ! -s "$TMP/cron.err"
"$TWAUDIT" check --sample=1s --format=prom --output="$TMP/cron.prom" --log.level=debug 2>"$TMP/cron.err"
check "cron check --sample --log.level=debug: the live model line is there" grep -q 'msg="live model"' "$TMP/cron.err"
if command -v setpriv >/dev/null; then
	setpriv --inh-caps=-all --bounding-set=-all "$TWAUDIT" check --sample=1s --format=prom \
		--output="$TMP/cron.prom" 2>"$TMP/cron.err"; rc=$?
	check "cron check without capabilities: stderr empty (rc $rc): $(head -c 300 "$TMP/cron.err")" test ! -s "$TMP/cron.err"
	check "  and the sampler is reported unavailable" \
		grep -q '^twaudit_collector_state{collector="sampler",state="unavailable"} 1' "$TMP/cron.prom"
	unit="$SRC/deploy/twaudit-check.service.in"
	exec_start=$(sed -n 's/^ExecStart=@BINDIR@\/twaudit //p' "$unit")
	exec_start=${exec_start//--sample=30s/--sample=1s}
	exec_start=${exec_start//\/var\/lib\/prometheus\/node-exporter/$TMP}
	# shellcheck disable=SC2086
	setpriv --inh-caps=-all --bounding-set=-all --no-new-privs "$TWAUDIT" $exec_start 2>"$TMP/cron.err"; rc=$?
	check "check unit's command ($exec_start) without capabilities: stderr empty (rc $rc): $(head -c 300 "$TMP/cron.err")" \
		test ! -s "$TMP/cron.err"
	check "  and writes its file" grep -q '^twaudit_audit_status' "$TMP/twaudit.prom"
else
	echo "# setpriv not installed (util-linux): the capability-less cron runs are not tried"
fi

# --output: atomic, and exit 3 when it cannot be written.
out="$TMP/textfile/twaudit.prom"; mkdir -p "$TMP/textfile"
"$TWAUDIT" check --format=prom --output="$out" --path.procfs="$FIXTURES/linux-3.10-recycle" \
	--path.rootfs="$EMPTY_ROOT" 2>/dev/null; rc=$?
check "check --output writes the file (rc $rc)" test -s "$out"
check "check --output leaves no temporary file" test "$(ls -A "$TMP/textfile" | wc -l)" -eq 1
check "check --output prom passes promtool" bash -c "[ -z \"\$(promtool check metrics < '$out' 2>&1)\" ]"
"$TWAUDIT" check --output=/nonexistent-dir/x.prom --path.procfs="$FIXTURES/linux-4.19" \
	--path.rootfs="$EMPTY_ROOT" >/dev/null 2>"$TMP/err"; rc=$?
check "check: unwritable --output exits 3 (got $rc)" test "$rc" -eq 3
check "check: unwritable --output says why" grep -q 'nonexistent-dir' "$TMP/err"
if [ -w /dev/full ]; then
	"$TWAUDIT" check --format=json --path.procfs="$FIXTURES/linux-4.19" \
		--path.rootfs="$EMPTY_ROOT" >/dev/full 2>/dev/null; rc=$?
	check "check: full stdout exits 3 (got $rc)" test "$rc" -eq 3
fi

# Without --sample the rate rule is not evaluated; with it, a rising counter fires.
work="$TMP/proc"; cp -a "$FIXTURES/linux-3.10-recycle" "$work"
"$TWAUDIT" check --format=json --path.procfs="$work" --path.rootfs="$EMPTY_ROOT" >"$TMP/a.json" 2>/dev/null
check "no --sample: paws_passive_rising not reported" \
	bash -c "! grep -q paws_passive_rising '$TMP/a.json'"
# The rise must land between check's two readings, whatever the machine's
# speed: the helper waits (inotify) until check has read net/netstat once,
# then 0.5 s, and replaces the file; check reads it again 1.5 s after the
# first reading.
rm -f "$TMP/armed"
$PY - "$work/net/netstat" "$TMP/armed" <<'PYEOF' &
import ctypes, os, select, sys, time
p, armed = sys.argv[1], sys.argv[2]
libc = ctypes.CDLL(None, use_errno=True)
fd = libc.inotify_init()
IN_CLOSE_NOWRITE = 0x10
if fd < 0 or libc.inotify_add_watch(fd, p.encode(), IN_CLOSE_NOWRITE) < 0:
    sys.exit("inotify: errno %d" % ctypes.get_errno())
open(armed, "w").close()
if not select.select([fd], [], [], 120)[0]:
    sys.exit("check never read " + p)
time.sleep(0.5)
lines = open(p).read().splitlines()
for i in range(0, len(lines) - 1, 2):
    h, v = lines[i].split(), lines[i + 1].split()
    if h[0] == "TcpExt:" and "PAWSPassive" in h:
        j = h.index("PAWSPassive"); v[j] = str(int(v[j]) + 30)
        lines[i + 1] = " ".join(v)
open(p + ".new", "w").write("\n".join(lines) + "\n")
os.rename(p + ".new", p)
PYEOF
bump=$!
wait_until 20 test -e "$TMP/armed"
"$TWAUDIT" check --format=json --sample=1500ms --path.procfs="$work" --path.rootfs="$EMPTY_ROOT" >"$TMP/b.json" 2>/dev/null
wait "$bump"; rc=$?
check "--sample: the counter rose between check's two readings (helper rc $rc)" test "$rc" -eq 0
check "--sample: paws_passive_rising reported when PAWSPassive rises" grep -q paws_passive_rising "$TMP/b.json"

finish
