-- Syscall results and guest addresses as explain's modules need them:
-- whether a result is an error, and an address as the unsigned number it
-- is (an i386 address above 2 GiB arrives as a negative result).
local context = require "luahook._core.context"
local values = require "luahook.decode.values"

local result = {}

local WORD_RANGE = 2 ^ ((context.word_size or 4) * 8)

--- Whether `ret` is a failure: -4095..-1, as the kernel returns errors.
---@param ret integer|ffi.cdata*|nil
---@return boolean
function result.failed(ret)
    return type(ret) == "number" and ret < 0 and ret > -4096
end

--- A guest address (an argument or a result) as a plain unsigned number.
---@param v integer|ffi.cdata*
---@return integer|ffi.cdata*
function result.address(v)
    v = values.exact(v)
    if type(v) == "number" and v < 0 then
        v = v + WORD_RANGE
    end
    return v
end

return result
