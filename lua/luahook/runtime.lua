-- The runtime C boots: it receives the core's primitives, sets up the
-- public module, and returns the event loop C resumes for each wanted
-- event. Every hook runs guarded here: a failing hook is reported, never
-- fatal to the guest (unless onerror=abort).
local context = require "luahook.context"

local runtime = {}

local core         -- the C primitives
local hooks, event, repl
local chain_of, new_syscall -- hooks.chain, syscall.new
local xpcall = xpcall
local pending      -- [vcpu] = syscall object waiting for its result
local entries, returns = 0, 0 -- events handled, for lh.stats
-- The event being dispatched: sc, phase, result. It is not cleared after
-- (a wrapper doing that cost more than the rest of the dispatch): only
-- meaningful while core.in_event() says an event is being handled.
local current_sc, current_phase, current_result
local INT64_MIN, INT64_MAX = -2 ^ 63, 2 ^ 63
local no_return    -- [nr] = true for syscalls whose return never comes
-- QEMU's own return codes (linux-user special-errno.h): the syscall will be
-- restarted (its entry comes again), or a sigreturn restored all registers.
local QEMU_ERESTARTSYS, QEMU_ESIGRETURN = -512, -513

-- The traceback of a failing hook, without the runtime's own frames below it.
local function traceback(message)
    local tb = debug.traceback(tostring(message), 2)
    return (tb:gsub("\n\t%[C%]: in function 'xpcall'.*$", ""))
end

local function hook_failed(rec, sc, message)
    rec.errors = rec.errors + 1
    if rec.errors == 1 then
        core.error(string.format("hook registered at %s failed on %s: %s",
                                 rec.site, sc.name, message))
    end
    if context.core.abort_on_error then
        core.request_abort()
    end
end

-- A hook's answer: nil declines; an integer is the syscall's result.
local function check_result(value)
    local t = type(value)
    if t == "number" then
        if value == math.floor(value) and value >= INT64_MIN and value < INT64_MAX then
            return true
        end
        return false, "returned " .. tostring(value) .. ", which is not a 64-bit integer"
    elseif t == "cdata" and (tonumber(value) ~= nil) then
        return true
    elseif t == "boolean" then
        return false, "returned a boolean; return an integer result, or nothing to let the syscall run"
    end
    return false, "returned a " .. t .. "; return an integer result, or nothing to let the syscall run"
end

-- The loop calls entry(nr, vcpu, tid, a1, ..., a6, stop) when a syscall is
-- about to run (stop: "interrupt" or "attach" when a prompt was asked for);
-- it returns true and the result (or true alone, the result then being in
-- event.ret) when a hook answered, nothing when all declined.
local function dispatch_entry(nr, vcpu, tid, a1, a2, a3, a4, a5, a6, stop)
    entries = entries + 1
    local sc = new_syscall(nr, vcpu, tid, a1, a2, a3, a4, a5, a6)
    current_sc, current_phase, current_result = sc, "entry", nil
    if stop then
        -- Ctrl-C or a client attaching: the prompt opens at this call
        local result = repl.stop(sc, stop == "interrupt" and "interrupted" or "client attached")
        if result ~= nil then
            pending[vcpu] = not no_return[nr] and sc or nil
            return true, result
        end
    end
    local chain = chain_of("entry", nr)
    for i = 1, #chain do
        local rec = chain[i]
        local ok, result = xpcall(rec.fn, traceback, sc)
        if not ok then
            hook_failed(rec, sc, result)
        elseif result ~= nil then
            local valid, why = check_result(result)
            if valid then
                pending[vcpu] = not no_return[nr] and sc or nil
                if type(result) == "number" then
                    return true, result
                end
                event.ret = result
                return true
            end
            hook_failed(rec, sc, why)
        end
    end
    -- exit and friends never return: keep nothing that would go stale
    pending[vcpu] = not no_return[nr] and sc or nil
end

