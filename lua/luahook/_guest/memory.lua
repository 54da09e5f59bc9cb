-- Guest memory: raw bytes, NUL-terminated strings, integers in the guest's
-- byte order (little-endian on x86) and pointer size, and typed structures,
-- on top of the core's read and write primitives. A bad address gives nil
-- and a message, never a crash and never a partial write.
local ffi = require "ffi"
local context = require "luahook._core.context"
local format = require "luahook._guest.format"
local int = require "luahook._guest.int"
local types = require "luahook._guest.types"

local memory = {}

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

--- Writes `data` at `addr`: a string, or a cdata (a structure from
--- memory.struct, say), whose bytes are written. All of it or nothing.
---@param addr integer|ffi.cdata*
---@param data string|ffi.cdata*
---@return true? ok
---@return string? error
function memory.write(addr, data)
    addr = address(addr)
    if type(data) == "cdata" then
        data = types.bytes(data)
    elseif type(data) ~= "string" then
        error("write(): expected a string or cdata to write, got " .. type(data), 2)
    end
    local ok, reason = context.core.write_mem(addr, data)
    if not ok then
        return nil, string.format("cannot write %d bytes at %s: %s", #data, format.hex(addr), reason)
    end
    return true
end

--- The most bytes memory.string reads, whatever `max` asks: a string is
--- copied into memory of its own size, and a guest that never ends a
--- string must not make luahook allocate gigabytes.
memory.STRING_MAX = 1024 * 1024

-- Where guest strings are copied: grown, as strings need it, up to
-- STRING_MAX, and kept for the next string.
local SCRATCH_START = 4096
local scratch, scratch_size = ffi.new("char[?]", SCRATCH_START), SCRATCH_START

local function grow_scratch(size)
    local bigger = ffi.new("char[?]", size)
    ffi.copy(bigger, scratch, scratch_size)
    scratch, scratch_size = bigger, size
end

--- The NUL-terminated string at `addr`, at most `max` bytes (default 4096;
--- never more than memory.STRING_MAX). Reads page by page, so a string
--- that ends just before an unmapped page is still read. The second result
--- is true when it was cut at `max` (or at memory.STRING_MAX).
---@param addr integer|ffi.cdata*
---@param max? integer
---@return string? text
---@return boolean|string|nil truncated_or_error
function memory.string(addr, max)
    addr = address(addr)
    max = max or DEFAULT_STRING_MAX
    if type(addr) ~= "number" or addr < 0 or addr >= 2 ^ 64 or addr % 1 ~= 0 then
        return nil, string.format("cannot read a string at %s: not a guest address", tostring(addr))
    end
    if type(max) ~= "number" or max < 0 or max % 1 ~= 0 then
        error("string(): max must be a non-negative integer, got " .. tostring(max), 2)
    end
    max = math.min(max, memory.STRING_MAX)
    local read_string, got = context.calls.read_string, 0
    local limit = math.min(max, scratch_size)
    while true do
        local n = read_string(addr + got, scratch + got, limit - got)
        if n < 0 then
            return nil, string.format("cannot read a string at %s: %s", format.hex(addr),
                                      context.core.read_failures[n])
        end
        got = got + n
        if got < limit or got == max then break end
        -- no NUL yet and more allowed: a scratch twice as large, and on
        limit = math.min(scratch_size * 2, max)
        grow_scratch(limit)
    end
    return ffi.string(scratch, got), got == max
end

-- Integer kinds: C type and size. "long", "ulong" and "ptr" follow the
-- guest's word size.
local KINDS = {
    u8 = "uint8_t", i8 = "int8_t", u16 = "uint16_t", i16 = "int16_t",
    u32 = "uint32_t", i32 = "int32_t", u64 = "uint64_t", i64 = "int64_t",
}

local function ctype_of(kind)
    if kind == "ptr" or kind == "ulong" then
        kind = context.word_size == 8 and "u64" or "u32"
    elseif kind == "long" then
        kind = context.word_size == 8 and "i64" or "i32"
    end
    return KINDS[kind]
end

--- Reads an integer of `kind` ("u8", "i8", ... "u64", "i64", "long",
--- "ulong", "ptr") at `addr`: a number, or a 64-bit cdata beyond 2^53.
---@param addr integer|ffi.cdata*
---@param kind string
---@return (integer|ffi.cdata*)? value
---@return string? error
function memory.int(addr, kind)
    local ctype = ctype_of(kind)
    if not ctype then
        error("unknown integer kind '" .. tostring(kind) .. "'", 2)
    end
    local bytes, err = memory.read(addr, ffi.sizeof(ctype))
    if not bytes then
        return nil, err
    end
    return int.from_bytes(bytes, ctype)
end

--- Writes integer `value` as `kind` at `addr` (truncated to the kind's width).
---@param addr integer|ffi.cdata*
---@param kind string
---@param value integer|ffi.cdata*
---@return true? ok
---@return string? error
function memory.write_int(addr, kind, value)
    local ctype = ctype_of(kind)
    if not ctype then
        error("unknown integer kind '" .. tostring(kind) .. "'", 2)
    end
    if not int.is_integer(value) then
        error("write_int(): expected an integer, got " .. tostring(value), 2)
    end
    return memory.write(addr, int.to_bytes(value, ctype))
end

--- A copy of the guest structure `type_name` ("stat", "timespec", ...; the
--- guest architecture's layout) at `addr`. Change its fields, then write it
--- back with memory.write(addr, value).
---@param addr integer|ffi.cdata*
---@param type_name string
---@return ffi.cdata*? value
---@return string? error
function memory.struct(addr, type_name)
    local size, err = types.sizeof(type_name)
    if not size then
        error(err, 2)
    end
    local bytes
    bytes, err = memory.read(addr, size)
    if not bytes then
        return nil, err
    end
    return types.read(type_name, bytes)
end

return memory
