#!/usr/bin/env bash
# Not a test: lists the syscalls `serve` makes after start-up, to build and
# review the seccomp allow-list in agent/sandbox.c (docs/security.md).
#   TWAUDIT=build/twaudit FIXTURES=tests/fixtures bash tests/integration/seccomp_profile.sh
# Runs serve under `strace -f` with seccomp off through every endpoint, with
# and without gzip/openmetrics, plain and TLS + basic auth, SIGHUP reloads
# (config swapped between plain and TLS), three 5 s ticks on the real /proc
# and a fixture, then SIGTERM; prints "count syscall" for what happened
# after the "listening" line (start-up is not confined).
. "$(dirname "$0")/lib.sh"
command -v strace >/dev/null || { echo "strace missing" >&2; exit 1; }
d="$TMP/wc"; mkdir -p "$d"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
	-days 2 -subj /CN=localhost >/dev/null 2>&1
hash=$($PY -c "import crypt; print(crypt.crypt('pw', crypt.mksalt(crypt.METHOD_BLOWFISH, rounds=16)))" 2>/dev/null)
printf 'basic_auth_users:\n  u: %s\n' "$hash" > "$d/plain.yml"
printf 'tls_server_config:\n  cert_file: cert.pem\n  key_file: key.pem\nbasic_auth_users:\n  u: %s\n' "$hash" > "$d/tls.yml"
for procfs in /proc "$FIXTURES/linux-4.19"; do
	cp "$d/plain.yml" "$d/web.yml"
	port=$(free_port)
	rm -f "$TMP/log"
	strace -f -qq -s 256 -o "$TMP/trace" -e trace=all -e signal=none \
		"$TWAUDIT" serve --security.seccomp=false --security.user= --web.listen-address=127.0.0.1:$port \
		--path.procfs="$procfs" --web.config.file="$d/web.yml" 2>"$TMP/log" &
	tpid=$!
	for _ in $(seq 100); do grep -q listening "$TMP/log" && break; sleep 0.1; done
	spid=$(pgrep -P $tpid)   # strace blocks fatal signals: signal serve itself
	[ -n "$spid" ] || { echo "serve did not start" >&2; exit 1; }
	# Mark the end of start-up in the trace: a failing syscall nobody makes.
	sleep 0.5
	u="-u u:pw"
	for scheme in http https; do
		b="$scheme://127.0.0.1:$port"
		for p in /metrics /advice /healthz / /api/history /nope; do
			curl -ks $u -o /dev/null "$b$p"
			curl -ks $u -o /dev/null -H 'Accept: application/openmetrics-text; version=1.0.0' \
				-H 'Accept-Encoding: gzip' "$b$p"
			curl -ks -o /dev/null "$b$p"                # 401
			curl -ks $u -o /dev/null -X POST "$b$p"     # 405
			curl -ks $u -I -o /dev/null "$b$p"          # HEAD
		done
		if [ $scheme = http ]; then cp "$d/tls.yml" "$d/web.yml"; kill -HUP $spid; sleep 1; fi
	done
	printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\nGARBAGE\r\n\r\n' | timeout 2 $PY -c '
import socket,sys; s=socket.create_connection(("127.0.0.1",'$port')); s.sendall(sys.stdin.buffer.read()); s.settimeout(1)
try: s.recv(65536)
except Exception: pass' || true
	cp "$d/plain.yml" "$d/web.yml"; kill -HUP $spid; sleep 1
	echo 'not: [valid' > "$d/web.yml"; kill -HUP $spid; sleep 0.5
	sleep 11   # two more 5 s ticks
	kill -TERM $spid; wait $tpid
	# Syscalls after the first "listening" write(2) to stderr.
	awk '/write\(2, .*listening/ { on = 1 } on' "$TMP/trace" |
		sed -n 's/^[0-9]* *\([a-z_0-9]*\)(.*/\1/p; s/^[0-9]* *<\.\.\. \([a-z_0-9]*\) resumed>.*/\1/p' |
		sort | uniq -c | sort -rn > "$TMP/calls-$(basename "$procfs")"
	mv "$TMP/trace" "$TMP/trace-$(basename "$procfs")"
done
[ -n "${KEEP:-}" ] && cp "$TMP"/trace* "$KEEP"/
cat "$TMP"/calls-* | awk '{ n[$2] += $1 } END { for (k in n) print n[k], k }' | sort -rn
