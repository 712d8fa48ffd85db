#!/usr/bin/env bash
# The Debian package (debian/, tools/build-deb.sh, `make deb`): build it with
# dpkg-buildpackage in a copy of the tree, check its control fields,
# conffiles, maintainer scripts and contents list, lint the binary and
# source packages (no lintian errors or warnings; overrides listed), then install it into a fresh root with
# dpkg --root, run the installed binary, keep a locally edited conffile
# across a reinstall and purge it again.
# Build and lintian take about a minute on two cores, so they are not opt-in;
# TWAUDIT_TEST_DEB=0 skips it (then only the packaging files are checked),
# and so does a sanitizer build dir (the package does not use $BUILD).
. "$(dirname "$0")/lib.sh"

for t in dpkg-buildpackage dh dpkg-deb; do
	command -v "$t" >/dev/null || { echo "SKIP: $t missing (apt-get install debhelper dpkg-dev; make test-deps)"; exit 77; }
done

# --- the packaging files (cheap) ---
D="$SRC/debian"
check "debian/control parses, binary package twaudit" sh -c "cd '$SRC' && dpkg-parsechangelog -S Source | grep -qx twaudit && grep -qx 'Package: twaudit' debian/control"
check "debian/changelog version matches meson.build" sh -c "
	v=\$(cd '$SRC' && dpkg-parsechangelog -S Version)
	m=\$(sed -n \"s/^ *version *: *'\\([^']*\\)'.*/\\1/p\" '$SRC/meson.build' | head -1)
	[ \"\${v%-*}\" = \"\$m\" ]"
check "debian/rules: dh with the meson build system, no dh_auto_test" sh -c "
	grep -q 'dh \$@ --buildsystem=meson' '$D/rules' && grep -q '^override_dh_auto_test:' '$D/rules'"
check "debian/copyright is machine-readable, MIT (Expat) as meson.build says" sh -c "
	head -1 '$D/copyright' | grep -q copyright-format/1.0 && grep -q '^License: Expat' '$D/copyright' &&
	grep -q \"license : 'MIT'\" '$SRC/meson.build'"
check "every lintian override is under a comment saying why" sh -c "
	for f in '$D'/*.lintian-overrides '$D'/source/lintian-overrides; do
		[ -f \"\$f\" ] || continue
		awk '/^#/ {c=1; next} /^[[:space:]]*\$/ {c=0; next} { if (!c) exit 1 }' \"\$f\" || exit 1
	done"

if [ "${TWAUDIT_TEST_DEB:-1}" = 0 ]; then
	echo "ok - # SKIP package build, install and lintian (TWAUDIT_TEST_DEB=0)"
	finish; exit
fi
# The package is built from the sources, not from $BUILD: once per `make
# test` is enough, so the sanitizer build (make test-asan) leaves it out.
san=$(meson introspect "${BUILD:-/nonexistent}" --buildoptions 2>/dev/null |
	$PY -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="b_sanitize"][0])' 2>/dev/null)
if [ -n "$san" ] && [ "$san" != none ]; then
	echo "ok - # SKIP package build, install and lintian in the sanitizer build ($san; run in the plain build)"
	finish; exit
fi
if ! (cd "$SRC" && dpkg-checkbuilddeps) 2>"$TMP/bd"; then
	cat "$TMP/bd"
	echo "SKIP: Build-Depends missing (make deps)"; exit 77
fi

# --- build ---
start=$(date +%s)
# TWAUDIT_DEB_SOURCE=1: the source package as well, so lintian checks both.
DEB=$(TWAUDIT_DEB_SOURCE=1 bash "$SRC/tools/build-deb.sh" "$TMP/out" "$TMP/work" 2>"$TMP/err" | tail -1)
check "tools/build-deb.sh (dpkg-buildpackage -us -uc) produced a .deb in $(( $(date +%s) - start ))s" test -f "$DEB"
[ -f "$DEB" ] || { cat "$TMP/err" >&2; finish; exit; }
check "the source tree was built in a copy (no debian/twaudit, obj-* in \$SRC)" sh -c "
	! [ -e '$SRC/debian/twaudit' ] && ! [ -e '$SRC/debian/.debhelper' ] && ! ls -d '$SRC'/obj-* >/dev/null 2>&1"

# --- control ---
dpkg-deb -f "$DEB" >"$TMP/ctl"
VERSION=$(cd "$SRC" && dpkg-parsechangelog -S Version)
for f in 'Package: twaudit' "Version: $VERSION" "Architecture: $(dpkg --print-architecture)" \
	'Section: net' 'Priority: optional'; do
	check "control: $f" grep -qx "$f" "$TMP/ctl"
done
for lib in libc6 libjansson4 libmicrohttpd12 libnl-3-200 libnl-genl-3-200 libpcap0.8 \
	libseccomp2 libcap-ng0 libyaml-0-2 libgnutls30 zlib1g; do
	check "control: Depends on $lib (shlibs)" grep -qE "^Depends:.*\b$lib\b" "$TMP/ctl"
done
check "control: Maintainer and Description" sh -c "grep -q '^Maintainer: .*<.*@.*>' '$TMP/ctl' && grep -q '^Description: ' '$TMP/ctl'"
mkdir -p "$TMP/ctrl"; dpkg-deb -e "$DEB" "$TMP/ctrl"
check "conffiles: /etc/twaudit/policy.json" grep -qx /etc/twaudit/policy.json "$TMP/ctrl/conffiles"
check "conffiles: /etc/default/twaudit" grep -qx /etc/default/twaudit "$TMP/ctrl/conffiles"
check "postinst: units registered (dh_installsystemd), not enabled or started at install" sh -c "
	grep -q 'deb-systemd-helper debian-installed .twaudit.service' '$TMP/ctrl/postinst' &&
	! grep -qE 'deb-systemd-invoke (\\\$_dh_action|start)' '$TMP/ctrl/postinst'"
check "postinst: upgrades try-restart running units" grep -q 'deb-systemd-invoke try-restart .*twaudit.service' "$TMP/ctrl/postinst"
check "postrm: purge drops the unit state" grep -q 'deb-systemd-helper purge' "$TMP/ctrl/postrm"

# --- contents ---
dpkg-deb -c "$DEB" >"$TMP/list"
awk '{print $NF}' "$TMP/list" | sed 's|^\./|/|' >"$TMP/paths"
for p in /usr/bin/twaudit /etc/twaudit/policy.json /etc/default/twaudit \
	/lib/systemd/system/twaudit.service /lib/systemd/system/twaudit-check.service \
	/lib/systemd/system/twaudit-check.timer /lib/systemd/system/twaudit.socket \
	/usr/share/twaudit/alerts.yml /usr/share/twaudit/alerts_test.yml /usr/share/twaudit/recording-rules.yml \
	/usr/share/twaudit/grafana-dashboard.json /usr/share/twaudit/grafana-fleet.json \
	/usr/share/twaudit/web.yml.example /usr/share/twaudit/policy.json \
	/usr/share/doc/twaudit/copyright /usr/share/doc/twaudit/changelog.Debian.gz \
	/usr/share/doc/twaudit/NEWS.Debian.gz /usr/share/doc/twaudit/README.Debian \
	/usr/share/bash-completion/completions/twaudit /usr/share/zsh/vendor-completions/_twaudit; do
	check "contents: $p" grep -qx "$p" "$TMP/paths"
done
for f in "$SRC"/docs/schema/*.json; do
	check "contents: /usr/share/twaudit/schema/${f##*/}" grep -qx "/usr/share/twaudit/schema/${f##*/}" "$TMP/paths"
done
for d in README $(cd "$SRC/docs" && ls *.md | sed 's/\.md$//'); do
	check "contents: /usr/share/doc/twaudit/$d.md" grep -qE "^/usr/share/doc/twaudit/$d\.md(\.gz)?\$" "$TMP/paths"
done
# README.Debian names files by their shipped names (.gz where dh_compress
# compressed them): every file name it mentions is in the package.
check "README.Debian names only files the package ships" $PY - "$D/twaudit.README.Debian" "$TMP/paths" <<'PYEOF'
import re, sys
text = open(sys.argv[1]).read()
paths = [l.strip() for l in open(sys.argv[2])]
names = set(re.findall(r"[\w/.-]+\.(?:md|gz|yml|json|example|service|socket|timer|Debian)\b", text))
bad = [n for n in sorted(names) if not any(p == n or p.endswith("/" + n.lstrip("/")) for p in paths)]
print("README.Debian names %d files; not shipped: %s" % (len(names), bad), file=sys.stderr)
sys.exit(1 if bad or len(names) < 10 else 0)
PYEOF
check "README.Debian lists every shipped doc" sh -c '
	for p in $(grep "^/usr/share/doc/twaudit/" "$1" | grep -v -e /copyright -e /README.Debian); do
		grep -q "${p##*/}" "$2" || { echo "README.Debian does not name ${p##*/}" >&2; exit 1; }
	done' _ "$TMP/paths" "$D/twaudit.README.Debian"
check "contents: man page (section 8 or 1, compressed)" grep -qE '^/usr/share/man/man[18]/twaudit\.[18]\.gz$' "$TMP/paths"
check "contents: no build leftovers, tests or debug files" sh -c "! grep -qE 'obj-|/build|\.a\$|\.o\$|bench-|/tests?/|\.debug\$' '$TMP/paths'"
check "contents: owned by root" sh -c "! grep -v ' root/root ' '$TMP/list'"
check "binary: stripped, PIE, full RELRO" sh -c "
	d=\$(mktemp -d '$TMP/x.XXXX'); dpkg-deb -x '$DEB' \"\$d\"
	file \"\$d/usr/bin/twaudit\" | grep -q 'stripped' && ! file \"\$d/usr/bin/twaudit\" | grep -q 'not stripped' &&
	readelf -h \"\$d/usr/bin/twaudit\" | grep -q 'DYN' && readelf -d \"\$d/usr/bin/twaudit\" | grep -q BIND_NOW"

# --- lintian ---
if command -v lintian >/dev/null; then
	# --show-overrides: O: lines are the overridden tags (debian/*.lintian-overrides).
	# The .changes: the binary package, the source package and the buildinfo.
	CHANGES=$(ls "$TMP"/work/twaudit_*.changes 2>/dev/null | head -1)
	check "source package built (.dsc, .changes)" test -n "$CHANGES"
	lintian --tag-display-limit 0 --display-info --show-overrides ${CHANGES:-"$DEB"} >"$TMP/lintian" 2>&1
	echo "# lintian: $(grep -c '^E: ' "$TMP/lintian") errors, $(grep -c '^W: ' "$TMP/lintian") warnings, $(grep -c '^I: ' "$TMP/lintian") info, $(grep -c '^O: ' "$TMP/lintian") overridden"
	grep -E '^[EWIXO]: ' "$TMP/lintian" | sed 's/^/  lintian: /'
	check "lintian: no errors" sh -c "! grep -q '^E: ' '$TMP/lintian'"
	check "lintian: no warnings" sh -c "! grep -q '^W: ' '$TMP/lintian'"
else
	echo "ok - # SKIP lintian not installed (apt-get install lintian; make test-deps)"
fi

# --- install into a fresh root ---
# Maintainer scripts run chrootless (the root has no shell) with DPKG_ROOT
# set; the debhelper snippets and deb-systemd-helper honour it, so nothing
# outside the root is touched.
R="$TMP/root"; mkdir -p "$R/var/lib/dpkg/info" "$R/var/lib/dpkg/updates"; : >"$R/var/lib/dpkg/status"
host_state=$(ls -la /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | md5sum)
dpkg_r() { dpkg --root="$R" --force-depends --force-script-chrootless --log=/dev/null "$@"; }
dpkg_r -i "$DEB" >"$TMP/dpkg.log" 2>&1
check "dpkg --root -i installs it (status ii)" grep -q '^ii  twaudit' <(dpkg --root="$R" -l twaudit 2>/dev/null)
# The fresh root has no libc6 etc.: --force-depends, and dpkg's complaints
# about exactly those (the package's Depends) are expected.
grep -vE "Selecting|Reading database|Preparing|Unpacking|Setting up|dependency problems|depends on|is not installed|^dpkg: \$" \
	"$TMP/dpkg.log" | grep -v '^[[:space:]]*$' | sed 's/^/  dpkg: /'
check "maintainer scripts kept their state inside the root (DPKG_ROOT)" test -e "$R/var/lib/systemd/deb-systemd-helper-enabled"
check "installed binary runs: --version" sh -c "'$R/usr/bin/twaudit' --version | grep -q 0.1.0"
check "installed unit runs the installed binary" grep -q '^ExecStart=/usr/bin/twaudit serve ' "$R/lib/systemd/system/twaudit.service"
check "/etc/default/twaudit sets ARGS" grep -qx 'ARGS="--web.listen-address=:9477"' "$R/etc/default/twaudit"
check "check unit writes /var/lib/prometheus/node-exporter/twaudit.prom" \
	grep -q -- '--output=/var/lib/prometheus/node-exporter/twaudit.prom$' "$R/lib/systemd/system/twaudit-check.service"
check "no unit enabled in the root at install" sh -c "! ls '$R'/etc/systemd/system/*.wants/twaudit* >/dev/null 2>&1"
check "host systemd state untouched" test "$host_state" = "$(ls -la /var/lib/systemd/deb-systemd-helper-enabled 2>/dev/null | md5sum)"
"$R/usr/bin/twaudit" check --policy="$R/etc/twaudit/policy.json" --path.procfs="$FIXTURES/linux-6.18" \
	--path.rootfs="$TMP" --format=json >/dev/null 2>"$TMP/perr"; rc=$?
check "installed default policy loads and a clean fixture passes it (rc $rc)" test "$rc" -eq 0
[ "$rc" -eq 0 ] || cat "$TMP/perr" >&2

# An upgrade from a version before 0.1.0-2 removes the twaudit.prom the old
# check unit left in node_exporter's upstream directory (NEWS.Debian); a
# reinstall of the same version leaves that directory alone. The installed
# version is set back in the root's dpkg status to stand for the old one.
OLDTF="$R/var/lib/node_exporter/textfile_collector"
mkdir -p "$OLDTF"; echo 'twaudit_audit_status 0' >"$OLDTF/twaudit.prom"; echo keep >"$OLDTF/other.prom"
dpkg_r -i "$DEB" >"$TMP/dpkg-re.log" 2>&1
check "reinstall of $VERSION keeps the old-path twaudit.prom" test -e "$OLDTF/twaudit.prom"
sed -i "/^Package: twaudit\$/,/^\$/ s/^Version: .*/Version: 0.1.0-1/" "$R/var/lib/dpkg/status"
check "the root's dpkg now says 0.1.0-1" sh -c "dpkg --root='$R' -s twaudit | grep -qx 'Version: 0.1.0-1'"
dpkg_r -i "$DEB" >"$TMP/dpkg-up.log" 2>&1
check "upgrade from 0.1.0-1 removes $OLDTF/twaudit.prom" test ! -e "$OLDTF/twaudit.prom"
check "  and leaves the directory's other files" test -e "$OLDTF/other.prom"
check "NEWS.Debian explains it" sh -c "zcat '$R/usr/share/doc/twaudit/NEWS.Debian.gz' | grep -q /var/lib/prometheus/node-exporter"

# A local edit of a conffile survives a reinstall; purge removes everything.
printf ' ' >>"$R/etc/twaudit/policy.json"
dpkg_r --force-confold -i "$DEB" >"$TMP/dpkg2.log" 2>&1
check "reinstall keeps the edited conffile" sh -c "tail -c1 '$R/etc/twaudit/policy.json' | grep -q ' '"
dpkg_r --purge twaudit >"$TMP/dpkg3.log" 2>&1
check "dpkg --root --purge removes the package" sh -c "! dpkg --root='$R' -l twaudit 2>/dev/null | grep -q '^[ir]i'"
check "purge leaves no files (binary, conffiles, units)" sh -c "
	! [ -e '$R/usr/bin/twaudit' ] && ! [ -e '$R/etc/twaudit' ] && ! [ -e '$R/etc/default/twaudit' ] &&
	! [ -e '$R/lib/systemd/system/twaudit.service' ]"
finish
