-- Signals delivered to the guest's handlers, seen from a plugin.
--
-- QEMU 10.2's linux-user delivers a signal by writing a frame on the
-- guest's stack and setting the pc to the handler; no plugin callback
-- says so (the discontinuity callbacks exist, but no code of 10.2 calls
-- them). What a plugin can see is the handler starting: the guest's
-- handlers are learnt from its rt_sigaction, sigaction and signal calls,
-- and the core is asked to report each handler's first block (a code hook
-- in luahook._core.hooks; core.watch_code, docs/internals.md). A handler
-- reached with the return address QEMU gives it and its own signal's
-- number as argument is a delivery; the same function called by the
-- program is not. That return
-- address is the action's sa_restorer, or without one (i386's glibc sets
-- none; aarch64's and riscv64's never do) QEMU's own trampoline, known by
-- its code: a move of sigreturn's or rt_sigreturn's number and the trap.
--
-- The handler's arguments give the signal and, for an action with
-- SA_SIGINFO, the siginfo QEMU wrote into the frame; QEMU writes none for
-- an action without it (but on riscv64), so then only the signal is known.
local bit = require "bit"
local ffi = require "ffi"
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local hooks = require "luahook._core.hooks"
local memory = require "luahook._guest.memory"
local registers = require "luahook._guest.registers"
local structs = require "luahook.decode.structs"
local syscalls = require "luahook.syscalls"
local values = require "luahook.decode.values"

local delivery = {}

-- Where a handler finds what QEMU gave it at its first instruction, on the
-- architectures whose signal frames luahook knows (QEMU's
-- linux-user/ARCH/signal.c): the return address, the signal and the
-- siginfo address, each a register's name or, as a number, the index of
-- the word at the stack pointer that holds it (i386 passes all three on
-- the stack, x86_64 the return address). `trampolines`: QEMU's return
-- code for an action without a restorer, as bytes at the return address
-- (i386: popl %eax; movl $119, %eax; int $0x80, and movl $173, %eax;
-- int $0x80; the others' from the vDSO QEMU maps, its sigreturn code:
-- aarch64: mov x8, #139; svc #0; arm, in Thumb: movs r7, #119 (or #173);
-- svc 0; riscv64: li a7, 139; ecall). `thumb`: bit 0 of a code address
-- says Thumb code, which starts at the address without it. `siginfo`:
-- QEMU writes the siginfo for every action (riscv64 has only the rt
-- frame), not only for those with SA_SIGINFO.
-- mips is missing: QEMU gives plugins no mips registers (docs/api.md), so
-- neither its a0 nor its sp can be read. On architectures not here
-- lh.on_signal is never called (docs/api.md).
local FRAMES = {
    i386 = { ret = 1, signo = 2, info = 3,
             trampolines = { "\x58\xb8\x77\x00\x00\x00\xcd\x80", "\xb8\xad\x00\x00\x00\xcd\x80" } },
    x86_64 = { ret = 1, signo = "rdi", info = "rsi", trampolines = {} },
    aarch64 = { ret = "x30", signo = "x0", info = "x1",
                trampolines = { "\x68\x11\x80\xd2\x01\x00\x00\xd4" } },
    arm = { ret = "lr", signo = "r0", info = "r1", thumb = true,
            trampolines = { "\x77\x27\x00\xdf", "\xad\x27\x00\xdf" } },
    riscv64 = { ret = "ra", signo = "a0", info = "a1", siginfo = true,
                trampolines = { "\x93\x08\xb0\x08\x73\x00\x00\x00" } },
}
local frame_of = FRAMES[context.arch]
-- whether any of them is on the stack: the words there are read first
local on_stack = frame_of and (type(frame_of.ret) == "number" or type(frame_of.signo) == "number"
                               or type(frame_of.info) == "number")
local constants = arch.constants()
-- SA_RESTORER is nil where the kernel has none (riscv64: QEMU always
-- returns through its trampoline there)
local SA_SIGINFO, SA_RESTORER, SA_RESETHAND = constants.SA_SIGINFO, constants.SA_RESTORER,
                                             constants.SA_RESETHAND
local SIG_IGN = 1
local TRAMPOLINES = {}
for _, code in ipairs(frame_of and frame_of.trampolines or {}) do TRAMPOLINES[code] = #code end

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

-- The address where the code `addr` points to starts.
local function code_start(addr)
    return frame_of.thumb and addr % 2 == 1 and addr - 1 or addr
end

-- Whether QEMU's trampoline is at `addr`.
local function is_trampoline(addr)
    addr = code_start(addr)
    for code, len in pairs(TRAMPOLINES) do
        if memory.read(addr, len) == code then return true end
    end
    return false
end

-- A watched handler's first block is about to run on `vcpu`.
local function reached(addr, vcpu, tid)
    local frame = on_stack and structs.words(registers.get(arch.roles.sp), 3)
    if on_stack and not frame then return end
    -- what QEMU gave the handler: a register, or a word at the stack pointer
    local function given(where)
        if type(where) == "number" then return frame[where] end
        return registers.get(where)
    end
    local signo = tonumber(given(frame_of.signo))
    local action = actions[signo]
    if not action or action.code ~= addr then return end
    local back = given(frame_of.ret)
    if action.restorer then
        if back ~= action.restorer then return end
    elseif not is_trampoline(back) then
        return
    end
    if bit.band(action.flags, SA_RESETHAND) ~= 0 then
        actions[signo] = { handler = 0, flags = 0 }
    end
    local info
    if frame_of.siginfo or bit.band(action.flags, SA_SIGINFO) ~= 0 then
        info = tonumber(given(frame_of.info))
    end
    tell({ signo = signo, info = info, handler = action.handler, vcpu = vcpu, tid = tid })
end

-- The action a call set: signal `signo` to `handler`.
local function set_action(signo, handler, flags, restorer)
    if signo < 1 or signo > 64 then return end
    local code = code_start(handler)
    actions[signo] = { handler = handler, code = code, flags = flags,
                       restorer = SA_RESTORER and bit.band(flags, SA_RESTORER) ~= 0 and restorer
                                  or nil }
    if handler > SIG_IGN and not watched[code] then
        watched[code] = true
        hooks.add("code", code, reached, "luahook (signal deliveries)")
    end
end

-- The calls that set an action, and where their new action is: the
-- kernel's struct sigaction (structs.sigaction_parts), i386's old one
-- (handler, mask, flags, restorer), or signal's handler alone.
local function track()
    local function after(name, fn)
        hooks.add("after", syscalls.select(name), fn, "luahook (signal deliveries)")
    end
    after("rt_sigaction", function(sc, ret)
        if ret ~= 0 or sc.args[2] == 0 then return end
        local handler, flags, restorer = structs.sigaction_parts(sc.args[2])
        if handler then set_action(sc.args[1], handler, flags, restorer) end
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
