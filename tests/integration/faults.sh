#!/usr/bin/env bash
# Faults under a running `serve`: /proc files that vanish, shrink,
# grow or cannot be read, a swapped procfs directory; SIGHUP; SIGTERM timing
# and threads; `check --output` on a full disk; `check` on a vanished procfs.
. "$(dirname "$0")/lib.sh"

P="$TMP/proc"; R="$TMP/root"; mkdir -p "$R"
# The disk-full case mounts a tmpfs on $R: never leave it behind.
trap 'umount "$R" 2>/dev/null; cleanup' EXIT
cp -a "$FIXTURES/linux-6.18" "$P"
port=$(free_port)
# min-interval 0: every scrape reads the files again.
start_serve "$port" --path.procfs="$P" --path.rootfs="$R" --collect.min-interval=0s --security.seccomp=true
base="http://127.0.0.1:$port"
succ() { curl -fsS "$base/metrics" | sed -n "s/^twaudit_collector_success{collector=\"$1\"} //p"; }
advice_has() { local a; a=$(curl -fsS "$base/advice") && grep -qF -- "$1" <<<"$a"; }

check "baseline: netstat collector succeeds" test "$(succ netstat)" = 1

# Vanish.
mv "$P/net/netstat" "$P/net/netstat.away"
check "netstat vanished: success 0" test "$(succ netstat)" = 0
check "netstat vanished: /advice names the error" advice_has 'net/netstat: No such file or directory'
mv "$P/net/netstat.away" "$P/net/netstat"
check "netstat back: success 1" test "$(succ netstat)" = 1

# Shrink: truncated mid-line (header line without its value line).
cp "$P/net/netstat" "$TMP/netstat.orig"
head -c 200 "$TMP/netstat.orig" > "$P/net/netstat"
check "netstat truncated: success 0" test "$(succ netstat)" = 0
: > "$P/net/netstat"
check "netstat empty: success 0" test "$(succ netstat)" = 0
check "netstat empty: /advice says so" advice_has 'net/netstat: empty file'
# Grow: far beyond the read limit.
{ cat "$TMP/netstat.orig"; head -c 3000000 /dev/zero | tr '\0' 'x'; } > "$P/net/netstat"
check "netstat grown to 3 MB: success 0, serve answers" test "$(succ netstat)" = 0
cp "$TMP/netstat.orig" "$P/net/netstat"
check "netstat restored: success 1" test "$(succ netstat)" = 1

# Errors: a directory where a file was (EISDIR), a file where a directory
# was (ENOTDIR). Unreadable files (EACCES) need a reader without root's
# DAC override: see the serve as nobody further down.
mv "$P/net/snmp" "$TMP/snmp.orig"; mkdir "$P/net/snmp"
check "snmp is a directory (EISDIR): success 0" test "$(succ snmp)" = 0
check "snmp EISDIR: /advice names the error" advice_has 'net/snmp: Is a directory'
rmdir "$P/net/snmp"; mv "$TMP/snmp.orig" "$P/net/snmp"
check "snmp back: success 1" test "$(succ snmp)" = 1
mv "$P/net" "$TMP/net.orig"; touch "$P/net"
check "net/ is a file (ENOTDIR): sockstat success 0" test "$(succ sockstat)" = 0
rm "$P/net"; mv "$TMP/net.orig" "$P/net"
check "net/ back: sockstat success 1" test "$(succ sockstat)" = 1

# Swap the whole procfs directory for another kernel's, and away entirely.
mv "$P" "$TMP/proc.618"; cp -a "$FIXTURES/linux-4.4" "$P"
check "procfs swapped to 4.4: build_info follows" bash -c "curl -fsS '$base/metrics' | grep -q 'kernel_release=\"$(cat "$P/sys/kernel/osrelease")\"'"
mv "$P" "$TMP/proc.44"
check "procfs gone: serve answers /metrics" curl -fsS -o /dev/null "$base/metrics"
check "procfs gone: sysctl, netstat, snmp, sockstat fail" test "$(succ sysctl)$(succ netstat)$(succ snmp)$(succ sockstat)" = 0000
mv "$TMP/proc.618" "$P"
check "procfs back: netstat success 1" test "$(succ netstat)" = 1

# SIGHUP: logged, still serving (hup_serve waits for the log line).
check "SIGHUP: logged" hup_serve "$TMP/serve-$port.log"
check "SIGHUP: serve alive" kill -0 "$SERVE_PID"
check "SIGHUP: still serving" curl -fsS -o /dev/null "$base/healthz"

