-- The path-taking file syscalls, made by the sandbox itself: each pins and
-- judges what its paths reach (luahook.sandbox.call) and then acts on the
-- pins, so the object acted on is the object judged. What QEMU would do
-- with the call is done here too: its flag translation, its /proc/self
-- answers, its -L prefix (luahook._host.linuxuser), its structure layouts
-- (luahook.sandbox.abi). A function per syscall name, taking the call and
-- returning the guest's result.
--
-- Objects are acted on through "/proc/thread-self/fd/N" (pin.path) when a
-- call has no descriptor form: the kernel follows that link to the pinned
-- object itself, a symlink included, without walking a name again. Names
-- are made, removed and renamed relative to a pinned directory.
local bit = require "bit"
local ffi = require "ffi"
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local host = require "luahook._host.host"
local hostcall = require "luahook.hostcall"
local linuxuser = require "luahook._host.linuxuser"
local memory = require "luahook._guest.memory"
local pin = require "luahook._host.pin"
local abi = require "luahook.sandbox.abi"
local call_describe = require("luahook.sandbox.call").describe
local fdguard = require "luahook.sandbox.fdguard"
local follow = require "luahook._core.follow"

local E = require("luahook._guest.errno").codes
local AGAIN = require("luahook._core.context").AGAIN
local band, bor, bnot = bit.band, bit.bor, bit.bnot
local AT_FDCWD = host.AT_FDCWD
local AT_SYMLINK_NOFOLLOW, AT_SYMLINK_FOLLOW = host.AT_SYMLINK_NOFOLLOW, host.AT_SYMLINK_FOLLOW
local AT_EMPTY_PATH, AT_REMOVEDIR = host.AT_EMPTY_PATH, host.AT_REMOVEDIR
local O_CREAT, O_EXCL, O_NOFOLLOW = host.O_CREAT, host.O_EXCL, host.O_NOFOLLOW
local O_DIRECTORY, O_PATH = host.O_DIRECTORY, host.O_PATH
local RESOLVE_NO_MAGICLINKS, RESOLVE_NO_SYMLINKS = 0x02, 0x04
local IN_DONT_FOLLOW = 0x02000000
local STATX_BASIC_STATS = host.STATX_BASIC_STATS
local MAX_LINKS = 40 -- the kernel's limit on symlinks in one path: ELOOP beyond
local XATTR_SIZE_MAX = 65536
-- QEMU's own code for "run this syscall again" (linux-user special-errno.h)

local files = {}

local function has(v, flag) return band(v, flag) ~= 0 end

-- The path at argument `i` with QEMU's -L prefix put before it when QEMU
-- would (`prefix`), or nil and the result.
local function path_arg(c, i, prefix)
    local text, r = c:text(i)
    if not text then return nil, r end
    if prefix then text = c:prefixed(text) end
    return text
end

-- The target of the path at argument `i` (from the directory descriptor
-- at argument `at`, else the cwd), or nil and the result.
local function target(c, i, at, opts)
    local text, r = path_arg(c, i, opts.prefix)
    if not text then return nil, r end
    return c:object(at and c:int(at) or AT_FDCWD, text, opts)
end

-- The guest's buffer of `size` bytes at `addr` filled with `bytes` (QEMU
-- writes what the host wrote): nil when it cannot be written (EFAULT).
local function put(addr, bytes)
    if #bytes == 0 then return true end
    return memory.write(addr, bytes)
end

---------------------------------------------------------------------------
-- open, openat, openat2, creat

local open_path

-- Objects an open may wait on: a FIFO (until its other end is opened) and
-- a character device (a terminal line, until it is connected).
local S_IFIFO, S_IFCHR = 0x1000, 0x2000
local function may_wait(mode)
    local kind = band(mode, host.S_IFMT)
    return kind == S_IFIFO or kind == S_IFCHR
end

-- Opens the existing object of target `t` with the guest's `flags`.
local function open_object(c, t, flags, mode)
    if has(flags, O_CREAT) and has(flags, O_EXCL) then
        return -E.EEXIST
    end
    if host.is_link(t.mode) then
        return -E.ELOOP -- O_NOFOLLOW on a symlink
    end
    flags = band(flags, bnot(O_NOFOLLOW + O_EXCL))
    if may_wait(t.mode) and hostcall.available("openat") then
        local path = pin.path(c:lift(t.fd))
        return c:hand_over("openat", { path }, AT_FDCWD, path, flags, mode)
    end
    local fd, err = host.openat(AT_FDCWD, pin.path(t.fd), flags, mode)
    return c:give(fd, flags) or -err
