-- Pins: O_PATH descriptors of the objects a guest's path reaches, opened by
-- the kernel's own path walk from the sandbox's private copy of the path.
-- A pin holds the object itself, so whatever renames, symlink swaps or
-- memory writes follow, a call made through the pin reaches what was
-- judged. Each pin is described by its name (what the kernel calls it now,
-- read from /proc/thread-self/fd: the calling thread's own descriptor
-- table), its identity (device and inode) and the identities of the
-- directories above it, up to the root.
local bit = require "bit"
local host = require "luahook._host.host"

local pin = {}

local PIN_FLAGS = bit.bor(host.O_PATH, host.O_CLOEXEC)
local FD_DIR = "/proc/thread-self/fd/"
local STATX_TYPE, STATX_MODE, STATX_NLINK, STATX_INO = 0x1, 0x2, 0x4, 0x100
local IDENTITY_MASK = bit.bor(STATX_TYPE, STATX_MODE, STATX_NLINK, STATX_INO)
local DELETED = " (deleted)"
local MAX_DEPTH = 2048 -- a path of PATH_MAX bytes has fewer components

--- Pins what `text` reaches from directory descriptor `dirfd`: the last
--- component itself when `follow` is false, a directory only when `dir`.
---@return integer? fd
---@return integer? errno
function pin.open(dirfd, text, follow, dir)
    local flags = PIN_FLAGS
    if not follow then flags = bit.bor(flags, host.O_NOFOLLOW) end
    if dir then flags = bit.bor(flags, host.O_DIRECTORY) end
    return host.openat(dirfd, text, flags, 0)
end

--- Pins with openat2's `resolve` rules (RESOLVE_IN_ROOT, ...).
function pin.open2(dirfd, text, follow, dir, resolve)
    local flags = PIN_FLAGS
    if not follow then flags = bit.bor(flags, host.O_NOFOLLOW) end
    if dir then flags = bit.bor(flags, host.O_DIRECTORY) end
    return host.openat2(dirfd, text, flags, 0, resolve)
end

--- A path that leads to exactly what descriptor `fd` holds (the kernel
--- follows it without walking any name again).
---@param fd integer
---@return string
function pin.path(fd)
    return FD_DIR .. fd
end

--- What the kernel calls the object of descriptor `fd` now: an absolute
--- path, or a name such as "pipe:[123]" for an object outside the tree.
--- Nil when it cannot be read.
---@return string?
function pin.name(fd)
    return host.readlinkat(host.AT_FDCWD, FD_DIR .. fd)
end

local function key_of(stx)
    return stx.stx_dev_major .. ":" .. stx.stx_dev_minor .. ":" .. tostring(stx.stx_ino)
end

--- The identity of what `text` names from `dirfd` (the descriptor's own
--- object when `text` is ""), without following a last symlink: a key
--- "major:minor:inode", its mode and link count. Nil and errno if none.
---@return string? key
---@return integer|nil mode_or_errno
---@return integer? nlink
function pin.identity(dirfd, text, follow)
    -- no automount: judging an object must not change the tree
    local flags = bit.bor(host.AT_NO_AUTOMOUNT, text == "" and host.AT_EMPTY_PATH or 0)
    if not follow then flags = bit.bor(flags, host.AT_SYMLINK_NOFOLLOW) end
    local stx, err = host.statx(dirfd, text, flags, IDENTITY_MASK)
    if not stx then return nil, err end
    return key_of(stx), stx.stx_mode, stx.stx_nlink
end

local function split(name)
    local dir, base = name:match("^(.*)/([^/]+)$")
    if dir == "" then dir = "/" end
    return dir, base
end

--- The identities of `fd`'s object (`key`, a directory when `is_dir`) and
--- of every directory above it, nearest first, up to the root. An object
--- outside the tree, or removed from it, has only its own. Nil when the
--- tree changed while it was walked (the object moved away from `name`).
---@param fd integer
---@param name string? the object's name (pin.name)
---@param key string
---@param is_dir boolean
---@param nlink integer
---@return string[]?
function pin.chain(fd, name, key, is_dir, nlink)
    local keys = { key }
    if not name or name:sub(1, 1) ~= "/" or nlink == 0 then
        return keys
    end
    local dir, opened = fd, nil
    if not is_dir then
        -- a file has no "..": walk up from the directory its name is in,
        -- once it is sure to hold this very file under that name
        local parent, base = split(name)
        if not base then return keys end
        opened = pin.open(host.AT_FDCWD, parent, false, true)
        if not opened then return nil end
        if pin.identity(opened, base, false) ~= key then
            host.close(opened)
            return nil
        end
        dir = opened
        keys[2] = pin.identity(opened, "", false)
    end
    local up = ".."
    for _ = 1, MAX_DEPTH do
        local k = pin.identity(dir, up, false)
        if not k or k == keys[#keys] then break end
        keys[#keys + 1] = k
        up = up .. "/.."
    end
    if opened then host.close(opened) end
    return keys
end

--- `name` without the " (deleted)" the kernel appends for an object that
--- has no name left (`nlink` 0).
function pin.undeleted(name, nlink)
    if nlink == 0 and name and name:sub(-#DELETED) == DELETED then
        return name:sub(1, -#DELETED - 1)
    end
    return name
end

return pin
