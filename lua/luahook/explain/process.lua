-- What one guest process has done so far, for scripts/explain.lua: its
-- descriptor table and files (luahook.explain.fdtable), its memory
-- (luahook.explain.memmap), the children and threads it created, and how
-- it ended. observe() takes each call once it has returned, by the name
-- and arguments the decoder resolved (a socketcall's sub-call as itself).
local bit = require "bit"
local errno = require "luahook._guest.errno"
local fdtable = require "luahook.explain.fdtable"
local memmap = require "luahook.explain.memmap"
local memory = require "luahook._guest.memory"
local paths = require "luahook.paths"
local result = require "luahook.explain.result"
local signatures = require "luahook.decode.signatures"
local structs = require "luahook.decode.structs"
local values = require "luahook.decode.values"

local process = {}

local i32, u32 = values.i32, values.u32
local address, failed = result.address, result.failed

---@class luahook.explain.Child
---@field pid integer
---@field by string the call that made it
---@field status string? how it ended, once a wait reported it

---@class luahook.explain.Process
---@field pid integer
---@field forked boolean a child of a fork we watched, not the process started
---@field fds luahook.explain.FdTable
---@field maps luahook.explain.MemMap
---@field children luahook.explain.Child[]
---@field threads integer threads created
---@field ending string? how the process ended (exit_group's status), once known
local Process = {}
Process.__index = Process

--- The state of the process `pid`, started now.
---@param pid integer
---@return luahook.explain.Process
function process.new(pid)
    return setmetatable({ pid = pid, forked = false, fds = fdtable.new(), maps = memmap.new(),
                          children = {}, threads = 0 }, Process)
end

local open_flags = values.formatter("open")

-- The calls that move bytes: name = { descriptor argument, direction }.
local IO = {
    read = { 1, "read" }, readv = { 1, "read" }, pread64 = { 1, "read" }, preadv = { 1, "read" },
    preadv2 = { 1, "read" }, recv = { 1, "read" }, recvfrom = { 1, "read" }, recvmsg = { 1, "read" },
    write = { 1, "written" }, writev = { 1, "written" }, pwrite64 = { 1, "written" },
    pwritev = { 1, "written" }, pwritev2 = { 1, "written" }, send = { 1, "written" },
    sendto = { 1, "written" }, sendmsg = { 1, "written" },
}

-- What each call that changes the descriptors or the memory does to
-- them: fn(self, a, ret), after a successful return.
local EFFECTS = {}

local function opened(name, path_arg, flags_arg)
    return function(self, a, ret)
        local path = memory.string(a[path_arg]) or "?"
        local how = flags_arg and (name .. " " .. open_flags(a[flags_arg])) or name
        self.fds:add(ret, path, how, path)
    end
end
EFFECTS.open = opened("open", 1, 2)
EFFECTS.openat = opened("openat", 2, 3)
EFFECTS.openat2 = opened("openat2", 2)
EFFECTS.creat = opened("creat", 1)

EFFECTS.socket = function(self, a, ret)
    local family = values.formatter("family")(a[1])
    local kind = values.formatter("socket_type")(bit.band(u32(a[2]), 0xf))
    self.fds:add(ret, "a socket, " .. family .. " " .. kind, "socket")
end

local function accepted(self, a, ret)
    self.fds:add(ret, "a connection accepted on socket " .. i32(a[1]), "accept")
end
EFFECTS.accept, EFFECTS.accept4 = accepted, accepted

EFFECTS.dup = function(self, a, ret) self.fds:dup(i32(a[1]), ret, "dup") end
EFFECTS.dup2 = function(self, a) self.fds:dup(i32(a[1]), i32(a[2]), "dup2") end
EFFECTS.dup3 = function(self, a) self.fds:dup(i32(a[1]), i32(a[2]), "dup3") end

local function fcntl(self, a, ret)
    local cmd = u32(a[2])
    if cmd == 0 or cmd == 1030 then -- F_DUPFD, F_DUPFD_CLOEXEC
        self.fds:dup(i32(a[1]), ret, "fcntl")
    end
end
EFFECTS.fcntl, EFFECTS.fcntl64 = fcntl, fcntl

local function pair(name, arg, first, second)
    return function(self, a)
        local fds = structs.int_values(a[arg], 2)
        if fds then
            self.fds:add(fds[1], first, name)
            self.fds:add(fds[2], second, name)
        end
    end
end
EFFECTS.pipe = pair("pipe", 1, "the read end of a pipe", "the write end of a pipe")
EFFECTS.pipe2 = pair("pipe2", 1, "the read end of a pipe", "the write end of a pipe")
EFFECTS.socketpair = pair("socketpair", 4, "one end of a socket pair", "the other end of a socket pair")

EFFECTS.close = function(self, a) self.fds:close(i32(a[1])) end
EFFECTS.close_range = function(self, a) self.fds:close_range(u32(a[1]), u32(a[2])) end

local function sendfile(self, a, ret)
    self.fds:count(i32(a[1]), "written", ret)
    self.fds:count(i32(a[2]), "read", ret)
end
EFFECTS.sendfile, EFFECTS.sendfile64 = sendfile, sendfile

local MAP_ANONYMOUS = 0x20

local function mapped(self, a, ret, name)
    local file
    if bit.band(u32(a[4]), MAP_ANONYMOUS) == 0 then
        local r = self.fds:get(i32(a[5]))
        file = r and (r.path or r.what) or ("descriptor " .. i32(a[5]))
    end
    self.maps:map(address(ret), tonumber(a[2]), u32(a[3]), file, name)
end
EFFECTS.mmap = function(self, a, ret) mapped(self, a, ret, "mmap") end
EFFECTS.mmap2 = function(self, a, ret) mapped(self, a, ret, "mmap2") end
EFFECTS.munmap = function(self, a) self.maps:unmap(address(a[1]), tonumber(a[2])) end
EFFECTS.mprotect = function(self, a) self.maps:protect(address(a[1]), tonumber(a[2]), u32(a[3])) end
EFFECTS.mremap = function(self, a, ret)
    self.maps:remap(address(a[1]), tonumber(a[2]), address(ret), tonumber(a[3]))
end
EFFECTS.brk = function(self, _, ret) self.maps:set_break(address(ret)) end

local CLONE_THREAD = 0x10000

local function created(self, a, ret, name)
    if ret <= 0 then
        return
    end
    if name == "clone" and bit.band(u32(a[1]), CLONE_THREAD) ~= 0 then
        self.threads = self.threads + 1
    else
        self.children[#self.children + 1] = { pid = ret, by = name }
        self.fds:shared_with("the child process " .. ret .. " has")
    end
end
for _, name in ipairs({ "clone", "fork", "vfork", "clone3" }) do
    EFFECTS[name] = function(self, a, ret) created(self, a, ret, name) end
end

local function waited(self, a, ret)
    if ret <= 0 then
        return
    end
    local s = a[2] ~= 0 and memory.int(a[2], "i32")
    for _, child in ipairs(self.children) do
        local low = s and bit.band(s, 0x7f)
        if child.pid == ret and low ~= 0x7f then -- not merely stopped: it has ended
            if low == 0 then
                child.status = "exited with status " .. bit.band(bit.rshift(s, 8), 0xff)
            elseif low then
                child.status = "killed by " .. values.signal(low)
            end
            self.fds:holder_ended("the child process " .. ret .. " has")
        end
    end
end
EFFECTS.wait4, EFFECTS.waitpid = waited, waited

-- Calls that make a descriptor of some other kind (eventfd, epoll, ...).
local function other_descriptor(name)
    return function(self, _, ret)
        self.fds:add(ret, "a descriptor made by " .. name, name)
    end
end
for name, sig in pairs(signatures.common) do
    if sig.ret == "fd" and not EFFECTS[name] then
        EFFECTS[name] = other_descriptor(name)
    end
end

-- Files ----------------------------------------------------------------

-- How a call used a path, for the summary: "openat O_RDONLY", "statx",
-- "access (ENOENT)".
local function use_of(name, a, ret)
    local how = name
    if name == "open" or name == "openat" then
        how = how .. " " .. open_flags(a[name == "open" and 2 or 3])
    end
    if failed(ret) then
        local e = errno.info(-ret)
        how = how .. " (" .. (e and e.name or ret) .. ")"
    end
    return how
end

local function touch_paths(self, name, a, ret)
    local specs = paths.of(name)
    if not specs then
        return
    end
    for _, spec in ipairs(specs) do
        if not spec.target_of and (not spec.only or spec.only(a)) and a[spec.arg] ~= 0 then
            local path = memory.string(a[spec.arg])
            if path and path ~= "" then
                self.fds:touch(path, use_of(name, a, ret))
            end
        end
    end
end

--- Takes call `name` with arguments `a` and result `ret` into account.
---@param name string
---@param a table
---@param ret integer|ffi.cdata*
function Process:observe(name, a, ret)
    touch_paths(self, name, a, ret)
    if failed(ret) then
        return
    end
    ret = values.exact(ret)
    local io = IO[name]
    if io then
        self.fds:count(i32(a[io[1]]), io[2], ret)
        return
    end
    local effect = EFFECTS[name]
    if effect then
        effect(self, a, ret)
    end
end

--- The process is about to end with exit_group (or exit) status `status`.
---@param status integer
function Process:ending_with(status)
    self.ending = "exit status " .. status
end

--- The process is about to run `path` with execve: if that works, this
--- is its end as far as the trace can see (or, with nil, the exec failed).
---@param path string?
function Process:executing(path)
    self.ending = path and ("execve of " .. path .. ", which replaces the program if it works") or nil
end

--- This copy of the state now belongs to the forked child `pid`: it keeps
--- the descriptors and memory it inherited, and starts its history afresh.
---@param pid integer
function Process:forked_as(pid)
    self.pid, self.forked = pid, true
    self.fds:reset_counts()
    self.fds:shared_with("the parent process has")
    self.maps:reset_counts()
    self.children, self.threads, self.ending = {}, 0, nil
end

return process
