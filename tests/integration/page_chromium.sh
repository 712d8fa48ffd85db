#!/usr/bin/env bash
# The page at / in headless Chromium, driven over the DevTools protocol
# (python3-websocket): it loads from a running `twaudit serve` whose fixture
# counters rise while the test runs, renders the status, the findings and
# the charts from /advice and /api/history, and logs no error at all (JS
# exceptions, console errors, CSP violations). Screenshots go to
# $BUILD/page-*.png (desktop light, desktop dark, phone).
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

mkdir -p "$TMP/profile"
"$CHROMIUM" --headless=new --no-sandbox --disable-gpu --disable-quic \
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
MODEL = {"predicted_rejections_per_min": 12.5, "sampling_ratio": 4,
         "nat_sources": [{"source": "198.51.100.7", "clients": 3, "predicted_per_min": 9.5},
                         {"source": "203.0.113.20", "clients": 2, "predicted_per_min": 3.0}]}

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
    """/advice as the model would fill it (the live sampler is not in this test)."""
    r = call("Fetch.getResponseBody", requestId=p["requestId"])
    body = base64.b64decode(r["body"]) if r.get("base64Encoded") else r["body"].encode()
    doc = json.loads(body)
    doc["model"] = MODEL
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

def shot(name):
    data = call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
    path = "%s/page-%s.png" % (outdir, name)
    open(path, "wb").write(base64.b64decode(data))
    print("screenshot", path)

for d in ("Runtime", "Log", "Page"):
    call(d + ".enable")
call("Page.navigate", url=url)

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

res = {
    "status": js("document.getElementById('status').textContent"),
    "status_class": js("document.getElementById('status').className"),
    "titles": js("Array.from(document.querySelectorAll('#findings .finding .title')).map(e=>e.textContent)"),
    "runtime_cmd": js("(document.querySelector('#f-tw_recycle_nat_drops .cmd code')||{}).textContent"),
    "evidence_rows": js("document.querySelectorAll('#f-tw_recycle_nat_drops dl.ev dt').length"),
    "chart_points": npoints,
    "charts": js("Array.from(document.querySelectorAll('.chart')).map(e=>e.id)"),
    "pp_current": js("(document.querySelector('#chart-PAWSPassive .cur')||{}).textContent"),
    "drift_rows": js("Array.from(document.querySelectorAll('#sysctls tr.drift')).map(e=>e.dataset.key)"),
    "persisted_recycle": js("(document.querySelector('#sysctls tr[data-key=\"net.ipv4.tcp_tw_recycle\"] .where')||{}).textContent"),
    "conn": js("document.getElementById('conn').textContent"),
    "model": js("document.getElementById('model').textContent"),
    "title": js("document.title"),
}
shot("desktop")

# Dark mode, then a phone (390 px wide, as an iPhone 12-15).
call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "dark"}])
pump(0.5)
res["dark_bg"] = js("getComputedStyle(document.body).backgroundColor")
shot("dark")
call("Emulation.setEmulatedMedia", features=[{"name": "prefers-color-scheme", "value": "light"}])
call("Emulation.setDeviceMetricsOverride", width=390, height=844, deviceScaleFactor=2, mobile=True)
pump(1)
res["phone_overflow"] = js("document.documentElement.scrollWidth - document.documentElement.clientWidth")
shot("phone")

call("Emulation.clearDeviceMetricsOverride")

# The model area renders /advice's optional "model" object: add one to the
# next /advice responses and wait for a refresh to show it.
call("Fetch.enable", patterns=[{"urlPattern": "*/advice", "requestStage": "Response"}])
for _ in range(60 * SLOW):   # the page refreshes every 5 s
    pump(0.5)
    if js("!!document.getElementById('model-predicted')"):
        break
res["model_predicted"] = js("(document.getElementById('model-predicted')||{}).textContent")
res["model_rows"] = js("document.querySelectorAll('#model table.nat tbody tr').length")
res["model_first"] = js("(document.querySelector('#model table.nat tbody td')||{}).textContent")
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

check "rendered status is critical" test "$(get 'd["status"]')" = critical
check "status badge has the critical class" bash -c "[[ '$(get 'd["status_class"]')' == *critical* ]]"
t0=$(get 'd["titles"][0]')
check "finding title rendered ($t0)" bash -c "[[ '$t0' == 'tcp_tw_recycle is on'* ]]"
check "three findings rendered" test "$(get 'len(d["titles"])')" = 3
check "runtime command rendered" test "$(get 'd["runtime_cmd"]')" = "sysctl -w net.ipv4.tcp_tw_recycle=0"
check "evidence rendered as rows" test "$(get 'd["evidence_rows"]')" -ge 4
check "PAWSPassive chart has >= 4 points ($(get 'd["chart_points"]'))" test "$(get 'd["chart_points"]')" -ge 4
check "charts for PAWSPassive, PAWSTimewait, ListenDrops" \
	test "$(get '",".join(c for c in d["charts"] if c != "chart-TimeWaitSockets")')" = "chart-PAWSPassive,chart-PAWSTimewait,chart-ListenDrops"
check "PAWSPassive current rate is non-zero ($(get 'd["pp_current"]'))" bash -c "[[ '$(get 'd["pp_current"]')' =~ ^[1-9] ]]"
check "sysctl drift rows" test "$(get '",".join(sorted(d["drift_rows"]))')" = "net.core.somaxconn,net.ipv4.tcp_fin_timeout"
check "persisted location shown" test "$(get 'd["persisted_recycle"]')" = "/etc/sysctl.conf:13"
check "page says it is live" bash -c "[[ '$(get 'd["conn"]')' == live* ]]"
check "model placeholder shown" bash -c "[[ '$(get 'd["model"]')' == *'not running'* ]]"
check "dark mode changes the background ($(get 'd["dark_bg"]'))" test "$(get 'd["dark_bg"]')" = "rgb(15, 20, 26)"
check "no horizontal overflow on a phone ($(get 'd["phone_overflow"]') px)" test "$(get 'd["phone_overflow"]')" -le 0
check "model: predicted rejections shown" test "$(get 'd["model_predicted"]')" = 12.5
check "model: NAT sources table" test "$(get 'd["model_rows"]')" = 2
check "model: first source" test "$(get 'd["model_first"]')" = 198.51.100.7
check "no JS errors, console errors or CSP violations" test "$(get 'len(d["errors"])')" = 0
for s in desktop dark phone model; do
	check "screenshot $s saved" test -s "$BUILD/page-$s.png"
done

finish
