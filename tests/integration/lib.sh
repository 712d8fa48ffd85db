# Shared helpers for the integration tests (sourced). Needs TWAUDIT, FIXTURES, SCHEMAS.
set -uo pipefail

PY=/usr/bin/python3   # Debian's modules (jsonschema, prometheus_client) live here
TMP=$(mktemp -d /tmp/twaudit-test.XXXXXX)
PIDS=()
NETNS=()	# network namespaces the test made (deleted after PIDS stop)
KEEP_TMP=	# non-empty: leave TMP for a post-mortem (tests map their own
		# *_KEEP variable onto it)
FAILS=0
PASSES=0

cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	for ns in "${NETNS[@]:-}"; do
		[ -n "$ns" ] && ip netns del "$ns" 2>/dev/null
	done
	if [ -n "$KEEP_TMP" ]; then echo "kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
# A signal (meson's timeout, ^C) must run the cleanup too: bash skips the
# EXIT trap when an untrapped SIGTERM kills it, which would leave serve
# processes, namespaces or mounts behind for the next run.
trap 'exit 1' INT TERM HUP

skip() { echo "SKIP: $*"; exit 77; }
die()  { echo "FAIL - $*" >&2; exit 1; }
ok()   { PASSES=$((PASSES + 1)); echo "ok - $*"; }
fail() { FAILS=$((FAILS + 1)); echo "FAIL - $*" >&2; }
check() { # check DESCRIPTION COMMAND...
	local d=$1; shift
	if "$@"; then ok "$d"; else fail "$d"; fi
}
finish() {
	echo "$PASSES passed, $FAILS failed"
	[ "$FAILS" -eq 0 ]
}

# sanitized: TWAUDIT is an ASan or TSan build. Not `ldd | grep -q`: with
# pipefail, grep -q quitting at the first match can kill ldd with SIGPIPE
# and fail the pipeline (measured: 2 % of runs on a busy machine).
sanitized() { grep -qa -e __asan_init -e __tsan_init "${TWAUDIT:-/nonexistent}" 2>/dev/null; }

# Sanitizer builds run several times slower, and CI machines are slower and
# busier than a developer's: deadlines that are not what a test asserts
# (start-up, a reload taking effect, a background tick) are generous and
# multiplied by SLOW (3 for an ASan/UBSan binary). Polling ends as soon as
# the condition holds, so a generous deadline costs nothing when all is well.
SLOW=1
sanitized && SLOW=3

