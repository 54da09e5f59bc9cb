#!/usr/bin/env bash
# Provides real programs nobody here wrote, for the specs: Debian's
# busybox-static for each guest architecture in tools/guest-arches that
# Debian builds it for, fetched through the private apt configuration as
# that architecture's own package (no dpkg foreign architecture), unpacked
# with dpkg -x into the cache ($LUAHOOK_CACHE, default ~/.cache/luahook,
# under foreign/) and linked into DIR as busybox.ARCH (QEMU's name: arm64's
# is busybox.aarch64). And Debian 13's kernel headers (linux-libc-dev, which
# carries every architecture's), linked as DIR/linux-libc-dev: the build
# takes riscv64's from them (tools/meson.build), Debian 12 having no
# riscv64 port and its cross headers (Linux 6.1) predating riscv64's own
# riscv_hwprobe (6.4). A package already in the cache is not
# fetched again.
# usage: tools/foreign-packages.sh DIR   (e.g. build/foreign)
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
source "$here/apt-private.sh"

die() { echo "foreign-packages: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 DIR   (e.g. build/foreign)"
dir=$1
cache=${LUAHOOK_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/luahook}/foreign
package=busybox-static

# The Debian suite that has the package for a Debian architecture, or "-".
# Debian 12 has no riscv64 port (riscv64 is a release architecture from
# Debian 13 on) and no big-endian mips one (dropped after Debian 10).
suite_for() {
    case $1 in
        riscv64) echo trixie ;;
        mips) echo - ;;
        *) echo bookworm ;;
    esac
}

# Downloads package $2 of Debian architecture $1 from suite $3 and unpacks
# it into $4/root ($4: a fresh work directory, removed on failure).
unpack() {
    local arch=$1 name=$2 suite=$3 work=$4 log
    log="$cache/fetch-$arch-$name.log"
    if ! (apt_private_init_arch "$work/apt" "$arch" "$suite" \
          && cd "$work" && apt_private download -q "$name") > "$log" 2>&1; then
        rm -rf "$work"
        die "cannot fetch $name for $arch from Debian's $suite archive (is it reachable? log: $log)"
    fi
    dpkg -x "$work"/"$name"_*.deb "$work/root" || die "dpkg -x failed on $(ls "$work"/*.deb)"
    basename "$work"/"$name"_*.deb > "$work/package"
    rm -f "$log"
}

# Fetches and unpacks the package for Debian architecture $1 into $2.
fetch() {
    local arch=$1 into=$2 work binary
    work=$(mktemp -d "$cache/.fetch-$arch.XXXXXX")
    unpack "$arch" "$package" "$(suite_for "$arch")" "$work"
    # /bin in Debian 12's packages, /usr/bin in Debian 13's (merged /usr)
    for binary in "$work"/root/bin/busybox "$work"/root/usr/bin/busybox ""; do
        [ -x "$binary" ] && break
    done
    [ -n "$binary" ] || { rm -rf "$work"; die "$package for $arch has no bin/busybox"; }
    mkdir -p "$into"
    cp "$binary" "$into/busybox"
    cp "$work/package" "$into/package"
    rm -rf "$work"
}

# Fetches Debian 13's linux-libc-dev (architecture all) into $1: its
# usr/include, whole, once unpacked.
fetch_headers() {
    local into=$1 work
    work=$(mktemp -d "$cache/.fetch-headers.XXXXXX")
    unpack riscv64 linux-libc-dev trixie "$work"
    [ -f "$work/root/usr/include/riscv64-linux-gnu/asm/unistd.h" ] \
        || { rm -rf "$work"; die "linux-libc-dev has no riscv64-linux-gnu/asm/unistd.h"; }
    mv "$work/root" "$into"
    cp "$work/package" "$into/package"
    rm -rf "$work"
}

mkdir -p "$cache" "$dir"
while read -r qemu_arch debian_arch _; do
    case "$qemu_arch" in ''|'#'*) continue ;; esac
    [ "$(suite_for "$debian_arch")" = - ] && continue
    into="$cache/$package/$debian_arch"
    if [ ! -x "$into/busybox" ]; then
        (
            flock 9
            [ -x "$into/busybox" ] || fetch "$debian_arch" "$into"
        ) 9> "$cache/.lock"
    fi
    ln -sfn "$into/busybox" "$dir/busybox.$qemu_arch"
done < "$here/guest-arches"
headers="$cache/linux-libc-dev/trixie"
if [ ! -f "$headers/package" ]; then
    (
        flock 9
        [ -f "$headers/package" ] || { mkdir -p "${headers%/*}"; fetch_headers "$headers"; }
    ) 9> "$cache/.lock"
fi
ln -sfn "$headers" "$dir/linux-libc-dev"