end

-- Creates the last component of `text` (from `dirfd`), which did not
-- exist: judged by the name it gets and the directories above it.
local function open_new(c, dirfd, text, flags, mode, depth)
    if fdguard.busy() then return AGAIN end
    local p, r = c:place(dirfd, text)
    if not p then return r end
    if p.child_key then
        -- a dangling symlink the kernel would follow, or a file made meanwhile
        local plain = p.base:gsub("/+$", "")
        if host.is_link(p.child_mode) and not has(flags, O_EXCL + O_NOFOLLOW) then
            local link = host.readlinkat(p.fd, plain)
            if not link then return -E.ENOENT end
            return open_path(c, link:sub(1, 1) == "/" and AT_FDCWD or p.fd, link, flags, mode, depth + 1)
        end
        return open_path(c, p.fd, p.base, flags, mode, depth + 1)
    end
    local denied = c:check_child(p, text)
    if denied then return denied end
    -- exclusive, so that a file made meanwhile is judged before it is opened
    local fd, err = host.openat(p.fd, p.base, bor(flags, O_EXCL), mode)
    if not fd and err == E.EEXIST and not has(flags, O_EXCL) then
        return open_path(c, p.fd, p.base, flags, mode, depth + 1)
    end
    return c:give(fd, flags) or -err
end

-- Opens `text` from `dirfd` with host `flags`: pins it, judges it, opens
-- the pinned object; or creates it. `resolve`: openat2's bits; `made_up`:
-- the path as the guest gave it, when QEMU would answer some /proc/self
-- files itself (before it puts -L before the path).
function open_path(c, dirfd, text, flags, mode, depth, resolve, made_up)
    if depth > MAX_LINKS then return -E.ELOOP end
    if has(flags, O_CREAT) and text:match("[^/]/+$") then
        -- the kernel makes no directory: once the parent is found, EISDIR
        local _, r = c:place(dirfd, text)
        return r or -E.EISDIR
    end
    local follow = not has(flags, O_NOFOLLOW)
    local t, err
    if has(flags, O_PATH) then
        -- the guest asks for a pin itself: give it the one judged
        local fd
        if resolve then
            fd, err = host.openat2(dirfd, text, flags, mode, resolve)
        else
            fd, err = host.openat(dirfd, text, flags, mode)
        end
        t = fd and (call_describe(fd) or false)
        if fd and not c:give(fd, flags) then host.close(fd) end
    else
        t, err = c:reach(dirfd, text, { follow = follow, dir = has(flags, O_DIRECTORY), resolve = resolve })
    end
    if made_up then
        -- QEMU decides on the guest's path, every symlink followed
        local reached = made_up == text and follow and t and t.name or host.realpath(made_up)
        if linuxuser.made_up_file(made_up, dirfd, reached) then
            if c.given then host.close(c.given) c.given = nil end
            return c:deny(text, nil, "QEMU makes it up from its own state, which the sandbox cannot do")
        end
    end
    if t == nil then
        if err == E.ENOENT and has(flags, O_CREAT) then
            return open_new(c, dirfd, text, flags, mode, depth)
        end
        return c:unreached(dirfd, text, follow, err)
    end
    local denied = c:check(t or nil, text)
    if denied then
        if c.given then host.close(c.given) c.given = nil end
        return denied
    end
    if has(flags, O_PATH) then return c.given end
    return open_object(c, t, flags, mode)
end

-- The flags are checked by the kernel before any path: a descriptor that
-- cannot exist (-1) and a relative path show its answer without a walk.
local function invalid_flags(flags, mode, resolve)
    local _, err
    if resolve then
        _, err = host.openat2(-1, "x", flags, mode, resolve)
    else
        _, err = host.openat(-1, "x", flags, mode)
    end
    return err ~= E.EBADF and err or nil
end

