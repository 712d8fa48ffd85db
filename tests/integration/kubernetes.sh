#!/usr/bin/env bash
# deploy/kubernetes/: each manifest is read into Debian's python3-kubernetes
# models (V1Namespace, V1DaemonSet) and written back, and must come back
# field for field (a misspelt or misplaced field is dropped by the models,
# a missing required one refused); then the DaemonSet's settings are checked
# one by one (host network, / read-only at /host with --path.procfs and
# --path.rootfs, capabilities, root inside, read-only root file system,
# requests and limits, tolerations, /healthz probes, no service account
# token, scrape annotations, the security note), the --netns=all variant
# against the default, and every flag in args against `twaudit serve --help`.
# A copy with a misspelt field proves the walk catches it.
. "$(dirname "$0")/lib.sh"

$PY -c 'import kubernetes, yaml' 2>/dev/null ||
	skip "python3-kubernetes or python3-yaml missing for $PY (apt-get install python3-kubernetes; make test-deps)"
K="$SRC/deploy/kubernetes"
"$TWAUDIT" serve --help >"$TMP/help"

cat >"$TMP/k8s.py" <<'PYEOF'
import re, sys, yaml
from kubernetes.client import ApiClient

api = ApiClient()
MODELS = {("v1", "Namespace"): "V1Namespace", ("apps/v1", "DaemonSet"): "V1DaemonSet"}

def diff(a, b, path, out):
    """Every leaf of A must be in B with the same value, and the reverse."""
    if isinstance(a, dict) and isinstance(b, dict):
        for k in set(a) | set(b):
            if k not in b:
                out.append("%s.%s: not a field of the model (dropped)" % (path, k))
            elif k not in a:
                out.append("%s.%s: added by the model" % (path, k))
            else:
                diff(a[k], b[k], "%s.%s" % (path, k), out)
    elif isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            out.append("%s: %d items, model has %d" % (path, len(a), len(b)))
        for i, (x, y) in enumerate(zip(a, b)):
            diff(x, y, "%s[%d]" % (path, i), out)
    elif a != b or type(a) != type(b):
        out.append("%s: %r became %r" % (path, a, b))

def load(path):
    docs, errors = [], []
    for i, d in enumerate(yaml.safe_load_all(open(path))):
        if d is None:
            continue
        key = (d.get("apiVersion"), d.get("kind"))
        if key not in MODELS:
            errors.append("doc %d: unexpected %s" % (i, key))
            continue
        try:
            obj = api._ApiClient__deserialize(d, MODELS[key])
        except (ValueError, TypeError) as e:
            errors.append("doc %d (%s): %s" % (i, key[1], e))
            continue
        diff(d, api.sanitize_for_serialization(obj), key[1], errors)
        docs.append(d)
    return docs, errors

def daemonset(docs):
    ds = [d for d in docs if d["kind"] == "DaemonSet"]
    assert len(ds) == 1, "one DaemonSet"
    return ds[0]

