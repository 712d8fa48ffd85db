#!/usr/bin/env bash
# Untrusted paths that could block, and what the audited tree can put in
# front of a terminal: a FIFO as a --netns target (check), a FIFO as a
# process's ns/net under --netns=all (serve keeps answering and stops on
# SIGTERM), FIFOs where /proc and sysctl.d files should be, the collection
# budget (--collect.timeout), staleness (twaudit_snapshot_age_seconds,
# twaudit_collector_last_success_timestamp_seconds, source_stale), escaped
# host name and kernel release in check --format=text, check --output at a
# symlink, and report with no host at risk (qsort of an empty array: only
# an UBSan build sees it; the normal build checks the output).
# Every command is bounded by `timeout` or `curl -m`, so a hang fails.
. "$(dirname "$0")/lib.sh"

# serve may ignore SIGTERM when broken: never let cleanup's kill+wait hang.
fifo_cleanup() {
	[ -n "${SERVE_PID:-}" ] && kill -9 "$SERVE_PID" 2>/dev/null
	cleanup
}
trap fifo_cleanup EXIT
SERVE_PID=

# check_runs SECONDS OUT ERR ARGS...: twaudit check under a deadline; the
# exit status in RC (124: it hung).
check_runs() {
	local t=$1 out=$2 err=$3; shift 3
	timeout -s KILL "$((t * SLOW))" "$TWAUDIT" check "$@" >"$out" 2>"$err"
	RC=$?
}
has() { grep -qF -- "$2" "$1"; }

# 1. check --netns=FIFO: a clear error, exit 3, at once.
mkfifo "$TMP/f"
t0=$(now_us)
check_runs 20 "$TMP/c1.json" "$TMP/c1.err" --netns="$TMP/f" --format=json \
	--no-collector.sock_diag --no-collector.tcp_metrics
t1=$(now_us)
check "check --netns=FIFO: exit 3 (got $RC)" test "$RC" -eq 3
check "check --netns=FIFO: within 5 s ($(( (t1 - t0) / 1000 )) ms)" \
	test $((t1 - t0)) -lt $((5000000 * SLOW))
check "check --netns=FIFO: the namespace says it is a FIFO" \
	test "$(jget "$TMP/c1.json" "[(n['audited'], n['error']) for n in d['namespaces']]" 2>/dev/null)" = \
	"[[false, \"$TMP/f is not a network namespace: it is a FIFO\"]]"
# A regular file is no namespace either (and never reaches setns).
: >"$TMP/regular"
check_runs 20 "$TMP/c2.json" "$TMP/c2.err" --netns="$TMP/regular" --format=json \
	--no-collector.sock_diag --no-collector.tcp_metrics
check "check --netns=regular file: exit 3, not a network namespace" \
	eval "[ $RC -eq 3 ] && grep -q 'is not a network namespace' '$TMP/c2.json'"

# 2. FIFOs where /proc files and sysctl.d files are (one with a writer
#    holding it open, which makes a non-blocking read say EAGAIN).
P="$TMP/proc"; R="$TMP/root"
cp -a "$FIXTURES/linux-6.18" "$P"
mkdir -p "$R/etc/sysctl.d"
rm "$P/net/snmp"; mkfifo "$P/net/snmp"
rm "$P/net/netstat"; mkfifo "$P/net/netstat"
sleep 300 >"$P/net/netstat" & WRITER=$!
PIDS+=("$WRITER")
mkfifo "$R/etc/sysctl.d/50-fifo.conf"
check_runs 20 "$TMP/c3.json" "$TMP/c3.err" --path.procfs="$P" --path.rootfs="$R" \
	--format=json --no-collector.sock_diag --no-collector.tcp_metrics
check "FIFO /proc files: check exits 3 (got $RC)" test "$RC" -eq 3
check "FIFO net/snmp: failed, not a regular file" \
	test "$(jget "$TMP/c3.json" "d['sources']['snmp']['error']")" = \
	"net/snmp: not a regular file (a FIFO, socket or device)"
check "FIFO net/netstat with a writer: failed, not a regular file" \
	test "$(jget "$TMP/c3.json" "d['sources']['netstat']['error']")" = \
	"net/netstat: not a regular file (a FIFO, socket or device)"
kill "$WRITER" 2>/dev/null
rm -f "$P/net/snmp" "$P/net/netstat"
cp "$FIXTURES/linux-6.18/net/snmp" "$FIXTURES/linux-6.18/net/netstat" "$P/net/"
rm "$R/etc/sysctl.d/50-fifo.conf"