-- open and openat after QEMU's own handling of /proc/self files
-- (`emulated`: not for creat) and its -L prefix (`prefix`).
local function guest_open(c, dirfd, text, flags, mode, opts)
    if opts.emulated and linuxuser.opens_program(text) then
        if opts.resolve and has(opts.resolve, RESOLVE_NO_MAGICLINKS + RESOLVE_NO_SYMLINKS) then
            return -E.ELOOP
        end
        -- QEMU opens the guest's program (plain openat, resolve ignored)
        local program = linuxuser.program()
        if not program then return -E.ENOENT end
        return open_path(c, AT_FDCWD, program, flags, mode, 0)
    end
    local bad = invalid_flags(flags, mode, opts.resolve)
    if bad then return -bad end
    local given = text
    if opts.prefix then text = c:prefixed(text) end
    return open_path(c, dirfd, text, flags, mode, 0, opts.resolve, opts.emulated and given)
end

files.open = function(c)
    local text, r = c:text(1)
    if not text then return r end
    return guest_open(c, AT_FDCWD, text, linuxuser.open_flags(c.args[2]), c:uint(3),
                      { emulated = true, prefix = true })
end

files.openat = function(c)
    local text, r = c:text(2)
    if not text then return r end
    return guest_open(c, c:int(1), text, linuxuser.open_flags(c.args[3]), c:uint(4),
                      { emulated = true, prefix = true })
end

files.creat = function(c)
    local text, r = c:text(1)
    if not text then return r end
    return guest_open(c, AT_FDCWD, text, bor(O_CREAT, host.O_WRONLY, host.O_TRUNC), c:uint(2), {})
end

local OPEN_HOW_SIZE = 24 -- u64 flags, mode, resolve

-- Reads openat2's struct open_how as QEMU's copy_struct_from_user does:
-- a shorter one is EINVAL, a longer one must end in zeros (E2BIG).
local function read_open_how(addr, size)
    if size < OPEN_HOW_SIZE then return nil, -E.EINVAL end
    local at = addr + OPEN_HOW_SIZE
    while at < addr + size do
        local n = math.min(addr + size - at, 4096 - at % 4096)
        local bytes = memory.read(at, n)
        if not bytes then return nil, -E.EFAULT end
        if bytes:find("[^%z]") then return nil, -E.E2BIG end
        at = at + n
    end
    local flags = memory.int(addr, "u64")
    local mode = memory.int(addr + 8, "u64")
    local resolve = memory.int(addr + 16, "u64")
    if not (flags and mode and resolve) then return nil, -E.EFAULT end
    return { flags = flags, mode = mode, resolve = resolve }
end

files.openat2 = function(c)
    local size = tonumber(c.args[4]) or math.huge
    local how, r = read_open_how(c.args[3], size)
    if not how then return r end
    local text
    text, r = c:text(2)
    if not text then return r end
    return guest_open(c, c:int(1), text, linuxuser.open_flags(how.flags), how.mode,
                      { emulated = true, resolve = how.resolve })
end

---------------------------------------------------------------------------
-- stat and friends

local function stat_into(kind, addr)
    return function(c, t)
        local stx, err = host.statx(t.fd, "", AT_EMPTY_PATH, STATX_BASIC_STATS)
        if not stx then return -err end
        if not abi.write_stat(kind, addr(c), stx) then return -E.EFAULT end
        return 0
    end
end

-- A call on the object its path reaches: `path` and `at` its arguments,
-- `follow` whether the last symlink is followed (a function of the
-- arguments, or a boolean), `empty` whether "" stands for the descriptor
-- (a function), `prefix` whether QEMU puts -L before the path; `prepare`
-- reads what QEMU reads before the path (a result ends the call there);
-- `act` makes the call on the target.
local function on_object(spec)
    return function(c)
        if spec.prepare then
            local r = spec.prepare(c)
            if r then return r end
        end
        local follow = spec.follow
        if type(follow) == "function" then follow = follow(c) end
        local t, r = target(c, spec.path, spec.at, {
            follow = follow ~= false, empty = spec.empty and spec.empty(c), prefix = spec.prefix,
        })
        if not t then return r end
        return spec.act(c, t)
    end
end

local function unless_flag(i, flag)
    return function(c) return not has(c:int(i), flag) end
end

local function flag_set(i, flag)
    return function(c) return has(c:int(i), flag) end
end

local function arg_addr(i) return function(c) return c.args[i] end end