def check_common(path, text, ds, helpflags):
    e = []
    def need(cond, what):
        if not cond:
            e.append("%s: %s" % (path, what))
    tpl = ds["spec"]["template"]
    spec = tpl["spec"]
    need(ds["spec"]["selector"]["matchLabels"].items() <= tpl["metadata"]["labels"].items(),
         "selector matches the pod labels")
    need(spec.get("hostNetwork") is True, "hostNetwork: true")
    need(spec.get("dnsPolicy") == "ClusterFirstWithHostNet", "dnsPolicy ClusterFirstWithHostNet with hostNetwork")
    need(spec.get("automountServiceAccountToken") is False, "automountServiceAccountToken: false")
    need({"operator": "Exists"} in spec.get("tolerations", []), "a toleration for every taint (operator: Exists)")
    ann = tpl["metadata"].get("annotations", {})
    need(ann.get("prometheus.io/scrape") == "true" and ann.get("prometheus.io/port") == "9477"
         and ann.get("prometheus.io/path") == "/metrics", "prometheus.io scrape annotations")
    need(len(spec["containers"]) == 1, "one container")
    c = spec["containers"][0]
    args = c.get("args", [])
    need(args[:1] == ["serve"], "args start with serve")
    need("--path.procfs=/host/proc" in args and "--path.rootfs=/host" in args, "--path.procfs=/host/proc --path.rootfs=/host")
    need("--web.listen-address=:9477" in args, "listens on :9477")
    for a in args[1:]:
        flag = a.split("=", 1)[0]
        need(flag in helpflags, "arg %s is a flag of twaudit serve --help" % flag)
    vols = {v["name"]: v for v in spec.get("volumes", [])}
    mounts = [m for m in c.get("volumeMounts", []) if m["mountPath"] == "/host"]
    need(len(mounts) == 1 and mounts[0].get("readOnly") is True, "/host mounted read-only")
    if mounts:
        v = vols.get(mounts[0]["name"], {})
        need(v.get("hostPath", {}).get("path") == "/", "/host is the host's /")
    need(all(m.get("readOnly") is True for m in c.get("volumeMounts", [])), "every mount read-only")
    sc = c.get("securityContext", {})
    need(sc.get("runAsUser") == 0 and sc.get("runAsNonRoot") is False, "root inside (twaudit drops to nobody itself)")
    need(sc.get("readOnlyRootFilesystem") is True, "readOnlyRootFilesystem")
    need(sc.get("allowPrivilegeEscalation") is False and sc.get("privileged") is False, "no privilege escalation, not privileged")
    need(sc.get("capabilities", {}).get("drop") == ["ALL"], "capabilities: drop ALL")
    need(sc.get("seccompProfile", {}).get("type") == "RuntimeDefault", "seccompProfile RuntimeDefault")
    res = c.get("resources", {})
    for k in ("requests", "limits"):
        need(set(res.get(k, {})) == {"cpu", "memory"}, "resources.%s cpu and memory" % k)
    for p in ("livenessProbe", "readinessProbe"):
        g = c.get(p, {}).get("httpGet", {})
        need(g.get("path") == "/healthz" and g.get("port") == 9477, "%s on /healthz:9477" % p)
    ports = c.get("ports", [])
    need(any(p.get("containerPort") == 9477 and p.get("hostPort") == 9477 for p in ports), "port 9477 = hostPort")
    need(re.search(r"hostNetwork publishes /metrics, /advice", text) is not None
         or "SECURITY NOTE" in text, "the security note about /advice on the node address")
    return e, set(sc.get("capabilities", {}).get("add", [])), args, spec

helpflags = set(re.findall(r"--[a-z][a-z0-9._-]*[a-z0-9]", open(sys.argv[3]).read()))
errors = []
texts = {p: open(p).read() for p in sys.argv[1:3]}
(d_docs, e1), (v_docs, e2) = load(sys.argv[1]), load(sys.argv[2])
errors += e1 + e2
if not errors:
    e, caps, args, spec = check_common(sys.argv[1], texts[sys.argv[1]], daemonset(d_docs), helpflags)
    errors += e
    if caps != {"NET_RAW", "NET_ADMIN", "SETUID", "SETGID", "SETPCAP"}:
        errors.append("default: capabilities %s (want NET_RAW NET_ADMIN and SETUID SETGID SETPCAP for the switch to nobody)" % sorted(caps))
    if spec.get("hostPID") or any(a.startswith("--netns") for a in args):
        errors.append("default: no hostPID, no --netns")
    if "--web.config.file" not in texts[sys.argv[1]] or "NetworkPolicy" not in texts[sys.argv[1]]:
        errors.append("default: the note names --web.config.file and NetworkPolicy")
    e, vcaps, vargs, vspec = check_common(sys.argv[2], texts[sys.argv[2]], daemonset(v_docs), helpflags)
    errors += e
    if vcaps != caps | {"SYS_ADMIN", "SYS_PTRACE"}:
        errors.append("variant: capabilities %s (want the default's plus SYS_ADMIN SYS_PTRACE)" % sorted(vcaps))
    if vspec.get("hostPID") is not True or "--netns=all" not in vargs:
        errors.append("variant: hostPID true and --netns=all")
    if [a for a in vargs if a != "--netns=all"] != args:
        errors.append("variant: same args as the default plus --netns=all")
