#!/usr/bin/env bash
# Provides the reference QEMU (linux-user, plugins, syscall-filter API) and
# points LINK (e.g. build/qemu) at its install prefix.
#
# Source, first match wins:
#   QEMU_PREFIX=DIR  an existing QEMU install (>= 11.0, or already patched)
#                    whose include/qemu-plugin.h has the syscall-filter API;
#                    used as it is, nothing is built
#   QEMU_SRC=PATH    a local QEMU source tree or tarball; patched unless it
#                    already has the API
#   (default)        Debian's source package qemu=1:10.2.2+ds-1, fetched with
#                    apt-get source through a private apt configuration
# It builds NAME-linux-user for every guest architecture in tools/guest-arches.
# Builds are cached under $LUAHOOK_CACHE (default ~/.cache/luahook), keyed by
# the source, a hash of tools/qemu/patches and the target list, and reused
# when present.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/../apt-private.sh"

die() { echo "reference-qemu: $*" >&2; exit 1; }
say() { echo "reference-qemu: $*" >&2; }

[ $# -eq 1 ] || die "usage: $0 LINK   (e.g. build/qemu)"
link=$1
debian_version=1:10.2.2+ds-1
cache=${LUAHOOK_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/luahook}
api_symbol=qemu_plugin_register_vcpu_syscall_filter_cb
# QEMU's target names, first column of tools/guest-arches
targets=$(awk '!/^#/ && NF { print $1 }' "$here/../guest-arches")
[ -n "$targets" ] || die "no architectures in $here/../guest-arches"

has_api() { grep -q "$api_symbol" "$1" 2>/dev/null; }

point_link_at() {
    mkdir -p "$(dirname "$link")"
    ln -sfn "$1" "$link"
    say "$link -> $1"
}

if [ -n "${QEMU_PREFIX:-}" ]; then
    prefix=$(cd "$QEMU_PREFIX" 2>/dev/null && pwd) || die "QEMU_PREFIX=$QEMU_PREFIX is not a directory"
    for t in $targets; do
        [ -x "$prefix/bin/qemu-$t" ] || die "QEMU_PREFIX=$prefix has no bin/qemu-$t"
    done
    has_api "$prefix/include/qemu-plugin.h" \
        || die "QEMU_PREFIX=$prefix: include/qemu-plugin.h lacks $api_symbol (QEMU >= 11.0 or the patched reference QEMU needed)"
    point_link_at "$prefix"
    exit 0
fi

patch_hash=$(cat "$here"/patches/*.patch | sha256sum | cut -c1-12)
if [ -n "${QEMU_SRC:-}" ]; then
    [ -e "$QEMU_SRC" ] || die "QEMU_SRC=$QEMU_SRC does not exist"
    src_abs=$(readlink -f "$QEMU_SRC")
    if [ -d "$src_abs" ]; then
        [ -f "$src_abs/configure" ] && [ -f "$src_abs/VERSION" ] \
            || die "QEMU_SRC=$QEMU_SRC is not a QEMU source tree (no configure or VERSION)"
        src_id="local-$(cat "$src_abs/VERSION")-$( (echo "$src_abs"; find "$src_abs" -newer "$src_abs/VERSION" -type f -printf '%T@ %p\n' 2>/dev/null | sort | tail -n 20) | sha256sum | cut -c1-8)"
    else
        src_id="tarball-$(sha256sum < "$src_abs" | cut -c1-12)"
    fi
else
    src_id="debian-${debian_version#1:}"
fi
# the target list is part of the key: a build with fewer targets is another build
target_hash=$(echo $targets | sha256sum | cut -c1-8)
key="$src_id-$patch_hash-$target_hash"
prefix="$cache/qemu/$key"

if [ -f "$prefix/.complete" ]; then
    point_link_at "$prefix"
    exit 0
fi

mkdir -p "$cache/qemu"
exec 9> "$cache/qemu/.lock"
flock 9
if [ -f "$prefix/.complete" ]; then       # another build finished meanwhile
    point_link_at "$prefix"
    exit 0
fi

work="$cache/work/$key"
rm -rf "$work"
mkdir -p "$work"

# 1. source
if [ -n "${QEMU_SRC:-}" ]; then
    if [ -d "$src_abs" ]; then
        say "copying $src_abs"
        cp -a "$src_abs" "$work/src"
    else
        say "unpacking $src_abs"
        mkdir "$work/src"
        tar -xf "$src_abs" -C "$work/src" --strip-components=1 \
            || die "cannot unpack QEMU_SRC=$QEMU_SRC as a tarball"
        [ -f "$work/src/configure" ] || die "QEMU_SRC=$QEMU_SRC does not contain a QEMU source tree"
    fi
else
    command -v dpkg-source >/dev/null || die "dpkg-source is missing (apt-get install dpkg-dev)"
    say "fetching Debian source package qemu=$debian_version"
    apt_private_init "$cache/apt"
    (cd "$work" && apt_private source -q "qemu=$debian_version" >&2) \
        || die "apt-get source qemu=$debian_version failed (is the Debian archive reachable?)"
    mv "$work"/qemu-*/ "$work/src" 2>/dev/null || die "apt-get source left no qemu-* directory"
fi

# 2. patches (a source that already has the API, e.g. QEMU >= 11.0, needs none;
#    upstream moved the header from include/qemu/ to include/plugins/)
if has_api "$work/src/include/plugins/qemu-plugin.h" || has_api "$work/src/include/qemu/qemu-plugin.h"; then
    say "source already has the syscall-filter API; not patching"
else
    for p in "$here"/patches/*.patch; do
        say "applying $(basename "$p")"
        patch -d "$work/src" -p1 --forward --quiet < "$p" \
            || die "patch $(basename "$p") does not apply to this QEMU source"
    done
fi

# 3. build and install
for tool in meson ninja flex bison dtc pkg-config; do
    command -v "$tool" >/dev/null || die "$tool is missing (run tools/deps.sh)"
done
mkdir "$work/build"
say "configuring (log: $work/build/config.log)"
(cd "$work/build" && ../src/configure --prefix="$prefix" \
    --python=/usr/bin/python3 \
    --target-list="$(printf '%s-linux-user,' $targets | sed 's/,$//')" \
    --enable-plugins --disable-system --disable-tools --disable-docs \
    --disable-install-blobs --disable-werror > config.log 2>&1) \
    || { tail -n 20 "$work/build/config.log" >&2; die "QEMU configure failed"; }
say "building with $(nproc) jobs (log: $work/build/build.log)"
make -C "$work/build" -j"$(nproc)" > "$work/build/build.log" 2>&1 \
    || { tail -n 30 "$work/build/build.log" >&2; die "QEMU build failed"; }
make -C "$work/build" install > "$work/build/install.log" 2>&1 \
    || { tail -n 20 "$work/build/install.log" >&2; die "QEMU install failed"; }
has_api "$prefix/include/qemu-plugin.h" || die "installed qemu-plugin.h lacks $api_symbol"
touch "$prefix/.complete"
rm -rf "$work"
point_link_at "$prefix"
