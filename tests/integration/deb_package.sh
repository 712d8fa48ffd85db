#!/usr/bin/env bash
# tools/build-deb.sh (make deb): build the .deb from this tree in a scratch
# build dir, check its metadata and contents list, install it into a fresh
# root with dpkg --root and run the installed binary; lintian when present.
. "$(dirname "$0")/lib.sh"
command -v dpkg-deb >/dev/null && command -v dpkg-shlibdeps >/dev/null ||
	{ echo "SKIP: dpkg-dev not installed"; exit 77; }
DEB=$(bash "$SRC/tools/build-deb.sh" "$TMP/out" "$TMP/build" 2>"$TMP/err" | tail -1)
check "build-deb.sh produced a .deb" test -f "$DEB"
[ -f "$DEB" ] || { cat "$TMP/err" >&2; finish; exit; }
dpkg-deb -c "$DEB" >"$TMP/list"
for p in ./usr/bin/twaudit ./etc/twaudit/policy.json ./usr/share/man/man1/twaudit.1.gz \
	./usr/share/twaudit/recording-rules.yml ./usr/share/twaudit/grafana-fleet.json \
	./usr/share/twaudit/alerts.yml ./usr/share/doc/twaudit/copyright; do
	check "contents: $p" grep -q " $p\$" "$TMP/list"
done
if [ -f "$SRC/deploy/twaudit.service.in" ] || [ -f "$SRC/deploy/twaudit.service" ]; then
	check "contents: systemd unit" grep -qE ' \./(usr/)?lib/systemd/system/twaudit\.service$' "$TMP/list"
fi
check "owned by root" sh -c "! grep -v ' root/root ' '$TMP/list'"
dpkg-deb -f "$DEB" Package Version Architecture Depends >"$TMP/ctl"
check "control: Package twaudit" grep -qx 'Package: twaudit' "$TMP/ctl"
check "control: Depends on libjansson4" grep -q 'libjansson4' "$TMP/ctl"
check "conffiles: /etc/twaudit/policy.json" sh -c "dpkg-deb --ctrl-tarfile '$DEB' | tar -xO ./conffiles | grep -qx /etc/twaudit/policy.json"

R="$TMP/root"; mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"; : >"$R/var/lib/dpkg/status"
dpkg --root="$R" --force-depends --force-script-chrootless --log=/dev/null -i "$DEB" >"$TMP/dpkg.log" 2>&1
check "dpkg --root -i installs it" grep -q '^ii  twaudit' <(dpkg --root="$R" -l twaudit 2>/dev/null)
check "installed binary runs" "$R/usr/bin/twaudit" --version
"$R/usr/bin/twaudit" check --policy="$R/etc/twaudit/policy.json" --path.procfs="$FIXTURES/linux-6.18" \
	--path.rootfs="$TMP" --format=json >/dev/null 2>"$TMP/perr"; rc=$?
check "installed default policy loads and a clean fixture passes it (rc $rc)" test "$rc" -eq 0
if command -v lintian >/dev/null && [ "${TWAUDIT_TEST_LINTIAN:-0}" = 1 ]; then
	check "lintian: no errors" sh -c "lintian --no-tag-display-limit '$DEB' | grep -v '^W:' | grep -q '^E:' && exit 1 || exit 0"
fi
finish
