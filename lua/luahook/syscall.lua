-- The syscall object hooks receive: number, name, arguments and vCPU of one
-- guest syscall, built from the event record C filled.
local context = require "luahook.context"
local syscalls = require "luahook.syscalls"
local format = require "luahook.format"
local memory = require "luahook.memory"

local ARG_COUNT = 6  -- i386 and x86_64 pass at most six arguments
local TWO_32 = 4294967296
local EXACT_HIGH = 2 ^ 21  -- high words below this keep a 64-bit value exact in a double

---@class luahook.Syscall
---@field nr integer syscall number
---@field name string syscall name ("syscall_NR" when the architecture has none)
---@field args (integer|ffi.cdata*)[] the arguments, 1-based, as unsigned guest-sized integers
---@field vcpu integer index of the vCPU (guest thread) making the call
local Syscall = {}
Syscall.__index = Syscall

-- QEMU passes i386 arguments sign-extended to 64 bits; the guest's value is
-- the low word. On x86_64 a value too large for a double stays uint64_t.
local read_arg
if context.word_size == 4 then
    read_arg = function(args, i)
        return args.u32[2 * i]
    end
else
    read_arg = function(args, i)
        local high = args.u32[2 * i + 1]
        if high < EXACT_HIGH then
            return high * TWO_32 + args.u32[2 * i]
        end
        return args.u64[i]
    end
end

local syscall = {}

--- Builds the syscall object for the event C just filled.
---@return luahook.Syscall
function syscall.from_event(ev)
    local nr = tonumber(ev.nr)
    local args = {}
    for i = 1, ARG_COUNT do
        args[i] = read_arg(ev.args, i - 1)
    end
    return setmetatable({ nr = nr, name = syscalls.name(nr), args = args,
                          vcpu = ev.vcpu }, Syscall)
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

function Syscall:__tostring()
    local parts = {}
    for i = 1, ARG_COUNT do
        parts[i] = format.hex(self.args[i])
    end
    return string.format("%s(%s)", self.name, table.concat(parts, ", "))
end

syscall.Syscall = Syscall
return syscall
