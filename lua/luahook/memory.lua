-- Reading guest memory: raw bytes and NUL-terminated strings, on top of the
-- core's one read primitive. A bad address gives nil and a message.
local context = require "luahook.context"
local format = require "luahook.format"

local memory = {}

local PAGE_SIZE = 4096
local DEFAULT_STRING_MAX = 4096

local function address(addr)
    if type(addr) == "cdata" then
        return tonumber(addr)
    end
    return addr
end

--- `len` bytes at guest address `addr` as a Lua string.
---@param addr integer|ffi.cdata*
---@param len integer
---@return string? bytes
---@return string? error
function memory.read(addr, len)
    addr = address(addr)
    local bytes, reason = context.core.read(addr, len)
    if not bytes then
        return nil, string.format("cannot read %d bytes at %s: %s", len, format.hex(addr), reason)
    end
    return bytes
end

--- The NUL-terminated string at `addr`, at most `max` bytes (default 4096).
--- Reads page by page, so a string that ends just before an unmapped page
--- is still read. The second result is true when it was cut at `max`.
---@param addr integer|ffi.cdata*
---@param max? integer
---@return string? text
---@return boolean|string|nil truncated_or_error
function memory.string(addr, max)
    addr = address(addr)
    max = max or DEFAULT_STRING_MAX
    local parts, total = {}, 0
    while total < max do
        local at = addr + total
        local n = math.min(PAGE_SIZE - at % PAGE_SIZE, max - total)
        local chunk, reason = context.core.read(at, n)
        if not chunk then
            return nil, string.format("cannot read a string at %s: %s", format.hex(addr), reason)
        end
        local nul = chunk:find("\0", 1, true)
        if nul then
            parts[#parts + 1] = chunk:sub(1, nul - 1)
            return table.concat(parts), false
        end
        parts[#parts + 1] = chunk
        total = total + n
    end
    return table.concat(parts), true
end

return memory
