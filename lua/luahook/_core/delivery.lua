-- Signals delivered to the guest's handlers, seen from a plugin.
--
-- QEMU 10.2's linux-user delivers a signal by writing a frame on the
-- guest's stack and setting the pc to the handler; no plugin callback
-- says so (the discontinuity callbacks exist, but no code of 10.2 calls
-- them). What a plugin can see is the handler starting: the guest's
-- handlers are learnt from its rt_sigaction, sigaction and signal calls,
-- and the core is asked to report each handler's first block (a code hook
-- in luahook._core.hooks; core.watch_code, docs/internals.md). A handler
-- reached with the return address the frame holds and its own signal's
-- number as argument is a delivery; the same function called by the program is not. That return
-- address is the action's sa_restorer, or without one (i386's glibc sets
-- none) QEMU's own trampoline, known by its code: sigreturn's or
-- rt_sigreturn's number moved to eax, then int $0x80.
--
-- The handler's arguments give the signal and, for an action with
-- SA_SIGINFO, the siginfo QEMU wrote into the frame; QEMU writes none for
-- an action without it, so then only the signal is known.
local bit = require "bit"
local ffi = require "ffi"
local context = require "luahook._core.context"
local hooks = require "luahook._core.hooks"
local memory = require "luahook._guest.memory"
local registers = require "luahook._guest.registers"
local structs = require "luahook.decode.structs"
local syscalls = require "luahook.syscalls"
local values = require "luahook.decode.values"

local delivery = {}

-- Where a handler finds its arguments at its first instruction, on the
-- architectures whose signal frames luahook knows: the stack pointer (the
-- return address is the word there), and the registers holding the signal
-- and the siginfo address, or none when they are the stack's next words
-- (i386). On other architectures lh.on_signal is never called (docs/api.md).
local FRAMES = {
    i386 = { sp = "esp" },
    x86_64 = { sp = "rsp", signo = "rdi", info = "rsi" },
}
local frame_of = FRAMES[context.arch]
local SA_SIGINFO, SA_RESTORER, SA_RESETHAND = 4, 0x04000000, 0x80000000
local SIG_IGN = 1
-- QEMU's trampolines for actions without a restorer (i386 only: x86_64
-- requires one): popl %eax; movl $119, %eax; int $0x80, and movl $173,
-- %eax; int $0x80.
local TRAMPOLINES = { ["\x58\xb8\x77\x00\x00\x00\xcd\x80"] = true,
                      ["\xb8\xad\x00\x00\x00\xcd\x80"] = true }

-- The guest's action of each signal: { handler, flags, restorer }.
local actions = {}
local watched = {}
local tracking = false

-- Runs the listeners; one that fails is reported and the others run.
local function tell(signal)
    for _, fn in ipairs(hooks.fns("signal")) do
        local ok, err = xpcall(fn, debug.traceback, signal)
        if not ok then context.core.error("signal hook failed: " .. tostring(err)) end
    end
end

-- A watched handler's first block is about to run on `vcpu`.
local function reached(addr, vcpu, tid)
    local frame = structs.words(registers.get(frame_of.sp), 3)
    if not frame then return end
    local signo = frame_of.signo and tonumber(registers.get(frame_of.signo)) or frame[2]
    local action = actions[signo]
    if not action or action.handler ~= addr then return end
    local back = frame[1]
    if action.restorer then
        if back ~= action.restorer then return end
    elseif not (TRAMPOLINES[memory.read(back, 8) or ""] or TRAMPOLINES[memory.read(back, 7) or ""]) then
        return
    end
    if bit.band(action.flags, SA_RESETHAND) ~= 0 then
        actions[signo] = { handler = 0, flags = 0 }
    end
    local info
    if bit.band(action.flags, SA_SIGINFO) ~= 0 then
        info = frame_of.info and tonumber(registers.get(frame_of.info)) or frame[3]
    end
    tell({ signo = signo, info = info, handler = addr, vcpu = vcpu, tid = tid })
