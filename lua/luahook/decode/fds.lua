-- What each guest file descriptor refers to, for strace -y style
-- annotations (read(3</etc/passwd>, ...)). Guest descriptors are this
-- process's own (QEMU's linux-user passes them through), so a name is the
-- target of /proc/self/fd/N, read when first asked for and kept until a
-- call that closes, creates or replaces that descriptor returns.
local ffi = require "ffi"

ffi.cdef [[ long readlink(const char *path, char *buf, size_t size); ]]

local fds = {}

---@class luahook.FdTracker
local Tracker = {}
Tracker.__index = Tracker

local BUF_SIZE = 4096
local buf = ffi.new("char[?]", BUF_SIZE)

--- A new tracker with nothing known yet.
---@return luahook.FdTracker
function fds.new()
    return setmetatable({ paths = {} }, Tracker)
end

--- What descriptor `fd` refers to ("/etc/passwd", "pipe:[123]"), or nil
--- if it is not open.
---@param fd integer
---@return string?
function Tracker:path(fd)
    local known = self.paths[fd]
    if known ~= nil then
        return known or nil
    end
    local path = false
    if fd >= 0 then
        local n = ffi.C.readlink("/proc/self/fd/" .. fd, buf, BUF_SIZE)
        if n > 0 then
            path = ffi.string(buf, n)
        end
    end
    self.paths[fd] = path
    return path or nil
end

--- Forgets what `fd` was: a call closed, created or replaced it.
---@param fd integer
function Tracker:forget(fd)
    self.paths[fd] = nil
end

--- Forgets every descriptor from `first` to `last` (close_range).
---@param first integer
---@param last integer
function Tracker:forget_range(first, last)
    for fd in pairs(self.paths) do
        if fd >= first and fd <= last then
            self.paths[fd] = nil
        end
    end
end

return fds
