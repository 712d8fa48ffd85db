#!/usr/bin/env bash
# The container image (deploy/container/build-image.sh): built from Debian
# packages with mmdebstrap --variant=essential and podman import, no
# registry image. Run with podman (runc) as twaudit's documentation says:
# host network, read-only root file system, all capabilities dropped but
# NET_RAW and NET_ADMIN plus the three the switch to nobody needs (SETUID,
# SETGID, SETPCAP), as root inside so that twaudit drops to nobody and to
# net_raw itself; scraped on 127.0.0.1. The image is cached under a tag
# that hashes the binary and its packages, so a second run does not
# rebuild it; a build is bounded (TWAUDIT_IMAGE_BUILD_SECONDS, 600 s).
. "$(dirname "$0")/lib.sh"

for t in podman mmdebstrap runc; do
	command -v "$t" >/dev/null || skip "$t missing (apt-get install podman mmdebstrap runc; make test-deps)"
done
[ "$(id -u)" = 0 ] || skip "not root (mmdebstrap --mode=root, podman with host network)"
if sanitized; then
	skip "sanitizer build: the image is built from the plain binary (run in the plain build)"
fi
PODMAN=(podman --runtime runc)
if ! timeout 30 "${PODMAN[@]}" info >"$TMP/info" 2>&1; then
	cat "$TMP/info" >&2
	skip "podman cannot run here (podman --runtime runc info failed)"
fi
# build-image.sh copies the binary in under its own name.
[ "$(basename "$TWAUDIT")" = twaudit ] || { mkdir -p "$TMP/bin"; cp "$TWAUDIT" "$TMP/bin/twaudit"; TWAUDIT=$TMP/bin/twaudit; }

# --- build (or reuse) ---
start=$(date +%s)
# In its own process group, so that a build over time stops whole
# (mmdebstrap, apt, dpkg under it).
setsid bash "$SRC/deploy/container/build-image.sh" "$TWAUDIT" >"$TMP/image.out" 2>"$TMP/image.err" &
bpid=$!
limit=${TWAUDIT_IMAGE_BUILD_SECONDS:-600}
while kill -0 "$bpid" 2>/dev/null && [ $(( $(date +%s) - start )) -lt "$limit" ]; do sleep 1; done
if kill -0 "$bpid" 2>/dev/null; then
	kill -TERM -- "-$bpid" 2>/dev/null; sleep 2; kill -KILL -- "-$bpid" 2>/dev/null
	wait "$bpid" 2>/dev/null
	rc=124
else
	wait "$bpid"; rc=$?
fi
tag=$(tail -1 "$TMP/image.out")
cat "$TMP/image.err" >&2
if [ "$rc" = 124 ]; then
	fail "image build took over ${TWAUDIT_IMAGE_BUILD_SECONDS:-600} s"; finish; exit
fi
check "build-image.sh built or found the image in $(( $(date +%s) - start ))s (rc $rc): $tag" \
	sh -c "[ $rc -eq 0 ] && '${PODMAN[0]}' image exists '$tag'"
[ "$rc" = 0 ] || { finish; exit; }
start=$(date +%s)
tag2=$(bash "$SRC/deploy/container/build-image.sh" "$TWAUDIT" 2>"$TMP/image2.err" | tail -1)
check "the same binary again: same tag, not rebuilt ($(( $(date +%s) - start ))s)" \
	sh -c "[ '$tag2' = '$tag' ] && grep -q 'not rebuilt' '$TMP/image2.err'"
# Older images of this test's binary line: keep only the current one.
podman images --format '{{.Repository}}:{{.Tag}}' | grep '^localhost/twaudit:' | grep -vx "$tag" |
	while read -r old; do podman rmi "$old" >/dev/null 2>&1 || true; done
podman image inspect "$tag" --format '{{json .Config}}' >"$TMP/config.json"
check "image: entrypoint /usr/bin/twaudit, cmd serve, port 9477" $PY - "$TMP/config.json" <<'PYEOF'
import json, sys
c = json.load(open(sys.argv[1]))
assert c["Entrypoint"] == ["/usr/bin/twaudit"], c
assert c["Cmd"] == ["serve"], c
assert "9477/tcp" in c.get("ExposedPorts", {}), c
PYEOF
check "image: apt package lists removed (only what runs)" sh -c "
	! podman run --rm --runtime runc --network none --entrypoint /bin/sh '$tag' -c 'ls /var/lib/apt/lists/*Packages*' >/dev/null 2>&1"

# --- run as documented ---
port=$(free_port)
name="twaudit-container-$$"
RUN_OPTS=(--network host --read-only --cap-drop all
	--cap-add NET_RAW --cap-add NET_ADMIN --cap-add SETUID --cap-add SETGID --cap-add SETPCAP
	--security-opt no-new-privileges
	--ulimit nofile=20000:20000 --ulimit nproc=512:512)
"${PODMAN[@]}" run -d --name "$name" "${RUN_OPTS[@]}" "$tag" serve \
	--web.listen-address="127.0.0.1:$port" >"$TMP/cid" 2>"$TMP/run.err"
rc=$?
cat "$TMP/run.err" >&2
# Removed at exit, whatever happens.
trap '"${PODMAN[@]}" rm -f -t 2 "$name" >/dev/null 2>&1; cleanup' EXIT
check "podman run -d (runc, host network, read-only root) starts (rc $rc)" test "$rc" -eq 0
up() { curl -fsS -m 5 -o "$TMP/metrics" "http://127.0.0.1:$port/metrics"; }
check "the container answers on 127.0.0.1:$port/metrics" wait_until 30 up
check "it audits this host: twaudit_audit_status and sysctls" sh -c "
	grep -q '^twaudit_audit_status' '$TMP/metrics' && grep -q '^twaudit_sysctl{' '$TMP/metrics'"
check "promtool check metrics on the container's scrape" sh -c "promtool check metrics <'$TMP/metrics'"
check "/healthz" sh -c "curl -fsS -m 5 'http://127.0.0.1:$port/healthz' | grep -qx ok"
"${PODMAN[@]}" logs "$name" >"$TMP/clog" 2>&1
check "twaudit dropped to nobody with net_raw alone (its own drop)" \
	grep -q 'msg="privileges dropped" capabilities=net_raw user="nobody (default)"' "$TMP/clog"
pid=$(podman inspect "$name" --format '{{.State.Pid}}')
check "the process runs as uid 65534 on the host view" sh -c "awk '/^Uid:/ { exit !(\$2 == 65534) }' /proc/$pid/status"
check "its effective capabilities are CAP_NET_RAW only (0x2000)" sh -c "
	awk '/^CapEff:/ { exit !(\$2 == \"0000000000002000\") }' /proc/$pid/status"
check "read-only root file system" sh -c "[ \"\$(podman inspect '$name' --format '{{.HostConfig.ReadonlyRootfs}}')\" = true ]"
check "seccomp allow-list on inside the container" grep -q 'msg="seccomp allow-list on"' "$TMP/clog"
"${PODMAN[@]}" rm -f -t 2 "$name" >/dev/null 2>&1

# check, one shot, the same way.
"${PODMAN[@]}" run --rm "${RUN_OPTS[@]}" "$tag" check --format=json >"$TMP/check.json" 2>"$TMP/check.err"
rc=$?
check "podman run ... check --format=json exits 0, 1 or 2 (rc $rc)" test "$rc" -le 2
check "its output is advice JSON" validate_json "$SCHEMAS/advice.schema.json" "$TMP/check.json"
finish
