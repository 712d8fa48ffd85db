#!/usr/bin/env bash
# The page at / in headless Chromium, driven over the DevTools protocol
# (python3-websocket): it loads from a running `twaudit serve` whose fixture
# counters rise while the test runs, renders the status, the findings and
# the charts from /advice and /api/history, and logs no error at all (JS
# exceptions, console errors, CSP violations).
#
# Without JavaScript (the raw HTML from curl, and Chromium with scripts
# disabled) the page says what is true: the model's state as the sampler
# source reports it, for a serve with the live sampler off and for one with
# it on (in a network namespace this test makes, where it runs); it links
# /model; evidence is collapsed; the time names its zone.
# With JavaScript: evidence stays collapsed until opened, and stays open
# across a refresh; on a 390 px phone the Copy button's box does not overlap
# the command's box and the command is not cut; times carry a zone (the
# browser runs in Europe/Berlin); rates and estimates show 3 significant
# digits. Screenshots go to $BUILD/page-*.png: desktop and phone (390 px),
# light and dark, with and without JavaScript, and the model area.
. "$(dirname "$0")/lib.sh"

CHROMIUM=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROMIUM" ]; then
	fail "chromium is installed (Debian package chromium)"
	finish; exit
fi
$PY -c 'import websocket' 2>/dev/null || { fail "python3-websocket is installed"; finish; exit; }

# A private copy of the fixture whose PAWSPassive and ListenDrops grow.
PROCFS="$TMP/procfs"
cp -r "$FIXTURES/linux-3.10-recycle" "$PROCFS"
$PY - "$PROCFS/net/netstat" <<'PYEOF' &
import os, sys, time, random
path = sys.argv[1]
random.seed(7)
step = 0
while True:
    lines = open(path).read().split("\n")
    for i in range(0, len(lines) - 1, 2):
        if not lines[i].startswith("TcpExt:"):
            continue
        names, vals = lines[i].split(), lines[i + 1].split()
        for j, n in enumerate(names):
            if n in ("PAWSPassive", "ListenDrops"):
                vals[j] = str(int(vals[j]) + (3 + random.randrange(4)) * (1 + step % 3))
        lines[i + 1] = " ".join(vals)
    tmp = path + ".new"
    open(tmp, "w").write("\n".join(lines))
    os.rename(tmp, path)
    step += 1
    time.sleep(1)
PYEOF
PIDS+=($!)

port=$(free_port)
start_serve "$port" --path.procfs="$PROCFS" --path.rootfs="$FIXTURES/rootfs-debian" ||
	{ fail "serve starts"; finish; exit; }