# now_us: the wall clock in microseconds (bash 5's EPOCHREALTIME).
now_us() { local t=${EPOCHREALTIME//[.,]/}; echo "$t"; }

# wait_until SECONDS COMMAND...: run COMMAND every 50 ms until it succeeds
# (0) or SECONDS x SLOW have passed (1). SECONDS is an integer.
wait_until() {
	local end=$(( $(now_us) + $1 * SLOW * 1000000 )); shift
	while :; do
		"$@" && return 0
		[ "$(now_us)" -lt "$end" ] || return 1
		sleep 0.05
	done
}

# A free TCP port on 127.0.0.1, outside the kernel's ephemeral range (so
# that no outgoing connection of this or another test, curl, Prometheus or
# the attackers takes it between this check and serve's bind), never one
# this test was given before (start_serve may bind it later). Falls back to
# a port from the kernel.
free_port() {
	$PY - "$TMP/.ports" <<'PYEOF'
import os, random, socket, sys
used = set()
try:
    used = {int(l) for l in open(sys.argv[1]) if l.strip()}
except OSError:
    pass
try:
    lo, hi = map(int, open("/proc/sys/net/ipv4/ip_local_port_range").read().split())
except (OSError, ValueError):
    lo, hi = 32768, 60999
cands = [p for p in range(10000, 65536) if not lo <= p <= hi and p not in used]
random.seed(os.urandom(8))
port = None
for p in random.sample(cands, min(200, len(cands))):
    ok = True
    for fam, addr in ((socket.AF_INET, "127.0.0.1"), (socket.AF_INET, "0.0.0.0")):
        s = socket.socket(fam)
        try:
            s.bind((addr, p))   # no SO_REUSEADDR: even a TIME-WAIT on it counts
        except OSError:
            ok = False
        finally:
            s.close()
        if not ok:
            break
    if ok:
        port = p
        break
if port is None:
    s = socket.socket(); s.bind(("127.0.0.1", 0)); port = s.getsockname()[1]; s.close()
with open(sys.argv[1], "a") as f:
    f.write("%d\n" % port)
print(port)
PYEOF
}

# start_serve PORT ARGS...: start twaudit serve in the background and wait for
# /healthz, then for the end of its start-up (wait_serve).
# The live sampler is off unless ARGS turn it on (--sampler.enabled): fixture
# trees describe another host, and this machine's own traffic must not mix in.
# The uid is kept (--security.user=) unless ARGS give --security.user/--user:
# serve started as root switches to nobody by default, and fixture trees or
# configs under the 0700 $TMP would be unreadable to it.
start_serve() {
	local port=$1 a keep=--security.user=; shift
	for a in "$@"; do
		case $a in --security.user|--security.user=*|--user|--user=*) keep=;; esac
	done
	"$TWAUDIT" serve --web.listen-address="127.0.0.1:$port" --no-sampler.enabled ${keep:+"$keep"} "$@" \
		2>>"$TMP/serve-$port.log" &
	PIDS+=($!)
	SERVE_PID=$!
	wait_serve "$port" "$SERVE_PID" "$TMP/serve-$port.log" "$@"
}

# wait_serve PORT|URL PID LOG [ARGS...]: wait until the serve started as
# PID (with ARGS) answers HTTP on 127.0.0.1:PORT (any status: the page may
# need a password; a URL, e.g. https://..., with curl options in
# WAIT_CURL_OPTS) and has finished its start-up: its last start-up line is
# in LOG ("seccomp allow-list on", or "listening" with the filter off, of
# the web process, which starts after the collector).
# serve answers before that line (the HTTP threads start first), so checks
# of the whole process (seccomp mode, the log) can follow at once. 1, with
# the log, when PID exited or did not get there within WAIT_SERVE_SECONDS
# (20 s; x SLOW).
wait_serve() {
	local url=$1 pid=$2 log=$3 end code last='msg="seccomp allow-list on"'; shift 3
	case $url in *://*) ;; *) url="http://127.0.0.1:$url/healthz";; esac
	case " $* " in
	*' --security.seccomp=false '*|*' --no-security.seccomp '*) last='msg="listening"';;
	esac
	end=$(( $(now_us) + ${WAIT_SERVE_SECONDS:-20} * SLOW * 1000000 ))
	while kill -0 "$pid" 2>/dev/null; do
		code=$(curl -s -m 5 -o /dev/null -w '%{http_code}' ${WAIT_CURL_OPTS:-} "$url" 2>/dev/null)
		# serve's web process logs its start-up last (proc=web).
		[ "${code:-000}" != 000 ] && grep -F "$last" "$log" 2>/dev/null |
			grep -qF 'proc=web' && return 0
		[ "$(now_us)" -lt "$end" ] || break
		sleep 0.05
	done
	echo "serve at $url did not come up (pid $pid $(kill -0 "$pid" 2>/dev/null && echo still running || echo exited)):" >&2
	cat "$log" >&2
	return 1
}

# hup_serve LOG: SIGHUP to $SERVE_PID, then wait until LOG has one more
# line that ends a reload (reloaded, kept, partly applied, or nothing to
# reload). The warning that a config removes protection comes before the
# reload is applied, so it does not count.
HUP_DONE='SIGHUP: (web config reloaded|web config not reloaded|web config partly applied|no --web.config.file)'
hup_serve() {
	local log=$1 n
	n=$(grep -cE "$HUP_DONE" "$log" 2>/dev/null)
	kill -HUP "$SERVE_PID" || return 1
	wait_until 20 eval '[ "$(grep -cE "$HUP_DONE" "$log" 2>/dev/null)" -gt "${n:-0}" ]'
}

# web_pid [PID]: serve's web process, the child of PID (default
# $SERVE_PID), which holds the listening sockets and the HTTP connections.
web_pid() { pgrep -P "${1:-$SERVE_PID}" | head -1; }

stop_serve() {
	kill "$SERVE_PID" 2>/dev/null || true
	wait "$SERVE_PID" 2>/dev/null || true
}

# validate_json SCHEMA FILE: JSON Schema validation with Debian's python3-jsonschema.
validate_json() {
	$PY - "$1" "$2" <<'PYEOF'
import json, sys, jsonschema
schema = json.load(open(sys.argv[1]))
doc = json.load(open(sys.argv[2]))
jsonschema.Draft202012Validator.check_schema(schema)
errors = list(jsonschema.Draft202012Validator(schema).iter_errors(doc))
for e in errors[:5]:
    print("schema:", "/".join(map(str, e.path)), e.message, file=sys.stderr)
sys.exit(1 if errors else 0)
PYEOF
}

# jq-like field access with python: json_get FILE EXPR (EXPR in python on `d`).
# jget FILE EXPR: EXPR over the JSON document d, printed as JSON when it
# is a container, a boolean or null (so lists compare as "[1, 0, 0]").
jget() { $PY -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(json.dumps(v) if isinstance(v,(dict,list,bool)) or v is None else v)' "$1" "$2"; }

json_get() {
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1" "$2"
}
