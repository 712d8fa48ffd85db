#!/usr/bin/env bash
# Build a twaudit container image from Debian packages alone, no registry
# image: mmdebstrap --variant=essential with the shared libraries the binary
# links against (found with ldd, mapped to their packages with dpkg -S), the
# binary copied in, the root file system imported with `podman import`.
#
#   deploy/container/build-image.sh BINARY [TAG]
#
# TAG defaults to localhost/twaudit:<hash>, where <hash> is the first 16 hex
# digits of SHA-256 over the binary, the package list and the suite: the
# same inputs give the same tag, and an image that already exists under it
# is not built again (TWAUDIT_IMAGE_REBUILD=1 forces it). The last line of
# output is the tag. Needs root (mmdebstrap --mode=root), mmdebstrap,
# podman, and apt sources that reach a Debian mirror (the host's, see
# SUITE/MIRROR below).
set -euo pipefail

bin=${1:?usage: build-image.sh BINARY [TAG]}
SUITE=${SUITE:-$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")}
# Empty MIRROR: mmdebstrap takes the host's apt sources.
MIRROR=${MIRROR:-}

[ -x "$bin" ] || { echo "build-image.sh: $bin is not an executable" >&2; exit 2; }
# copy-in keeps the file name: /usr/bin/twaudit.
[ "$(basename "$bin")" = twaudit ] || { echo "build-image.sh: the binary must be named twaudit" >&2; exit 2; }
for t in mmdebstrap podman dpkg-query ldd sha256sum; do
	command -v "$t" >/dev/null || { echo "build-image.sh: $t missing" >&2; exit 2; }
done

# Runtime packages: the owner of every library ldd resolves, as the host
# has them (the binary was built against them).
# One dpkg-query for all of them (it reads the whole file list per call):
# each library as ldd names it, resolved, and under /usr (merged /usr).
libs=$(ldd "$bin" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' |
	while read -r lib; do
		echo "$lib"; readlink -f "$lib"
		case $lib in /usr/*) ;; *) echo "/usr$lib";; esac
	done | sort -u)
# shellcheck disable=SC2086
pkgs=$( { dpkg-query -S $libs 2>/dev/null || true; } | cut -d: -f1 | sed 's/,.*//' | sort -u | tr '\n' ' ')
pkgs=${pkgs% }
[ -n "$pkgs" ] || { echo "build-image.sh: no runtime packages found for $bin" >&2; exit 2; }

hash=$( { sha256sum <"$bin"; echo "$pkgs"; echo "$SUITE"; cat "$0"; } | sha256sum | cut -c1-16)
tag=${2:-localhost/twaudit:$hash}

if [ "${TWAUDIT_IMAGE_REBUILD:-0}" != 1 ] && podman image exists "$tag"; then
	echo "build-image.sh: $tag exists (same binary and packages), not rebuilt" >&2
	echo "$tag"
	exit 0
fi

work=$(mktemp -d /tmp/twaudit-image.XXXXXX)
trap 'rm -rf "$work"' EXIT
trap 'exit 143' TERM INT HUP
echo "build-image.sh: $SUITE essential + $pkgs" >&2
# --variant=essential: only Essential: yes packages (libc, base-passwd for
# the nobody user, ...) and the runtime libraries; no apt, no shell tools
# beyond those. The hooks copy the binary in and drop apt's and dpkg's
# caches so the tarball holds only what runs.
# shellcheck disable=SC2086
mmdebstrap --mode=root --variant=essential --format=tar \
	--include="$(echo "$pkgs" | tr ' ' ',')" \
	--customize-hook="copy-in $bin /usr/bin" \
	--customize-hook='chmod 0755 "$1/usr/bin/twaudit"' \
	--customize-hook='rm -rf "$1"/var/cache/apt/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
	"$SUITE" "$work/rootfs.tar" $MIRROR >"$work/mmdebstrap.log" 2>&1 || {
	tail -30 "$work/mmdebstrap.log" >&2
	echo "build-image.sh: mmdebstrap failed" >&2
	exit 1
}
podman import --quiet \
	--change 'ENTRYPOINT ["/usr/bin/twaudit"]' \
	--change 'CMD ["serve"]' \
	--change 'EXPOSE 9477/tcp' \
	--change 'USER 0' \
	--message "twaudit on Debian $SUITE ($pkgs)" \
	"$work/rootfs.tar" "$tag" >/dev/null
echo "$tag"
