#!/usr/bin/env bash
# Flags every command shares, as node_exporter has them: --version (build
# and library versions; the build date from SOURCE_DATE_EPOCH, the revision
# "unknown" outside git), --log.format=logfmt|json, --log.level, and serve's
# start-up line with version, revision and listen addresses.
. "$(dirname "$0")/lib.sh"

FIX="$FIXTURES/linux-6.18"
ROOT="$TMP/root"; mkdir -p "$ROOT"

# --version on every command and at the top: same text, exit 0.
"$TWAUDIT" --version >"$TMP/v.top" 2>&1
check "twaudit --version exits 0" test $? -eq 0
check "first line: name, version, branch, revision" \
	grep -qE '^twaudit, version [0-9]+\.[0-9]+\.[0-9]+ \(branch: [^,]+, revision: ([0-9a-f]{40}|unknown)\)$' "$TMP/v.top"
for field in 'build user' 'build date' compiler platform libmicrohttpd jansson \
	libpcap gnutls zlib libyaml libnl libseccomp; do
	check "--version names $field" grep -qE "^  $field: +[^ ]" "$TMP/v.top"
done
for cmd in serve check replay report; do
	"$TWAUDIT" "$cmd" --version >"$TMP/v.$cmd" 2>&1; rc=$?
	check "$cmd --version exits 0 (got $rc)" test "$rc" -eq 0
	check "$cmd --version prints the same text" cmp -s "$TMP/v.top" "$TMP/v.$cmd"
	check "$cmd --help lists --version and --log.format" \
		sh -c "'$TWAUDIT' $cmd --help | grep -q -- '--version' && '$TWAUDIT' $cmd --help | grep -q -- '--log.format=FORMAT'"
done

# The build date and user are what meson.build put into config.h.
if [ -n "${BUILD:-}" ] && [ -f "$BUILD/config.h" ]; then
	d=$(sed -n 's/^#define TWAUDIT_BUILD_DATE "\(.*\)"$/\1/p' "$BUILD/config.h")
	check "--version's build date is config.h's ($d)" grep -qE "^  build date: +$d\$" "$TMP/v.top"
fi

# meson.build's logic, configured (not compiled) from a copy of the source
# outside git with SOURCE_DATE_EPOCH set: date from the epoch, user
# "reproducible", revision and branch "unknown".
if command -v meson >/dev/null && [ -n "${SRC:-}" ]; then
	mkdir -p "$TMP/src"
	tar -C "$SRC" --exclude=./.git --exclude='./build*' -cf - . | tar -C "$TMP/src" -xf -
	if SOURCE_DATE_EPOCH=1700000000 timeout $((120 * SLOW)) meson setup \
		-Dtests=false "$TMP/src/b" "$TMP/src" >"$TMP/setup.log" 2>&1; then
		h="$TMP/src/b/config.h"
		check "SOURCE_DATE_EPOCH=1700000000: build date 20231114-22:13:20" \
			grep -qx '#define TWAUDIT_BUILD_DATE "20231114-22:13:20"' "$h"
		check "SOURCE_DATE_EPOCH: build user 'reproducible'" \
			grep -qx '#define TWAUDIT_BUILD_USER "reproducible"' "$h"
		check "outside git: revision unknown" grep -qx '#define TWAUDIT_REVISION "unknown"' "$h"
		check "outside git: branch unknown" grep -qx '#define TWAUDIT_BRANCH "unknown"' "$h"
	else
		fail "meson setup of a source copy with SOURCE_DATE_EPOCH (see below)"
		tail -20 "$TMP/setup.log" >&2
	fi
else
	echo "note: meson or SRC missing; the SOURCE_DATE_EPOCH configuration is not checked"
fi

# check takes --log.level and --log.format; their mistakes are usage errors
# with check's exit status (3), serve's is 1.
"$TWAUDIT" check --path.procfs="$FIX" --path.rootfs="$ROOT" --log.level=debug \
	--log.format=json >/dev/null 2>"$TMP/check.err"; rc=$?
check "check --log.format=json --log.level=debug runs (exit $rc)" test "$rc" -le 2
"$TWAUDIT" check --log.format=xml >/dev/null 2>"$TMP/err"; rc=$?
check "check --log.format=xml: exit 3 (got $rc)" test "$rc" -eq 3
check "check --log.format=xml: says why" grep -q "log.format: 'xml'" "$TMP/err"
"$TWAUDIT" serve --log.format=xml >/dev/null 2>&1; rc=$?
check "serve --log.format=xml: exit 1 (got $rc)" test "$rc" -eq 1
"$TWAUDIT" check --log.level=loud >/dev/null 2>&1; rc=$?
check "check --log.level=loud: exit 3 (got $rc)" test "$rc" -eq 3

# --log.level=error silences warnings: this serve warns that the listen
# address is ignored, then fails (systemd passed no socket).
port=$(free_port)
env -u LISTEN_FDS -u LISTEN_PID "$TWAUDIT" serve --web.systemd-socket \
	--web.listen-address=127.0.0.1:$port >/dev/null 2>"$TMP/warn.log"
check "serve warns at the default level" grep -q 'level=warn msg="--web.systemd-socket' "$TMP/warn.log"
env -u LISTEN_FDS -u LISTEN_PID "$TWAUDIT" serve --web.systemd-socket --log.level=error \
	--web.listen-address=127.0.0.1:$port >/dev/null 2>"$TMP/quiet.log"
check "--log.level=error: no warning" sh -c "! grep -q 'level=warn' '$TMP/quiet.log'"
check "--log.level=error: the error is still said" grep -q 'twaudit serve:' "$TMP/quiet.log"

# serve --log.format=json: every line a JSON object; the start-up line.
port=$(free_port)
"$TWAUDIT" serve --web.listen-address=127.0.0.1:$port --security.user= --no-sampler.enabled \
	--path.procfs="$FIX" --path.rootfs="$ROOT" --log.format=json 2>"$TMP/json.log" &
PIDS+=($!); pid=$!
check "serve (json logs) finishes start-up" wait_until 20 grep -q '"msg":"seccomp allow-list on"' "$TMP/json.log"
kill -TERM "$pid" 2>/dev/null
wait_until 10 sh -c "! kill -0 $pid 2>/dev/null"
check "serve's log lines all parse as JSON objects with ts, level, msg" $PY - "$TMP/json.log" <<'EOF'
import json, sys
n = 0
for line in open(sys.argv[1]):
    d = json.loads(line)
    assert isinstance(d, dict) and {"ts", "level", "msg"} <= d.keys(), line
    n += 1
assert n >= 3, n
EOF
rev=$(sed -n 's/.*revision: \([^)]*\))$/\1/p' "$TMP/v.top")
ver=$(sed -n 's/^twaudit, version \([^ ]*\) .*/\1/p' "$TMP/v.top")
check "one start-up line with version, revision and the listen address" $PY - "$TMP/json.log" "$ver" "$rev" "127.0.0.1:$port" <<'EOF'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
s = [d for d in lines if d["msg"] == "starting twaudit"]
assert len(s) == 1, s
d = s[0]
assert d["level"] == "info" and d["version"] == sys.argv[2], d
assert d["revision"] == sys.argv[3], d
assert sys.argv[4] in d["addresses"].split(","), d
EOF
check "shut down in json too" grep -q '"msg":"shutting down","signal":"SIGTERM"' "$TMP/json.log"

finish