-- The loop calls ret(nr, vcpu, result) once the result exists.
local function dispatch_return(nr, vcpu, result)
    returns = returns + 1
    local sc = pending[vcpu]
    pending[vcpu] = nil
    -- no entry seen (the hook came later): no arguments to show, so skip
    if not sc or sc.nr ~= nr then
        return
    end
    if result == QEMU_ERESTARTSYS or result == QEMU_ESIGRETURN then
        return
    end
    current_sc, current_phase, current_result = sc, "return", result
    local chain = chain_of("after", sc.nr)
    for i = 1, #chain do
        local rec = chain[i]
        local ok, err = xpcall(rec.fn, traceback, sc, result)
        if not ok then
            hook_failed(rec, sc, err)
        end
    end
end

local function exit()
    local lh = require "luahook"
    for _, fn in ipairs(lh._exit_hooks) do
        local ok, err = xpcall(fn, traceback)
        if not ok then
            core.error("exit hook failed: " .. err)
        end
    end
    for _, rec in ipairs(hooks.all()) do
        if rec.errors > 1 then
            core.error(string.format("hook registered at %s failed %d more time%s",
                                     rec.site, rec.errors - 1, rec.errors == 2 and "" or "s"))
        end
    end
    core.flush()
end

local EXACT = 2 ^ 53 -- doubles hold integers exactly below this

-- Argument `i` of the event (0-based): the record's double when exact,
-- else its uint64_t.
local function argument(ev, i)
    local n = ev.num[i]
    if n >= EXACT then
        return ev.args[i]
    end
    return n
end

-- The event loop. It runs on a stack of its own (core/fiber.c): C resumes it
-- with an event in the record, and it yields back once the event is done.
-- Never returning into C is what lets LuaJIT compile it, and with it the
-- dispatch and the hooks, into machine code.
local function serve()
    local ev = event
    local yield = context.calls.yield
    local ENTRY, RETURN = core.events.entry, core.events["return"]
    local NUMBER, RET = core.answers.number, core.answers.ret
    local stops = {}
    for name, code in pairs(core.stops) do stops[code] = name end
    while true do
        local kind = ev.kind
        if kind == ENTRY then
            local handled, result = dispatch_entry(ev.nr, ev.vcpu, ev.tid,
                argument(ev, 0), argument(ev, 1), argument(ev, 2),
                argument(ev, 3), argument(ev, 4), argument(ev, 5), stops[ev.stop])
            if handled then
                if result == nil then
                    ev.answer = RET
                else
                    ev.result, ev.answer = result, NUMBER
                end
            end
        elseif kind == RETURN then
            local result = ev.retn
            if result >= EXACT or result <= -EXACT then
                result = ev.ret
            end
            dispatch_return(ev.nr, ev.vcpu, result)
        else
            exit()
        end
        yield()
    end
end

--- The syscall being dispatched: sc, "entry" or "return", and the result;
--- nothing outside an event.
function runtime.current()
    if not core.in_event() then
        return nil
    end
    return current_sc, current_phase, current_result
end

--- How often C called into Lua: { entries = N, returns = N }.
function runtime.stats()
    return { entries = entries, returns = returns }
end

--- Called once by C with its primitives; returns the event loop.
function runtime.boot(primitives)
    context.init(primitives)
    core = primitives
    event = context.event
    hooks = require "luahook.hooks"
    chain_of = hooks.chain
    pending = context.by_vcpu()
    new_syscall = require("luahook.syscall").new
    repl = require "luahook.repl"
    local syscalls = require "luahook.syscalls"
    no_return = context.by_nr()
    for _, name in ipairs({ "exit", "exit_group", "sigreturn", "rt_sigreturn" }) do
        local nr = syscalls.number(name)
        if nr then no_return[nr] = true end
    end
    local lh = require "luahook"
    _G.luahook = lh
    -- break= plugin arguments come before the script's own hooks
    for _, what in ipairs(primitives.breaks) do
        local ok, err = pcall(repl.add_breakpoint, syscalls.split(what), nil, 1)
        if not ok then error("break=" .. what .. ": " .. err, 0) end
    end
    -- print() from a hook must not land in the guest's stdout
    _G.print = lh.print
    return serve
end

return runtime
