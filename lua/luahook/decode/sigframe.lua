-- The signal frame a handler returns through: at the entry of rt_sigreturn
-- (and i386's sigreturn) the stack pointer is at the frame QEMU wrote when
-- it delivered the signal, which holds the signal mask and registers the
-- call restores. strace shows the mask as the argument and the restored
-- eax/rax as the result (what the interrupted code sees).
local ffi = require "ffi"
local context = require "luahook._core.context"
local memory = require "luahook._guest.memory"
local registers = require "luahook._guest.registers"
local values = require "luahook.decode.values"

local sigframe = {}

-- Where the stack pointer is at the call's entry, by architecture and
-- call: the offsets of the saved mask (and its size) and of eax/rax.
-- x86_64: the ucontext (its return address popped); its sigcontext at 40,
-- rax 104 into it, the mask after its 256 bytes. i386 rt: the frame past
-- its return address (sig, pinfo, puc, then 128 bytes of siginfo, then
-- the ucontext: sigcontext at 20, eax 44 into it, the mask after its 88
-- bytes). i386's old frame: the sigcontext itself (the trampoline popped
-- the signal number), with the mask's first word as oldmask at 80.
local LAYOUTS = {
    x86_64 = { rt_sigreturn = { mask = 296, mask_size = 8, ax = 144 } },
    i386 = { rt_sigreturn = { mask = 248, mask_size = 8, ax = 204 },
             sigreturn = { mask = 80, mask_size = 4, ax = 44 } },
}

local layouts = LAYOUTS[context.arch] or {}
local SP = context.word_size == 8 and "rsp" or "esp"
local AX = context.word_size == 8 and "int64_t" or "int32_t"

--- The signal mask the call `name` restores, as strace writes it
--- ("{mask=[USR1]}"), or nil when its frame cannot be read.
---@param name string
---@return string?
function sigframe.mask(name)
    local layout = layouts[name]
    local bytes = layout and memory.read(registers.get(SP) + layout.mask, layout.mask_size)
    return bytes and "{mask=" .. values.sigset(bytes) .. "}"
end

--- The value the call `name` returns: the eax/rax it restores, or nil.
---@param name string
---@return integer?
function sigframe.result(name)
    local layout = layouts[name]
    local bytes = layout and memory.read(registers.get(SP) + layout.ax, ffi.sizeof(AX))
    return bytes and tonumber(ffi.cast("const " .. AX .. " *", bytes)[0])
end

return sigframe
