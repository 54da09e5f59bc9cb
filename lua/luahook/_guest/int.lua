-- Guest integers in Lua. A double holds integers up to 2^53 exactly, so
-- values are plain numbers when they fit and 64-bit cdata when they do not:
-- no bit of a guest value is ever lost.
local ffi = require "ffi"
local context = require "luahook._core.context"

local int = {}

local LIMIT = 2 ^ 53

--- A 64-bit cdata (or number) as an exact Lua number when it fits, else as is.
---@param v integer|ffi.cdata*
---@return integer|ffi.cdata*
function int.exact(v)
    if type(v) ~= "cdata" then
        return v
    end
    -- an unsigned cdata compares -LIMIT as unsigned too: test it alone
    if ffi.istype("uint64_t", v) then
        return v < LIMIT and tonumber(v) or v
    end
    return (v < LIMIT and v > -LIMIT) and tonumber(v) or v
end

local SIGNED = { [8] = "int8_t", [16] = "int16_t", [32] = "int32_t", [64] = "int64_t" }

--- The unsigned `bits`-wide value `v` read as two's-complement signed.
---@param v integer|ffi.cdata*
---@param bits 8|16|32|64
---@return integer|ffi.cdata*
function int.signed(v, bits)
    if type(v) == "number" and bits < 64 then
        local half = 2 ^ (bits - 1)
        return v >= half and v - 2 * half or v
    end
    return int.exact(ffi.cast(SIGNED[bits], v))
end

--- Whether `v` is an integer a guest register or memory word can hold.
---@param v any
---@return boolean
function int.is_integer(v)
    if type(v) == "number" then
        return v == math.floor(v) and v >= -2 ^ 63 and v < 2 ^ 64
    end
    return type(v) == "cdata" and (ffi.istype("int64_t", v) or ffi.istype("uint64_t", v))
end

-- Results QEMU's CPU loop reads as orders, not as errors
-- (linux-user/special-errno.h), by the guest word's value.
local RESERVED = {
    [-512] = "QEMU_ERESTARTSYS: QEMU would run the syscall again, forever",
    [-513] = "QEMU_ESIGRETURN: QEMU would leave the guest's registers as they are",
    [-514] = "QEMU_ESETPC: QEMU would take the guest's pc as set by a plugin",
}
local TWO_63 = 2 ^ 63

--- Why `value` cannot be a syscall's result on a guest with `word_bits`-bit
--- registers, or nil when it can: a number or integer cdata that fits in
--- 64 bits (not NaN, not a fraction, not complex) and that QEMU does not
--- reserve for itself once cut to the guest's word (-512 to -514).
---@param value any
---@param word_bits 32|64
---@return string? why
function int.answer_problem(value, word_bits)
    local t, word = type(value), nil
    if t == "cdata" then
        if ffi.istype("int64_t", value) or ffi.istype("uint64_t", value) then
            -- the guest's word, cut as C cuts it: exact whatever the value
            word = tonumber(ffi.cast(word_bits == 32 and "int32_t" or "int64_t", value))
        elseif ffi.istype("complex", value) or ffi.istype("complex float", value) then
            return "returned the complex number " .. tostring(value)
                   .. "; return an integer result, or nothing to let the syscall run"
        else
            value = tonumber(value)
            if type(value) ~= "number" then
                return "returned a cdata that is not a number"
                       .. "; return an integer result, or nothing to let the syscall run"
            end
        end
    elseif t ~= "number" then
        return "returned a " .. t .. "; return an integer result, or nothing to let the syscall run"
    end
    if not word then
        if value ~= math.floor(value) or value < -TWO_63 or value >= TWO_63 then
            return "returned " .. tostring(value) .. ", which is not a 64-bit integer"
        end
        word = value
        if word_bits == 32 then
            word = math.fmod(value, 4294967296)      -- exact, unlike %, for any double
            if word >= 2147483648 then word = word - 4294967296 end
            if word < -2147483648 then word = word + 4294967296 end
        end
    end
    local reserved = RESERVED[word]
    if reserved then
        return "returned " .. tostring(value) .. ", a value QEMU reserves (" .. reserved .. ")"
    end
end

--- The bytes of integer `value` as C type `ctype` in the guest's byte
--- order (truncated to its width; negative numbers wrap as in C).
---@param value integer|ffi.cdata*
---@param ctype string
---@return string
function int.to_bytes(value, ctype)
    local box = ffi.new(ctype .. "[1]")
    if type(value) == "number" and value >= 2 ^ 63 then
        box[0] = ffi.cast(ctype, ffi.cast("uint64_t", value))
    else
        box[0] = ffi.cast(ctype, ffi.cast("int64_t", value))
    end
    local bytes = ffi.string(box, ffi.sizeof(ctype))
    return context.big_endian and bytes:reverse() or bytes
end

--- `bytes` (guest memory) with each `unit`-byte integer in the host's
--- order: each unit reversed on a big-endian guest, unchanged otherwise.
---@param bytes string
---@param unit integer
---@return string
function int.host_order(bytes, unit)
    if not context.big_endian or unit == 1 then
        return bytes
    end
    return (bytes:gsub(("."):rep(unit), string.reverse))
end

--- The integer of C type `ctype` at the start of the byte string `bytes`,
--- in the guest's byte order.
---@param bytes string
---@param ctype string
---@return integer|ffi.cdata*
function int.from_bytes(bytes, ctype)
    if context.big_endian then
        bytes = bytes:sub(1, ffi.sizeof(ctype)):reverse()
    end
    return int.exact(ffi.cast("const " .. ctype .. " *", bytes)[0])
end

return int
