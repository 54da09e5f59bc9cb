-- Which arguments of which syscalls are file paths, and how the kernel
-- reads each one: relative to which directory descriptor, whether it
-- follows a symbolic link in the last component, whether NULL or "" stand
-- for the descriptor itself. Scripts that judge paths (scripts/sandbox.lua)
-- read this table rather than knowing syscalls one by one; names cover both
-- guest architectures and those the guest lacks are simply never seen.
-- Socket addresses (AF_UNIX paths inside a sockaddr) are not here: they
-- are structures, not string arguments.
local bit = require "bit"
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local memory = require "luahook._guest.memory"

local paths = {}

-- Flag bits the kernel ABI fixes, the same on every guest architecture
-- but O_NOFOLLOW (0x8000 on arm and aarch64), which comes from its headers.
local AT_SYMLINK_NOFOLLOW = 0x100
local AT_SYMLINK_FOLLOW = 0x400
local AT_EMPTY_PATH = 0x1000
local O_NOFOLLOW = arch.constants().O_NOFOLLOW
local IN_DONT_FOLLOW = 0x02000000
local FAN_MARK_DONT_FOLLOW = 0x04
local UMOUNT_NOFOLLOW = 0x8
local MS_BIND, MS_MOVE = 0x1000, 0x2000
local FSPICK_SYMLINK_NOFOLLOW, FSPICK_EMPTY_PATH = 0x2, 0x8
local MOVE_MOUNT_F_SYMLINKS, MOVE_MOUNT_F_EMPTY_PATH = 0x1, 0x4
local MOVE_MOUNT_T_SYMLINKS, MOVE_MOUNT_T_EMPTY_PATH = 0x10, 0x40
local FSCONFIG_SET_PATH, FSCONFIG_SET_PATH_EMPTY = 3, 4
local RESOLVE_NO_SYMLINKS, RESOLVE_IN_ROOT = 0x04, 0x10

local function has(args, i, flag)
    return bit.band(args[i], flag) ~= 0
end

-- Follow rules: the last component is followed unless flag `bit` is set
-- in argument `i` (unless), or only when it is set (only_if).
local function unless(i, flag)
    return function(args) return not has(args, i, flag) end
end

local function only_if(i, flag)
    return function(args) return has(args, i, flag) end
end

-- openat2's flags and resolve bits live in its struct open_how (u64
-- flags, u64 mode, u64 resolve). Unreadable: nil, "cannot tell".
local function open_how(args)
    local flags = memory.int(args[3], "u64")
    local resolve = memory.int(args[3] + 16, "u64")
    if not flags or not resolve then
        return nil
    end
    return tonumber(bit.band(flags, 0xffffffff)), tonumber(bit.band(resolve, 0xffffffff))
end

local function openat2_follows(args)
    local flags, resolve = open_how(args)
    if not flags then
        return nil
    end
    return bit.band(flags, O_NOFOLLOW) == 0 and bit.band(resolve, RESOLVE_NO_SYMLINKS) == 0
end

local function openat2_in_root(args)
    local _, resolve = open_how(args)
    return resolve == nil or bit.band(resolve, RESOLVE_IN_ROOT) ~= 0
end

---@class luahook.PathArg
---@field arg integer the argument holding the path (1-based)
---@field at? integer the argument holding the directory fd a relative path starts from (else the cwd)
---@field follow? boolean|fun(args: table): boolean? follows a symlink in the last component (nil from the function: cannot tell)
---@field null_ok? boolean a NULL path names the fd in `at` itself
---@field empty? fun(args: table): boolean an empty path names the fd in `at` itself
---@field only? fun(args: table): boolean the argument is a path only when this holds
---@field in_root? fun(args: table): boolean the fd in `at` is the root for this path
---@field target_of? integer a symlink's target: relative to the directory of path spec number `target_of`

local FOLLOW, NOFOLLOW = true, false

-- Shorthands for the common shapes.
local function path(arg, follow) return { arg = arg, follow = follow } end
local function at_path(at, arg, follow, empty_flag_arg)
    return { arg = arg, at = at, follow = follow,
             empty = empty_flag_arg and only_if(empty_flag_arg, AT_EMPTY_PATH) or nil }
end

