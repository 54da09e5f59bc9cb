-- One guest syscall that the sandbox makes itself. It copies the path
-- arguments out of guest memory once, pins what each reaches (the kernel's
-- own path walk, from the calling thread's descriptor table), judges each
-- pinned object by what it is, and hands the executor (sandbox.files,
-- sandbox.sockets) descriptors that hold exactly what was judged. Another
-- thread rewriting the path, or renaming and swapping symlinks, can change
-- neither the judgement nor what the call then reaches.
--
-- A target is what one path reaches:
--   fd     a pin (O_PATH) of the object
--   name   what the kernel calls it now ("/etc/passwd"; "pipe:[7]" outside the tree)
--   keys   its identity and those of the directories above it (pin.chain)
--   mode, nlink
-- A place is where a path would create, remove or rename a name:
--   fd, name, keys   the directory (pinned, judged as above)
--   base             the last component as given (trailing slashes kept)
--   child            the full name the last component stands for
--   child_key, child_mode, child_nlink   what is there now, if anything
local bit = require "bit"
local host = require "luahook._host.host"
local hostcall = require "luahook.hostcall"
local hostpath = require "luahook.hostpath"
local int = require "luahook._guest.int"
local linuxuser = require "luahook._host.linuxuser"
local memory = require "luahook._guest.memory"
local pin = require "luahook._host.pin"

local call = {}

local PATH_MAX = 4096
local ENOENT, EFAULT, ENAMETOOLONG = 2, 14, 36

---@class luahook.SandboxCall
---@field name string the syscall's name, for the log
---@field args table the guest's arguments
---@field sc table the guest's syscall object
---@field judge table the policy's side (scripts/sandbox.lua): verdict, deny, guards, check_target
local Call = {}
Call.__index = Call

--- A call `name` with arguments `args`, judged by `judge`; `sc` is the
--- guest's syscall object, whose after-hooks see what is marked on it.
---@return luahook.SandboxCall
function call.new(judge, name, args, sc)
    return setmetatable({ judge = judge, name = name, args = args, sc = sc, pins = {} }, Call)
end

--- A guest word as the kernel reads an int: the low 32 bits, signed.
---@param v integer|ffi.cdata*
---@return integer
function call.int32(v)
    if type(v) == "cdata" then
        v = tonumber(bit.band(v, 0xffffffff))
    end
    return int.signed(v % 4294967296, 32)
end

--- Argument `i` as the kernel reads an int.
---@param i integer
---@return integer
function Call:int(i)
    return call.int32(self.args[i])
end

--- Argument `i` as the kernel reads an unsigned int.
function Call:uint(i)
    return self:int(i) % 4294967296
end

--- The sandbox's own copy of the path at argument `i`, or nil and the
--- result the kernel gives a path it cannot take.
---@return string? text
---@return integer? result
function Call:text(i)
    local text, cut = memory.string(self.args[i], PATH_MAX)
    if not text then return nil, -EFAULT end
    if cut then return nil, -ENAMETOOLONG end
    return text
end

local function keep(self, fd)
    self.pins[#self.pins + 1] = fd
    return fd
end

--- What an executor returns once it has handed its call to C.
call.HANDED_OVER = {}

--- Has C make host syscall `name` with arguments `...` after the hook,
--- outside luahook's lock (luahook.hostcall), for a call that may wait:
--- the pins, and `values` (what the arguments point into), stay until it
--- returns. The executor returns what this returns.
function Call:hand_over(name, values, ...)
    local pins = self.pins
    self.pins = {}
    hostcall.keep(self.sc.tid, values, function()
        for _, fd in ipairs(pins) do host.close(fd) end
    end)
    hostcall.answer(name, ...)
    return call.HANDED_OVER
end

--- Moves pin `fd` out of the lowest free slot, so that a descriptor made
--- next gets the number the kernel would have given it; returns its new
--- number (the same when no other slot is free).
function Call:lift(fd)
    local moved = host.dupfd(fd, fd + 1)
    if not moved then return fd end
    host.close(fd)
    for i, p in ipairs(self.pins) do
        if p == fd then self.pins[i] = moved end
    end
    return moved
end

--- Marks `fd` (nil: none) as the descriptor the call gives the guest,
--- opened with host open `flags` (O_CLOEXEC counts); returns it.
---@return integer?
function Call:give(fd, flags)
    if fd then
        self.given, self.given_cloexec = fd, bit.band(flags, host.O_CLOEXEC) ~= 0
    end
    return fd
end

--- Closes the pins this call made. The descriptor given to the guest,
--- opened while the pins held lower numbers, then moves to the lowest
--- free one, the number the kernel would have given it: returns that.
---@param result integer? the call's result
---@return integer? result
function Call:done(result)
    for _, fd in ipairs(self.pins) do
        host.close(fd)
    end
    if self.given and result == self.given then
        local low = host.dupfd_low(result, self.given_cloexec)
        if low and low < result then
            host.close(result)
            return low
        elseif low then
            host.close(low)
        end
    end
    return result
end

--- The result for a denied path (logged, as the guest wrote it when
--- QEMU's -L prefix changed it: Call:prefixed).
function Call:deny(text, resolved, why)
    local shown = self.as_written and self.as_written[text] or text
    return self.judge.deny(self.name, shown, resolved or (shown ~= text and text or nil), why)
end

--- Path `text` with QEMU's -L prefix put before it when it applies;
--- denials still show `text`.
function Call:prefixed(text)
    local full = linuxuser.prefixed(text)
    if full ~= text then
        self.as_written = self.as_written or {}
        self.as_written[full] = text
    end
    return full
end

-- Name, identity and the identities above, of pin `fd`: a target, or nil
-- when the tree changed under the walk twice in a row.
local function describe(fd)
    for _ = 1, 2 do
        local key, mode, nlink = pin.identity(fd, "", false)
        if not key then return nil end
        local name = pin.undeleted(pin.name(fd), nlink)
        local keys = pin.chain(fd, name, key, host.is_dir(mode), nlink)
        if keys then
            return { fd = fd, name = name, key = key, keys = keys, mode = mode, nlink = nlink }
        end
    end
    return nil
end
call.describe = describe

-- Where relative `text` starts: the name of directory descriptor `dirfd`
-- (the calling thread's), or the working directory.
local function base_name(dirfd)
    if dirfd == host.AT_FDCWD then
        return hostpath.cwd()
    end
    local name = pin.name(dirfd)
    if name and name:sub(1, 1) == "/" then return name end
    return nil
end

-- The result for a path the kernel did not resolve (`err`): judged by its
-- name as far as it can be resolved, so that a denied path fails with the
-- policy's errno whether it exists or not; else the kernel's own error.
function Call:unreached(dirfd, text, follow, err)
    if text ~= "" then
        local base = text:sub(1, 1) == "/" and "/" or base_name(dirfd)
        local resolved = base and hostpath.resolve(text, base, follow)
        if resolved and self.judge.verdict(resolved) == "deny" then
            return self:deny(text, resolved)
        end
    end
    return -err
end

-- Judges target `t` for path `text`: nil when allowed, else the result.
function Call:check(t, text)
    if not t then
        return self:deny(text, nil, "the file tree changed while it was judged")
    end
    if not t.name then
        -- nothing to judge by (no /proc/thread-self?): refuse, never guess
        return self:deny(text, nil, "what it reaches has no name the sandbox can read")
    end
    if self.judge.verdict(t.name, t.keys) == "deny" then
        return self:deny(text, t.name)
    end
    return nil
end

--- Judges the object of descriptor `fd`, reached by path `text`: nil when
--- allowed, else the result.
function Call:judge_fd(fd, text)
    return self:check(describe(fd), text)
end

--- Pins what `text` reaches from `dirfd`, not judged yet: a target, or
--- nil and the errno the kernel gave. `opts`: follow (the last symlink),
--- dir (it must be a directory), empty ("" stands for `dirfd` itself:
--- AT_EMPTY_PATH), resolve (openat2's RESOLVE_* bits).
---@return table|false|nil target (false: the tree changed under the walk)
---@return integer? errno
function Call:reach(dirfd, text, opts)
    local fd, err
    if text == "" and opts.empty then
        if dirfd == host.AT_FDCWD then
            fd, err = pin.open(dirfd, ".", true, true)
        else
            fd, err = host.dupfd(dirfd, 0)
        end
    elseif opts.resolve then
        fd, err = pin.open2(dirfd, text, opts.follow, opts.dir, opts.resolve)
    else
        fd, err = pin.open(dirfd, text, opts.follow, opts.dir)
    end
    if not fd then return nil, err end
    keep(self, fd)
    return describe(fd) or false
end

--- Pins and judges what `text` reaches from `dirfd` (opts as for
--- Call:reach): a target, or nil and the call's result.
---@return table? target
---@return integer? result
function Call:object(dirfd, text, opts)
    local t, err = self:reach(dirfd, text, opts)
    if t == nil then
        if text == "" and opts.empty then return nil, -err end
        return nil, self:unreached(dirfd, text, opts.follow, err)
    end
    local denied = self:check(t or nil, text)
    if denied then return nil, denied end
    return t
end

-- The directory part and the last component of `text`, as the kernel
-- splits a path it creates or removes: trailing slashes stay with the
-- last component. Nil for a path that is only slashes.
local function split(text)
    local core = text:gsub("/+$", "")
    if core == "" then return nil end
    local dir, base = core:match("^(.*/)([^/]*)$")
    if not dir then dir, base = ".", core end
    return dir, base .. text:sub(#core + 1)
end

local function join(dir, name)
    return dir == "/" and "/" .. name or dir .. "/" .. name
end

--- Pins and judges the directory where `text` (from `dirfd`) would make,
--- remove or rename its last component: a place, or nil and the result.
--- The last component itself is not judged here (Call:check_child).
---@return table? place
---@return integer? result
function Call:place(dirfd, text)
    if text == "" then return nil, -ENOENT end
    local dir, base = split(text)
    if not dir then
        -- "/": the root has no parent; calls on it fail by themselves
        dir, base = "/", "."
    end
    local fd, err = pin.open(dirfd, dir, true, true)
    if not fd then return nil, self:unreached(dirfd, text, false, err) end
    keep(self, fd)
    local p = describe(fd)
    if not p then
        return nil, self:deny(text, nil, "the file tree changed while it was judged")
    end
    p.base = base
    local plain = base:gsub("/+$", "")
    if plain == "." then
        p.child = p.name
    elseif plain == ".." then
        p.child = p.name and p.name:match("^(.*)/[^/]*$") or p.name
        if p.child == "" then p.child = "/" end
    else
        p.child = p.name and join(p.name, plain)
    end
    p.child_key, p.child_mode, p.child_nlink = pin.identity(fd, plain, false)
    if not p.child_key then p.child_mode = nil end
    return p
end

--- Judges the last component of place `p`: what is there now (by name and
--- by what it is), or the name it would get. Nil when allowed, else the
--- result.
function Call:check_child(p, text)
    local keys = p.keys
    if p.child_key then
        keys = { p.child_key }
        for i, k in ipairs(p.keys) do keys[i + 1] = k end
    end
    if not p.name or p.name:sub(1, 1) ~= "/" then
        return self:deny(text, p.name, "its directory is not in the file tree")
    end
    if self.judge.verdict(p.child, keys) == "deny" then
        return self:deny(text, p.child)
    end
    return nil
end

--- The place of `text` from `dirfd` with its last component judged: a
--- place, or nil and the result.
function Call:judged_place(dirfd, text)
    local p, r = self:place(dirfd, text)
    if not p then return nil, r end
    local denied = self:check_child(p, text)
    if denied then return nil, denied end
    return p
end

--- Whether the last component of place `p` is a directory that holds a
--- denied entry (by name or by what it is): it must not be moved.
function Call:guards_denied(p)
    return p.child_mode ~= nil and host.is_dir(p.child_mode)
        and self.judge.guards(p.child, p.child_key)
end

return call
