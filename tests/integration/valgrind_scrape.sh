#!/usr/bin/env bash
# `twaudit serve` under valgrind memcheck: SCRAPES scrapes of every endpoint
# (1 000 in make test, `--scrapes=100000` from make bench), on a fixture and
# on the real /proc, then SIGTERM; 0 errors and 0 definitely or indirectly
# lost bytes. Seccomp is off (valgrind runs its own syscalls), the sampler
# too on the fixture. No suppressions are needed (docs/reliability.md).
#   bash valgrind_scrape.sh [--scrapes=N]
. "$(dirname "$0")/lib.sh"

SCRAPES=${VALGRIND_SCRAPES:-1000}
for a in "$@"; do case $a in --scrapes=*) SCRAPES=${a#--scrapes=};; esac; done
command -v valgrind >/dev/null || { echo "ok - # SKIP valgrind not installed"; exit 0; }
if sanitized; then   # lib.sh
	echo "ok - # SKIP sanitizer build (valgrind cannot run it)"; exit 0
fi

run() { # run NAME PROCFS EXTRA-ARGS...
	local name=$1 procfs=$2; shift 2
	local port log=$TMP/vg-$1.log
	port=$(free_port)
	log="$TMP/vg-$name.log"
	valgrind --tool=memcheck --leak-check=full --show-leak-kinds=definite,indirect \
		--errors-for-leak-kinds=definite,indirect --error-exitcode=99 \
		--track-fds=no --log-file="$log" \
		"$TWAUDIT" serve --web.listen-address=127.0.0.1:$port --security.seccomp=false --security.user= \
		--path.procfs="$procfs" --path.rootfs="$TMP" "$@" 2>"$TMP/vg-$name.err" &
	local pid=$! t0
	PIDS+=($pid)
	# Start-up under valgrind on a slow, busy machine: up to 120 s.
	WAIT_SERVE_SECONDS=120 wait_serve "$port" "$pid" "$TMP/vg-$name.err" --security.seccomp=false ||
		{ fail "$name: serve starts under valgrind"; cat "$log" >&2; kill $pid 2>/dev/null; wait $pid; return; }
	t0=$(date +%s)
	# One curl process per round trip of every endpoint, keep-alive inside.
	$PY - "$port" "$SCRAPES" <<'PYEOF' > "$TMP/vg-$name.codes"
import http.client, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
eps = [("/metrics", {}),
       ("/metrics", {"Accept": "application/openmetrics-text; version=1.0.0"}),
       ("/metrics", {"Accept-Encoding": "gzip"}),
       ("/metrics", {"Accept": "application/openmetrics-text; version=1.0.0", "Accept-Encoding": "gzip"}),
       ("/advice", {}), ("/advice", {"Accept-Encoding": "gzip"}), ("/healthz", {}), ("/", {}),
       ("/api/history", {}), ("/nope", {})]
codes = {}
c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
for i in range(n):
    for path, h in eps:
        try:
            c.request("GET", path, headers=h); r = c.getresponse(); r.read()
            codes[r.status] = codes.get(r.status, 0) + 1
        except Exception as e:
            codes[str(type(e).__name__)] = codes.get(str(type(e).__name__), 0) + 1
            c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if i % 50 == 49:  # new connections now and then
        c.close(); c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
print(" ".join("%s:%d" % kv for kv in sorted(codes.items(), key=str)))
PYEOF
	local secs=$(( $(date +%s) - t0 ))
	kill -TERM $pid; wait $pid; local rc=$?
	echo "# $name: $SCRAPES x 10 requests in ${secs}s: $(cat "$TMP/vg-$name.codes")"
	grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|in use at exit|All heap" "$log" | sed 's/^==[0-9]*== */# /'
	check "$name: every request answered 200 (404 for /nope)" \
		test "$(cat "$TMP/vg-$name.codes")" = "200:$((SCRAPES * 9)) 404:$SCRAPES"
	check "$name: valgrind exit 0 (rc=$rc; 99 = errors or leaks)" test "$rc" -eq 0
	check "$name: 0 errors" grep -q 'ERROR SUMMARY: 0 errors' "$log"
	check "$name: 0 bytes definitely lost" bash -c "! grep -E 'definitely lost: [1-9]' '$log'"
	check "$name: 0 bytes indirectly lost" bash -c "! grep -E 'indirectly lost: [1-9]' '$log'"
	[ $rc -eq 0 ] || sed -n '1,80p' "$log" >&2
}

run fixture "$FIXTURES/linux-6.18" --no-sampler.enabled
run real-proc /proc --sampler.enabled=true
finish