# Threads of both processes: count stays stable across scrapes (no thread
# per request leak).
tasks() { ls /proc/"$SERVE_PID"/task /proc/"$(web_pid)"/task | grep -c '^[0-9]'; }
n1=$(tasks)
for _ in $(seq 50); do curl -fsS -o /dev/null "$base/metrics"; done
n2=$(tasks)
echo "# threads: $n1 before, $n2 after 50 scrapes"
check "thread count stable ($n1 -> $n2)" test "$n1" -eq "$n2"

# SIGTERM within 1 s, all threads gone, exit 0; no zombie left behind.
pid=$SERVE_PID
start=$(date +%s%N)
kill -TERM "$pid"; wait "$pid"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# SIGTERM to exit: $ms ms"
check "SIGTERM: exit 0 (rc=$rc)" test "$rc" -eq 0
# (x SLOW: under ASan both processes scan for leaks as they exit)
check "SIGTERM: stopped within $SLOW s ($ms ms)" test "$ms" -lt $((1000 * SLOW))
check "SIGTERM: no task left" test ! -e /proc/"$pid"
# With a scrape in flight and the sampler running.
port=$(free_port)
start_serve "$port" --path.procfs=/proc --sampler.enabled=true
pid=$SERVE_PID
( for _ in $(seq 200); do curl -s -o /dev/null "http://127.0.0.1:$port/metrics"; done ) &
sleep 0.5
start=$(date +%s%N)
kill -TERM "$pid"; wait "$pid"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
wait
echo "# SIGTERM during scrapes with the sampler: $ms ms"
check "SIGTERM under load with the sampler: exit 0 within $SLOW s (rc=$rc, $ms ms)" test "$rc" -eq 0 -a "$ms" -lt $((1000 * SLOW))