local TABLE = {
    open = { path(1, unless(2, O_NOFOLLOW)) },
    creat = { path(1, FOLLOW) },
    openat = { at_path(1, 2, unless(3, O_NOFOLLOW)) },
    openat2 = { { arg = 2, at = 1, follow = openat2_follows, in_root = openat2_in_root } },

    stat = { path(1, FOLLOW) }, oldstat = { path(1, FOLLOW) }, stat64 = { path(1, FOLLOW) },
    lstat = { path(1, NOFOLLOW) }, oldlstat = { path(1, NOFOLLOW) }, lstat64 = { path(1, NOFOLLOW) },
    newfstatat = { at_path(1, 2, unless(4, AT_SYMLINK_NOFOLLOW), 4) },
    fstatat64 = { at_path(1, 2, unless(4, AT_SYMLINK_NOFOLLOW), 4) },
    statx = { at_path(1, 2, unless(3, AT_SYMLINK_NOFOLLOW), 3) },
    statfs = { path(1, FOLLOW) }, statfs64 = { path(1, FOLLOW) },

    access = { path(1, FOLLOW) },
    faccessat = { at_path(1, 2, FOLLOW) },
    faccessat2 = { at_path(1, 2, unless(4, AT_SYMLINK_NOFOLLOW), 4) },

    execve = { path(1, FOLLOW) },
    execveat = { at_path(1, 2, unless(5, AT_SYMLINK_NOFOLLOW), 5) },
    uselib = { path(1, FOLLOW) },

    truncate = { path(1, FOLLOW) }, truncate64 = { path(1, FOLLOW) },
    chdir = { path(1, FOLLOW) },
    chroot = { path(1, FOLLOW) },
    pivot_root = { path(1, FOLLOW), path(2, FOLLOW) },

    mkdir = { path(1, NOFOLLOW) }, mkdirat = { at_path(1, 2, NOFOLLOW) },
    rmdir = { path(1, NOFOLLOW) },
    mknod = { path(1, NOFOLLOW) }, mknodat = { at_path(1, 2, NOFOLLOW) },
    unlink = { path(1, NOFOLLOW) }, unlinkat = { at_path(1, 2, NOFOLLOW) },
    rename = { path(1, NOFOLLOW), path(2, NOFOLLOW) },
    renameat = { at_path(1, 2, NOFOLLOW), at_path(3, 4, NOFOLLOW) },
    renameat2 = { at_path(1, 2, NOFOLLOW), at_path(3, 4, NOFOLLOW) },
    -- link() never follows; linkat() only with AT_SYMLINK_FOLLOW
    link = { path(1, NOFOLLOW), path(2, NOFOLLOW) },
    linkat = { at_path(1, 2, only_if(5, AT_SYMLINK_FOLLOW), 5), at_path(3, 4, NOFOLLOW) },
    -- the new link, then the target it will point to
    symlink = { path(2, NOFOLLOW), { arg = 1, target_of = 1 } },
    symlinkat = { at_path(2, 3, NOFOLLOW), { arg = 1, target_of = 1 } },
    readlink = { path(1, NOFOLLOW) }, readlinkat = { { arg = 2, at = 1, follow = NOFOLLOW, empty = function() return true end } },

    chmod = { path(1, FOLLOW) },
    fchmodat = { at_path(1, 2, FOLLOW) },
    fchmodat2 = { at_path(1, 2, unless(4, AT_SYMLINK_NOFOLLOW), 4) },
    chown = { path(1, FOLLOW) }, chown32 = { path(1, FOLLOW) },
    lchown = { path(1, NOFOLLOW) }, lchown32 = { path(1, NOFOLLOW) },
    fchownat = { at_path(1, 2, unless(5, AT_SYMLINK_NOFOLLOW), 5) },

    utime = { path(1, FOLLOW) }, utimes = { path(1, FOLLOW) },
    futimesat = { { arg = 2, at = 1, follow = FOLLOW, null_ok = true } },
    utimensat = { { arg = 2, at = 1, follow = unless(4, AT_SYMLINK_NOFOLLOW), null_ok = true,
                    empty = only_if(4, AT_EMPTY_PATH) } },
    utimensat_time64 = { { arg = 2, at = 1, follow = unless(4, AT_SYMLINK_NOFOLLOW), null_ok = true,
                           empty = only_if(4, AT_EMPTY_PATH) } },

    setxattr = { path(1, FOLLOW) }, lsetxattr = { path(1, NOFOLLOW) },
    getxattr = { path(1, FOLLOW) }, lgetxattr = { path(1, NOFOLLOW) },
    listxattr = { path(1, FOLLOW) }, llistxattr = { path(1, NOFOLLOW) },
    removexattr = { path(1, FOLLOW) }, lremovexattr = { path(1, NOFOLLOW) },
    setxattrat = { at_path(1, 2, unless(3, AT_SYMLINK_NOFOLLOW), 3) },
    getxattrat = { at_path(1, 2, unless(3, AT_SYMLINK_NOFOLLOW), 3) },
    listxattrat = { at_path(1, 2, unless(3, AT_SYMLINK_NOFOLLOW), 3) },
    removexattrat = { at_path(1, 2, unless(3, AT_SYMLINK_NOFOLLOW), 3) },

    -- a bind or move mount's source is a path; other sources are device
    -- names or free text
    mount = { { arg = 1, follow = FOLLOW, only = function(args)
                  return has(args, 4, MS_BIND) or has(args, 4, MS_MOVE)
              end },
              path(2, FOLLOW) },
    umount = { path(1, FOLLOW) },
    umount2 = { path(1, unless(2, UMOUNT_NOFOLLOW)) },
    swapon = { path(1, FOLLOW) }, swapoff = { path(1, FOLLOW) },
    acct = { { arg = 1, follow = FOLLOW, null_ok = true } },
    quotactl = { { arg = 2, follow = FOLLOW, null_ok = true } },
    open_tree = { at_path(1, 2, unless(3, AT_SYMLINK_NOFOLLOW), 3) },
    move_mount = {
        { arg = 2, at = 1, follow = only_if(5, MOVE_MOUNT_F_SYMLINKS),
          empty = only_if(5, MOVE_MOUNT_F_EMPTY_PATH) },
        { arg = 4, at = 3, follow = only_if(5, MOVE_MOUNT_T_SYMLINKS),
          empty = only_if(5, MOVE_MOUNT_T_EMPTY_PATH) },
    },
    fspick = { { arg = 2, at = 1, follow = unless(3, FSPICK_SYMLINK_NOFOLLOW),
                 empty = only_if(3, FSPICK_EMPTY_PATH) } },
    mount_setattr = { at_path(1, 2, unless(3, AT_SYMLINK_NOFOLLOW), 3) },
    fsconfig = { { arg = 4, at = 5, follow = FOLLOW, only = function(args)
                     return args[2] == FSCONFIG_SET_PATH or args[2] == FSCONFIG_SET_PATH_EMPTY
                 end, empty = function(args) return args[2] == FSCONFIG_SET_PATH_EMPTY end } },

    inotify_add_watch = { path(2, unless(3, IN_DONT_FOLLOW)) },
    name_to_handle_at = { at_path(1, 2, only_if(5, AT_SYMLINK_FOLLOW), 5) },
}

-- fanotify_mark's 64-bit mask takes two argument slots on 32-bit guests
-- (an aligned pair on arm and mips, where it falls on an even one anyway).
if context.word_size == 4 then
    TABLE.fanotify_mark = { { arg = 6, at = 5, follow = unless(2, FAN_MARK_DONT_FOLLOW), null_ok = true } }
else
    TABLE.fanotify_mark = { { arg = 5, at = 4, follow = unless(2, FAN_MARK_DONT_FOLLOW), null_ok = true } }
end

--- The path arguments of syscall `name`, or nil when it takes none. The
--- list belongs to this module: read it, do not change it.
---@param name string
---@return luahook.PathArg[]?
function paths.of(name)
    return TABLE[name]
end

--- The names of every syscall with path arguments (both architectures).
---@return string[]
function paths.names()
    local list = {}
    for name in pairs(TABLE) do list[#list + 1] = name end
    table.sort(list)
    return list
end

--- Whether the last component of path `spec` is followed for a call with
--- arguments `args`: true, false, or nil when it cannot be told.
---@param spec luahook.PathArg
---@param args table
---@return boolean?
function paths.follows(spec, args)
    if type(spec.follow) == "function" then
        return spec.follow(args)
    end
    return spec.follow ~= false
end

return paths
