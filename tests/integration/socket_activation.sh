#!/usr/bin/env bash
# serve --web.systemd-socket under systemd-socket-activate (the same
# LISTEN_PID/LISTEN_FDS hand-over as a .socket unit): IPv4 and IPv6 sockets
# passed by systemd are served; an accepted connection instead of a
# listening socket, a datagram socket, a file, sockets meant for another
# process and no sockets at all are refused. deploy/twaudit.socket passes
# systemd-analyze verify. The listen addresses given with
# --web.listen-address: the same one twice is listened on once, a wildcard
# on the same port wins over a specific address with a warning.
. "$(dirname "$0")/lib.sh"

command -v systemd-socket-activate >/dev/null ||
	skip "systemd-socket-activate missing (Debian package systemd; make test-deps)"
SERVE_ARGS=(--web.systemd-socket --security.user= --no-sampler.enabled)

# activate LOG ADDR... -- serve under systemd-socket-activate listening on
# ADDRs; the serve is exec'd in its place, so its pid is $SERVE_PID.
activate() {
	local log=$1 a args=(); shift
	for a in "$@"; do args+=(-l "$a"); done
	systemd-socket-activate "${args[@]}" "$TWAUDIT" serve "${SERVE_ARGS[@]}" 2>>"$log" &
	SERVE_PID=$!
	PIDS+=("$SERVE_PID")
}

# --- IPv4 and IPv6 sockets from systemd ---
p4=$(free_port); p6=$(free_port)
v6=1; $PY -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null || v6=0
log="$TMP/sa.log"
if [ "$v6" = 1 ]; then activate "$log" "127.0.0.1:$p4" "[::1]:$p6"; else activate "$log" "127.0.0.1:$p4"; fi
# Nothing runs twaudit before the first connection: this one starts it.
check "serve takes the IPv4 socket systemd passes: /healthz answers" wait_until 20 \
	sh -c "curl -fsS -m 5 'http://127.0.0.1:$p4/healthz' | grep -qx ok"
wait_until 20 grep -q 'msg="seccomp allow-list on"' "$log"
curl -fsS -m 5 -o "$TMP/m4" "http://127.0.0.1:$p4/metrics"
check "scrape over the passed socket" grep -q '^twaudit_build_info' "$TMP/m4"
check "the log names the passed address" grep -q "msg=\"listening\" address=\"127.0.0.1:$p4\"" "$log"
if [ "$v6" = 1 ]; then
	check "and the IPv6 one ([::1]:$p6)" sh -c "curl -fsS -m 5 'http://[::1]:$p6/healthz' | grep -qx ok"
	check "the log names [::1]:$p6" grep -q "address=\"\\[::1\\]:$p6\"" "$log"
else
	echo "ok - # SKIP IPv6 loopback unavailable"
fi
check "no 'listen address' warning in socket mode" sh -c "! grep -q 'level=warn' '$log'"
stop_serve

# --- what serve refuses ---
# refused LOG WANT DESCRIPTION: serve exited non-zero and LOG says WANT.
refused() {
	local log=$1 want=$2 desc=$3
	if wait_until 20 sh -c "! kill -0 $SERVE_PID 2>/dev/null"; then
		wait "$SERVE_PID"; local rc=$?
		check "$desc: serve exits non-zero (rc $rc)" test "$rc" -ne 0
		check "$desc: says '$want'" grep -q -- "$want" "$log"
	else
		fail "$desc: serve still running"; stop_serve
	fi
}
# Accept=yes hands over a connected socket, not the listening one.
p=$(free_port); log="$TMP/accept.log"
systemd-socket-activate -a -l "127.0.0.1:$p" "$TWAUDIT" serve "${SERVE_ARGS[@]}" 2>>"$log" &
SA=$!; PIDS+=("$SA")
# Connect until systemd-socket-activate listens and has run serve.
check "Accept=yes (a connected socket): refused, not listening" wait_until 20 \
	sh -c "curl -s -m 2 -o /dev/null 'http://127.0.0.1:$p/healthz'; grep -q 'is not listening' '$log'"
check "Accept=yes: no HTTP served on the connection" sh -c "! grep -q 'msg=\"listening\"' '$log'"
kill "$SA" 2>/dev/null; wait "$SA" 2>/dev/null

p=$(free_port); log="$TMP/dgram.log"
systemd-socket-activate -d -l "127.0.0.1:$p" "$TWAUDIT" serve "${SERVE_ARGS[@]}" 2>>"$log" &
SERVE_PID=$!; PIDS+=("$SERVE_PID")
# A datagram socket activates at the first packet: send until serve ran
# (a packet before systemd-socket-activate bound the port is lost).
wait_until 20 sh -c "$PY -c 'import socket,sys; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b\"x\", (\"127.0.0.1\", int(sys.argv[1])))' $p; grep -q 'Execing' '$log'"
refused "$log" 'is not a stream socket' "a UDP socket"