files.stat = on_object { path = 1, prefix = true, act = stat_into("stat", arg_addr(2)) }
files.lstat = on_object { path = 1, prefix = true, follow = false, act = stat_into("stat", arg_addr(2)) }
files.stat64 = on_object { path = 1, prefix = true, act = stat_into("stat64", arg_addr(2)) }
files.lstat64 = on_object { path = 1, prefix = true, follow = false,
                            act = stat_into("stat64", arg_addr(2)) }

-- fstatat64 (i386) and newfstatat (x86_64): flags checked as the kernel
-- checks them before the path.
local FSTATAT_FLAGS = bor(AT_SYMLINK_NOFOLLOW, host.AT_NO_AUTOMOUNT, AT_EMPTY_PATH)
local fstatat = on_object {
    path = 2, at = 1, prefix = true, follow = unless_flag(4, AT_SYMLINK_NOFOLLOW),
    empty = flag_set(4, AT_EMPTY_PATH), act = stat_into("stat64", arg_addr(3)),
    prepare = function(c)
        if band(c:int(4), bnot(FSTATAT_FLAGS)) ~= 0 then return -E.EINVAL end
    end,
}
files.fstatat64 = fstatat
files.newfstatat = fstatat

local STATX_FLAGS = bor(FSTATAT_FLAGS, host.AT_STATX_SYNC_TYPE)
local STATX__RESERVED = 0x80000000

local statx = on_object {
    path = 2, at = 1, follow = unless_flag(3, AT_SYMLINK_NOFOLLOW), empty = flag_set(3, AT_EMPTY_PATH),
    prepare = function(c)
        local flags = c:int(3)
        if band(flags, bnot(STATX_FLAGS)) ~= 0 or band(flags, host.AT_STATX_SYNC_TYPE) == host.AT_STATX_SYNC_TYPE
            or band(c:uint(4), STATX__RESERVED) ~= 0 then
            return -E.EINVAL
        end
    end,
    act = function(c, t)
        local sync = band(c:int(3), bor(host.AT_STATX_SYNC_TYPE, host.AT_NO_AUTOMOUNT))
        local stx, err = host.statx(t.fd, "", bor(AT_EMPTY_PATH, sync), c:uint(4))
        if not stx then return -err end
        if not abi.write_statx(c.args[5], stx) then return -E.EFAULT end
        return 0
    end,
}
files.statx = function(c)
    if c.args[2] == 0 then return nil end -- no path: the descriptor's (QEMU's own)
    return statx(c)
end

local function statfs_into(kind, buf_arg)
    return function(c, t)
        local sfs, err = host.fstatfs(t.fd)
        if not sfs then return -err end
        if not abi.write_statfs(kind, c.args[buf_arg], sfs) then return -E.EFAULT end
        return 0
    end
end
files.statfs = on_object { path = 1, prefix = true, act = statfs_into("statfs", 2) }
-- QEMU ignores statfs64's size argument
files.statfs64 = on_object { path = 1, prefix = true, act = statfs_into("statfs64", 3) }

---------------------------------------------------------------------------
-- access, readlink, truncate, chdir, chmod, chown, times, xattrs

local function access_with(mode_arg, flags_of)
    return function(c, t)
        local flags = band(flags_of(c), bnot(AT_SYMLINK_NOFOLLOW + AT_EMPTY_PATH))
        local ok, err = host.faccessat(AT_FDCWD, pin.path(t.fd), c:int(mode_arg), flags)
        return ok or -err
    end
end
files.access = on_object { path = 1, prefix = true, act = access_with(2, function() return 0 end) }
files.faccessat = on_object { path = 2, at = 1, act = access_with(3, function() return 0 end) }
files.faccessat2 = on_object {
    path = 2, at = 1, follow = unless_flag(4, AT_SYMLINK_NOFOLLOW), empty = flag_set(4, AT_EMPTY_PATH),
    prepare = function(c)
        local _, err = host.faccessat(-1, "x", c:int(3), c:int(4))
        if err ~= E.EBADF then return -err end
    end,
    act = access_with(3, function(c) return c:int(4) end),
}

-- readlink and readlinkat, where QEMU answers /proc/self/exe itself.
local function readlink_at(c, dirfd, path_i, buf, size)
    local text, r = path_arg(c, path_i, true)
    if not text then return r end
    -- the link itself is judged, as for any readlink
    local t
    t, r = c:object(dirfd, text, { follow = false, empty = true })
    if not t then return r end
    local answer, err
    if linuxuser.is_proc_myself(text, "exe") then
        answer = (linuxuser.program() or ""):sub(1, size)
    elseif not host.is_link(t.mode) then
        return -E.EINVAL
    else
        answer, err = host.readlinkat(t.fd, "", size)
        if not answer then return -err end
    end
    if not put(buf, answer) then return -E.EFAULT end
    return #answer
