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