# By hand: LISTEN_PID is the exec'd serve's pid ($$ of the shell it replaces).
log="$TMP/file.log"
bash -c 'export LISTEN_PID=$$ LISTEN_FDS=1; exec 3</dev/null; exec "$@"' _ "$TWAUDIT" serve "${SERVE_ARGS[@]}" 2>"$log" &
SERVE_PID=$!; PIDS+=("$SERVE_PID"); refused "$log" 'fd 3 is not a socket' "fd 3 a file"
log="$TMP/otherpid.log"
bash -c 'export LISTEN_PID=1 LISTEN_FDS=1; exec "$@"' _ "$TWAUDIT" serve "${SERVE_ARGS[@]}" 2>"$log" &
SERVE_PID=$!; PIDS+=("$SERVE_PID"); refused "$log" 'for process 1, not this one' "LISTEN_PID of another process"
log="$TMP/none.log"
env -u LISTEN_PID -u LISTEN_FDS "$TWAUDIT" serve "${SERVE_ARGS[@]}" 2>"$log" &
SERVE_PID=$!; PIDS+=("$SERVE_PID"); refused "$log" 'no sockets from systemd' "no LISTEN_FDS"
log="$TMP/many.log"
bash -c 'export LISTEN_PID=$$ LISTEN_FDS=9; exec "$@"' _ "$TWAUDIT" serve "${SERVE_ARGS[@]}" 2>"$log" &
SERVE_PID=$!; PIDS+=("$SERVE_PID"); refused "$log" 'want 1 to 8 sockets' "LISTEN_FDS=9"

# --- deploy/twaudit.socket ---
if command -v systemd-analyze >/dev/null; then
	mkdir -p "$TMP/units"
	cp "$SRC/deploy/twaudit.socket" "$TMP/units/"
	# verify wants the service the socket starts: a copy running this binary.
	sed "s|@BINDIR@/twaudit|$TWAUDIT|" "$SRC/deploy/twaudit.service.in" >"$TMP/units/twaudit.service"
	(cd "$TMP/units" && systemd-analyze verify --man=no twaudit.socket) >"$TMP/verify.log" 2>&1
	rc=$?; cat "$TMP/verify.log" >&2
	check "systemd-analyze verify --man=no deploy/twaudit.socket (rc $rc)" test "$rc" -eq 0 -a ! -s "$TMP/verify.log"
	check "twaudit.socket listens on 9477, Accept=no" sh -c "grep -qx 'ListenStream=9477' '$SRC/deploy/twaudit.socket' && grep -qx 'Accept=no' '$SRC/deploy/twaudit.socket'"
	check "the socket's note names the flag the service needs" grep -q -- '--web.systemd-socket' "$SRC/deploy/twaudit.socket"
fi

# --- --web.listen-address: duplicates and wildcards ---
p=$(free_port)
check "the same address twice: serve starts (listens once)" \
	start_serve "$p" --web.listen-address="127.0.0.1:$p" --web.listen-address="127.0.0.1:$p"
log="$TMP/serve-$p.log"
check "one 'listening' line for 127.0.0.1:$p" test "$(grep -c "msg=\"listening\" address=\"127.0.0.1:$p\"" "$log")" -eq 1
check "the duplicate is reported at info level" grep -q 'level=info msg="listen address given twice' "$log"
stop_serve
p=$(free_port)
# start_serve gives 127.0.0.1:PORT itself; :PORT covers it.
check "a wildcard and a specific address on one port: serve starts" start_serve "$p" --web.listen-address=":$p"
log="$TMP/serve-$p.log"
check "the wildcard wins: listening on :$p only" sh -c "
	grep -q 'msg=\"listening\" address=\":$p\"' '$log' && ! grep -q 'msg=\"listening\" address=\"127.0.0.1:$p\"' '$log'"
check "with a warning naming both" grep -q "level=warn msg=\"listen address covered by a wildcard address, listening on the wildcard only\" address=\"127.0.0.1:$p\" wildcard=\":$p\"" "$log"
check "scrape on 127.0.0.1 through the wildcard" sh -c "curl -fsS -m 5 'http://127.0.0.1:$p/healthz' | grep -qx ok"
stop_serve
p=$(free_port)
check "0.0.0.0:PORT covers 127.0.0.1:PORT" start_serve "$p" --web.listen-address="0.0.0.0:$p"
check "warning for 0.0.0.0:$p" grep -q "address=\"127.0.0.1:$p\" wildcard=\"0.0.0.0:$p\"" "$TMP/serve-$p.log"
stop_serve
# Different ports stay apart.
p=$(free_port); q=$(free_port)
check "two ports: both served" start_serve "$p" --web.listen-address="127.0.0.1:$q"
check "second port answers" sh -c "curl -fsS -m 5 'http://127.0.0.1:$q/healthz' | grep -qx ok"
stop_serve

finish
