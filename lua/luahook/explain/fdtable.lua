-- The guest's file descriptor table as its syscalls change it, for
-- scripts/explain.lua: what each descriptor refers to and which call made
-- it, the bytes read and written through it, and the files the program
-- named. Descriptors it inherited (standard input, output and error) are
-- looked up in /proc/self/fd, which is the guest's own: QEMU's linux-user
-- process is the guest process.
local hostpath = require "luahook.hostpath"

local fdtable = {}

local STANDARD = { [0] = "standard input", "standard output", "standard error" }

---@class luahook.explain.OpenFile
---@field fd integer
---@field what string what it refers to, for people: "/etc/passwd", "the read end of a pipe"
---@field by string how it came to be: "openat O_RDONLY", "dup2 of 3", "inherited"
---@field path string? the file's path, when it is one
---@field read number bytes read through it
---@field written number bytes written through it
---@field reads integer calls that read
---@field writes integer calls that wrote
---@field closed boolean
---@field replaced_by string? the call that put another file at its number (dup2), closing it
---@field inherited boolean open before this process's first syscall
---@field open_file { elsewhere: string? } the kernel's open file it refers to: dup and dup2
---share it; `elsewhere` names another process that has a descriptor for it too

---@class luahook.explain.FdTable
---@field open table<integer, luahook.explain.OpenFile>
---@field history luahook.explain.OpenFile[] every descriptor in order of creation
---@field files table<string, { counts: table<string, integer> }> for each path named: the
---different uses (a list of "openat O_RDONLY" and the like) and how often each came
---@field file_order string[] the paths in the order first named
local Table = {}
Table.__index = Table

-- What a /proc/self/fd target is, for people.
local function target_text(target)
    if target:match("^pipe:") then
        return "a pipe"
    elseif target:match("^socket:") then
        return "a socket"
    elseif target:match("^/dev/pts/") or target:match("^/dev/tty") or target == "/dev/console" then
        return "the terminal " .. target
    elseif target:match("^anon_inode:") then
        return "a kernel object (" .. target:sub(12) .. ")"
    end
    return target
end

local function record(fd, what, by, path)
    return { fd = fd, what = what, by = by, path = path, read = 0, written = 0, reads = 0,
             writes = 0, closed = false, inherited = false, open_file = {} }
end

-- A descriptor open before the program's first syscall, or nil.
local function inherited(fd)
    local target = fd >= 0 and hostpath.fd(fd)
    if not target then
        return nil
    end
    local what = target_text(target)
    if STANDARD[fd] then
        what = STANDARD[fd] .. ", " .. what
    end
    local r = record(fd, what, "inherited", target:sub(1, 1) == "/" and target or nil)
    r.inherited = true
    r.open_file.elsewhere = "the program that started this one (a shell, say) has"
    return r
end

--- A table holding the descriptors open now (call it before the guest's
--- first syscall, when those are the inherited ones).
---@return luahook.explain.FdTable
function fdtable.new()
    local t = setmetatable({ open = {}, history = {}, files = {}, file_order = {} }, Table)
    for fd = 0, 2 do
        t:adopt(fd)
    end
    return t
end

--- Takes in descriptor `fd` as inherited, if it is open; returns its record.
---@param fd integer
---@return luahook.explain.OpenFile?
function Table:adopt(fd)
    local r = inherited(fd)
    if r then
        self.open[fd] = r
        self.history[#self.history + 1] = r
    end
    return r
end

--- The record of open descriptor `fd`, or nil. One the table has not seen
--- (inherited beyond 0..2) is looked up.
---@param fd integer
---@return luahook.explain.OpenFile?
function Table:get(fd)
    local r = self.open[fd]
    if r == nil and fd > 2 then
        r = self:adopt(fd)
    end
    return r
end

--- "file descriptor 3 (/etc/passwd)", "file descriptor 1 (standard
--- output, a pipe)", "file descriptor 9 (not open)".
---@param fd integer
---@return string
function Table:describe(fd)
    local r = self:get(fd)
    return "file descriptor " .. fd .. " (" .. (r and r.what or "not open") .. ")"
