-- The runtime C boots: it receives the core's primitives, sets up the
-- public module, and returns the event loop C resumes for each wanted
-- event. A failing hook is reported here, never fatal to the guest (unless
-- onerror=abort).
local context = require "luahook._core.context"
local int = require "luahook._guest.int"

local runtime = {}

local core         -- the C primitives
local hooks, event, repl
local chain_of, code_hook, new_syscall -- hooks.chain, hooks.code, syscall.new
local detach_syscall, resume_syscall -- syscall.detach, syscall.resume
local xpcall = xpcall
local pending      -- [vcpu] = syscall object waiting for its result
local entries, returns = 0, 0 -- events handled, for lh.stats
-- The event being dispatched: sc, phase, result. It is not cleared after
-- (a wrapper doing that cost more than the rest of the dispatch): only
-- meaningful while core.in_event() says an event is being handled.
local current_sc, current_phase, current_result
local WORD_BITS    -- the guest's register width, from the core at boot
local no_return    -- [nr] = true for syscalls whose return never comes
-- QEMU's own return codes (linux-user special-errno.h): the syscall will be
-- restarted (its entry comes again), or a sigreturn restored all registers.
local QEMU_ERESTARTSYS, QEMU_ESIGRETURN = -512, -513

-- The traceback of a failing hook, cut where the runtime's own frames
-- begin (with the xpcall that runs an exit hook). A message handler itself
-- (xpcall's for exit hooks), or called from one with `level` 3.
local RUNTIME_SOURCE = debug.getinfo(1, "S").short_src
local function traceback(message, level)
    local tb = debug.traceback(tostring(message), level or 2)
    local cut = tb:find("\n\t" .. RUNTIME_SOURCE .. ":", 1, true)
    tb = cut and tb:sub(1, cut - 1) or tb
    tb = tb:gsub("\n\t%[C%]: in function 'xpcall'$", "")
    -- no frames left (the handler ran after the stack unwound): no heading
    return (tb:gsub("\nstack traceback:$", ""))
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

-- Why a hook's answer cannot be the syscall's result (nil when it can),
-- naming the hook's function: it has returned, so that is its traceback.
local answer_problem = int.answer_problem
local AGAIN = context.AGAIN
local function invalid_answer(rec, value)
    local why = answer_problem(value, WORD_BITS)
    if why then
        local info = type(rec.fn) == "function" and debug.getinfo(rec.fn, "S")
        return why .. "\nstack traceback:\n\t" .. (info and info.short_src or "?") .. ":"
               .. (info and info.linedefined or "?") .. ": in the hook that returned it"
    end
end

-- Hooks are called directly, not through pcall: LuaJIT cannot compile a
-- side trace that returns from a hook into a pcall frame, so with one
-- every path through a hook that left its first trace ran interpreted. A
-- failing hook unwinds the whole loop instead; the loop's message handler
-- (on_loop_error) reports it, and the loop, started again at once, resumes
-- the event after it (resume_event). running_chain and running_index say
-- where a chain stands (nil between chains; current_phase says which).
local running_chain, running_index
local resume_kind, resume_chain, resume_index, resume_result

-- A valid answer `result` to `sc` (syscall `nr` on `vcpu`), as run_entry
-- returns it: true and the result, or true alone (the result in event.ret).
local function answered(sc, nr, vcpu, result)
    pending[vcpu] = not no_return[nr] and sc or nil
    if result == AGAIN then
        return true, QEMU_ERESTARTSYS
    elseif type(result) == "number" then
        return true, result
    end
    event.ret = result
    return true
end

-- Entry hooks of `chain` from the `first` on, for `sc` (syscall `nr` on
-- `vcpu`): the first answer wins. Returns what answered does when a hook
-- answered, nothing when all declined.
local function run_entry(chain, first, sc, nr, vcpu)
    running_chain = chain
    for i = first, #chain do
        local rec = chain[i]
        running_index = i
        local hook = rec.fn -- the name a traceback gives it
        local result = hook(sc)
        if result ~= nil then
            local why = result ~= AGAIN and invalid_answer(rec, result)
            if not why then
                running_chain = nil
                return answered(sc, nr, vcpu, result)
            end
            hook_failed(rec, sc, why)
            if rec.on_error ~= nil then
                running_chain = nil
                return answered(sc, nr, vcpu, rec.on_error)
            end
        end
    end
    running_chain = nil
    -- exit and friends never return: keep nothing that would go stale
    pending[vcpu] = not no_return[nr] and sc or nil
end

-- After-hooks of `chain` from the `first` on.
local function run_after(chain, first, sc, result)
    running_chain = chain
    for i = first, #chain do
        running_index = i
        local hook = chain[i].fn
        hook(sc, result)
    end
    running_chain = nil
end

-- The loop calls entry(nr, vcpu, tid, a1, ..., a6, stop) when a syscall is
-- about to run (stop: "interrupt" or "attach" when a prompt was asked for);
-- it returns what run_entry does.
-- Calls QEMU will restart: a blocking call a signal interrupts returns
-- QEMU_ERESTARTSYS, the guest's handler runs (its calls on the same
-- vCPU), and the call's entry comes again with the same arguments. Its
-- object is kept, with what hooks added (when it started, say), and
-- resumed then: [vcpu] = stack of detached objects, innermost last.
local restarting
local kept = 0            -- objects in `restarting`: most entries need not look
local RESTART_DEPTH = 8   -- handlers interrupted inside handlers, at most

