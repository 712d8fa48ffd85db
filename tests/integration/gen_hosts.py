#!/usr/bin/python3
"""Generate N host check documents for `twaudit report` tests and benches.

gen_hosts.py N OUT [--jsonl] [--seed S]: OUT is a directory (one file per
host) or, with --jsonl, a file of one compact document per line. Prints the
expected tallies as JSON on stdout (status, kernels, findings, at_risk, top).
Documents look like `twaudit check --format=json` output: sources with
their keys, findings with evidence and remediation, sometimes a model and
namespaces.
"""
import json, os, random, sys

def main():
    n = int(sys.argv[1]); out = sys.argv[2]
    jsonl = "--jsonl" in sys.argv
    seed = int(sys.argv[sys.argv.index("--seed") + 1]) if "--seed" in sys.argv else 1
    rnd = random.Random(seed)
    kernels = ["3.10.0-1160.el7.x86_64", "4.9.0-19-amd64", "5.10.0-28-amd64", "6.1.0-18-amd64", "6.18.4"]
    catalog = {"tw_recycle_nat_drops": "critical", "tw_recycle_persisted": "warning",
               "sysctl_drift": "warning", "timestamps_disabled": "info",
               "timewait_paws_rejects": "warning", "policy_violation": "warning",
               "source_failed": "unknown"}
    keys = {k: {"state": "present", "value": 1, "persisted": None} for k in
            ["net.ipv4.tcp_timestamps", "net.ipv4.tcp_tw_reuse", "net.ipv4.tcp_rfc1337",
             "net.ipv4.tcp_fin_timeout", "net.ipv4.tcp_syncookies", "net.core.somaxconn"]}
    sources = {"sysctl": {"state": "ok", "error": None, "keys": keys},
               "netstat": {"state": "ok", "error": None}, "snmp": {"state": "ok", "error": None},
               "sockstat": {"state": "ok", "error": None}, "persist": {"state": "ok", "error": None}}
    exp = {"status": {"ok": 0, "warning": 0, "critical": 0, "unknown": 0},
           "kernels": {}, "findings": {}, "at_risk": 0, "namespaces": 0, "top": None}
    rank = {"ok": 0, "unknown": 1, "warning": 2, "critical": 3}
    best = None
    if jsonl:
        f = open(out, "w")
    else:
        os.makedirs(out, exist_ok=True)
    for i in range(n):
        k = kernels[i % len(kernels)]
        ids = rnd.sample(sorted(catalog), rnd.choice([0, 0, 0, 1, 1, 2, 3]))
        findings = [{"id": x, "severity": catalog[x], "title": x.replace("_", " "),
                     "explanation": "generated host %d: %s" % (i, x),
                     "evidence": {"sysctl": {"net.ipv4.tcp_timestamps": {"state": "present", "value": 1}}},
                     "remediation": {"runtime": ["sysctl -w x=0"], "persist": [], "caveats": []}}
                    for x in ids]
        st = "ok"
        for x in ids:
            s = catalog[x]
            if s == "info":
                continue
            if rank[s] > rank[st]:
                st = s
        doc = {"host": "host-%05d" % i, "kernel_release": k,
               "generated_at": "2026-01-01T00:00:00.000Z", "status": st,
               "findings": findings, "sources": sources}
        pred = None
        if i % 7 == 3:
            pred = round(rnd.uniform(0, 50), 3)
            doc["model"] = {"predicted_rejections_per_min": pred, "sampling_ratio": 1, "nat_sources": []}
        if i % 11 == 5:
            nsid = "timestamps_disabled"
            doc["namespaces"] = [{"netns": "web", "sources": {}, "findings": [
                dict(findings[0], id=nsid, severity="info") if findings else
                {"id": nsid, "severity": "info", "title": "t", "explanation": "e",
                 "evidence": {}, "remediation": {"runtime": [], "persist": [], "caveats": []}}]}]
            exp["namespaces"] += 1
            if nsid not in ids:
                ids = ids + [nsid]
        exp["status"][st] += 1
        exp["kernels"][k] = exp["kernels"].get(k, 0) + 1
        for x in set(ids):
            exp["findings"][x] = exp["findings"].get(x, 0) + 1
        if st != "ok" or (pred or 0) > 0:
            exp["at_risk"] += 1
            if pred is not None and (best is None or pred > best[0] or (pred == best[0] and doc["host"] < best[1])):
                best = (pred, doc["host"])
        if jsonl:
            f.write(json.dumps(doc, separators=(",", ":")) + "\n")
        else:
            with open(os.path.join(out, "host-%05d.json" % i), "w") as h:
                json.dump(doc, h, indent=2)
    if jsonl:
        f.close()
    exp["top"] = best[1] if best else None
    print(json.dumps(exp))

main()