end

files.readlink = function(c)
    local size = c:int(3)
    if c.args[2] == 0 then return -E.EFAULT end
    if size <= 0 then return -E.EINVAL end
    return readlink_at(c, AT_FDCWD, 1, c.args[2], size)
end

files.readlinkat = function(c)
    local size = c:int(4)
    if c.args[3] == 0 then return -E.EFAULT end
    if size <= 0 then return -E.EINVAL end
    return readlink_at(c, c:int(1), 2, c.args[3], size)
end

-- truncate's length: a long; truncate64's: two words (luahook._guest.arch: from
-- an even register on arm and mips, high word first on big-endian mips)
local function truncate_to(length_of)
    return function(c, t)
        local ok, err = host.truncate(pin.path(t.fd), length_of(c))
        return ok or -err
    end
end
files.truncate = on_object { path = 1, act = truncate_to(function(c)
    return context.word_size == 4 and c:int(2) or ffi.cast("int64_t", c.args[2])
end) }
files.truncate64 = on_object { path = 1, act = truncate_to(function(c)
    local i = arch.roles.aligned_pairs and 3 or 2
    local low, high = c:uint(i), c:uint(i + 1)
    if context.big_endian then low, high = high, low end
    return ffi.cast("int64_t", high) * 0x100000000LL + low
end) }

files.chdir = on_object { path = 1, act = function(_, t)
    local ok, err = host.fchdir(t.fd)
    return ok or -err
end }

local function chmod_with(mode_arg)
    return function(c, t)
        local ok, err = host.fchmodat(AT_FDCWD, pin.path(t.fd), c:uint(mode_arg), 0)
        return ok or -err
    end
end
files.chmod = on_object { path = 1, act = chmod_with(2) }
files.fchmodat = on_object { path = 2, at = 1, act = chmod_with(3) }

-- chown: 16-bit ids on i386 (chown, lchown; and fchownat, as QEMU reads
-- it), 32-bit ones otherwise.
local function chown_with(uid_arg, gid_arg, ids16)
    return function(c, t)
        local uid, gid = c:uint(uid_arg), c:uint(gid_arg)
        if ids16 then
            uid, gid = linuxuser.id16(uid), linuxuser.id16(gid)
        end
        local ok, err = host.fchownat(t.fd, "", uid, gid, AT_EMPTY_PATH)
        return ok or -err
    end
end
files.chown = on_object { path = 1, act = chown_with(2, 3, true) }
files.lchown = on_object { path = 1, follow = false, act = chown_with(2, 3, true) }
files.chown32 = on_object { path = 1, act = chown_with(2, 3) }
files.lchown32 = on_object { path = 1, follow = false, act = chown_with(2, 3) }
files.fchownat = on_object {
    path = 2, at = 1, follow = unless_flag(5, AT_SYMLINK_NOFOLLOW), empty = flag_set(5, AT_EMPTY_PATH),
    prepare = function(c)
        local _, err = host.fchownat(-1, "x", 0, 0, c:int(5))
        if err ~= E.EBADF then return -err end
    end,
    act = chown_with(3, 4, true),
}

-- utime, utimes, futimesat, utimensat: the times (read before the path, as
-- QEMU does), then the call through the pin.
local function set_times(_, t, times)
    local ok, err = host.utimensat(AT_FDCWD, pin.path(t.fd), times, 0)
    return ok or -err
end

local function times_then(kind, times_arg, spec)
    spec.act = function(c, t) return set_times(c, t, c.times) end
    local call_on_object = on_object(spec)
    return function(c)
        if c.args[times_arg] ~= 0 then
            c.times = abi.read_times(kind, c.args[times_arg])
            if not c.times then return -E.EFAULT end
        end
        if spec.null_ok and c.args[spec.path] == 0 then
            return nil -- no path: the descriptor's own times (QEMU's)
        end
        if spec.check then
            local _, err = host.utimensat(-1, "x", c.times, c:int(spec.check))
            if err ~= E.EBADF then return -err end
        end
        return call_on_object(c)
    end
