# Shared helpers for the integration tests (sourced). Needs TWAUDIT, FIXTURES, SCHEMAS.
set -uo pipefail

PY=/usr/bin/python3   # Debian's modules (jsonschema, prometheus_client) live here
TMP=$(mktemp -d /tmp/twaudit-test.XXXXXX)
PIDS=()
FAILS=0
PASSES=0

cleanup() {
	for p in "${PIDS[@]:-}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null && wait "$p" 2>/dev/null || true
	done
	rm -rf "$TMP"
}
trap cleanup EXIT

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

# A free TCP port on 127.0.0.1 (asks the kernel).
free_port() {
	$PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_serve PORT ARGS...: start twaudit serve in the background and wait for /healthz.
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
	for _ in $(seq 1 100); do
		curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && return 0
		sleep 0.05
	done
	echo "serve on $port did not come up:" >&2
	cat "$TMP/serve-$port.log" >&2
	return 1
}

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
json_get() {
	$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); v=eval(sys.argv[2]); print(v if not isinstance(v,(dict,list)) else json.dumps(v))' "$1" "$2"
}
