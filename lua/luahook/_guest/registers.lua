-- The guest's registers by name (QEMU's gdb names: eax, eip, eflags, ... on
-- i386; rax, rip, ... on x86_64; x0, sp, pc on aarch64; ...), plus the
-- portable names of the syscall ABI's roles (nr, arg1..arg6, ret, pc, sp;
-- luahook._guest.arch), read and written inside hooks. Integers for registers of
-- 1, 2, 4 or 8 bytes, in the guest's byte order; byte strings for wider
-- ones (xmm).
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local int = require "luahook._guest.int"

local registers = {}

local UNSIGNED = { [1] = "uint8_t", [2] = "uint16_t", [4] = "uint32_t", [8] = "uint64_t" }
local sizes = {} -- name -> size in bytes, learnt on first access

-- portable name -> the guest's register
local ALIASES = { nr = arch.roles.nr, ret = arch.roles.ret, pc = arch.roles.pc, sp = arch.roles.sp }
for i, name in ipairs(arch.roles.args) do ALIASES["arg" .. i] = name end

local function raise(name, reason)
    if reason == "no such register" and #registers.names() == 0 then
        error(string.format("no registers on %s: QEMU gives plugins none for this "
                            .. "architecture", context.arch), 3)
    elseif reason == "no such register" then
        error(string.format("no register '%s' on %s", tostring(name), context.arch), 3)
    end
    error(string.format("register %s: %s", tostring(name), reason), 3)
end

--- The value of register `name`.
---@param name string
---@return integer|ffi.cdata*|string
function registers.get(name)
    name = ALIASES[name] or name
    local bytes, reason = context.core.reg_read(name)
    if not bytes then raise(name, reason) end
    sizes[name] = #bytes
    local ctype = UNSIGNED[#bytes]
    if not ctype then
        return bytes
    end
    return int.from_bytes(bytes, ctype)
end

--- Sets register `name`: an integer, or a byte string of the register's size.
---@param name string
---@param value integer|ffi.cdata*|string
function registers.set(name, value)
    name = ALIASES[name] or name
    local size = sizes[name]
    if not size then
        registers.get(name)
        size = sizes[name]
    end
    local bytes = value
    if type(value) ~= "string" then
        local ctype = UNSIGNED[size]
        if not ctype or not int.is_integer(value) then
            error(string.format("register %s takes %s", name,
                                ctype and "an integer" or ("a string of " .. size .. " bytes")), 3)
        end
        bytes = int.to_bytes(value, ctype)
    elseif #value ~= size then
        error(string.format("register %s takes %d bytes, got %d", name, size, #value), 3)
    end
    local ok, reason = context.core.reg_write(name, bytes)
    if not ok then raise(name, reason) end
end

--- The guest's register names, in QEMU's order.
---@return string[]
function registers.names()
    local names, reason = context.core.reg_names()
    if not names then error(reason, 2) end
    return names
end

--- `regs.eax` reads, `regs.eax = v` writes.
registers.proxy = setmetatable({}, {
    __index = function(_, name) return registers.get(name) end,
    __newindex = function(_, name, value) registers.set(name, value) end,
})

--- The program counter's name on this guest.
registers.pc_name = arch.roles.pc

return registers