local function keep_for_restart(vcpu)
    local stack = restarting[vcpu]
    if not stack then
        stack = {}
        restarting[vcpu] = stack
    end
    if #stack == RESTART_DEPTH then
        table.remove(stack, 1)
        kept = kept - 1
    end
    stack[#stack + 1] = detach_syscall(vcpu)
    kept = kept + 1
end

-- The kept call this entry restarts, if any: the innermost with the same
-- number and arguments (kept calls inside it were left for good).
local function restarted_call(stack, nr, vcpu, a1, a2, a3, a4, a5, a6)
    for i = #stack, 1, -1 do
        local sc = stack[i].sc
        local a = sc.args
        if sc.nr == nr and a[1] == a1 and a[2] == a2 and a[3] == a3 and a[4] == a4
           and a[5] == a5 and a[6] == a6 then
            local call = stack[i]
            kept = kept - (#stack - i + 1)
            for j = #stack, i, -1 do stack[j] = nil end
            if i == 1 then restarting[vcpu] = nil end
            return resume_syscall(vcpu, call)
        end
    end
end

-- parallel=1 with a front end: the prompt's breakpoints, kept in step
-- with other states' (repl.sync_breakpoints) when C's generation moved.
local breaks_generation, breaks_seen = nil, 0

-- The object of a call seen first now: the kept one it restarts, or a new one.
local function syscall_for(nr, vcpu, tid, a1, a2, a3, a4, a5, a6)
    local stack = kept ~= 0 and restarting[vcpu]
    return stack and restarted_call(stack, nr, vcpu, a1, a2, a3, a4, a5, a6)
           or new_syscall(nr, vcpu, tid, a1, a2, a3, a4, a5, a6)
end

local function dispatch_entry(nr, vcpu, tid, a1, a2, a3, a4, a5, a6, stop)
    entries = entries + 1
    if breaks_generation and breaks_generation[0] ~= breaks_seen then
        breaks_seen = breaks_generation[0]
        repl.sync_breakpoints()
    end
    local sc = syscall_for(nr, vcpu, tid, a1, a2, a3, a4, a5, a6)
    current_sc, current_phase, current_result = sc, "entry", nil
    if stop then
        -- Ctrl-C or a client attaching: the prompt opens at this call
        local result = repl.stop(sc, stop == "interrupt" and "interrupted" or "client attached")
        if result ~= nil then
            return answered(sc, nr, vcpu, result)
        end
    end
    return run_entry(chain_of("entry", nr), 1, sc, nr, vcpu)
end

-- The after-hooks of call `sc` on `vcpu`, now that its result exists,
-- unless QEMU will restart it or a sigreturn restored every register.
local function returned(sc, vcpu, result)
    if result == QEMU_ERESTARTSYS then
        keep_for_restart(vcpu)
        return
    end
    if result == QEMU_ESIGRETURN then
        return
    end
    current_sc, current_phase, current_result = sc, "return", result
    run_after(chain_of("after", sc.nr), 1, sc, result)
end

-- The loop calls ret(nr, vcpu, result) once the result exists.
local function dispatch_return(nr, vcpu, result)
    returns = returns + 1
    local sc = pending[vcpu]
    pending[vcpu] = nil
    -- no entry seen (the hook came later): no arguments to show, so skip
    if sc and sc.nr == nr then
        returned(sc, vcpu, result)
    end
end

-- The loop calls after(nr, vcpu, tid, a1, ..., a6, result) for a call with
-- after-hooks only, whose entry C did not bring to Lua: its object is made
-- now (or is the one a restart kept), from the arguments C kept.
local function dispatch_after(nr, vcpu, tid, a1, a2, a3, a4, a5, a6, result)
    returns = returns + 1
    pending[vcpu] = nil
    local sc = syscall_for(nr, vcpu, tid, a1, a2, a3, a4, a5, a6)
    if not no_return[nr] then
        returned(sc, vcpu, result)
    end
end

-- What undoes the half-done work of a hook cut short (an error, an
-- interrupt, os.exit), such as luahook.order's lock: run while the error
-- unwinds, on the thread the hook ran on.
local unwinders = {}

-- Has `fn()` run whenever a hook, or an exit hook, is cut short: modules
-- below the runtime reach it as context.on_unwind.
function context.on_unwind(fn)
    unwinders[#unwinders + 1] = fn
end

local function unwound()
    for i = 1, #unwinders do pcall(unwinders[i]) end
end

-- The loop's message handler (C runs the loop under lua_pcall with it): a
-- failing hook is reported and its chain resumed after it; any other error
-- is luahook's own, reported, and the event is left as declined.
local function on_loop_error(message)
    unwound()
    if message == context.EXIT then
        -- os.exit: QEMU exits once this event is done (core.request_exit)
        resume_kind = "declined"
    elseif running_chain then
        local rec = running_chain[running_index]
        hook_failed(rec, current_sc, traceback(message, 3))
        resume_kind, resume_chain, resume_index = current_phase, running_chain, running_index + 1
        resume_result = current_result
        if current_phase == "entry" and rec.on_error ~= nil then
            -- the hook's own answer for its failure (lh.on's on_error)
            resume_kind, resume_result = "answer", rec.on_error
        end
    else
        core.error("internal error: " .. traceback(message, 3))
        resume_kind = "declined"
    end
    running_chain = nil
    return message
end

-- Stores an entry's answer (what run_entry returned) in the record.
local ANSWER_NUMBER, ANSWER_RET -- the record's codes, from C at boot
local function store_answer(ev, handled, result)
    if handled then
        if result == nil then
            ev.answer = ANSWER_RET
        else
            ev.result, ev.answer = result, ANSWER_NUMBER
        end
    end
end

-- Finishes the event an error interrupted.
local function resume_event(ev)
    local kind = resume_kind
    resume_kind = nil
    if kind == "entry" then
        local sc = current_sc
        store_answer(ev, run_entry(resume_chain, resume_index, sc, sc.nr, sc.vcpu))
    elseif kind == "answer" then
        local sc = current_sc
        store_answer(ev, answered(sc, sc.nr, sc.vcpu, resume_result))
    elseif kind == "return" then
        run_after(resume_chain, resume_index, current_sc, resume_result)
    end
end

-- xpcall's handler for exit hooks: os.exit passes through unreported.
local function exit_hook_error(message)
    unwound()
    if message == context.EXIT then
        return message
    end
    return traceback(message)
end

-- Runs the hooks of `kind` ("exit" or "done") with how, sc, program.
local function run_exit_hooks(kind, how, sc, program)
    for _, fn in ipairs(hooks.fns(kind)) do
        local ok, err = xpcall(fn, exit_hook_error, how, sc, program)
        if not ok and err ~= context.EXIT then
            core.error(kind .. " hook failed: " .. err)
            if context.core.abort_on_error then
                core.request_abort()
            end
        end
    end
end

-- The end of this program image, once: at QEMU's exit (`how` "exit"), or
-- when a followed exec replaces it ("exec", with the exec call and what it
-- runs). An exec that fails after this leaves the image running, its exit
-- hooks done. With parallel=1 it is this state's end: "thread" when its
-- thread ends, or the process and another state's hooks run last; the
-- done hooks (the merge) run only in the state that ends the image.
local image_ended = false
local function end_image(how, sc, program)
    if image_ended then
        return
    end
    image_ended = true
    run_exit_hooks("exit", how, sc, program)
    if how ~= "thread" then
        run_exit_hooks("done", how, sc, program)
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

-- The result of a return event: the record's double when exact, else its int64_t.
local function result_of(ev)
    local result = ev.retn
    if result >= EXACT or result <= -EXACT then
        return ev.ret
    end
    return result
end

-- The event loop. It runs on a stack of its own (core/fiber.c): C resumes it
-- with an event in the record, and it yields back once the event is done.
-- Never returning into C is what lets LuaJIT compile it, and with it the
-- dispatch and the hooks, into machine code.
local function serve()
    local ev = event
    local yield = context.calls.yield
    local ENTRY, RETURN, CODE = core.events.entry, core.events["return"], core.events.code
    local AFTER = core.events.after
    ANSWER_NUMBER, ANSWER_RET = core.answers.number, core.answers.ret
    local stops = {}
    for name, code in pairs(core.stops) do stops[code] = name end
    if resume_kind then
        -- started again after a hook's error: finish that event first
        resume_event(ev)
        yield()
    end
    while true do
        local kind = ev.kind
        if kind == ENTRY then
            store_answer(ev, dispatch_entry(ev.nr, ev.vcpu, ev.tid,
                argument(ev, 0), argument(ev, 1), argument(ev, 2),
                argument(ev, 3), argument(ev, 4), argument(ev, 5), stops[ev.stop]))
        elseif kind == RETURN then
            dispatch_return(ev.nr, ev.vcpu, result_of(ev))
        elseif kind == AFTER then
            dispatch_after(ev.nr, ev.vcpu, ev.tid,
                argument(ev, 0), argument(ev, 1), argument(ev, 2),
                argument(ev, 3), argument(ev, 4), argument(ev, 5), result_of(ev))
        elseif kind == CODE then
            local addr = argument(ev, 0)
            local hook = code_hook(addr) -- none once removed: C still reports it
            if hook then hook(addr, ev.vcpu, ev.tid) end
        else
            end_image(ev.num[0] ~= 0 and "thread" or "exit")
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

--- Ends this program image for a followed exec: the exit hooks run with
--- "exec", the exec call `sc` and the program it runs.
---@param sc luahook.Syscall
---@param program table
function runtime.end_for_exec(sc, program)
    core.end_other_states()
    end_image("exec", sc, program)
end

--- How often C called into Lua: { entries = N, returns = N }.
function runtime.stats()
    return { entries = entries, returns = returns }
end

-- LuaJIT's options for a runtime that is one loop: every path through the
-- dispatch and the hooks is a side trace of one root trace, so allow more
-- of them, and compile a path only once it is taken often (LuaJIT's
-- hotexit is 10). On a guest making 20 000 random calls this cut luahook's
-- part by a third; a file workload came out the same.
local function tune_jit()
    require("jit.opt").start("hotexit=40", "maxside=400", "maxtrace=4000", "maxmcode=2048")
end

-- Takes luahook's own plugin arguments out of the script's: hook_timeout=MS.
local function take_own_arguments(args)
    local timeout = args.hook_timeout
    if timeout ~= nil then
        args.hook_timeout = nil
        local ms = tonumber(timeout)
        if not ms or ms % 1 ~= 0 or ms < 1 or ms >= 2 ^ 31 then
            error("hook_timeout=" .. timeout .. ": expected a whole number of milliseconds from 1 up", 0)
        end
        if core.parallel then
            error("hook_timeout=" .. timeout .. " cannot be used with parallel=1: LuaJIT "
                  .. "interrupts compiled code of one Lua state only", 0)
        end
        core.watch_hooks(ms)
    end
end

-- What the loop dispatches with: the registry, the syscall objects, the
-- REPL, and the calls that never return.
local function set_up_dispatch()
    event = context.event
    hooks = require "luahook._core.hooks"
    hooks.init()
    chain_of, code_hook = hooks.chain, hooks.code
    pending = context.by_vcpu()
    local syscall = require "luahook._core.sc"
    new_syscall, detach_syscall, resume_syscall = syscall.new, syscall.detach, syscall.resume
    restarting = context.by_vcpu()
    -- only a front end (repl=, break=) can stop the guest at a prompt: the
    -- module is loaded then, and a state boots without it in half the time
    -- (with parallel=1, each thread boots one)
    if core.repl_kind then
        repl = require "luahook._core.repl"
    end
    local syscalls = require "luahook.syscalls"
    no_return = context.by_nr()
    for _, name in ipairs({ "exit", "exit_group", "sigreturn", "rt_sigreturn" }) do
        local nr = syscalls.number(name)
        if nr then no_return[nr] = true end
    end
end

-- break= plugin arguments, as breakpoints before the script's own hooks.
local function add_breakpoints(breaks)
    local syscalls = require "luahook.syscalls"
    if #breaks > 0 then
        repl = repl or require "luahook._core.repl"
    end
    for _, what in ipairs(breaks) do
        local ok, err = pcall(repl.add_breakpoint, syscalls.split(what), nil, 1)
        if not ok then error("break=" .. what .. ": " .. err, 0) end
    end
    if repl and core.parallel then
        breaks_generation = require("ffi").cast("int *", core.breaks_generation)
        repl.share_breakpoints(breaks_generation)
        breaks_seen = -1   -- a state made after a prompt added some takes them at its first event
    end
end

--- Called once by C with its primitives, before any script runs; returns
--- the event loop and its message handler.
function runtime.boot(primitives)
    tune_jit()
    context.init(primitives)
    core = primitives
    WORD_BITS = context.word_size * 8
    take_own_arguments(primitives.args)
    -- for the public module, which the runtime sets up and so never requires
    context.current, context.stats = runtime.current, runtime.stats
    set_up_dispatch()
    local script_env = require "luahook._core.script_env"
    script_env.install(require "luahook")
    add_breakpoints(primitives.breaks)
    script_env.search_beside(primitives.script ~= "" and { primitives.script } or {})
    if primitives.follow_exec then
        require("luahook._core.follow").start(runtime.end_for_exec)
    end
    return serve, on_loop_error
end

return runtime