end
files.utime = times_then("utimbuf", 2, { path = 1 })
files.utimes = times_then("timeval", 2, { path = 1 })
files.futimesat = times_then("timeval", 3, { path = 2, at = 1, prefix = true, null_ok = true })
local function utimensat(kind)
    return times_then(kind, 3, {
        path = 2, at = 1, prefix = true, null_ok = true, check = 4,
        follow = unless_flag(4, AT_SYMLINK_NOFOLLOW), empty = flag_set(4, AT_EMPTY_PATH),
    })
end
files.utimensat = utimensat("timespec")
files.utimensat_time64 = utimensat("timespec64")

-- The extended attribute calls: the l-variants pin the symlink itself,
-- and the call through the pin then reaches that very symlink. QEMU reads
-- the value buffer (checked first) and the attribute's name before the
-- path; `buf_arg` and `size_arg` say where the buffer is.
local function xattr_args(buf_arg, size_arg)
    return function(c)
        local addr = buf_arg and c.args[buf_arg] or 0
        local size = buf_arg and c:uint(size_arg) or 0
        if addr ~= 0 and size > 0 and not memory.read(addr, 1) then
            return -E.EFAULT
        end
        if buf_arg ~= 2 then
            c.xattr = memory.string(c.args[2], 256)
            if not c.xattr then return -E.EFAULT end
        end
        return nil
    end
end

-- Fills the guest's buffer (argument `buf_arg`, size at `size_arg`) with
-- what `fill(c, path, buf, size)` gets through the pin.
local function filling(buf_arg, size_arg, fill)
    return function(c, t)
        local addr = c.args[buf_arg]
        local size = math.min(c:uint(size_arg), XATTR_SIZE_MAX)
        local buf = addr ~= 0 and ffi.new("char[?]", math.max(size, 1)) or nil
        local n, err = fill(c, pin.path(t.fd), buf, buf and size or 0)
        if not n then return -err end
        if buf and not put(addr, ffi.string(buf, n)) then return -E.EFAULT end
        return n
    end
end

local get_value = filling(3, 4, function(c, path, buf, size) return host.getxattr(path, c.xattr, buf, size) end)
local list_names = filling(2, 3, function(_, path, buf, size) return host.listxattr(path, buf, size) end)

local function set_value(c, t)
    local size, value = c:uint(4), ""
    if c.args[3] ~= 0 and size > 0 then
        if size > XATTR_SIZE_MAX then
            value = nil -- too large: the kernel refuses it unread (E2BIG)
        else
            value = memory.read(c.args[3], size)
            if not value then return -E.EFAULT end
        end
    end
    local ok, err = host.setxattr(pin.path(t.fd), c.xattr, value, size, c:int(5))
    return ok or -err
end

local function remove_value(c, t)
    local ok, err = host.removexattr(pin.path(t.fd), c.xattr)
    return ok or -err
end

for _, l in ipairs({ "", "l" }) do
    local follow = l == ""
    files[l .. "getxattr"] = on_object { path = 1, follow = follow, prepare = xattr_args(3, 4), act = get_value }
    files[l .. "listxattr"] = on_object { path = 1, follow = follow, prepare = xattr_args(2, 3), act = list_names }
    files[l .. "setxattr"] = on_object { path = 1, follow = follow, prepare = xattr_args(3, 4), act = set_value }
    files[l .. "removexattr"] = on_object { path = 1, follow = follow, prepare = xattr_args(), act = remove_value }
end

files.inotify_add_watch = on_object {
    path = 2, prefix = true, follow = unless_flag(3, IN_DONT_FOLLOW),
    act = function(c, t)
        local wd, err = host.inotify_add_watch(c:int(1), pin.path(t.fd), band(c:uint(3), bnot(IN_DONT_FOLLOW)))
        return wd or -err
    end,
}