# A FIFO as the --policy file: refused at once (exit 3), not read.
check_runs 20 /dev/null "$TMP/pol.err" --policy="$TMP/f" --no-collector.sock_diag --no-collector.tcp_metrics
check "check --policy=FIFO: exit 3 at once (got $RC)" test "$RC" -eq 3

# 3. The budget: sources not reached fail with "deadline exceeded".
# (sock_diag and tcp_metrics named: in a tree that is not this host's they
# would be not_applicable, never reached for the budget to fail them.)
check_runs 20 "$TMP/c4.json" "$TMP/c4.err" --path.procfs="$P" --path.rootfs="$R" \
	--format=json --collect.timeout=0.000001s --netns="$TMP/f" \
	--collector.sock_diag --collector.tcp_metrics
check "--collect.timeout=1us: exit 3 (got $RC)" test "$RC" -eq 3
check "--collect.timeout=1us: every source fails with deadline exceeded" \
	test "$(jget "$TMP/c4.json" "sorted(set(v['state'] + ':' + v.get('error', '')[:17] for k, v in d['sources'].items() if k != 'sampler'))")" = \
	'["failed:deadline exceeded"]'
check "--collect.timeout=1us: the namespace is not reached" \
	test "$(jget "$TMP/c4.json" "d['namespaces'][0]['error'][:17]")" = "deadline exceeded"
check_runs 20 /dev/null "$TMP/c5.err" --collect.timeout=0s
check "--collect.timeout=0s refused (exit 3)" test "$RC" -eq 3

# 4. serve --netns=all over a tree where a process's ns/net is a FIFO.
mkdir -p "$P/4242/ns"; mkfifo "$P/4242/ns/net"
port=$(free_port)
base="http://127.0.0.1:$port"
if start_serve "$port" --path.procfs="$P" --path.rootfs="$R" --netns=all \
	--collect.min-interval=0s --no-collector.sock_diag --no-collector.tcp_metrics; then
	ok "serve --netns=all with a FIFO ns/net starts"
	bad=0
	for i in $(seq 1 10); do
		for u in /metrics /advice /healthz; do
			code=$(curl -s -m 10 -o "$TMP/body" -w '%{http_code}' "$base$u")
			[ "$code" = 200 ] || { bad=$((bad + 1)); echo "  $u: $code" >&2; }
		done
		[ "$bad" -eq 0 ] || break	# a hang costs 10 s a request
	done
	check "30 scrapes of /metrics, /advice, /healthz: all 200 within 10 s ($bad not)" test "$bad" -eq 0
	curl -s -m 10 "$base/advice" >"$TMP/s.json"
	check "serve: the FIFO namespace is reported, not audited, says FIFO" \
		test "$(jget "$TMP/s.json" "[n['error'] for n in d['namespaces'] if n['netns'].startswith('pid:4242')]" 2>/dev/null)" = \
		"[\"$P/4242/ns/net is not a network namespace: it is a FIFO\"]"
	curl -s -m 10 "$base/metrics" >"$TMP/s.prom"
	check "serve: twaudit_snapshot_age_seconds" \
		grep -qE '^twaudit_snapshot_age_seconds [0-9.]+$' "$TMP/s.prom"
	now=$(date +%s)
	last=$(sed -n 's/^twaudit_collector_last_success_timestamp_seconds{collector="netstat"} //p' "$TMP/s.prom")
	check "serve: netstat last success within the last minute ($last, now $now)" \
		$PY -c "import sys; sys.exit(0 if abs(float('$last') - $now) < 60 else 1)"
	check "serve: never-successful source has last success 0" \
		grep -qx 'twaudit_collector_last_success_timestamp_seconds{collector="sock_diag"} 0.000' "$TMP/s.prom"
	if command -v promtool >/dev/null; then
		check "serve: exposition is valid (promtool)" \
			sh -c "[ -s '$TMP/s.prom' ] && promtool check metrics <'$TMP/s.prom' >/dev/null 2>&1"
	else
		echo "promtool missing: exposition not checked with it"
	fi

	# 5. Staleness: netstat becomes a FIFO; after three ticks (15 s) of
	#    failing, /advice says source_stale and the timestamp stays.
	rm "$P/net/netstat"; mkfifo "$P/net/netstat"
	stale() { curl -s -m 10 "$base/advice" >"$TMP/st.json" && \
		grep -q '"source_stale"' "$TMP/st.json"; }
	check "netstat a FIFO: source_stale in /advice within 40 s" wait_until 40 stale
	check "source_stale evidence names netstat and the error" \
		test "$(jget "$TMP/st.json" "[(f['evidence']['source'], f['evidence']['error'], f['evidence']['age_seconds'] > 15) for f in d['findings'] if f['id'] == 'source_stale']")" = \
		'[["netstat", "net/netstat: not a regular file (a FIFO, socket or device)", true]]'
	check "/advice with source_stale validates" validate_json "$SCHEMAS/advice.schema.json" "$TMP/st.json"
	curl -s -m 10 "$base/metrics" >"$TMP/s2.prom"
	last2=$(sed -n 's/^twaudit_collector_last_success_timestamp_seconds{collector="netstat"} //p' "$TMP/s2.prom")
	now=$(date +%s.%N)	# not truncated: source_stale fires just past 15 s
	# A tick may have read the file once more before it became a FIFO.
	check "netstat last success stays put while failing ($last2: over 15 s ago, not before $last)" \
		$PY -c "import sys; sys.exit(0 if $last <= float('${last2:-0}') < $now - 15 else 1)"
	rm "$P/net/netstat"; cp "$FIXTURES/linux-6.18/net/netstat" "$P/net/"

	# SIGTERM stops it, promptly.
	kill -TERM "$SERVE_PID"
	gone() { ! kill -0 "$SERVE_PID" 2>/dev/null; }
	check "serve stops on SIGTERM within 10 s" wait_until 10 gone
	gone || kill -9 "$SERVE_PID"
	wait "$SERVE_PID" 2>/dev/null; rc=$?
	check "serve exits 0 on SIGTERM (got $rc)" test "$rc" -eq 0
	SERVE_PID=
