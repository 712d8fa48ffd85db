#!/usr/bin/env bash
# The deployment kit: `meson install --destdir` places the binary, units,
# man page and deploy files; systemd-analyze verifies the units and scores
# the service; promtool checks and unit-tests the alert rules; the Grafana
# dashboard is valid and queries only metrics twaudit exports (fixtures and
# the live model); the man page (section 8) renders without warnings and
# covers every subcommand and flag.
. "$(dirname "$0")/lib.sh"

ROOT="$TMP/root"
DEPLOY="$SRC/deploy"
EMPTY_ROOT="$TMP/emptyroot"; mkdir -p "$EMPTY_ROOT"

# --- install ---
meson install -C "$BUILD" --no-rebuild --destdir "$ROOT" >"$TMP/install.log" 2>&1
check "meson install --destdir succeeds" test $? -eq 0
prefix=$(meson introspect "$BUILD" --buildoptions | $PY -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="prefix"][0])')
P="$ROOT$prefix"
for f in bin/twaudit lib/systemd/system/twaudit.service lib/systemd/system/twaudit-check.service \
	lib/systemd/system/twaudit-check.timer share/man/man8/twaudit.8 share/twaudit/alerts.yml \
	share/twaudit/grafana-dashboard.json share/twaudit/web.yml.example; do
	check "installed $prefix/$f" test -s "$P/$f"
done
check "installed unit runs the installed binary" grep -q "^ExecStart=$prefix/bin/twaudit serve " "$P/lib/systemd/system/twaudit.service"

# --- systemd ---
if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart exists: point a copy at the destdir binary,
	# and let man(1) find the installed page for Documentation=man:twaudit(8).
	mkdir -p "$TMP/units"
	for u in twaudit.service twaudit-check.service twaudit-check.timer; do
		sed "s|$prefix/bin/twaudit|$P/bin/twaudit|" "$P/lib/systemd/system/$u" >"$TMP/units/$u"
	done
	(cd "$TMP/units" && MANPATH="$P/share/man" systemd-analyze verify \
		twaudit.service twaudit-check.service twaudit-check.timer) >"$TMP/verify.log" 2>&1
	rc=$?
	cat "$TMP/verify.log" >&2
	check "systemd-analyze verify passes (rc=$rc)" test "$rc" -eq 0 -a ! -s "$TMP/verify.log"
	(cd "$TMP/units" && SYSTEMD_COLORS=0 systemd-analyze security --offline=yes twaudit.service) >"$TMP/sec.log" 2>&1
	score=$(sed -n 's/.*Overall exposure level for twaudit.service: \([0-9.]*\).*/\1/p' "$TMP/sec.log")
	echo "systemd-analyze security --offline=yes twaudit.service: $score" >&2
	grep '^✗' "$TMP/sec.log" >&2
	check "systemd-analyze security score $score is 'OK' (< 3.0; docs/deployment.md)" \
		$PY -c "import sys; sys.exit(0 if 0 < float('${score:-99}') < 3.0 else 1)"
	check "docs/deployment.md states the current score ($score)" grep -q "exposure level.*\b$score\b" "$SRC/docs/deployment.md"
	(cd "$TMP/units" && SYSTEMD_COLORS=0 systemd-analyze security --offline=yes twaudit-check.service) >"$TMP/sec2.log" 2>&1
	score2=$(sed -n 's/.*Overall exposure level for twaudit-check.service: \([0-9.]*\).*/\1/p' "$TMP/sec2.log")
	check "twaudit-check.service scores $score2 (< 3.0)" $PY -c "import sys; sys.exit(0 if 0 < float('${score2:-99}') < 3.0 else 1)"
	for opt in 'DynamicUser=yes' 'AmbientCapabilities=CAP_NET_RAW CAP_NET_ADMIN' \
		'CapabilityBoundingSet=CAP_NET_RAW CAP_NET_ADMIN' 'ProtectSystem=strict' 'ProtectHome=yes' \
		'PrivateTmp=yes' 'NoNewPrivileges=yes' \
		'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK AF_PACKET'; do
		check "unit sets $opt" grep -qx "$opt" "$P/lib/systemd/system/twaudit.service"
	done
	check "unit filters syscalls to @system-service" grep -q '^SystemCallFilter=@system-service' "$P/lib/systemd/system/twaudit.service"
	check "unit does not hide /proc/sys or /proc/net (no ProcSubset=pid)" bash -c "! grep -q '^ProcSubset=pid' '$P/lib/systemd/system/twaudit.service'"
else
	fail "systemd-analyze is installed (Debian package systemd)"
fi