local MAX_HANDLE_SZ = 128
files.name_to_handle_at = on_object {
    path = 2, at = 1, prefix = true, follow = flag_set(5, AT_SYMLINK_FOLLOW), empty = flag_set(5, AT_EMPTY_PATH),
    prepare = function(c)
        c.handle_size = memory.int(c.args[3], "u32")
        if not c.handle_size then return -E.EFAULT end
    end,
    act = function(c, t)
        local size = c.handle_size
        local fh = ffi.new("struct lh_host_file_handle")
        fh.handle_bytes = size
        local mount_id = ffi.new("int[1]")
        local ok, err = host.name_to_handle_at(t.fd, "", fh, mount_id,
            bor(AT_EMPTY_PATH, band(c:int(5), bnot(AT_SYMLINK_FOLLOW + AT_EMPTY_PATH))))
        -- QEMU copies the handle back whatever the result
        local kept = math.min(size, MAX_HANDLE_SZ)
        if not put(c.args[3], ffi.string(fh, 8 + kept) .. string.rep("\0", size - kept)) then
            return -E.EFAULT
        end
        if not ok then return -err end
        if not memory.write_int(c.args[4], "i32", mount_id[0]) then return -E.EFAULT end
        return ok
    end,
}

---------------------------------------------------------------------------
-- making, removing and renaming names

-- A call on the place its path names (the directory and the last
-- component): `act` gets the place once it and the name are judged.
local function on_place(path, at, act)
    return function(c)
        if fdguard.busy() then return AGAIN end
        local text, r = c:text(path)
        if not text then return r end
        local p
        p, r = c:judged_place(at and c:int(at) or AT_FDCWD, text)
        if not p then return r end
        return act(c, p, text)
    end
end

local function result(ok, err) return ok or -err end

files.mkdir = on_place(1, nil, function(c, p) return result(host.mkdirat(p.fd, p.base, c:uint(2))) end)
files.mkdirat = on_place(2, 1, function(c, p) return result(host.mkdirat(p.fd, p.base, c:uint(3))) end)
files.mknod = on_place(1, nil, function(c, p)
    return result(host.mknodat(p.fd, p.base, c:uint(2), ffi.cast("uint64_t", c.args[3])))
end)
files.mknodat = on_place(2, 1, function(c, p)
    return result(host.mknodat(p.fd, p.base, c:uint(3), ffi.cast("uint64_t", c.args[4])))
end)
files.rmdir = on_place(1, nil, function(_, p) return result(host.unlinkat(p.fd, p.base, AT_REMOVEDIR)) end)
files.unlink = on_place(1, nil, function(_, p) return result(host.unlinkat(p.fd, p.base, 0)) end)
files.unlinkat = function(c)
    local _, err = host.unlinkat(-1, "x", c:int(3))
    if err ~= E.EBADF then return -err end
    return on_place(2, 1, function(cc, p) return result(host.unlinkat(p.fd, p.base, cc:int(3))) end)(c)
end