# EACCES: serve as nobody (what root switches to by default; start_serve
# keeps the uid unless told) over a copy in a world-readable directory,
# files made unreadable between scrapes. The /proc files are
# world-readable on every kernel, so EACCES there is a fault: the source
# fails (success 0, source_failed in /advice, status unknown) and the
# others keep working; an unreadable kernel.osrelease fails sysctl.
if [ "$(id -u)" = 0 ]; then
	chmod 755 "$TMP"
	U="$TMP/uproc"; cp -a "$FIXTURES/linux-6.18" "$U"; chmod -R a+rX "$U"
	port=$(free_port)
	start_serve "$port" --path.procfs="$U" --path.rootfs="$R" --collect.min-interval=0s --security.user=nobody
	base="http://127.0.0.1:$port"
	state() { local m; m=$(curl -fsS "$base/metrics") && grep -q "^twaudit_collector_state{collector=\"$1\",state=\"$2\"} 1$" <<<"$m"; }
	status() { curl -fsS "$base/advice" | $PY -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }
	check "as nobody: serve runs as uid $(id -u nobody)" test "$(awk '/^Uid:/ { print $3 }' /proc/"$SERVE_PID"/status)" = "$(id -u nobody)"
	check "as nobody: baseline netstat ok" state netstat ok
	chmod 000 "$U/net/netstat"
	check "netstat unreadable (EACCES): state failed" state netstat failed
	check "netstat EACCES: success 0" test "$(succ netstat)" = 0
	check "netstat EACCES: /advice status unknown (source_failed)" test "$(status)" = unknown
	check "netstat EACCES: /advice names the error" advice_has 'net/netstat: Permission denied'
	check "netstat EACCES: /metrics still 200, snmp and sysctl ok" bash -c "
		[ \"\$(curl -s -o '$TMP/m' -w '%{http_code}' '$base/metrics')\" = 200 ] &&
		grep -q '^twaudit_collector_state{collector=\"snmp\",state=\"ok\"} 1$' '$TMP/m' &&
		grep -q '^twaudit_collector_state{collector=\"sysctl\",state=\"ok\"} 1$' '$TMP/m'"
	chmod 644 "$U/net/netstat"
	check "netstat readable again: ok" state netstat ok
	chmod 000 "$U/net"
	check "net/ unreadable: netstat, snmp, sockstat failed" bash -c "
		curl -fsS '$base/metrics' > '$TMP/m' &&
		for c in netstat snmp sockstat; do grep -q \"^twaudit_collector_state{collector=\\\"\$c\\\",state=\\\"failed\\\"} 1\$\" '$TMP/m' || exit 1; done"
	check "net/ EACCES: /advice names net/snmp" advice_has 'net/snmp: Permission denied'
	chmod 755 "$U/net"
	check "net/ back: sockstat ok" state sockstat ok
	chmod 000 "$U/sys/kernel/osrelease"
	check "kernel.osrelease unreadable: sysctl success 0" test "$(succ sysctl)" = 0
	check "kernel.osrelease EACCES: /advice names it" advice_has 'kernel.osrelease: Permission denied'
	check "kernel.osrelease EACCES: /advice status unknown" test "$(status)" = unknown
	check "kernel.osrelease EACCES: still serving" curl -fsS -o /dev/null "$base/healthz"
	chmod 644 "$U/sys/kernel/osrelease"
	check "kernel.osrelease back: sysctl success 1, status ok" test "$(succ sysctl)$(status)" = 1ok
	check "as nobody: serve alive after the faults" kill -0 "$SERVE_PID"
	stop_serve

	# check as a user: an unreadable /proc file makes the audit
	# incomplete: UNKNOWN (3), naming the file; so does a whole procfs.
	nobody() { setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups --inh-caps=-all "$@"; }
	nobody "$TWAUDIT" check --path.procfs="$U" --path.rootfs="$R" >"$TMP/out" 2>&1; rc0=$?
	chmod 000 "$U/net/netstat"
	nobody "$TWAUDIT" check --path.procfs="$U" --path.rootfs="$R" >"$TMP/out" 2>&1; rc=$?
	check "check as nobody, netstat unreadable: says so" \
		grep -q 'The netstat collector failed: net/netstat: Permission denied' "$TMP/out"
	check "check as nobody, netstat unreadable: exit 3 (rc $rc0 -> $rc)" test "$rc0" -ne 3 -a "$rc" -eq 3
	chmod 644 "$U/net/netstat"; chmod 700 "$U"
	nobody "$TWAUDIT" check --path.procfs="$U" --path.rootfs="$R" >"$TMP/out" 2>&1; rc=$?
	check "check as nobody on an unreadable procfs: exit 3 (got $rc)" test "$rc" -eq 3
	check "check as nobody on an unreadable procfs: says why" \
		grep -q 'The sysctl collector failed: kernel.osrelease: Permission denied' "$TMP/out"
	chmod 755 "$U"
else
	echo "ok - # SKIP EACCES faults: need root to run serve and check as nobody"
fi

# check --output on a full disk: exit 3, a clear message, no partial file.
if [ "$(id -u)" = 0 ] && mount -t tmpfs -o size=16k tmpfs "$R" 2>/dev/null; then
	head -c 65536 /dev/zero > "$R/filler" 2>/dev/null
	"$TWAUDIT" check --path.procfs="$FIXTURES/linux-6.18" --path.rootfs="$TMP" \
		--format=prom --output="$R/twaudit.prom" 2>"$TMP/err"; rc=$?
	check "disk full: check exits 3 (got $rc)" test "$rc" -eq 3
	check "disk full: one clear line ($(cat "$TMP/err"))" grep -q 'No space left on device' "$TMP/err"
	check "disk full: no partial file, no temporary file" test "$(ls -A "$R")" = filler
	# The previous output stays whole when the new one cannot be written.
	rm -f "$R/filler"
	printf '# the previous run\ntwaudit_audit_status 0\n' > "$R/twaudit.prom"
	cp "$R/twaudit.prom" "$TMP/old.prom"
	head -c 65536 /dev/zero > "$R/filler" 2>/dev/null
	"$TWAUDIT" check --path.procfs="$FIXTURES/linux-6.18" --path.rootfs="$TMP" \
		--format=prom --output="$R/twaudit.prom" 2>"$TMP/err"; rc=$?
	check "disk full over an old file: exit 3 (got $rc)" test "$rc" -eq 3
	check "disk full over an old file: the old file intact" cmp -s "$R/twaudit.prom" "$TMP/old.prom"
	check "disk full over an old file: no temporary file" test "$(ls -A "$R" | tr '\n' ' ')" = "filler twaudit.prom "
	rm -f "$R/filler" "$R/twaudit.prom"
	"$TWAUDIT" check --path.procfs="$FIXTURES/linux-6.18" --path.rootfs="$TMP" \
		--format=prom --output="$R/twaudit.prom" 2>/dev/null; rc=$?
	check "space again: the file is written (rc=$rc)" test -s "$R/twaudit.prom"
	umount "$R"
else
	echo "ok - # SKIP disk full: needs root to mount a tmpfs"
fi

# check against a vanished procfs: exit 3 with a message.
"$TWAUDIT" check --path.procfs="$TMP/gone" >/dev/null 2>"$TMP/err"; rc=$?
check "check on a vanished procfs: exit 3 (got $rc)" test "$rc" -eq 3
check "check on a vanished procfs: says why" grep -q 'No such file or directory' "$TMP/err"
finish
