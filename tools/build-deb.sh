#!/usr/bin/env bash
# Build twaudit_VERSION_ARCH.deb from this tree, offline: meson install into
# a staging root, then dpkg-shlibdeps for Depends and dpkg-deb --build.
# (No debhelper needed; dpkg-dev provides dpkg-shlibdeps.)
#
# usage: tools/build-deb.sh [OUTDIR] [BUILDDIR]   (default dist/, build-deb/)
# Contents: /usr/bin/twaudit, the systemd units (deploy/*.service.in,
# twaudit-check.timer), man page, /etc/twaudit/policy.json (conffile, the
# default policy), alert and recording rules, Grafana dashboards.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$SRC/dist}")
BUILD=$(realpath -m "${2:-$SRC/build-deb}")
STAGE=$(mktemp -d /tmp/twaudit-deb.XXXXXX)
trap 'rm -rf "$STAGE"' EXIT
ROOT="$STAGE/root"

command -v dpkg-deb >/dev/null || { echo "build-deb: dpkg-deb missing (apt-get install dpkg-dev)" >&2; exit 1; }
VERSION=$(sed -n "s/^ *version *: *'\([^']*\)'.*/\1/p" "$SRC/meson.build" | head -1)
ARCH=$(dpkg --print-architecture)

if [ -f "$BUILD/build.ninja" ]; then
	meson setup --reconfigure "$BUILD" "$SRC" >/dev/null
else
	meson setup "$BUILD" "$SRC" --prefix=/usr --sysconfdir=/etc \
		--buildtype=release -Dtests=false >/dev/null
fi
ninja -C "$BUILD" >/dev/null
DESTDIR="$ROOT" meson install -C "$BUILD" --no-rebuild >/dev/null

# What meson does not install (yet) is put in place here.
share="$ROOT/usr/share/twaudit"
mkdir -p "$share" "$ROOT/etc/twaudit" "$ROOT/usr/share/doc/twaudit"
install -m 0644 "$SRC/deploy/policy.json" "$ROOT/etc/twaudit/policy.json"
for f in alerts.yml recording-rules.yml grafana-dashboard.json grafana-fleet.json web.yml.example; do
	[ -f "$SRC/deploy/$f" ] && [ ! -f "$share/$f" ] && install -m 0644 "$SRC/deploy/$f" "$share/$f"
done
unitdir="$ROOT/usr/lib/systemd/system"
if [ ! -f "$unitdir/twaudit.service" ] && [ ! -f "$ROOT/lib/systemd/system/twaudit.service" ]; then
	mkdir -p "$unitdir"
	for u in "$SRC"/deploy/*.service.in; do
		[ -f "$u" ] && sed 's|@BINDIR@|/usr/bin|g' "$u" >"$unitdir/$(basename "$u" .in)"
	done
	[ -f "$SRC/deploy/twaudit.service" ] && install -m 0644 "$SRC/deploy/twaudit.service" "$unitdir/"
	[ -f "$SRC/deploy/twaudit-check.timer" ] && install -m 0644 "$SRC/deploy/twaudit-check.timer" "$unitdir/"
fi
if [ ! -e "$ROOT/usr/share/man/man1/twaudit.1" ] && [ -f "$SRC/docs/man/twaudit.1" ]; then
	install -D -m 0644 "$SRC/docs/man/twaudit.1" "$ROOT/usr/share/man/man1/twaudit.1"
fi
[ -f "$ROOT/usr/share/man/man1/twaudit.1" ] && gzip -9n "$ROOT/usr/share/man/man1/twaudit.1"
for d in README.md docs/findings.md docs/policy.md docs/fleet.md; do
	[ -f "$SRC/$d" ] && install -m 0644 "$SRC/$d" "$ROOT/usr/share/doc/twaudit/"
done
cat >"$ROOT/usr/share/doc/twaudit/copyright" <<CEOF
Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/
Upstream-Name: twaudit

Files: *
Copyright: twaudit authors
License: MIT
CEOF
printf 'twaudit (%s) unstable; urgency=medium\n\n  * Built from the source tree by tools/build-deb.sh.\n\n -- twaudit maintainers <twaudit@localhost>  %s\n' \
	"$VERSION" "$(date -R -d @"${SOURCE_DATE_EPOCH:-$(date +%s)}")" | gzip -9n >"$ROOT/usr/share/doc/twaudit/changelog.gz"
strip --strip-unneeded --remove-section=.comment --remove-section=.note "$ROOT/usr/bin/twaudit"

# Depends from the binary's shared libraries.
mkdir -p "$STAGE/debian"
printf 'Source: twaudit\n\nPackage: twaudit\nArchitecture: any\n' >"$STAGE/debian/control"
deps=$(cd "$STAGE" && dpkg-shlibdeps -O -e"$ROOT/usr/bin/twaudit" 2>/dev/null | sed -n 's/^shlibs:Depends=//p')
mkdir -p "$ROOT/DEBIAN"
size=$(du -sk --exclude=DEBIAN "$ROOT" | cut -f1)
cat >"$ROOT/DEBIAN/control" <<CEOF
Package: twaudit
Version: $VERSION
Architecture: $ARCH
Maintainer: twaudit maintainers <twaudit@localhost>
Installed-Size: $size
Depends: ${deps:-libc6}
Section: net
Priority: optional
Homepage: https://twaudit.invalid/
Description: audit Linux TCP TIME-WAIT, tcp_tw_recycle and PAWS settings
 twaudit finds the TCP settings and kernel behaviour that make SYNs vanish
 (tcp_tw_recycle with timestamps behind NAT, PAWS refusals by TIME-WAIT
 sockets, tcp_rfc1337, persisted sysctl files) per network namespace, as a
 Prometheus exporter (twaudit serve), a one-shot audit (twaudit check) and
 a fleet report (twaudit report).
CEOF
( cd "$ROOT" && find etc -type f | sed 's|^|/|' ) >"$ROOT/DEBIAN/conffiles"
( cd "$ROOT" && find . -path ./DEBIAN -prune -o -type f -print0 | sort -z |
	xargs -0 md5sum | sed 's| \./| |' ) >"$ROOT/DEBIAN/md5sums"
find "$ROOT" -type d -exec chmod 0755 {} +
mkdir -p "$OUT"
DEB="$OUT/twaudit_${VERSION}_${ARCH}.deb"
dpkg-deb --root-owner-group -Zxz --build "$ROOT" "$DEB" >/dev/null
echo "$DEB"