for e in errors:
    print(e, file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF

check "manifests round-trip through the kubernetes models and hold every setting" \
	$PY "$TMP/k8s.py" "$K/daemonset.yaml" "$K/daemonset-netns-all.yaml" "$TMP/help"
# Negative controls: the walk must catch a misspelt field, a wrong type and
# a removed setting.
sed 's/readOnlyRootFilesystem: true/readOnlyRootFileSystem: true/' "$K/daemonset.yaml" >"$TMP/typo.yaml"
check "a misspelt field (readOnlyRootFileSystem) is caught" sh -c "! $PY '$TMP/k8s.py' '$TMP/typo.yaml' '$K/daemonset-netns-all.yaml' '$TMP/help' 2>'$TMP/typo.err'"
check "  and named" grep -q 'readOnlyRootFileSystem: not a field' "$TMP/typo.err"
sed 's/      tolerations:/      toleration:/' "$K/daemonset.yaml" >"$TMP/tol.yaml"
check "a misplaced field (toleration) is caught" sh -c "! $PY '$TMP/k8s.py' '$TMP/tol.yaml' '$K/daemonset-netns-all.yaml' '$TMP/help' 2>/dev/null"
sed 's/            - --path.rootfs=\/host/            - --path.rootfs=\/host\n            - --no-such.flag/' "$K/daemonset.yaml" >"$TMP/flag.yaml"
check "an arg twaudit does not have is caught" sh -c "! $PY '$TMP/k8s.py' '$TMP/flag.yaml' '$K/daemonset-netns-all.yaml' '$TMP/help' 2>/dev/null"
sed '/- SETPCAP/a\                - SYS_ADMIN' "$K/daemonset.yaml" >"$TMP/caps.yaml"
check "an extra capability in the default is caught" sh -c "! $PY '$TMP/k8s.py' '$TMP/caps.yaml' '$K/daemonset-netns-all.yaml' '$TMP/help' 2>/dev/null"

# The DaemonSet's args against a real serve: /host is this host's / bound
# read-only in a private mount namespace, as the volume is in the pod.
port=$(free_port)
mkdir -p "$TMP/host"
args=$($PY -c 'import sys,yaml; d=[x for x in yaml.safe_load_all(open(sys.argv[1])) if x and x["kind"]=="DaemonSet"][0]; print("\n".join(d["spec"]["template"]["spec"]["containers"][0]["args"]))' "$K/daemonset.yaml" |
	sed "s|^--web.listen-address=:9477\$|--web.listen-address=127.0.0.1:$port|; s|/host|$TMP/host|g")
if command -v unshare >/dev/null; then
	mapfile -t argv <<<"$args"
	log="$TMP/serve-k8s.log"
	unshare -m sh -c 'mount --make-rprivate / && mount --rbind / "$1" && mount -o remount,bind,ro "$1" && shift && exec "$@"' \
		_ "$TMP/host" "$TWAUDIT" "${argv[@]}" --security.user= --no-sampler.enabled 2>"$log" &
	SERVE_PID=$!; PIDS+=("$SERVE_PID")
	check "serve with the DaemonSet's args over / at a read-only /host" wait_serve "$port" "$SERVE_PID" "$log"
	curl -fsS -m 5 -o "$TMP/k8s-metrics" "http://127.0.0.1:$port/metrics"
	check "  audits the host: sysctls read through /host/proc" grep -q '^twaudit_sysctl{name="net.ipv4.tcp_timestamps"' "$TMP/k8s-metrics"
	check "  /healthz (the probes' path) answers ok" sh -c "curl -fsS -m 5 'http://127.0.0.1:$port/healthz' | grep -qx ok"
	stop_serve
else
	echo "ok - # SKIP unshare missing: the args are checked against --help only"
fi
finish
