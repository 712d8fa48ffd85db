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
# What README.md's deployment-kit table lists, and the JSON schemas.
for f in bin/twaudit lib/systemd/system/twaudit.service lib/systemd/system/twaudit-check.service \
	lib/systemd/system/twaudit-check.timer lib/systemd/system/twaudit.socket \
	share/man/man8/twaudit.8 share/twaudit/alerts.yml share/twaudit/alerts_test.yml \
	share/twaudit/recording-rules.yml share/twaudit/grafana-dashboard.json \
	share/twaudit/grafana-fleet.json share/twaudit/web.yml.example share/twaudit/policy.json; do
	check "installed $prefix/$f" test -s "$P/$f"
done
for f in "$SRC"/docs/schema/*.json; do
	check "installed $prefix/share/twaudit/schema/${f##*/}" cmp -s "$f" "$P/share/twaudit/schema/${f##*/}"
done
check "README.md names every deploy/ file meson installs" sh -c '
	for f in alerts.yml alerts_test.yml recording-rules.yml grafana-dashboard.json grafana-fleet.json \
		web.yml.example policy.json twaudit.socket docs/schema; do
		grep -q -- "$f" "$1/README.md" || { echo "README.md lacks $f" >&2; exit 1; }
	done' _ "$SRC"
check "installed unit runs the installed binary" grep -q "^ExecStart=$prefix/bin/twaudit serve " "$P/lib/systemd/system/twaudit.service"
# Flags come from /etc/default/twaudit: ARGS, and the older TWAUDIT_ARGS.
check "ExecStart takes its flags from \$ARGS and \$TWAUDIT_ARGS, none hard-coded" \
	grep -qx "ExecStart=$prefix/bin/twaudit serve \$ARGS \$TWAUDIT_ARGS" "$P/lib/systemd/system/twaudit.service"
check "the unit reads /etc/default/twaudit" grep -qx 'EnvironmentFile=-/etc/default/twaudit' "$P/lib/systemd/system/twaudit.service"
check "the default file sets ARGS with the listen address" grep -qx 'ARGS="--web.listen-address=:9477"' "$SRC/debian/twaudit.default"
CHECK_UNIT="$P/lib/systemd/system/twaudit-check.service"
check "check unit writes Debian's textfile directory" \
	grep -q "^ExecStart=$prefix/bin/twaudit check .*--output=/var/lib/prometheus/node-exporter/twaudit.prom\$" "$CHECK_UNIT"
for opt in 'CapabilityBoundingSet=' 'AmbientCapabilities=' 'ReadWritePaths=-/var/lib/prometheus/node-exporter' \
	'ProtectSystem=strict' 'NoNewPrivileges=yes'; do
	check "check unit sets $opt" grep -qx -- "$opt" "$CHECK_UNIT"
done
check "check unit runs as root (no User=, no DynamicUser=)" sh -c "! grep -qE '^(User|DynamicUser)=' '$CHECK_UNIT'"

# --- systemd ---
if command -v systemd-analyze >/dev/null; then
	# verify checks that ExecStart exists: point a copy at the destdir binary,
	# and let man(1) find the installed page for Documentation=man:twaudit(8).
	mkdir -p "$TMP/units"
	for u in twaudit.service twaudit-check.service twaudit-check.timer; do
		sed "s|$prefix/bin/twaudit|$P/bin/twaudit|" "$P/lib/systemd/system/$u" >"$TMP/units/$u"
	done
	cp "$P/lib/systemd/system/twaudit.socket" "$TMP/units/"
	(cd "$TMP/units" && MANPATH="$P/share/man" systemd-analyze verify \
		twaudit.service twaudit-check.service twaudit-check.timer twaudit.socket) >"$TMP/verify.log" 2>&1
	rc=$?
	cat "$TMP/verify.log" >&2
	check "systemd-analyze verify passes (rc=$rc)" test "$rc" -eq 0 -a ! -s "$TMP/verify.log"
	(cd "$TMP/units" && systemd-analyze verify --man=no \
		twaudit.service twaudit-check.service twaudit-check.timer twaudit.socket) >"$TMP/verify2.log" 2>&1
	rc=$?
	cat "$TMP/verify2.log" >&2
	check "systemd-analyze verify --man=no passes (rc=$rc)" test "$rc" -eq 0 -a ! -s "$TMP/verify2.log"
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

# --- the units' commands, run as their users with setpriv ---
# twaudit.service: a dynamic (unprivileged) uid with CAP_NET_RAW and
# CAP_NET_ADMIN ambient and bounding, no new privileges; the flags from
# the shipped /etc/default/twaudit, split as systemd splits $ARGS, with the
# port moved to loopback, plus the same address in the old TWAUDIT_ARGS
# (listened on once).
if command -v setpriv >/dev/null; then
	port=$(free_port)
	ARGS=; TWAUDIT_ARGS=
	. "$SRC/debian/twaudit.default"
	ARGS=${ARGS//:9477/127.0.0.1:$port}
	TWAUDIT_ARGS="--web.listen-address=127.0.0.1:$port"
	exec_start=$(sed -n 's/^ExecStart=//p' "$P/lib/systemd/system/twaudit.service")
	exec_start=${exec_start/#$prefix\/bin\/twaudit/$TWAUDIT}
	exec_start=${exec_start//\$TWAUDIT_ARGS/$TWAUDIT_ARGS}
	exec_start=${exec_start//\$ARGS/$ARGS}
	log="$TMP/unit-serve.log"
	# shellcheck disable=SC2086
	setpriv --reuid=61947 --regid=61947 --clear-groups --no-new-privs \
		--inh-caps=-all,+net_raw,+net_admin --ambient-caps=-all,+net_raw,+net_admin \
		--bounding-set=-all,+net_raw,+net_admin $exec_start 2>"$log" &
	SERVE_PID=$!; PIDS+=("$SERVE_PID")
	check "twaudit.service's command as its user: serve answers on 127.0.0.1:$port" \
		wait_serve "$port" "$SERVE_PID" "$log"
	check "  as uid 61947 with the unit's capabilities" sh -c "
		awk '/^Uid:/ { exit !(\$2 == 61947) }' /proc/$SERVE_PID/status &&
		grep -q 'msg=\"privileges dropped\" capabilities=' '$log'"
	check "  the address in ARGS and TWAUDIT_ARGS is listened on once" \
		test "$(grep -c "msg=\"listening\" address=\"127.0.0.1:$port\"" "$log")" -eq 1
	curl -fsS -m 5 -o "$TMP/unit-metrics" "http://127.0.0.1:$port/metrics"
	check "  and is scraped" grep -q '^twaudit_audit_status' "$TMP/unit-metrics"
	stop_serve
	# twaudit-check.service: root with an empty bounding set, writing into a
	# root 0755 directory like /var/lib/prometheus/node-exporter (here under
	# $TMP; --sample shortened to 1s to keep the test short).
	tf="$TMP/node-exporter"; mkdir -m 0755 "$tf"
	exec_start=$(sed -n 's/^ExecStart=//p' "$CHECK_UNIT")
	exec_start=${exec_start/#$prefix\/bin\/twaudit/$TWAUDIT}
	exec_start=${exec_start//\/var\/lib\/prometheus\/node-exporter/$tf}
	exec_start=${exec_start//--sample=30s/--sample=1s}
	# shellcheck disable=SC2086
	(umask 0022; setpriv --reuid=0 --regid=0 --clear-groups --no-new-privs --inh-caps=-all \
		--bounding-set=-all $exec_start) >"$TMP/unit-check.out" 2>"$TMP/unit-check.err"
	rc=$?
	sed 's/^/  check unit stderr: /' "$TMP/unit-check.err" >&2
	check "twaudit-check.service's command as root without capabilities exits 0-2 (rc $rc)" test "$rc" -le 2
	check "  and writes twaudit.prom (0644) into the textfile directory" sh -c "
		grep -q '^twaudit_audit_status' '$tf/twaudit.prom' && [ \"\$(stat -c %a '$tf/twaudit.prom')\" = 644 ]"
	check "  and nothing else there" test "$(ls -A "$tf")" = twaudit.prom
else
	fail "setpriv is installed (Debian package util-linux)"
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
# Both dashboards: rate windows follow the scrape interval
# ($__rate_interval, no fixed [5m]), a job variable that every query
# filters on, no __inputs left that nothing uses. The fleet dashboard's
# queries use the recording rules' names.
$PY -c 'import yaml,sys; print("\n".join(r["record"] for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"] if "record" in r))' \
	"$DEPLOY/recording-rules.yml" >"$TMP/recorded"
cat "$TMP/metrics.all" >"$TMP/metrics.fleet"
sed 's/$/ 1/' "$TMP/recorded" >>"$TMP/metrics.fleet"
check "fleet dashboard queries only exported metrics and recorded rules" \
	$PY "$TMP/dashcheck.py" "$DEPLOY/grafana-fleet.json" "$TMP/metrics.fleet"
cat >"$TMP/dashconv.py" <<'PYEOF'
import json, re, sys
errors = []
for path in sys.argv[1:]:
    text = open(path).read()
    d = json.loads(text)
    exprs = []
    def walk(ps):
        for p in ps:
            exprs.extend((p.get("title"), t["expr"]) for t in p.get("targets", []))
            walk(p.get("panels", []))
    walk(d["panels"])
    names = [v["name"] for v in d["templating"]["list"]]
    if "job" not in names:
        errors.append("%s: no job variable" % path)
    for title, e in exprs:
        for m in re.finditer(r"\b(rate|irate|increase|delta|deriv|changes|resets)\(.*?\[([^\]]*)\]", e):
            if m.group(2) != "$__rate_interval":
                errors.append("%s: %r: %s window %r, not $__rate_interval" % (path, title, m.group(1), m.group(2)))
        if 'job=~"$job"' not in e:
            errors.append("%s: %r does not filter on $job: %s" % (path, title, e))
    for i in d.get("__inputs", []):
        used = re.findall(r"\$\{%s\}" % re.escape(i["name"]), text)
        if not used:
            errors.append("%s: __inputs %s is never used" % (path, i["name"]))
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF
for dash in grafana-dashboard.json grafana-fleet.json; do
	check "$dash: \$__rate_interval, a job variable on every query, no unused __inputs" \
		$PY "$TMP/dashconv.py" "$DEPLOY/$dash"
done
$PY -c 'import sys; open(sys.argv[2], "w").write(open(sys.argv[1]).read().replace("[$__rate_interval]", "[5m]"))' \
	"$DEPLOY/grafana-dashboard.json" "$TMP/fixed.json"
check "the convention check catches a fixed [5m] window" sh -c "! $PY '$TMP/dashconv.py' '$TMP/fixed.json' 2>/dev/null"

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