# --- Prometheus rules ---
PROMTOOL=$(command -v promtool)
check "promtool check rules deploy/alerts.yml" "$PROMTOOL" check rules "$DEPLOY/alerts.yml"
(cd "$DEPLOY" && "$PROMTOOL" test rules alerts_test.yml) >"$TMP/ruletest.log" 2>&1
rc=$?
[ "$rc" -eq 0 ] || cat "$TMP/ruletest.log" >&2
check "promtool test rules deploy/alerts_test.yml" test "$rc" -eq 0
for a in TwauditDown TwauditCritical TwauditTwRecycleWithTimestamps TwauditPAWSPassiveRising \
	TwauditPAWSTimewaitRising TwauditModelPredictsRejections TwauditCollectorFailed TwauditSysctlDrift; do
	check "alert $a is defined and unit-tested" bash -c \
		"grep -q 'alert: $a\$' '$DEPLOY/alerts.yml' && grep -q 'alertname: $a\$' '$DEPLOY/alerts_test.yml'"
done
check "every alert has a runbook annotation" $PY - "$DEPLOY/alerts.yml" <<'PYEOF'
import sys, yaml
rules = [r for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]
bad = [r["alert"] for r in rules if not r.get("annotations", {}).get("runbook")]
print(bad, file=sys.stderr)
sys.exit(1 if bad or not rules else 0)
PYEOF

# --- Grafana dashboard: structure, and every metric name exists ---
# The union of /metrics from an old-kernel and modern fixtures, and from a
# run with the live model on this host's /proc (some families exist only on
# some kernels, the model's only while the sampler runs).
: >"$TMP/metrics.all"
for fx in linux-3.10-recycle linux-4.4 linux-6.18 linux-6.18-tsoff; do
	port=$(free_port)
	start_serve "$port" --path.procfs="$FIXTURES/$fx" --path.rootfs="$FIXTURES/rootfs-debian" || { fail "serve $fx"; continue; }
	curl -fsS "http://127.0.0.1:$port/metrics" >>"$TMP/metrics.all"
	stop_serve
done
# Live mode: the sampler needs CAP_NET_RAW (the tests run as root). A few
# requests make SYNs for the model; > 1 s later (--collect.min-interval) a
# scrape takes a fresh snapshot with the model's figures.
port=$(free_port)
if start_serve "$port" --sampler.enabled; then
	for _ in 1 2 3; do curl -fsS -o /dev/null "http://127.0.0.1:$port/healthz"; done
	# The sampler's threads count them on their own time: poll (a slow
	# machine, a sanitizer build).
	live_seen() {
		curl -fsS "http://127.0.0.1:$port/metrics" >"$TMP/metrics.live" &&
			awk '$1 == "twaudit_model_syns_total" && $2 >= 1 { f = 1 } END { exit !f }' "$TMP/metrics.live"
	}
	sleep 1.1
	wait_until 20 live_seen
	stop_serve
	check "live run: the sampler runs" grep -qx 'twaudit_collector_state{collector="sampler",state="ok"} 1' "$TMP/metrics.live"
	for m in twaudit_model_syns_total twaudit_model_predicted_rejections_total twaudit_model_nat_sources \
		twaudit_model_evictions_total twaudit_sampler_dropped_total twaudit_tcp_timewait_sockets; do
		check "live run exports $m" grep -q "^$m[{ ]" "$TMP/metrics.live"
	done
	check "live run: the model saw the test's SYNs" \
		awk '$1 == "twaudit_model_syns_total" && $2 >= 1 { f = 1 } END { exit !f }' "$TMP/metrics.live"
	cat "$TMP/metrics.live" >>"$TMP/metrics.all"
else
	fail "serve --sampler.enabled on /proc"
fi
cat >"$TMP/dashcheck.py" <<'PYEOF'
import json, re, sys
dash = json.load(open(sys.argv[1]))
exported = {l.split("{")[0].split()[0] for l in open(sys.argv[2]) if l.strip() and not l.startswith("#")}
exported.add("up")  # written by Prometheus for every target
errors = []
for key in ("title", "uid", "panels", "schemaVersion", "templating", "time"):
    if key not in dash:
        errors.append("missing top-level key " + key)
FUNCS = {"rate", "irate", "increase", "delta", "sum", "max", "min", "avg", "count", "by", "without",
         "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset",
         "label_values", "topk", "bottomk", "clamp_min", "clamp_max", "abs", "absent", "time",
         "changes", "resets", "avg_over_time", "max_over_time", "min_over_time", "deriv", "vector",
         "scalar", "histogram_quantile", "sort", "sort_desc", "label_replace"}
def names(expr):
    e = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)       # strings
    e = re.sub(r"\{[^}]*\}", "", e)                     # label matchers
    e = re.sub(r"\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", "", e)  # label lists
    e = re.sub(r"label_values\(([^,()]*),[^)]*\)", r"\1", e)  # label_values(metric, label)
    e = re.sub(r"\[[^\]]*\]", "", e)                    # ranges
    e = re.sub(r"\$\{?\w+\}?", "", e)                   # dashboard variables
    e = re.sub(r"\b\d+(\.\d+)?[smhdwy]?\b", "", e)      # numbers, durations
    return {t for t in re.findall(r"[A-Za-z_:][A-Za-z0-9_:]*", e)} - FUNCS
