#!/usr/bin/env bash
# fetch-kernel.sh FLAVOUR: prints the path of Debian 12's vmlinuz for FLAVOUR (amd64,
# cloud-amd64, ...), downloading the package once with apt-get download into the cache
# (${HVRUN_LAB_CACHE:-~/.cache/hvrun-lab}/guest-kernels/).  Its config is beside it.
set -euo pipefail
flavour=${1:?usage: fetch-kernel.sh FLAVOUR}
cache=${HVRUN_LAB_CACHE:-$HOME/.cache/hvrun-lab}/guest-kernels
mkdir -p "$cache"
pkg=$(apt-cache depends "linux-image-$flavour" 2>/dev/null |
	sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
if [ -z "$pkg" ]; then
	apt-get update -qq >/dev/null 2>&1 || true
	pkg=$(apt-cache depends "linux-image-$flavour" |
		sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*\)$/\1/p' | head -n 1)
fi
[ -n "$pkg" ] || { echo "fetch-kernel: no package behind linux-image-$flavour" >&2; exit 1; }
ver=${pkg#linux-image-}
ver=${ver%-unsigned}
out=$cache/vmlinuz-$ver
if [ ! -s "$out" ]; then
	tmp=$(mktemp -d "$cache/.fetch.XXXXXX")
	chmod 755 "$tmp"	# apt-get download hands the file to the _apt user
	trap 'rm -rf "$tmp"' EXIT
	(cd "$tmp" && apt-get download -qq "$pkg" >/dev/null) ||
		(cd "$tmp" && apt-get download -qq "${pkg}-unsigned" >/dev/null) ||
		{ echo "fetch-kernel: apt-get download $pkg failed" >&2; exit 1; }
	dpkg-deb -x "$tmp"/*.deb "$tmp/root"
	cp "$tmp/root/boot/config-$ver" "$cache/config-$ver"
	cp "$tmp/root/boot/vmlinuz-$ver" "$out.tmp"
	mv "$out.tmp" "$out"
fi
echo "$out"
