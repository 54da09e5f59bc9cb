-- The syscall object hooks receive: number, name, arguments, thread and
-- vCPU of one guest syscall, built from the event record C filled, with
-- methods that read its arguments as typed values.
local added = require "luahook._guest.added"
local context = require "luahook._core.context"
local format = require "luahook._guest.format"
local int = require "luahook._guest.int"
local memory = require "luahook._guest.memory"
local registers = require "luahook._guest.registers"
local syscalls = require "luahook.syscalls"

local ARG_COUNT = context.arg_count  -- the record's argument slots (core/contract.h)
local WORD_BITS = context.word_size * 8

--- One call's object: reused for the vCPU's next call, so valid until the
--- call's after-hooks have run.
---@class luahook.Syscall
---@field nr integer syscall number
---@field name string syscall name ("syscall_NR" when the architecture has none)
---@field args (integer|ffi.cdata*)[] the arguments, 1-based, as unsigned guest-sized integers
---@field vcpu integer index of the vCPU making the call
---@field tid integer the guest thread's id (as gettid() returns in the guest)
---@field pc integer|ffi.cdata* the guest's program counter at the call (read on first use)
---@field restarted integer|false how many times QEMU restarted this call after a signal handler (false: never)
local Syscall = {}
local syscall = {}

-- One syscall object per vCPU, reused for its next call: allocating one per
-- event made the garbage collector the largest cost of a hook (it walks the
-- whole live heap every few hundred kilobytes allocated). Its fixed fields
-- are overwritten in place; anything else it gained (a lazy value, a field
-- a hook added) is in extras[vcpu] and removed before the next call.
local pool, pool_args, extras = context.by_vcpu(), context.by_vcpu(), context.by_vcpu()
local rawset, name_of = rawset, syscalls.name

local function add_extra(self, key, value)
    added.set(extras[self.vcpu], self, key, value)
end

-- Fields computed on first use, so events that never look pay nothing.
local lazy = {
    pc = function() return registers.get(registers.pc_name) end,
}

Syscall.__index = function(self, key)
    local method = Syscall[key]
    if method ~= nil then
        return method
    end
    local compute = lazy[key]
    if compute then
        local value = compute(self)
        add_extra(self, key, value)
        return value
    end
end

Syscall.__newindex = add_extra

-- What sc.restarted is unless syscall.resume set it (a default here, not
-- a field each call would have to set).
Syscall.restarted = false

--- Builds the syscall object of an entry event; each argument is a number,
--- or a uint64_t cdata from 2^53 up (x86_64).
---@return luahook.Syscall
function syscall.new(nr, vcpu, tid, a1, a2, a3, a4, a5, a6)
    local sc, args, keys = pool[vcpu], pool_args[vcpu], extras[vcpu]
    if not sc then
        sc, args, keys = setmetatable({}, Syscall), {}, added.list()
        pool[vcpu], pool_args[vcpu], extras[vcpu] = sc, args, keys
    end
    added.clear(keys, sc)
    args[1], args[2], args[3], args[4], args[5], args[6] = a1, a2, a3, a4, a5, a6
    -- rawset: these are not extras (and are there already but the first time)
    rawset(sc, "vcpu", vcpu)
    rawset(sc, "nr", nr)
    rawset(sc, "name", name_of(nr))
    rawset(sc, "args", args)
    rawset(sc, "tid", tid)
    return sc
end

--- Takes the vCPU's current object out of the pool, with what hooks added
--- to it, to be resumed later (a call QEMU restarts after a signal
--- handler, whose own calls get a fresh object meanwhile).
---@return table kept
function syscall.detach(vcpu)
    local kept = { sc = pool[vcpu], keys = extras[vcpu] }
    pool[vcpu], pool_args[vcpu], extras[vcpu] = nil, nil, nil
    return kept
end

--- Makes a detached object the vCPU's current one again, fields hooks
--- added kept, and counts the restart in `sc.restarted`.
---@return luahook.Syscall
function syscall.resume(vcpu, kept)
    local sc = kept.sc
    pool[vcpu], pool_args[vcpu], extras[vcpu] = sc, sc.args, kept.keys
    sc.restarted = (sc.restarted or 0) + 1   -- an added field: gone at the next call
    return sc
end

--- Argument `i` as a signed integer (an fd of -100 is -100, not 4294967196).
---@param i integer argument index, 1-based
---@return integer|ffi.cdata*
function Syscall:int(i)
    return int.signed(self.args[i], WORD_BITS)
end

--- Argument `i` read as a pointer to a NUL-terminated string (at most `max` bytes).
---@param i integer argument index, 1-based
---@param max? integer
---@return string? text
---@return boolean|string|nil truncated_or_error
function Syscall:string(i, max)
    return memory.string(self.args[i], max)
end

--- Argument `i` read as a pointer to `len` bytes.
---@param i integer argument index, 1-based
---@param len integer
---@return string? bytes
---@return string? error
function Syscall:bytes(i, len)
    return memory.read(self.args[i], len)
end

--- Argument `i` read as a pointer to the guest structure `type_name`: a
--- copy to change and write back with lh.mem.write(sc.args[i], value).
---@param i integer argument index, 1-based
---@param type_name string
---@return ffi.cdata*? value
---@return string? error
function Syscall:struct(i, type_name)
    return memory.struct(self.args[i], type_name)
end

--- Replaces the string argument `i` points to, in place, before the
--- syscall reads it. Only a string no longer than the current one fits.
---@param i integer argument index, 1-based
---@param text string
---@return true? ok
---@return string? error
function Syscall:set_string(i, text)
    local current, err = self:string(i)
    if not current then
        return nil, err
    end
    if #text > #current then
        return nil, string.format("'%s' does not fit in place of '%s' (%d bytes at most)",
                                  text, current, #current)
    end
    return memory.write(self.args[i], text .. "\0")
end

--- The guest's stack at this call, innermost frame first (at most `max`,
--- 64 by default): { pc=, module=, symbol=, offset=, file=, line= } each
--- (docs/api.md "Stack traces"). Only while the call's hooks run.
---@param max? integer
---@return luahook.Frame[]? frames
---@return string? reason
function Syscall:backtrace(max)
    -- loaded on first use: scripts that never ask pay nothing
    local frames, err = require("luahook.backtrace").frames(max)
    return frames, err
end

function Syscall:__tostring()
    local parts = {}
    for i = 1, ARG_COUNT do
        parts[i] = format.hex(self.args[i])
    end
    return string.format("%s(%s)", self.name, table.concat(parts, ", "))
end

syscall.Syscall = Syscall
return syscall