ids, exprs = set(), []
def walk(panels):
    for p in panels:
        if p.get("id") in ids:
            errors.append("duplicate panel id %s" % p.get("id"))
        ids.add(p.get("id"))
        if p.get("type") != "row":
            for k in ("title", "type", "gridPos", "targets", "datasource"):
                if k not in p:
                    errors.append("panel %r lacks %s" % (p.get("title"), k))
            gp = p.get("gridPos", {})
            if not (0 <= gp.get("x", -1) and gp.get("x", 0) + gp.get("w", 99) <= 24):
                errors.append("panel %r gridPos outside 24 columns" % p.get("title"))
        for t in p.get("targets", []):
            exprs.append((p.get("title"), t["expr"]))
        walk(p.get("panels", []))
walk(dash["panels"])
for v in dash["templating"]["list"]:
    q = v.get("query")
    if isinstance(q, dict):
        exprs.append(("variable " + v["name"], q["query"]))
for title, expr in exprs:
    for n in names(expr):
        if n not in exported:
            errors.append("%s: %r uses %s, which twaudit does not export" % (title, expr, n))
if len(exprs) < 10:
    errors.append("only %d queries" % len(exprs))
for e in errors:
    print(e, file=sys.stderr)
print("%d queries checked against %d exported names" % (len(exprs), len(exported)), file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF
check "dashboard is a Grafana dashboard whose queries use only exported metrics" \
	$PY "$TMP/dashcheck.py" "$DEPLOY/grafana-dashboard.json" "$TMP/metrics.all"
$PY -c "import json,sys; d=json.load(open(sys.argv[1])); d['panels'][1]['targets'][0]['expr']='rate(twaudit_no_such_total[5m])'; json.dump(d, open(sys.argv[2],'w'))" \
	"$DEPLOY/grafana-dashboard.json" "$TMP/bad-dash.json"
for m in twaudit_model_predicted_rejections_total twaudit_model_syns_total twaudit_model_nat_sources \
	twaudit_sampler_dropped_total twaudit_model_evictions_total twaudit_tcp_timewait_sockets; do
	check "dashboard has a panel over $m" grep -q "$m" "$DEPLOY/grafana-dashboard.json"
done
check "dashboard has a Peer model row" grep -q '"title": "Peer model' "$DEPLOY/grafana-dashboard.json"
check "the metric-name check catches a wrong name" bash -c "! $PY '$TMP/dashcheck.py' '$TMP/bad-dash.json' '$TMP/metrics.all' 2>/dev/null"

# --- man page (section 8: serve is a daemon) ---
MAN="$SRC/docs/twaudit.8"
check "docs/twaudit.8 is section 8 (.TH TWAUDIT 8)" grep -q '^\.TH TWAUDIT 8 ' "$MAN"
out=$(groff -man -ww -z "$MAN" 2>&1)
check "groff -man -ww -z docs/twaudit.8: no warnings${out:+: $out}" test -z "$out"
out=$(MANWIDTH=80 man -l "$MAN" 2>&1 >/dev/null)
check "man -l docs/twaudit.8: no warnings${out:+: $out}" test -z "$out"
# Without hyphenation or justification, so that flags stay greppable.
out=$(MANWIDTH=80 man --nh --nj -l "$P/share/man/man8/twaudit.8" 2>&1 >"$TMP/man.txt")
check "man -l renders the installed page without warnings" test -z "$out" -a -s "$TMP/man.txt"
check "man(1) finds the installed page as twaudit(8)" bash -c "MANPATH='$P/share/man' man -w 8 twaudit | grep -q 'man8/twaudit.8'"
for s in NAME SYNOPSIS serve check replay report 'EXIT STATUS' 'WEB CONFIGURATION FILE' METRICS FILES EXAMPLES \
	twaudit_audit_status twaudit_finding twaudit_sysctl twaudit_model_predicted_rejections_total docs/metrics.md; do
	check "man page covers $s" grep -q -- "$s" "$TMP/man.txt"
done
for cmd in serve check replay report; do
	check "man page documents every $cmd flag" bash -c '
		for f in $("$1" "$2" --help | grep -o -- "--[a-z][a-z0-9._-]*[a-z0-9]" | sort -u); do
			[ "$f" = --help ] && continue
			grep -q -- "$f" "$3" || { echo "missing $2 $f" >&2; exit 1; }
		done' _ "$TWAUDIT" "$cmd" "$TMP/man.txt"
done
check "no leftover docs/man/twaudit.1" test ! -e "$SRC/docs/man/twaudit.1"

finish