# --- without JavaScript: the HTML as the server writes it ---------------------
# nojs_checks LABEL HTML ADVICE: what / says agrees with /advice.
nojs_checks() {
	local label=$1 html=$2 advice=$3
	$PY - "$html" "$advice" >"$TMP/nojs-$label.out" 2>&1 <<'PYEOF'
import html.parser, json, re, sys
page = open(sys.argv[1]).read()
adv = json.load(open(sys.argv[2]))
smp = adv["sources"]["sampler"]

class P(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.links, self.details, self.stack, self.text = [], [], [], {}
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a":
            self.links.append(a.get("href"))
        if tag == "details":
            self.details.append((a.get("class"), "open" in a))
        self.stack.append(a.get("id"))
    def handle_endtag(self, tag):
        if self.stack:
            self.stack.pop()
    def handle_data(self, d):
        for i in self.stack:
            if i:
                self.text[i] = self.text.get(i, "") + d
p = P()
p.feed(re.sub(r"<(script|style)\b.*?</\1>", "", page, flags=re.S))
model = p.text.get("model", "")
print(json.dumps({
    "sampler_state": smp["state"],
    "has_model": "model" in adv,
    "model_text": model,
    "model_predicted": p.text.get("model-predicted"),
    "model_link": "/model" in p.links,
    "evidence": sum(1 for c, o in p.details if c == "evidence"),
    "evidence_open": sum(1 for c, o in p.details if c == "evidence" and o),
    "updated": p.text.get("updated", ""),
}))
PYEOF
	cat "$TMP/nojs-$label.out" >&2
	N=$(tail -n 1 "$TMP/nojs-$label.out")
	nget() { $PY -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$N" "$1" 2>/dev/null; }
}

curl -sf "http://127.0.0.1:$port/" -o "$TMP/off.html"
curl -sf "http://127.0.0.1:$port/advice" -o "$TMP/off.json"
nojs_checks off "$TMP/off.html" "$TMP/off.json"
st=$(nget 'd["sampler_state"]')
check "no JS, sampler off: /advice has no model, the sampler is not ok ($st)" \
	test "$(nget 'd["has_model"]'),$(nget 'd["sampler_state"] != "ok"')" = False,True
check "no JS, sampler off: the model area says it is not running and why ($(nget 'd["model_text"]'))" \
	bash -c "[[ \"\$1\" == *'not running'*\"the live sampler is \$2\"* ]]" _ "$(nget 'd["model_text"]')" "$st"
check "no JS: the page links /model" test "$(nget 'd["model_link"]')" = True
check "no JS: evidence rendered ($(nget 'd["evidence"]') blocks), none open" \
	test "$(nget 'd["evidence"] >= 3 and d["evidence_open"] == 0')" = True
check "no JS: the time names its zone ($(nget 'd["updated"]'))" \
	bash -c "[[ \"\$1\" =~ ^generated\ [0-9]{4}-[0-9]{2}-[0-9]{2}\ [0-9]{2}:[0-9]{2}:[0-9]{2}\ UTC$ ]]" _ "$(nget 'd["updated"]')"

# The live sampler on, in a namespace of this test's own (its loopback only):
# the model runs, and the page says so without JavaScript.
NS=pagechr$$
if ip netns add "$NS" 2>"$TMP/netns.err"; then
	NETNS+=("$NS")
	ip -n "$NS" link set lo up
	ip netns exec "$NS" "$TWAUDIT" serve --web.listen-address=127.0.0.1:9477 \
		--sampler.enabled --security.user= 2>"$TMP/serve-ns.log" &
	PIDS+=($!)
	model_runs() {
		ip netns exec "$NS" curl -sf http://127.0.0.1:9477/advice -o "$TMP/on.json" &&
			$PY -c 'import json,sys; sys.exit("model" not in json.load(open(sys.argv[1])))' "$TMP/on.json"
	}
	wait_until 30 model_runs
	check "sampler on: /advice has the model" model_runs
	ip netns exec "$NS" curl -sf http://127.0.0.1:9477/ -o "$TMP/on.html"
	nojs_checks on "$TMP/on.html" "$TMP/on.json"
	check "no JS, sampler on: the model area shows the model, not a placeholder ($(nget 'd["model_text"]'))" \
		test "$(nget '"not running" not in d["model_text"] and d["model_predicted"] is not None')" = True
	check "no JS, sampler on: predicted rejections shown as a figure ($(nget 'd["model_predicted"]'))" \
		bash -c "[[ \"\$1\" =~ ^-?[0-9]+(\.[0-9]+)?$ ]]" _ "$(nget 'd["model_predicted"]')"
	check "no JS, sampler on: the page links /model" test "$(nget 'd["model_link"]')" = True
else
	fail "a network namespace for the sampler-on serve: $(cat "$TMP/netns.err")"
fi

mkdir -p "$TMP/profile"
# A zone that is not UTC, so that a time without its zone would show.
TZ=Europe/Berlin "$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-quic \
	--no-first-run --no-default-browser-check --disable-background-networking \
	--disable-component-update --disable-sync --disable-extensions \
	--disable-dev-shm-usage --user-data-dir="$TMP/profile" \
	--remote-debugging-address=127.0.0.1 --remote-debugging-port=0 \
	--window-size=1280,900 about:blank >"$TMP/chromium.log" 2>&1 &
PIDS+=($!)
# Chromium's start-up on a slow, busy machine: up to 30 s (x SLOW).
wait_until 30 test -s "$TMP/profile/DevToolsActivePort"
check "chromium starts with DevTools" test -s "$TMP/profile/DevToolsActivePort"

$PY - "$TMP/profile/DevToolsActivePort" "http://127.0.0.1:$port/" "$BUILD" "$SLOW" \
	>"$TMP/cdp.out" 2>&1 <<'PYEOF'
import base64, json, sys, time, urllib.request
import websocket

port_file, url, outdir = sys.argv[1:4]
SLOW = int(sys.argv[4])   # deadlines x3 for a sanitizer build of serve
devport = open(port_file).read().split()[0]
targets = json.load(urllib.request.urlopen("http://127.0.0.1:%s/json" % devport))
page = [t for t in targets if t["type"] == "page"][0]
ws = websocket.create_connection(page["webSocketDebuggerUrl"], timeout=30)
seq = [0]
errors = []
paused = []
# Figures with more digits than the page shows: 3 significant digits.
MODEL = {"predicted_rejections_per_min": 0.0123456, "sampling_ratio": 4,
         "nat_sources": [{"source": "198.51.100.7", "clients": 3, "predicted_per_min": 9.5,
                          "confidence": 0.87654},
                         {"source": "203.0.113.20", "clients": 2, "predicted_per_min": 3.0,
                          "confidence": 0.5}]}
RATE = {"window": "5m", "evaluated": True, "per_min": 1234.5678}

def event(m):
    meth, p = m.get("method"), m.get("params", {})
    if meth == "Fetch.requestPaused":
        paused.append(p)
    if meth == "Runtime.exceptionThrown":
        d = p["exceptionDetails"]
        errors.append("exception: %s %s" % (d.get("text"), d.get("exception", {}).get("description", "")))
    elif meth == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
        errors.append("console.%s: %s" % (p["type"], " ".join(str(a.get("value", a.get("description"))) for a in p["args"])))
    elif meth == "Log.entryAdded" and p["entry"]["level"] == "error":
        e = p["entry"]
        if not e.get("url", "").endswith("/favicon.ico"):
            errors.append("log %s: %s %s" % (e["source"], e["text"], e.get("url", "")))

def call(method, **params):
    seq[0] += 1
    ws.send(json.dumps({"id": seq[0], "method": method, "params": params}))
    while True:
        m = json.loads(ws.recv())
        if m.get("id") == seq[0]:
            if "error" in m:
                raise RuntimeError("%s: %s" % (method, m["error"]))
            return m.get("result", {})
        event(m)

def js(expr):
    r = call("Runtime.evaluate", expression=expr, returnByValue=True)
    if "exceptionDetails" in r:
        raise RuntimeError("evaluate %s: %s" % (expr, r["exceptionDetails"]))
    return r["result"].get("value")

def add_model(p):
    """/advice as the model would fill it (the live sampler is not in this
    serve), with an evaluated PAWSPassive rate in the first finding."""
    r = call("Fetch.getResponseBody", requestId=p["requestId"])
    body = base64.b64decode(r["body"]) if r.get("base64Encoded") else r["body"].encode()
    doc = json.loads(body)
    doc["model"] = MODEL
    for f in doc["findings"]:
        c = f.get("evidence", {}).get("counters", {}).get("PAWSPassive")
        if f["id"] == "tw_recycle_nat_drops" and c:
            c["rate"] = RATE
    call("Fetch.fulfillRequest", requestId=p["requestId"], responseCode=200,
         responseHeaders=[{"name": "Content-Type", "value": "application/json"}],
         body=base64.b64encode(json.dumps(doc).encode()).decode())

def pump(seconds):
    end = time.time() + seconds
    ws.settimeout(0.2)
    while time.time() < end:
        try:
            event(json.loads(ws.recv()))
        except websocket.WebSocketTimeoutException:
            pass
        while paused:
            ws.settimeout(30)
            add_model(paused.pop(0))
            ws.settimeout(0.2)
    ws.settimeout(30)

def shot(name, full=True):
    """The whole page, or (FULL false) what the screen shows."""
    data = call("Page.captureScreenshot", format="png", captureBeyondViewport=full)["data"]
    path = "%s/page-%s.png" % (outdir, name)
    open(path, "wb").write(base64.b64decode(data))
    print("screenshot", path)

def phone():
    call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)

def scheme(v):
    call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": v}])

def loaded():
    for _ in range(60 * SLOW):
        pump(0.25)
        if js("document.readyState") == "complete" and js("!!document.getElementById('sources')"):
            return
    raise RuntimeError("page did not load")

# Every .cmd: the Copy button's box against the command's (and its <pre>'s)
# box; a box is cut when the <pre> hides part of the command.
COPY_BOXES = """(function(){
  function r(e){var b=e.getBoundingClientRect();return {l:b.left,r:b.right,t:b.top,b:b.bottom};}
  function hit(a,b){return a.l<b.r&&b.l<a.r&&a.t<b.b&&b.t<a.b;}
  return Array.from(document.querySelectorAll('#findings .cmd')).map(function(c){
    var b=c.querySelector('button'),code=c.querySelector('code'),pre=c.querySelector('pre');
    if(!b) return {button:false};
    var rb=r(b),rc=r(code),rp=r(pre);
    return {button:true,over_code:hit(rb,rc),over_pre:hit(rb,rp),
      cut:pre.scrollWidth>pre.clientWidth+1,in_view:rb.l>=0&&rb.r<=window.innerWidth,
      b:rb,code:rc};
  });})()"""

for d in ("Runtime", "Log", "Page"):
    call(d + ".enable")
res = {}

# --- 1. without JavaScript (scripts disabled in the browser) ---------------
call("Emulation.setScriptExecutionDisabled", value=True)
call("Page.navigate", url=url)
loaded()
res["nojs_model"] = js("document.getElementById('model').textContent")
res["nojs_model_link"] = js("!!document.querySelector('a[href=\"/model\"]')")
res["nojs_evidence"] = js("document.querySelectorAll('details.evidence').length")
res["nojs_evidence_open"] = js("document.querySelectorAll('details.evidence[open]').length")
# Collapsed: a <details> no taller than its summary.
res["nojs_evidence_h"] = js("""Math.max.apply(null,Array.from(document.querySelectorAll('details.evidence')).map(
    e=>e.getBoundingClientRect().height-e.querySelector('summary').getBoundingClientRect().height))""")
res["nojs_updated"] = js("document.getElementById('updated').textContent")
res["nojs_noscript"] = js("(document.querySelector('main .note')||{}).textContent||''")
shot("nojs-desktop")
phone()
pump(0.5)
res["nojs_phone_overflow"] = js("document.documentElement.scrollWidth - document.documentElement.clientWidth")
shot("nojs-phone-full")
js("window.scrollTo(0, document.querySelector('#findings').getBoundingClientRect().top + scrollY - 100)")
shot("nojs-phone", full=False)
call("Emulation.clearDeviceMetricsOverride")
call("Emulation.setScriptExecutionDisabled", value=False)

# --- 2. with JavaScript ----------------------------------------------------
call("Page.navigate", url=url)
loaded()
# Wait for four history points in the PAWSPassive chart (ticks are 5 s, the
# page refreshes every 5 s: about 20 s; 60 s x SLOW on a slow machine).
npoints = 0
for _ in range(120 * SLOW):
    pump(0.5)
    npoints = js("""(function(){var p=document.querySelector('#chart-PAWSPassive polyline.line');
        return p ? p.getAttribute('points').trim().split(/\\s+/).length : 0;})()""") or 0
    if npoints >= 4:
        break
pump(1)

res.update({
    "status": js("document.getElementById('status').textContent"),
    "status_class": js("document.getElementById('status').className"),
    "titles": js("Array.from(document.querySelectorAll('#findings .finding .title')).map(e=>e.textContent)"),
    "runtime_cmd": js("(document.querySelector('#f-tw_recycle_nat_drops .cmd code')||{}).textContent"),
    "evidence_rows": js("document.querySelectorAll('#f-tw_recycle_nat_drops dl.ev dt').length"),
    "evidence_open": js("document.querySelectorAll('#findings details.evidence[open]').length"),
    "evidence": js("document.querySelectorAll('#findings details.evidence').length"),
    "chart_points": npoints,
    "charts": js("Array.from(document.querySelectorAll('.chart')).map(e=>e.id)"),
    "pp_current": js("(document.querySelector('#chart-PAWSPassive .cur')||{}).textContent"),
    "chart_figures": js("Array.from(document.querySelectorAll('.chart:not(#chart-TimeWaitSockets) .cur, .chart:not(#chart-TimeWaitSockets) .sub span:last-child')).map(e=>e.textContent)"),
    "chart_clock": js("(document.querySelector('#chart-PAWSPassive .sub span')||{}).textContent"),
    "updated": js("document.getElementById('updated').textContent"),
    "drift_rows": js("Array.from(document.querySelectorAll('#sysctls tr.drift')).map(e=>e.dataset.key)"),
    "persisted_recycle": js("(document.querySelector('#sysctls tr[data-key=\"net.ipv4.tcp_tw_recycle\"] .where')||{}).textContent"),
    "conn": js("document.getElementById('conn').textContent"),
    "model": js("document.getElementById('model').textContent"),
    "model_link": js("!!document.querySelector('a[href=\"/model\"]')"),
    "title": js("document.title"),
})

# An evidence block the reader opens stays open when the page refreshes.
js("document.querySelector('#f-tw_recycle_nat_drops details.evidence summary').click()")
js("document.querySelector('#findings > div').dataset.before = '1'")
for _ in range(30 * SLOW):
    pump(0.5)
    if js("!document.querySelector('#findings > div[data-before]')"):
        break
res["refreshed"] = js("!document.querySelector('#findings > div[data-before]')")
res["opened_kept"] = js("!!document.querySelector('#f-tw_recycle_nat_drops details.evidence[open]')")
res["others_closed"] = js("document.querySelectorAll('#findings details.evidence[open]').length")
shot("desktop")
scheme("dark")
pump(0.5)
res["dark_bg"] = js("getComputedStyle(document.body).backgroundColor")
shot("dark")

# A phone: 390 px wide, as an iPhone 12-15; light, then dark.
scheme("light")
phone()
pump(1)
res["phone_overflow"] = js("document.documentElement.scrollWidth - document.documentElement.clientWidth")
res["phone_width"] = js("window.innerWidth")
res["copy"] = js(COPY_BOXES)
shot("phone-full")
js("window.scrollTo(0, 0)")
shot("phone-top", full=False)
js("window.scrollTo(0, document.querySelector('#findings .cmd').getBoundingClientRect().top + scrollY - 300)")
shot("phone", full=False)
scheme("dark")
pump(0.5)
shot("phone-dark", full=False)
js("window.scrollTo(0, 0)")
shot("phone-dark-top", full=False)
scheme("light")
call("Emulation.clearDeviceMetricsOverride")

# The model area renders /advice's optional "model" object: add one to the
# next /advice responses (with an evaluated rate in the first finding's
# evidence) and wait for a refresh to show it.
call("Fetch.enable", patterns=[{"urlPattern": "*/advice", "requestStage": "Response"}])
for _ in range(60 * SLOW):   # the page refreshes every 5 s
    pump(0.5)
    if js("!!document.getElementById('model-predicted')"):
        break
pump(0.5)
res["model_predicted"] = js("(document.getElementById('model-predicted')||{}).textContent")
res["model_rows"] = js("document.querySelectorAll('#model table.nat tbody tr').length")
res["model_first"] = js("(document.querySelector('#model table.nat tbody td')||{}).textContent")
res["model_cells"] = js("Array.from(document.querySelectorAll('#model table.nat tbody tr:first-child td')).map(e=>e.textContent)")
res["evidence_rate"] = js("""(function(){var d=Array.from(document.querySelectorAll('#f-tw_recycle_nat_drops dl.ev dt'))
    .filter(e=>e.textContent==='counters › PAWSPassive')[0];return d?d.nextElementSibling.textContent:null;})()""")
js("document.getElementById('model').scrollIntoView()")
shot("model")
call("Fetch.disable")
res["errors"] = errors
print(json.dumps(res))
PYEOF
rc=$?
cat "$TMP/cdp.out" >&2
check "DevTools session completed (rc=$rc)" test "$rc" -eq 0
R=$(tail -n 1 "$TMP/cdp.out")
get() { $PY -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$R" "$1" 2>/dev/null; }
# SIG3 TEXT...: every figure in TEXT has at most 3 significant digits.
sig3() { $PY -c '
import re, sys
for t in sys.argv[1:]:
    for n in re.findall(r"\d+(?:\.\d+)?", t):
        digits = n.replace(".", "").lstrip("0")
        if "." not in n:
            digits = digits.rstrip("0")   # 1230: the zeros only place it
        if len(digits) > 3:
            sys.exit("%r: %s has more than 3 significant digits" % (t, n))
' "$@"; }

# Chromium without JavaScript
check "no JS (browser): the model area says it is not running and why" \
	bash -c "[[ \"\$1\" == *'not running: the live sampler is'* ]]" _ "$(get 'd["nojs_model"]')"
check "no JS (browser): /model linked" test "$(get 'd["nojs_model_link"]')" = True
check "no JS (browser): evidence collapsed ($(get 'd["nojs_evidence"]') blocks, $(get 'd["nojs_evidence_open"]') open, height beyond the summary $(get 'd["nojs_evidence_h"]') px)" \
	test "$(get 'd["nojs_evidence"] >= 3 and d["nojs_evidence_open"] == 0 and d["nojs_evidence_h"] < 2')" = True
check "no JS (browser): the time names its zone ($(get 'd["nojs_updated"]'))" \
	bash -c "[[ \"\$1\" == *' UTC' ]]" _ "$(get 'd["nojs_updated"]')"
check "no JS (browser): the page says it shows the state at that time" \
	bash -c "[[ \"\$1\" == *'reload'* ]]" _ "$(get 'd["nojs_noscript"]')"
check "no JS (browser): no horizontal overflow on a phone ($(get 'd["nojs_phone_overflow"]') px)" \
	test "$(get 'd["nojs_phone_overflow"]')" -le 0

# With JavaScript
check "rendered status is critical" test "$(get 'd["status"]')" = critical
check "status badge has the critical class" bash -c "[[ '$(get 'd["status_class"]')' == *critical* ]]"
t0=$(get 'd["titles"][0]')
check "finding title rendered ($t0)" bash -c "[[ '$t0' == 'tcp_tw_recycle is on'* ]]"
check "three findings rendered" test "$(get 'len(d["titles"])')" = 3
check "runtime command rendered" test "$(get 'd["runtime_cmd"]')" = "sysctl -w net.ipv4.tcp_tw_recycle=0"
check "evidence rendered as rows" test "$(get 'd["evidence_rows"]')" -ge 4
check "evidence collapsed by default ($(get 'd["evidence"]') blocks, $(get 'd["evidence_open"]') open)" \
	test "$(get 'd["evidence"] >= 3 and d["evidence_open"] == 0')" = True
check "an opened evidence block stays open across a refresh" \
	test "$(get 'd["refreshed"] and d["opened_kept"] and d["others_closed"] == 1')" = True
check "PAWSPassive chart has >= 4 points ($(get 'd["chart_points"]'))" test "$(get 'd["chart_points"]')" -ge 4
check "charts for PAWSPassive, PAWSTimewait, ListenDrops" \
	test "$(get '",".join(c for c in d["charts"] if c != "chart-TimeWaitSockets")')" = "chart-PAWSPassive,chart-PAWSTimewait,chart-ListenDrops"
check "PAWSPassive current rate is non-zero ($(get 'd["pp_current"]'))" bash -c "[[ '$(get 'd["pp_current"]')' =~ ^[1-9] ]]"
check "chart rates have at most 3 significant digits ($(get '" | ".join(d["chart_figures"])'))" \
	sig3 "$(get '" ".join(d["chart_figures"])')"
zone='(UTC|GMT|CET|CEST)([+-][0-9]{1,2}(:[0-9]{2})?)?$'
check "updated time names its zone ($(get 'd["updated"]'))" bash -c "[[ \"\$1\" =~ $zone ]]" _ "$(get 'd["updated"]')"
check "chart time names its zone ($(get 'd["chart_clock"]'))" bash -c "[[ \"\$1\" =~ $zone ]]" _ "$(get 'd["chart_clock"]')"
check "sysctl drift rows" test "$(get '",".join(sorted(d["drift_rows"]))')" = "net.core.somaxconn,net.ipv4.tcp_fin_timeout"
check "persisted location shown" test "$(get 'd["persisted_recycle"]')" = "/etc/sysctl.conf:13"
check "page says it is live" bash -c "[[ '$(get 'd["conn"]')' == live* ]]"
check "model area says the sampler's state" bash -c "[[ \"\$1\" == *'not running: the live sampler is'* ]]" _ "$(get 'd["model"]')"
check "/model linked" test "$(get 'd["model_link"]')" = True
check "dark mode changes the background ($(get 'd["dark_bg"]'))" test "$(get 'd["dark_bg"]')" = "rgb(15, 20, 26)"
check "phone: 390 px wide ($(get 'd["phone_width"]'))" test "$(get 'd["phone_width"]')" = 390
check "phone: no horizontal overflow ($(get 'd["phone_overflow"]') px)" test "$(get 'd["phone_overflow"]')" -le 0
check "phone: every command has a Copy button ($(get 'len(d["copy"])') commands)" \
	test "$(get 'len(d["copy"]) >= 2 and all(c["button"] for c in d["copy"])')" = True
check "phone: the Copy button does not overlap the command ($(get 'd["copy"][0]'))" \
	test "$(get 'not any(c["over_code"] or c["over_pre"] for c in d["copy"])')" = True
check "phone: no command cut off, every Copy button on screen" \
	test "$(get 'not any(c["cut"] or not c["in_view"] for c in d["copy"])')" = True
check "model: predicted rejections to 3 significant digits ($(get 'd["model_predicted"]'))" \
	test "$(get 'd["model_predicted"]')" = 0.0123
check "model: NAT sources table" test "$(get 'd["model_rows"]')" = 2
check "model: first source" test "$(get 'd["model_first"]')" = 198.51.100.7
check "model: confidence to 3 significant digits ($(get 'd["model_cells"]'))" \
	test "$(get 'd["model_cells"][-1]')" = 0.877
check "evidence: an evaluated rate to 3 significant digits ($(get 'd["evidence_rate"]'))" \
	test "$(get 'd["evidence_rate"]')" = "total $(get 'd["evidence_rate"].split()[1]') · 1230/min over 5m"
check "no JS errors, console errors or CSP violations" test "$(get 'len(d["errors"])')" = 0
for s in nojs-desktop nojs-phone nojs-phone-full desktop dark phone-full phone-top phone \
	phone-dark phone-dark-top model; do
	check "screenshot $s saved" test -s "$BUILD/page-$s.png"
done

finish