else
	fail "serve --netns=all with a FIFO ns/net starts"
fi

# 6. Host name and kernel release from the tree reach a terminal escaped.
E="$TMP/evil"; cp -a "$FIXTURES/linux-6.18" "$E"
printf 'web\033]0;owned\007\033[2J\177\xff01\n' >"$E/sys/kernel/hostname"
printf '6.18.0\033[31m-red\n' >"$E/sys/kernel/osrelease"
check_runs 20 "$TMP/t.txt" "$TMP/t.err" --path.procfs="$E" --path.rootfs="$R" \
	--no-collector.sock_diag --no-collector.tcp_metrics
check "text output: no control byte at all (ESC, BEL, DEL)" \
	eval "! LC_ALL=C grep -q \$'[\\x01-\\x08\\x0b-\\x1f\\x7f]' '$TMP/t.txt'"
check "text output: host name escaped as \\xNN" \
	grep -qF 'host=web\x1b]0;owned\x07\x1b[2J\x7f\xff01 kernel=6.18.0\x1b[31m-red' "$TMP/t.txt"

# 7. check --output at a symlink: the link is replaced by the file (as
#    atomic writers do), its old target is left alone; --help says so.
echo "old target" >"$TMP/target"
ln -s "$TMP/target" "$TMP/out.prom"
check_runs 20 /dev/null "$TMP/o.err" --path.procfs="$P" --path.rootfs="$R" \
	--format=prom --output="$TMP/out.prom" --no-collector.sock_diag --no-collector.tcp_metrics
check "--output at a symlink: written (exit $RC)" test "$RC" -ne 124
check "--output at a symlink: now a regular file with the metrics" \
	eval "[ -f '$TMP/out.prom' ] && [ ! -L '$TMP/out.prom' ] && grep -q '^twaudit_audit_status ' '$TMP/out.prom'"
check "--output at a symlink: the old target is untouched" test "$(cat "$TMP/target")" = "old target"
"$TWAUDIT" check --help >"$TMP/help.txt" 2>&1
check "check --help says a symlink at --output is replaced" grep -q 'symlink' "$TMP/help.txt"

# 8. report with no host at risk (f.risk stays NULL).
check_runs 20 "$TMP/clean.json" /dev/null --path.procfs="$P" --path.rootfs="$R" \
	--format=json --no-collector.sock_diag --no-collector.tcp_metrics
check "the clean document's status is ok" test "$(jget "$TMP/clean.json" "d['status']")" = ok
timeout -s KILL 20 "$TWAUDIT" report --format=json "$TMP/clean.json" >"$TMP/r.json" 2>"$TMP/r.err"; rc=$?
check "report, no host at risk: exit 0 (got $rc)" test "$rc" -eq 0
check "report, no host at risk: no sanitizer report" eval "! grep -q 'runtime error' '$TMP/r.err'"
check "report, no host at risk: hosts_at_risk 0" test "$(jget "$TMP/r.json" "d['hosts_at_risk']")" = 0
check "report, no host at risk: validates" validate_json "$SCHEMAS/report.schema.json" "$TMP/r.json"
finish