end

-- The action a call set: signal `signo` to `handler`.
local function set_action(signo, handler, flags, restorer)
    if signo < 1 or signo > 64 then return end
    actions[signo] = { handler = handler, flags = flags,
                       restorer = bit.band(flags, SA_RESTORER) ~= 0 and restorer or nil }
    if handler > SIG_IGN and not watched[handler] then
        watched[handler] = true
        hooks.add("code", handler, reached, "luahook (signal deliveries)")
    end
end

-- The calls that set an action, and where their new action is: the
-- kernel's struct sigaction (handler, flags, restorer), i386's old one
-- (handler, mask, flags, restorer), or signal's handler alone.
local function track()
    local function after(name, fn)
        hooks.add("after", syscalls.select(name), fn, "luahook (signal deliveries)")
    end
    after("rt_sigaction", function(sc, ret)
        local w = ret == 0 and sc.args[2] ~= 0 and structs.words(sc.args[2], 3)
        if w then set_action(sc.args[1], w[1], w[2], w[3]) end
    end)
    if syscalls.number("sigaction") then
        after("sigaction", function(sc, ret)
            local w = ret == 0 and sc.args[2] ~= 0 and structs.words(sc.args[2], 4)
            if w then set_action(sc.args[1], w[1], w[3], w[4]) end
        end)
    end
    if syscalls.number("signal") then
        after("signal", function(sc, ret)
            -- the kernel's signal() resets the action once it is taken
            if ret >= 0 then set_action(sc.args[1], sc.args[2], SA_RESETHAND, nil) end
        end)
    end
end

-- Signals whose default action does not end the process; those whose
-- default dumps core. By name: mips numbers them its own way.
local HARMLESS = { SIGCHLD = true, SIGCONT = true, SIGSTOP = true, SIGTSTP = true,
                   SIGTTIN = true, SIGTTOU = true, SIGURG = true, SIGWINCH = true }
local DUMPS_CORE = { SIGQUIT = true, SIGILL = true, SIGTRAP = true, SIGABRT = true,
                     SIGBUS = true, SIGFPE = true, SIGSEGV = true, SIGXCPU = true,
                     SIGXFSZ = true, SIGSYS = true }

ffi.cdef [[
struct lh_delivery_rlimit { unsigned long cur, max; };
int lh_delivery_getrlimit(int resource, struct lh_delivery_rlimit *limit) __asm__("getrlimit");
]]
local RLIMIT_CORE = 4

-- Whether the kernel may write a core file for this process: QEMU dies of
-- the guest's signal itself, so the limit is the guest's.
local function may_dump_core()
    local limit = ffi.new("struct lh_delivery_rlimit")
    return ffi.C.lh_delivery_getrlimit(RLIMIT_CORE, limit) == 0 and limit.cur ~= 0
end

--- In an exit hook: the signal ending the process, and whether it dumps
--- core (as the kernel reports it to a parent); nil when the process ends
--- otherwise. The signal is the last one the host sent that passed
--- through luahook (core.last_signal), if the guest's action for it (as
--- far as tracking saw) is the default and the default is to end.
---@return integer? signo
---@return boolean? core_dumped
function delivery.death()
    local signo = context.core.last_signal()
    local action, name = actions[signo], values.signal(signo)
    if signo == 0 or HARMLESS[name] or (action and action.handler ~= 0) then
        return nil
    end
    return signo, DUMPS_CORE[name] == true and may_dump_core()
end

--- Calls fn(signal) each time the guest's handler of a signal starts
--- (docs/api.md, lh.on_signal); tracking starts with the first one. The
--- signal hook's record, registered from `site`.
---@param fn fun(signal: table)
---@param site string
---@return table record
function delivery.listen(fn, site)
    if not tracking and frame_of then
        tracking = true
        track()
    end
    return hooks.add("signal", nil, fn, site)
end

return delivery
