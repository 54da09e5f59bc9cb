-- Integers as people read them in a trace: flag sets (O_RDONLY|O_CLOEXEC,
-- unknown bits in hex), enumerations (SEEK_SET, or "0x10 /* SEEK_??? */"),
-- signal names and sets, and the guest-width integer conversions the
-- decoders share. Formatters are built once from the consts_* tables.
local bit = require "bit"
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local format = require "luahook._guest.format"
local int = require "luahook._guest.int"

local band, bnot, tobit = bit.band, bit.bnot, bit.tobit

local values = {}

local WORD_BITS = (context.word_size or 4) * 8
local TWO32 = 2 ^ 32

--- A 64-bit cdata as a plain number when a double holds it exactly;
--- luahook._guest.int's, under the name the decoders use.
values.exact = int.exact

--- The low 32 bits of a guest value, unsigned (C's unsigned int).
---@param v integer|ffi.cdata*
---@return integer
function values.u32(v)
    if type(v) == "number" then
        return v % TWO32
    end
    return tonumber(band(v, 0xffffffff)) % TWO32
end

--- The low 32 bits of a guest value, signed (C's int: fds, pids, counts).
---@param v integer|ffi.cdata*
---@return integer
function values.i32(v)
    local u = values.u32(v)
    return u >= 2 ^ 31 and u - TWO32 or u
end

--- A word-sized guest value as signed (C's long, off_t on x86_64).
---@param v integer|ffi.cdata*
---@return integer|ffi.cdata*
function values.long(v)
    return int.signed(v, WORD_BITS)
end

-- The texts of recently formatted numbers, direct-mapped by their low bits:
-- formatting a number costs more than the rest of a traced call's result,
-- and the same few (descriptors, sizes, a pid) come back again and again.
-- Both have an array part from slot 0: slots in the hash part would be
-- found by a walk of a hash chain.
local DEC_SLOTS = 256
local dec_keys, dec_texts = require("table.new")(DEC_SLOTS, 0), require("table.new")(DEC_SLOTS, 0)
for slot = 0, DEC_SLOTS - 1 do dec_keys[slot], dec_texts[slot] = false, false end

--- A guest value as a decimal string, exact for 64-bit values.
---@param v integer|ffi.cdata*
---@return string
function values.dec(v)
    if type(v) == "number" then
        local slot = v % DEC_SLOTS
        if dec_keys[slot] == v then
            return dec_texts[slot]
        end
        -- tostring is quicker, and exact below 1e14 (then %.14g turns to exponents)
        local text = (v < 1e14 and v > -1e14) and tostring(v) or string.format("%d", v)
        dec_keys[slot], dec_texts[slot] = v, text
        return text
    end
    return (tostring(v):gsub("[UL]+$", ""))
end

--- A guest pointer: "NULL" or hex.
---@param v integer|ffi.cdata*
---@return string
function values.ptr(v)
    if v == 0 then
        return "NULL"
    end
    return format.hex(v)
end

-- The guest architecture's generated data (tools/gen_arch.lua): the
-- consts_* tables hold x86's values, which stand where no guest is known
-- (unit specs) or the guest's headers have no such name.
local guest = context.arch and arch.data()
local constants = guest and arch.constants() or {}

local signal_names = require("luahook.decode.consts_proc").signal_names
if guest then
    -- the canonical name of each signal below the real-time ones (mips
    -- numbers many of them its own way)
    signal_names = {}
    for _, s in ipairs(guest.signals) do
        if s[2] < 32 then signal_names[s[2]] = signal_names[s[2]] or s[1] end
    end
end

--- A signal number: SIGUSR1, SIGRTMIN and SIGRT_n past 32, else decimal.
---@param v integer|ffi.cdata*
---@return string
function values.signal(v)
    local n = values.i32(v)
    local name = signal_names[n]
    if name then
        return name
    elseif n == 32 then
        return "SIGRTMIN"
    elseif n > 32 and n <= 64 then
        return "SIGRT_" .. (n - 32)
    end
    return tostring(n)
end

-- A signal's name inside a set, as strace writes sets: [USR1 TERM].
local function short_signal(n)
    return (values.signal(n):gsub("^SIG", ""))
end

--- The signal set in `bytes` (a little-endian bit mask, bit 0 = signal 1):
--- "[USR1 TERM]", or "~[KILL]" listing what is missing when more than half
--- of the signals are in it.
---@param bytes string
---@return string
function values.sigset(bytes)
    bytes = int.host_order(bytes, WORD_BITS / 8)   -- an array of longs
    local members, total = {}, #bytes * 8
    for i = 0, #bytes - 1 do
        local b = bytes:byte(i + 1)
        for j = 0, 7 do
            if band(b, bit.lshift(1, j)) ~= 0 then
                members[#members + 1] = i * 8 + j + 1
            end
        end
    end
    local complement = #members > total / 2
    if complement then
        local inside = {}
        for _, n in ipairs(members) do inside[n] = true end
        members = {}
        for n = 1, total do
            if not inside[n] then members[#members + 1] = n end
        end
    end
    for i, n in ipairs(members) do
        members[i] = short_signal(n)
    end
    return (complement and "~[" or "[") .. table.concat(members, " ") .. "]"
end

--- The guest's value of constant `name`, or `x86` when its headers have none.
---@param name string
---@param x86 integer
---@return integer
function values.constant(name, x86)
    local v = constants[name]
    return type(v) == "number" and v or x86
end

-- A value -> name table with each name at the guest's value; x86's values
-- first, so that a value the guest gives another name wins.
local function guest_values(by_value)
    local names = {}
    for v, name in pairs(by_value) do
        if not constants[name] then names[v] = name end
    end
    for v, name in pairs(by_value) do
        if constants[name] then names[values.constant(name, v)] = name end
    end
    return names
end

-- Builds the formatter of an enumeration spec.
local function enum_formatter(spec)
    local names, unknown, hex = guest_values(spec.enum), spec.unknown, spec.hex
    return function(v)
        local u = values.u32(v)
        local name = names[u]
        if name then
            return name
        elseif unknown then
            return string.format("%#x /* %s */", u, unknown)
        elseif hex then
            return string.format("%#x", u)
        end
        return tostring(values.i32(u))
    end
end

-- The high 32 bits of a 64-bit guest value.
local function high_word(v)
    if type(v) == "number" then
        return math.floor(v / TWO32) % TWO32
    end
    return tonumber(bit.rshift(v, 32))
end

-- Builds the formatter of a flag-set spec: named bits in list order, an
-- optional field (a masked enumeration, or "signal") printed first or last
-- (a value it has no name for in hex, with a comment if field.unknown
-- says so), optional permission bits in octal, and leftover bits in hex.
-- `fields` lists more masked enumerations printed first, in order, each
-- by name even when zero (termios' NL0|CR0|...). Flags are 32 bits,
-- except for a `wide` spec on a 64-bit guest, whose high bits have no
-- names and show among the leftovers.
local function flags_formatter(spec)
    local masks, names = {}, {}
    for i, entry in ipairs(spec) do
        masks[i], names[i] = tobit(values.constant(entry[2], entry[1])), entry[2]
    end
    local n = #masks
    local field = spec.field
    local field_mask = field and tobit(field[1])
    local field_names = field and field[2]
    if type(field_names) == "table" then field_names = guest_values(field_names) end
    local field_last = field and field.last
    local octal = spec.octal and tobit(spec.octal)
    local zero = spec.zero or "0"
    local wide = spec.wide and WORD_BITS == 64
    local more = spec.fields
    return function(v)
        local rest = tobit(values.u32(v))
        local high = wide and high_word(v) or 0
        local out, k = {}, 0
        if more then
            for _, f in ipairs(more) do
                local name = f[2][band(rest, f[1]) % TWO32]
                if name then
                    k = k + 1
                    out[k] = name
                    rest = band(rest, bnot(f[1]))
                end
            end
        end
        local field_name
        if field then
            local fv = band(rest, field_mask)
            if field_names == "signal" then
                if fv ~= 0 then field_name = values.signal(fv) end
                rest = band(rest, bnot(field_mask))
            else
                field_name = field_names[fv % TWO32]
                if not field_name and field.unknown then
                    field_name = string.format("%#x /* %s */", fv % TWO32, field.unknown)
                end
                if field_name then rest = band(rest, bnot(field_mask)) end
            end
            if field_name and not field_last then
                k = k + 1
                out[k] = field_name
            end
        end
        for i = 1, n do
            local m = masks[i]
            if band(rest, m) == m then
                k = k + 1
                out[k] = names[i]
                rest = band(rest, bnot(m))
            end
        end
        local perm
        if octal then
            perm = band(rest, octal)
            rest = band(rest, bnot(octal))
        end
        if high ~= 0 then
            k = k + 1
            out[k] = string.format("0x%x%08x", high, rest % TWO32)
        elseif rest ~= 0 then
            k = k + 1
            out[k] = string.format("%#x", rest % TWO32)
        end
        if field_name and field_last then
            k = k + 1
            out[k] = field_name
        end
        if perm then
            k = k + 1
            out[k] = string.format("%#o", perm)
        end
        if k == 0 then
            return zero
        end
        return table.concat(out, "|")
    end
end

local IOC_DIRECTIONS = { [0] = "_IOC_NONE", "_IOC_WRITE", "_IOC_READ", "_IOC_READ|_IOC_WRITE" }

-- Builds the formatter of ioctl requests: a name (requests several drivers
-- share are "A or B"), else the request's fields as _IOC(dir, type, nr, size).
local function ioctl_formatter(spec)
    local names = guest_values(spec.ioctl)
    return function(v)
        local u = values.u32(v)
        local name = names[u]
        if name then
            return name
        end
        local size = bit.band(bit.rshift(u, 16), 0x3fff)
        return string.format("_IOC(%s, %#x, %#x, %#x)", IOC_DIRECTIONS[bit.rshift(u, 30)],
                             bit.band(bit.rshift(u, 8), 0xff), bit.band(u, 0xff), size)
    end
end

local formatters = {}
for _, group in ipairs({ "fs", "mem", "proc", "net", "ipc" }) do
    for name, spec in pairs(require("luahook.decode.consts_" .. group)) do
        if spec.enum then
            formatters[name] = enum_formatter(spec)
        elseif spec.ioctl then
            formatters[name] = ioctl_formatter(spec)
        elseif type(spec[1]) == "table" or spec.field or spec.fields then
            formatters[name] = flags_formatter(spec)
        end
    end
end
formatters.signal = values.signal

--- The formatter called `name` ("open", "prot", "whence", "signal", ...):
--- a function from a guest integer to its text; nil for an unknown name.
---@param name string
---@return (fun(v: integer|ffi.cdata*): string)?
function values.formatter(name)
    return formatters[name]
end

return values
