# Private apt configuration, sourced by the other tools.
#
# We need things Debian 12's own suites do not give: QEMU 10.2.2's source
# package (from sid), a newer meson (from bookworm-backports), and other
# architectures' binary packages (busybox-static).  The system's
# apt files must never be edited and no mirror's host name may be written into
# the repository, so the mirror is read at run time from the machine's own
# Debian entries and a throw-away apt configuration is built around it.
#
# Usage: source this file, call `apt_private_init DIR` (or
# `apt_private_init_arch DIR ARCH SUITE`), then `apt_private ARGS`.

apt_private_die() {
    echo "luahook tools: $*" >&2
    exit 1
}

# Prints "URI SIGNED_BY" of the machine's main Debian suite (not -security,
# not -updates), from deb822 sources or the one-line sources.list format.
apt_private_mirror() {
    local f found=""
    for f in /etc/apt/sources.list.d/*.sources; do
        [ -r "$f" ] || continue
        # deb822 stanzas are separated by blank lines; take the first one
        # that has Types deb and names the bare release among its Suites.
        found=$(awk '
            function flush() {
                if (!done && is_deb && is_rel && uri != "") { print uri, (key == "" ? "-" : key); done = 1 }
                is_deb = is_rel = 0; uri = key = ""
            }
            /^[ \t]*$/ { flush(); next }
            $1 == "Types:"     { for (i = 2; i <= NF; i++) if ($i == "deb") is_deb = 1 }
            $1 == "Suites:"    { for (i = 2; i <= NF; i++) if ($i == "bookworm") is_rel = 1 }
            $1 == "URIs:"      { uri = $2 }
            $1 == "Signed-By:" { key = $2 }
            END { flush() }' "$f")
        [ -n "$found" ] && break
    done
    if [ -z "$found" ] && [ -r /etc/apt/sources.list ]; then
        found=$(awk '$1 == "deb" && / bookworm / {
                    for (i = 2; i <= NF; i++) if ($i !~ /^\[/) { print $i, "-"; exit } }' \
                /etc/apt/sources.list)
    fi
    [ -n "$found" ] || apt_private_die "no Debian 'bookworm' entry found in /etc/apt (needed to locate the mirror)"
    case "$found" in
        *" -") echo "${found% -} /usr/share/keyrings/debian-archive-keyring.gpg" ;;
        *) echo "$found" ;;
    esac
}

# Sets up DIR as a private apt root whose only sources are STANZAS (deb822
# text in which @URI@ and @KEY@ stand for the machine's mirror and its
# keyring), with any further apt options; call apt_private_refresh next.
apt_private_prepare() {
    APT_PRIVATE_DIR=$1
    local stanzas=$2 mirror uri signed
    shift 2
    mirror=$(apt_private_mirror) || exit 1
    uri=${mirror%% *}
    signed=${mirror#* }
    mkdir -p "$APT_PRIVATE_DIR/sources" "$APT_PRIVATE_DIR/lists/partial" \
             "$APT_PRIVATE_DIR/cache/archives/partial"
    stanzas=${stanzas//@URI@/$uri}
    printf '%s\n' "${stanzas//@KEY@/$signed}" > "$APT_PRIVATE_DIR/sources/luahook.sources"
    APT_PRIVATE_OPTS=(-o Dir::Etc::SourceList=/dev/null
                      -o "Dir::Etc::SourceParts=$APT_PRIVATE_DIR/sources"
                      -o "Dir::State::Lists=$APT_PRIVATE_DIR/lists"
                      -o "Dir::Cache=$APT_PRIVATE_DIR/cache"
                      -o APT::Sandbox::User=root "$@")
}

# Runs apt-get update unless a list matching GLOB is less than a day old
# (one update per day is plenty; a failed one is retried next time).
# Returns apt-get's status; its output goes to stderr.
apt_private_refresh() {
    [ -n "$(find "$APT_PRIVATE_DIR/lists" -maxdepth 1 -name "$1" -mtime -1 2>/dev/null)" ] \
        || apt-get "${APT_PRIVATE_OPTS[@]}" -q update >&2
}

# Sets up DIR as a private apt root: the machine's Debian suites (so
# dependencies resolve), bookworm-backports, and deb-src for sid.
apt_private_init() {
    apt_private_prepare "$1" "Types: deb
URIs: @URI@
Suites: bookworm bookworm-backports
Components: main
Signed-By: @KEY@

Types: deb-src
URIs: @URI@
Suites: sid
Components: main
Signed-By: @KEY@"
    apt_private_refresh '*Sources*' \
        || apt_private_die "apt-get update through the private configuration failed"
}

# Sets up DIR as a private apt root for another architecture's binary
# packages of one suite: apt is told that ARCH is its own architecture, so
# no dpkg foreign architecture is ever added. Returns non-zero when the
# update fails (its output on stderr).
apt_private_init_arch() {
    local dir=$1 arch=$2 suite=$3
    apt_private_prepare "$dir" "Types: deb
URIs: @URI@
Suites: $suite
Components: main
Signed-By: @KEY@" -o "APT::Architecture=$arch" -o "APT::Architectures=$arch"
    apt_private_refresh "*_${suite}_main_binary-${arch}_Packages*"
}

apt_private() {
    apt-get "${APT_PRIVATE_OPTS[@]}" "$@"
}