end

--- Descriptor `fd` is new: what it refers to, how it came to be and the
--- path when it is a file. One open at that number was closed first.
---@param fd integer
---@param what string
---@param by string
---@param path string?
---@return luahook.explain.OpenFile
function Table:add(fd, what, by, path)
    local old = self.open[fd]
    if old then
        old.replaced_by = by
        self:close(fd)
    end
    local r = record(fd, what, by, path)
    self.open[fd] = r
    self.history[#self.history + 1] = r
    return r
end

--- `new` now refers to what `old` refers to (dup, dup2, fcntl F_DUPFD).
---@param old integer
---@param new integer
---@param by string the call's name
function Table:dup(old, new, by)
    if old == new then
        return
    end
    local r = self:get(old)
    local copy = self:add(new, r and r.what or "what " .. old .. " referred to", by .. " of " .. old, r and r.path)
    if r then
        copy.open_file = r.open_file
    end
end

--- The other open descriptors that refer to the same open file as `fd`.
---@param fd integer
---@return integer[]
function Table:sharing(fd)
    local r, list = self.open[fd], {}
    if r then
        for other, o in pairs(self.open) do
            if other ~= fd and o.open_file == r.open_file then list[#list + 1] = other end
        end
    end
    table.sort(list)
    return list
end

--- Descriptor `fd` was closed.
---@param fd integer
function Table:close(fd)
    local r = self.open[fd]
    if r then
        r.closed = true
        self.open[fd] = nil
    end
end

--- Closes every descriptor from `first` to `last` (close_range).
---@param first integer
---@param last integer
function Table:close_range(first, last)
    for fd in pairs(self.open) do
        if fd >= first and fd <= last then self:close(fd) end
    end
end

--- Counts `n` bytes moved through `fd`: `dir` is "read" or "written".
---@param fd integer
---@param dir "read"|"written"
---@param n number
function Table:count(fd, dir, n)
    local r = self:get(fd)
    if not r then
        return
    end
    r[dir] = r[dir] + n
    if dir == "read" then
        r.reads = r.reads + 1
    else
        r.writes = r.writes + 1
    end
end

--- The program named `path` in a call, described by `how` ("openat
--- O_RDONLY"); each different use is kept once, in order, with a count.
---@param path string
---@param how string
function Table:touch(path, how)
    local uses = self.files[path]
    if not uses then
        uses = { counts = {} }
        self.files[path] = uses
        self.file_order[#self.file_order + 1] = path
    end
    if not uses.counts[how] then
        uses[#uses + 1] = how
    end
    uses.counts[how] = (uses.counts[how] or 0) + 1
end

--- The descriptors worth a line in a summary: those the program made or
--- moved bytes through.
---@return luahook.explain.OpenFile[]
function Table:used()
    local list = {}
    for _, r in ipairs(self.history) do
        if not r.inherited or r.reads + r.writes > 0 then
            list[#list + 1] = r
        end
    end
    return list
end

--- Another process now has descriptors for every open file this one has
--- (a fork): `holder` says who, as "the child process 42 has".
---@param holder string
function Table:shared_with(holder)
    for _, r in pairs(self.open) do
        r.open_file.elsewhere = holder
    end
end

--- Process `holder` (as given to shared_with) has ended: its descriptors
--- are gone.
---@param holder string
function Table:holder_ended(holder)
    for _, r in pairs(self.open) do
        if r.open_file.elsewhere == holder then r.open_file.elsewhere = nil end
    end
end

--- Starts the history afresh with the descriptors open now, counts at
--- zero (a forked child inherits the descriptors, not the parent's past).
function Table:reset_counts()
    self.history, self.files, self.file_order = {}, {}, {}
    local fds = {}
    for fd in pairs(self.open) do fds[#fds + 1] = fd end
    table.sort(fds)
    for _, fd in ipairs(fds) do
        local old = self.open[fd]
        local r = record(fd, old.what, old.by, old.path)
        r.inherited, r.open_file = true, old.open_file
        self.open[fd] = r
        self.history[#self.history + 1] = r
    end
end

return fdtable
