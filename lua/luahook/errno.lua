-- Guest errno values by name and number (generated from the kernel's
-- asm-generic headers, which i386 and x86_64 share), with the C library's
-- messages, the ones strace and perror print.
local ffi = require "ffi"

ffi.cdef [[ char *strerror(int errnum); ]]

local errno = {}

local by_name, by_number = {}, {}
for _, e in ipairs(require "luahook.gen.errno") do
    local name, number = e[1], e[2]
    by_name[name] = number
    -- an alias (EWOULDBLOCK) must not hide the canonical name (EAGAIN)
    if not by_number[number] then
        by_number[number] = { name = name, number = number,
                              message = ffi.string(ffi.C.strerror(number)) }
    end
end
--- Name -> number table, e.g. errno.codes.ENOENT == 2.
errno.codes = setmetatable(by_name, {
    __index = function(_, name)
        error("unknown errno name '" .. tostring(name) .. "'", 2)
    end,
})

--- { name, number, message } for an errno number, or nil.
function errno.info(number)
    return by_number[number]
end

return errno
