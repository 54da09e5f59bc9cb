-- Guest errno values by name and number (generated from the guest
-- architecture's kernel headers: mips numbers many of them its own way),
-- with the C library's messages, the ones strace and perror print.
local ffi = require "ffi"
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"

ffi.cdef [[ char *strerror(int errnum); ]]

local errno = {}

-- the host's numbers by name, for strerror (the host is x86_64)
local host_number = {}
for _, e in ipairs(arch.data("x86_64").errno) do
    host_number[e[1]] = host_number[e[1]] or e[2]
end

local by_name, by_number = {}, {}
for _, e in ipairs(arch.data().errno) do
    local name, number = e[1], e[2]
    by_name[name] = number
    -- an alias (EWOULDBLOCK) must not hide the canonical name (EAGAIN)
    if not by_number[number] then
        local host = host_number[name]
        by_number[number] = { name = name, number = number,
                              message = host and ffi.string(ffi.C.strerror(host))
                                        or "Unknown error " .. number }
    end
end
--- Name -> number table, e.g. errno.codes.ENOENT == 2.
errno.codes = setmetatable(by_name, {
    __index = function(_, name)
        error("unknown errno name '" .. tostring(name) .. "'", 2)
    end,
})

-- host number -> guest number, where they differ (mips); C's host calls
-- (luahook.hostcall) translate with the same table
local from_host = {}
for name, number in pairs(host_number) do
    if by_name[name] and by_name[name] ~= number then
        from_host[number] = by_name[name]
        context.core.set_guest_errno(number, by_name[name])
    end
end

--- The guest's number for host errno `number` (the same error by name):
--- what a call luahook makes on the host gives back to the guest, as
--- QEMU's host_to_target_errno does.
---@param number integer
---@return integer
function errno.from_host(number)
    return from_host[number] or number
end

--- { name, number, message } for an errno number, or nil.
function errno.info(number)
    return by_number[number]
end

return errno
