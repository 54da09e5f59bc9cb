-- Formatting of guest values for people: hex integers (exact for 64-bit
-- values) and syscall results in strace's style.
local bit = require "bit"
local errno = require "luahook._guest.errno"

local format = {}

--- A guest integer (Lua number or 64-bit cdata) as "0x..." hex.
---@param v integer|ffi.cdata*
---@return string
function format.hex(v)
    if type(v) == "number" then
        if v >= 0 and v < 2 ^ 53 and v == math.floor(v) then
            return string.format("0x%x", v)
        end
        return tostring(v)
    end
    -- 64-bit cdata: print the two words so no precision is lost
    local high = tonumber(bit.rshift(v, 32))
    local low = tonumber(bit.band(v, 0xffffffff))
    if high == 0 then
        return string.format("0x%x", low)
    end
    return string.format("0x%x%08x", high, low)
end

--- A syscall result as strace shows it: "3", or "-1 ENOENT (No such file or directory)".
---@param ret integer|ffi.cdata*
---@return string
function format.result(ret)
    if type(ret) == "number" and ret < 0 and ret > -4096 then
        local e = errno.info(-ret)
        if e then
            return string.format("-1 %s (%s)", e.name, e.message)
        end
    end
    return tostring(ret)
end

return format
