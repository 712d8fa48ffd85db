#!/bin/bash
# sock_diag benchmark (issue 5): count 100 000 TIME-WAIT sockets with
# twaudit's sock_diag collector (BUILD/tests/netlink_probe: one
# sock_diag_collect(), every state of IPv4 and IPv6, TIME-WAIT per local
# port and per remote address, plus one tcp_metrics dump) and with
# `ss -tan state time-wait | wc -l`, alternately, several runs each.
#
#   bash bench/sock_diag.sh [BUILD] [SOCKETS] [RUNS]
#       (defaults: build 100000 7)
#
# Makes its own network namespace (deleted on exit): a local server that
# closes first on 127.0.0.1:8000-8001, clients bound to fixed ports on
# 127.0.0.2-127.0.0.3 (one unique 4-tuple per connection, so no SYN meets
# an earlier TIME-WAIT), tcp_max_tw_buckets raised. TIME-WAITs live 60 s:
# the timed runs start as soon as the sockets exist and the script checks
# the count did not move during them. Root only. Prints the load (uptime)
# with the figures; docs/performance.md, "sock_diag".
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-100000}
RUNS=${3:-7}
PROBE=$BUILD/tests/netlink_probe
NS=twb-sd-$$
[ -x "$PROBE" ] || { echo "no $PROBE: ninja -C $BUILD tests/netlink_probe" >&2; exit 1; }
trap 'ip netns del "$NS" 2>/dev/null || true' EXIT
trap 'exit 1' INT TERM HUP
ip netns add "$NS"
x() { ip netns exec "$NS" "$@"; }
x ip link set lo up
x sysctl -qw net.ipv4.tcp_max_tw_buckets=$((N + 50000)) \
	net.ipv4.ip_local_port_range="1024 65535" net.core.somaxconn=4096

load() { uptime | sed 's/.*load average: /load /'; }

# Two processes (one per core), each with its own server port and client
# address; the server side closes first, then the client reads EOF and
# closes: the server's socket goes to TIME-WAIT.
t0=$(date +%s.%N)
for k in 0 1; do
	x python3 - "$k" "$N" <<'PYEOF' &
import socket, sys
k, n = int(sys.argv[1]), int(sys.argv[2])
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("127.0.0.1", 8000 + k)); ls.listen(4096)
src = "127.0.0.%d" % (2 + k)
for i in range(n // 2 + (k and n % 2)):
    c = socket.socket()
    c.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    c.bind((src, 1024 + i))
    c.connect(("127.0.0.1", 8000 + k))
    s, _ = ls.accept()
    s.close()
    assert c.recv(1) == b""
    c.close()
PYEOF
done
wait
t1=$(date +%s.%N)
tw() { x ss -tan state time-wait | tail -n +2 | wc -l; }
before=$(tw)
echo "made $before TIME-WAIT sockets in $(python3 -c "print('%.1f' % ($t1 - $t0))") s  [$(load)]"

# ms CMD...: wall-clock milliseconds of CMD run inside the namespace
ms() {
	local a b
	a=$(date +%s%N)
	x "$@" >/dev/null
	b=$(date +%s%N)
	echo $(( (b - a) / 1000 ))
}
probe_out=$(x "$PROBE" --max-entries=1000000)
probe_tw=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1])["sock_diag"]; print(d["states"]["time_wait"], d["state"], d["truncated"])' "$probe_out")
echo "netlink_probe: time_wait, state, truncated = $probe_tw"

P=(); S=()
for r in $(seq 1 "$RUNS"); do
	P+=("$(ms "$PROBE" --max-entries=1000000)")
	S+=("$(ms sh -c 'ss -tan state time-wait | wc -l')")
done
after=$(tw)
echo "TIME-WAIT count before/after the runs: $before/$after  [$(load)]"
python3 - "${P[*]}" "${S[*]}" <<'PYEOF'
import statistics, sys
p = [int(v) / 1000 for v in sys.argv[1].split()]
s = [int(v) / 1000 for v in sys.argv[2].split()]
f = lambda v: " ".join("%.1f" % x for x in v)
print("twaudit sock_diag (netlink_probe) ms: %s  median %.1f  min %.1f" % (f(p), statistics.median(p), min(p)))
print("ss -tan state time-wait | wc -l  ms: %s  median %.1f  min %.1f" % (f(s), statistics.median(s), min(s)))
print("speed-up (ss / twaudit): median %.2fx, min %.2fx (target >= 2x)" % (
    statistics.median(s) / statistics.median(p), min(s) / min(p)))
PYEOF
