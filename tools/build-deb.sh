#!/usr/bin/env bash
# Build the twaudit .deb with the debian/ packaging (dpkg-buildpackage -us
# -uc -b) in a copy of this working tree, so the source directory stays
# clean and uncommitted files are included (git archive would miss them).
# What .gitignore excludes (build*/, fuzzing output) is not copied, nor .git
# and dist/.
#
# usage: tools/build-deb.sh [OUTDIR] [WORKDIR]
#   OUTDIR   where twaudit_VERSION_ARCH.deb is put (default: dist/)
#   WORKDIR  where the tree is copied and built (default: a temporary
#            directory, removed afterwards; a given one is kept, with the
#            build log WORKDIR/build.log, .buildinfo and .changes)
# TWAUDIT_DEB_SOURCE=1 builds the source package (.dsc) in WORKDIR as well.
# The path of the .deb is the last line of output. Needs debhelper and
# dpkg-dev, plus the Build-Depends of debian/control (make deps).
set -euo pipefail
SRC=$(cd "$(dirname "$0")/.." && pwd)
OUT=$(realpath -m "${1:-$SRC/dist}")

for t in dpkg-buildpackage dh dpkg-checkbuilddeps; do
	command -v "$t" >/dev/null ||
		{ echo "build-deb: $t missing (apt-get install debhelper dpkg-dev)" >&2; exit 1; }
done
(cd "$SRC" && dpkg-checkbuilddeps) ||
	{ echo "build-deb: install the Build-Depends above (make deps)" >&2; exit 1; }

if [ -n "${2:-}" ]; then
	WORK=$(realpath -m "$2")
	case "$SRC/" in "$WORK"/*) echo "build-deb: WORKDIR must not contain the source tree" >&2; exit 1;; esac
	mkdir -p "$WORK"
else
	WORK=$(mktemp -d /tmp/twaudit-deb.XXXXXX)
	trap 'rm -rf "$WORK"' EXIT
fi
VERSION=$(cd "$SRC" && dpkg-parsechangelog -S Version)
ARCH=$(dpkg --print-architecture)
TREE="$WORK/twaudit-${VERSION%-*}"
rm -rf "$TREE" "$WORK"/twaudit_* "$WORK"/twaudit-dbgsym_* "$WORK"/build.log

# The working tree as it is: in a git checkout, the tracked files that still
# exist plus the untracked ones .gitignore does not exclude (so build*/,
# fuzzing output and the like stay out); otherwise everything but build
# directories and VCS data.
mkdir -p "$TREE"
if git -C "$SRC" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	(cd "$SRC" && git ls-files -z --cached --others --exclude-standard |
		while IFS= read -r -d '' f; do
			case "$f" in dist/*) continue;; esac	# earlier `make deb` output
			[ -e "$f" ] || [ -L "$f" ] && printf '%s\0' "$f"
		done | sort -zu | tar -cf - --null --no-recursion -T -) | tar -C "$TREE" -xf -
else
	tar -C "$SRC" -cf - --exclude-vcs --exclude='./build*' --exclude=./dist \
		--exclude='./fuzz/corpus-*' --exclude=./fuzz/artifacts . | tar -C "$TREE" -xf -
fi
rm -rf "$TREE/debian/.debhelper" "$TREE/debian/twaudit" "$TREE/debian/tmp"

# TWAUDIT_DEB_SOURCE=1: the source package too (.dsc, for lintian's source
# checks), from an .orig tarball of the same tree without debian/.
kind=-b
if [ "${TWAUDIT_DEB_SOURCE:-0}" = 1 ]; then
	kind=
	tar -C "$WORK" --exclude="$(basename "$TREE")/debian" -cJf \
		"$WORK/twaudit_${VERSION%-*}.orig.tar.xz" "$(basename "$TREE")"
fi
start=$(date +%s)
if ! (cd "$TREE" && dpkg-buildpackage -us -uc $kind -J"$(nproc)") >"$WORK/build.log" 2>&1; then
	tail -40 "$WORK/build.log" >&2
	echo "build-deb: dpkg-buildpackage failed (log above)" >&2
	exit 1
fi
echo "build-deb: dpkg-buildpackage took $(( $(date +%s) - start ))s" >&2

DEB="$WORK/twaudit_${VERSION}_${ARCH}.deb"
[ -f "$DEB" ] || { echo "build-deb: $DEB not produced" >&2; exit 1; }
mkdir -p "$OUT"
cp "$DEB" "$OUT/"
echo "$OUT/$(basename "$DEB")"