-- symlink: the new name is judged where it is made, and the target as the
-- link will lead (resolved from the link's directory, followed), so no
-- link points into a denied place.
local function symlink(target_arg, path, at)
    return on_place(path, at, function(c, p, text)
        local link, r = c:text(target_arg)
        if not link then return r end
        local denied = c.judge.check_target(c, link, p.name, text)
        if denied then return denied end
        return result(host.symlinkat(link, p.fd, p.base))
    end)
end
files.symlink = symlink(1, 2)
files.symlinkat = symlink(1, 3, 2)

-- The start of a call with two paths and flags (rename, link): the flags
-- as the kernel checks them first (`probe` makes the call with them and no
-- path), then the two paths. The flags, both paths; or nil and the result.
local function two_paths(c, old_path, new_path, flags_arg, probe)
    local flags = flags_arg and c:int(flags_arg) or 0
    if flags_arg then
        local _, err = probe(-1, "x", -1, "y", flags)
        if err ~= E.EBADF then return nil, -err end
    end
    if fdguard.busy() then return nil, AGAIN end
    local old, r = c:text(old_path)
    if not old then return nil, r end
    local new
    new, r = c:text(new_path)
    if not new then return nil, r end
    return flags, old, new
end

-- rename, renameat, renameat2: both names judged, what is at each judged
-- by what it is, and no directory that holds a denied entry moved (or
-- replaced, or exchanged).
local function rename(old_at, old_path, new_at, new_path, flags_arg)
    return function(c)
        local flags, old, new = two_paths(c, old_path, new_path, flags_arg, host.renameat2)
        if not flags then return old end
        local from, r = c:place(old_at and c:int(old_at) or AT_FDCWD, old)
        if not from then return r end
        local to
        to, r = c:place(new_at and c:int(new_at) or AT_FDCWD, new)
        if not to then return r end
        for _, side in ipairs({ { from, old }, { to, new } }) do
            local denied = c:check_child(side[1], side[2])
            if denied then return denied end
            if c:guards_denied(side[1]) then
                return c:deny(side[2], side[1].child, "it holds a denied entry")
            end
        end
        return result(host.renameat2(from.fd, from.base, to.fd, to.base, flags))
    end
end
files.rename = rename(nil, 1, nil, 2)
files.renameat = rename(1, 2, 3, 4)
files.renameat2 = rename(1, 2, 3, 4, 5)

-- link and linkat: the object linked is judged by what it is (a hard link
-- to a denied file is refused whatever its name), the new name where it
-- is made. The kernel links the pinned object through its /proc path.
local function link(old_at, old_path, new_at, new_path, flags_arg)
    return function(c)
        local flags, old, new = two_paths(c, old_path, new_path, flags_arg, host.linkat)
        if not flags then return old end
        local dirfd = old_at and c:int(old_at) or AT_FDCWD
        local empty = old == "" and has(flags, AT_EMPTY_PATH)
        local t, r = c:object(dirfd, old, { follow = has(flags, AT_SYMLINK_FOLLOW), empty = empty })
        if not t then return r end
        local p
        p, r = c:judged_place(new_at and c:int(new_at) or AT_FDCWD, new)
        if not p then return r end
        if empty then
            -- the guest's own descriptor, as it asked (CAP_DAC_READ_SEARCH)
            return result(host.linkat(dirfd, "", p.fd, p.base, AT_EMPTY_PATH))
        end
        return result(host.linkat(AT_FDCWD, pin.path(t.fd), p.fd, p.base, AT_SYMLINK_FOLLOW))
    end
end
files.link = link(nil, 1, nil, 2)
files.linkat = link(1, 2, 3, 4, 5)

---------------------------------------------------------------------------
-- execve, execveat

local MAX_ARG_STRLEN = 131072 -- the kernel's longest argument string

-- The strings of the NULL-terminated array of pointers at `addr`, or nil
-- and the result for one the kernel would not take.
local function string_array(addr)
    local list = {}
    if addr == 0 then return list end
    local w = context.word_size
    for i = 0, 0x7fffffff do
        local p = memory.int(addr + i * w, "ptr")
        if p == nil then return nil, -E.EFAULT end
        if p == 0 then break end
        local s, cut = memory.string(p, MAX_ARG_STRLEN)
        if s == nil then return nil, -E.EFAULT end
        if cut then return nil, -E.E2BIG end
        list[#list + 1] = s
    end
    return list
end

-- The program is judged by what it is; the exec itself then names it by
-- the path as the guest wrote it (a pin would change the new program's
-- name), from the sandbox's copy. Followed (the default), luahook's
-- follower makes it, from that copy, after every other hook: the new
-- program runs under QEMU and this sandbox. Not followed, the sandbox
-- makes it, and the program runs outside QEMU.
local function exec(path_arg_i, at, flags_arg)
    return function(c)
        local argv, r = string_array(c.args[path_arg_i + 1])
        if not argv then return r end
        local envp
        envp, r = string_array(c.args[path_arg_i + 2])
        if not envp then return r end
        local text
        text, r = c:text(path_arg_i)
        if not text then return r end
        local flags = flags_arg and c:int(flags_arg) or 0
        local dirfd = at and c:int(at) or AT_FDCWD
        local given = text
        if linuxuser.is_proc_myself(text, "exe") then
            text, dirfd = linuxuser.program(), AT_FDCWD
        end
        local t
        t, r = c:object(dirfd, text, { follow = not has(flags, AT_SYMLINK_NOFOLLOW),
                                       empty = has(flags, AT_EMPTY_PATH) })
        if not t then return r end
        if context.core.follow_exec then
            follow.judged(c.sc, { path = given, argv = argv, envp = envp,
                                  dirfd = at and c:int(at) or AT_FDCWD, flags = flags })
            return nil
        end
        context.core.flush() -- the process is about to be replaced
        local _, err
        if at then
            _, err = host.execveat(dirfd, text, argv, envp, flags)
        else
            _, err = host.execve(text, argv, envp)
        end
        return -err
    end
end
files.execve = exec(1)
files.execveat = exec(2, 1, 5)

return files
