#!/usr/bin/env bash
# twaudit report: 1 000 generated host documents (one file each, and JSONL on
# stdin), exact tallies, schema, formats, bad inputs, exit statuses.
. "$(dirname "$0")/lib.sh"
GEN="$(dirname "$0")/gen_hosts.py"

$PY "$GEN" 1000 "$TMP/fleet" >"$TMP/exp.json" || { fail "generate hosts"; finish; exit; }
"$TWAUDIT" report --format=json --top=0 "$TMP"/fleet/*.json >"$TMP/r.json"; rc=$?
check "report exits 0 (got $rc)" test "$rc" -eq 0
check "report JSON validates" validate_json "$SCHEMAS/report.schema.json" "$TMP/r.json"
compare() { # compare REPORT EXPECTED: tallies equal
	$PY - "$1" "$2" <<'PYEOF'
import json, sys
r = json.load(open(sys.argv[1])); e = json.load(open(sys.argv[2]))
bad = []
if r["hosts"] != sum(e["status"].values()): bad.append("hosts")
if r["status"] != e["status"]: bad.append("status %s != %s" % (r["status"], e["status"]))
if {k["kernel_release"]: k["hosts"] for k in r["kernels"]} != e["kernels"]: bad.append("kernels")
if {f["id"]: f["hosts"] for f in r["findings"]} != e["findings"]: bad.append("findings")
if r["hosts_at_risk"] != e["at_risk"]: bad.append("at_risk count")
if r["namespaces"] != e["namespaces"]: bad.append("namespaces")
if r["at_risk"] and r["at_risk"][0]["host"] != e["top"]: bad.append("top host %s" % r["at_risk"][0]["host"])
p = [h["predicted_rejections_per_min"] for h in r["at_risk"] if h["predicted_rejections_per_min"] is not None]
if p != sorted(p, reverse=True): bad.append("not sorted by predicted rejections")
k = [h["kernel_release"] for h in r["kernels"]]
if [x["hosts"] for x in r["kernels"]] != sorted([x["hosts"] for x in r["kernels"]], reverse=True): bad.append("kernels order")
for b in bad: print("mismatch:", b, file=sys.stderr)
sys.exit(1 if bad else 0)
PYEOF
}
check "1000 files: tallies match the generator" compare "$TMP/r.json" "$TMP/exp.json"
check "1000 files: every host at risk listed with --top=0" \
	test "$(json_get "$TMP/r.json" 'len(d["at_risk"])')" = "$(json_get "$TMP/exp.json" 'd["at_risk"]')"

# JSONL on stdin, and concatenated documents; same tallies.
$PY "$GEN" 1000 "$TMP/fleet.jsonl" --jsonl >"$TMP/exp2.json"
"$TWAUDIT" report --format=json <"$TMP/fleet.jsonl" >"$TMP/r2.json"; rc=$?
check "JSONL on stdin exits 0 (got $rc)" test "$rc" -eq 0
check "JSONL on stdin: tallies match" compare "$TMP/r2.json" "$TMP/exp2.json"
check "default --top is 20" test "$(json_get "$TMP/r2.json" 'len(d["at_risk"])')" = 20
cat "$TMP"/fleet/host-0000*.json | "$TWAUDIT" report --format=json - >"$TMP/r3.json"
check "concatenated documents on '-': 10 hosts" test "$(json_get "$TMP/r3.json" 'd["hosts"]')" = 10

# Bad inputs are counted, never fatal.
printf 'not json\n' >"$TMP/bad1.json"
printf '{"host": "x", "status": "ok", "findings": [' >"$TMP/bad2.json"
printf '{"hello": 1}\n' >"$TMP/bad3.json"
: >"$TMP/empty.json"
"$TWAUDIT" report --format=json "$TMP/fleet/host-00001.json" "$TMP/bad1.json" \
	"$TMP/bad2.json" "$TMP/bad3.json" "$TMP/empty.json" "$TMP/missing.json" >"$TMP/r4.json"; rc=$?
check "bad inputs: still exit 0 (got $rc)" test "$rc" -eq 0
check "bad inputs: 1 host" test "$(json_get "$TMP/r4.json" 'd["hosts"]')" = 1
check "bad inputs: 4 bad documents" test "$(json_get "$TMP/r4.json" 'd["inputs"]["bad_documents"]')" = 4
check "bad inputs: 1 unreadable file" test "$(json_get "$TMP/r4.json" 'd["inputs"]["unreadable_files"]')" = 1
check "bad inputs: named in errors" grep -q 'missing.json' "$TMP/r4.json"
check "bad inputs: JSON validates" validate_json "$SCHEMAS/report.schema.json" "$TMP/r4.json"
# JSONL with one broken line in the middle: the others count.
{ head -n 5 "$TMP/fleet.jsonl"; echo '{"host": broken'; sed -n 6,10p "$TMP/fleet.jsonl"; } |
	"$TWAUDIT" report --format=json >"$TMP/r5.json"
check "JSONL with a broken line: 10 hosts, 1 bad" \
	test "$(json_get "$TMP/r5.json" '"%d/%d" % (d["hosts"], d["inputs"]["bad_documents"])')" = 10/1

"$TWAUDIT" report "$TMP/bad1.json" "$TMP/missing.json" >/dev/null 2>"$TMP/err"; rc=$?
check "nothing readable: exit 2 (got $rc)" test "$rc" -eq 2
"$TWAUDIT" report --format=xml "$TMP/bad1.json" >/dev/null 2>&1; rc=$?
check "bad --format: exit 1 (got $rc)" test "$rc" -eq 1
"$TWAUDIT" report --bogus >/dev/null 2>&1; rc=$?
check "unknown flag: exit 1 (got $rc)" test "$rc" -eq 1

# Text and CSV.
"$TWAUDIT" report "$TMP"/fleet/*.json >"$TMP/r.txt"; rc=$?
check "text: exit 0" test "$rc" -eq 0
check "text: header counts 1000 hosts" grep -q '^TWAUDIT FLEET - 1000 hosts' "$TMP/r.txt"
"$TWAUDIT" report --format csv --top 0 "$TMP"/fleet/*.json >"$TMP/r.csv"
check "csv: parses, status rows sum to 1000, at_risk rows match" $PY - "$TMP/r.csv" "$TMP/exp.json" <<'PYEOF'
import csv, json, sys
rows = list(csv.DictReader(open(sys.argv[1])))
e = json.load(open(sys.argv[2]))
st = {r["name"]: int(r["hosts"]) for r in rows if r["section"] == "status"}
risk = [r for r in rows if r["section"] == "at_risk"]
sys.exit(0 if st == e["status"] and len(risk) == e["at_risk"] else 1)
PYEOF
# A real check document goes through too.
"$TWAUDIT" check --format=json --path.procfs="$FIXTURES/linux-3.10-recycle" \
	--path.rootfs="$FIXTURES/rootfs-debian" >"$TMP/real.json" 2>/dev/null
"$TWAUDIT" report --format=json "$TMP/real.json" >"$TMP/r6.json"
check "real check output: critical host with tw_recycle_nat_drops" \
	test "$(json_get "$TMP/r6.json" '"%d %s" % (d["status"]["critical"], d["findings"][0]["id"] in [f["id"] for f in d["findings"]])')" = "1 True"
finish
