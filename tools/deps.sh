#!/usr/bin/env bash
# Installs everything luahook's build, tests and reference QEMU need on Debian 12.
# Idempotent: it only calls apt when a package is missing, so `make` stays fast.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
source "$here/apt-private.sh"

system_pkgs=(
    gcc make pkg-config ninja-build
    libluajit-5.1-dev luajit libglib2.0-dev libreadline-dev lua-busted
    linux-libc-dev dpkg-dev xz-utils
    # guest stack traces: elfutils' unwinder and ELF reader (core/unwind.c)
    libdw-dev libelf-dev
    # make bench: GNU time for peak RSS
    time
    # the reference for trace.lua's lines (spec/strace_spec.lua), and real
    # programs nobody here wrote to compare them on (static x86_64 busybox)
    strace busybox-static
    # QEMU's own build
    python3-venv flex bison device-tree-compiler
)

# Guest programs: for each foreign architecture in tools/guest-arches,
# Debian's cross compiler, its C library and its kernel headers (the
# per-architecture data is generated from those); --no-install-recommends
# leaves the C library out unless it is named. gcc-multilib would exclude
# the cross compilers, so i386 uses one too.
host_arch=$(dpkg --print-architecture)
while read -r qemu_arch debian_arch triplet; do
    case "$qemu_arch" in ''|'#'*) continue ;; esac
    [ "$debian_arch" = "$host_arch" ] && continue
    system_pkgs+=("gcc-$triplet" "libc6-dev-$debian_arch-cross" "linux-libc-dev-$debian_arch-cross")
done < "$here/guest-arches"

missing() {
    local p
    for p in "$@"; do
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
    done
}

need_root() {
    [ "$(id -u)" = 0 ] || apt_private_die "missing packages ($*); run this as root or install them with apt-get"
}

todo=$(missing "${system_pkgs[@]}")
if [ -n "$todo" ]; then
    need_root $todo
    echo "luahook: installing $(echo $todo)" >&2
    apt-get -q update >&2 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $todo >&2 \
        || apt_private_die "apt-get install failed for: $(echo $todo)"
fi

# QEMU 10.2 needs meson >= 1.5; Debian 12 has 1.0, bookworm-backports has it.
meson_ok() {
    command -v meson >/dev/null 2>&1 || return 1
    local v
    v=$(meson --version 2>/dev/null) || return 1
    [ "$(printf '1.5.0\n%s\n' "$v" | sort -V | head -n1)" = 1.5.0 ]
}
if ! meson_ok || [ -n "$(missing python3-pycotap)" ]; then
    need_root meson python3-pycotap
    echo "luahook: installing meson and python3-pycotap from bookworm-backports" >&2
    apt_private_init "${LUAHOOK_CACHE:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/luahook}/apt"
    DEBIAN_FRONTEND=noninteractive apt_private install -y -q --no-install-recommends \
        -t bookworm-backports meson python3-pycotap >&2 \
        || apt_private_die "could not install meson from bookworm-backports"
    meson_ok || apt_private_die "meson >= 1.5 still not found after installing it"
fi
