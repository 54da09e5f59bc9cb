-- The interactive prompt opened at breakpoints, by lh.repl(), on Ctrl-C or
-- when a client attaches: Lua statements and expressions with the stopped
-- syscall in scope, and debugger commands (c, s, fin, ret, x, str, regs,
-- bt, b/bl/bd, threads, help, kill). Errors at the prompt are printed and the
-- prompt stays; nothing typed there can end the guest except kill.
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local format = require "luahook._guest.format"
local hooks = require "luahook._core.hooks"
local script_env = require "luahook._core.script_env"
local int = require "luahook._guest.int"
local memory = require "luahook._guest.memory"
local registers = require "luahook._guest.registers"
local shared = require "luahook._core.shared"
local syscalls = require "luahook.syscalls"
local decimal = require("luahook.decode.values").dec

local repl = {}

local core = context.core
local PROMPT = "luahook> "
local CONTINUE = "     ... "
local MAX_DEPTH, MAX_ITEMS = 3, 32

local breakpoints = {}     -- id -> { id, what, cond, handle, hits }
local next_breakpoint = 1
local session              -- the open prompt: { sc, phase, result, action }
local env                  -- globals of the prompt, kept between prompts

local function out(text)
    core.repl_write(text)
end

local function outf(fmt, ...)
    out(string.format(fmt, ...))
end

---------------------------------------------------------------- printing

local function is_integer(v)
    return type(v) == "number" and v == math.floor(v) and v > -2 ^ 53 and v < 2 ^ 53
end

local function show(value, depth, seen)
    local t = type(value)
    if is_integer(value) then
        if value >= 0 then
            return string.format("%d (0x%x)", value, value)
        end
        return string.format("%d", value)
    elseif t == "string" then
        return string.format("%q", value)
    elseif t == "cdata" and int.is_integer(value) then
        return tostring(value) .. " (" .. format.hex(value) .. ")"
    elseif t ~= "table" then
        return tostring(value)
    end
    if seen[value] then
        return "<cycle>"
    end
    if depth >= MAX_DEPTH then
        return "{...}"
    end
    seen[value] = true
    local parts, n = {}, 0
    for i, v in ipairs(value) do
        n = n + 1
        if n > MAX_ITEMS then break end
        parts[#parts + 1] = show(v, depth + 1, seen)
    end
    local keys = {}
    for k in pairs(value) do
        if not (is_integer(k) and k >= 1 and k <= #value) then keys[#keys + 1] = k end
    end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    for _, k in ipairs(keys) do
        n = n + 1
        if n > MAX_ITEMS then
            parts[#parts + 1] = "..."
            break
        end
        local key = (type(k) == "string" and k:match("^[%a_][%w_]*$")) and k
                    or "[" .. show(k, MAX_DEPTH, seen) .. "]"
        parts[#parts + 1] = key .. " = " .. show(value[k], depth + 1, seen)
    end
    seen[value] = nil
    return "{ " .. table.concat(parts, ", ") .. " }"
end

local function print_values(...)
    local parts = {}
    for i = 1, select("#", ...) do
        parts[i] = show((select(i, ...)), 0, {})
    end
    out(table.concat(parts, "\t") .. "\n")
end

---------------------------------------------------------------- where we are

-- The call as trace.lua prints it, with its result at a return; its raw
-- registers should the decoder fail.
local function describe_stop(sc, phase, result)
    local ok, call = pcall(require("luahook.decode").format_call, sc,
                           phase == "return" and result or nil)
    if not ok then
        call = tostring(sc) .. (phase == "return" and (" = " .. format.result(result)) or "")
    end
    return string.format("[tid %d] %s", sc.tid, call)
end

---------------------------------------------------------------- commands

local commands = {}

-- Ends the prompt with an action; the runtime acts on it.
local function leave(action, value)
    session.action, session.value = action, value
end

commands.c = function() leave("continue") end
commands.s = function() leave("step") end
commands.fin = function()
    if session.phase ~= "entry" then
        error("fin: already at the return of " .. session.sc.name, 0)
    end
    leave("finish")
end
commands.ret = function(value)
    if session.phase ~= "entry" then
        error("ret: the syscall has run already; its result can no longer change", 0)
    end
    local why = int.answer_problem(value, context.word_size * 8)
    if why then
        error("ret: expected an integer result (e.g. ret(-2) for ENOENT), "
              .. why:gsub("^returned", "got"):gsub(";.*", ""), 0)
    end
    leave("return", value)
end

commands.x = function(addr, len)
    len = len or 64
    local bytes, err = memory.read(addr, len)
    if not bytes then error(err, 0) end
    for offset = 0, #bytes - 1, 16 do
        local chunk = bytes:sub(offset + 1, offset + 16)
        local hex = chunk:gsub(".", function(c) return string.format("%02x ", c:byte()) end)
        local text = chunk:gsub("[^%g ]", ".")
        outf("%s: %-48s |%s|\n", format.hex(addr + offset), hex, text)
    end
end

commands.str = function(addr, max)
    local text, cut = memory.string(addr, max)
    if not text then error(cut, 0) end
    out(string.format("%q", text) .. (cut and "..." or "") .. "\n")
end

-- regs() prints the general registers; regs.eax reads, regs.eax = v writes.
commands.regs = setmetatable({}, {
    __call = function()
        for _, name in ipairs(arch.roles.general) do
            local v = registers.get(name)
            -- in full: a 64-bit stack address is no 1.4e+14
            outf("%-6s %-18s %s\n", name, format.hex(v), decimal(v))
        end
    end,
    __index = function(_, name) return registers.get(name) end,
    __newindex = function(_, name, value) registers.set(name, value) end,
})

-- bt([n]): the guest's stack at this call, innermost frame first.
commands.bt = function(max)
    local backtrace = require "luahook.backtrace"
    local frames, err = backtrace.frames(max)
    if not frames then error("bt: " .. err, 0) end
    for i, frame in ipairs(frames) do out(backtrace.gdb_line(i - 1, frame) .. "\n") end
end

commands.threads = function()
    outf("* tid %d  vcpu %d  stopped at %s\n", session.sc.tid, session.sc.vcpu, session.sc.name)
    for _, t in ipairs(core.waiting_threads()) do
        outf("  tid %d  vcpu %d  waiting at %s\n", t.tid, t.vcpu,
             t.nr < 0 and "a signal handler's start" or syscalls.name(t.nr))
    end
end

-- parallel=1: a breakpoint added at the prompt (with a condition that is
-- text, or none) reaches every thread's state. It is kept in lh.shared,
-- under an id of the process's, and every state adds or deletes what
-- changed at its next event (repl.sync_breakpoints, when the generation,
-- a C int read per event, moved).
local SHARED_BREAKS, SHARED_NEXT = "luahook.repl.breakpoints", "luahook.repl.next_breakpoint"
local generation -- int * (parallel=1 with a front end), nil otherwise

local function shared_changed()
    generation[0] = generation[0] + 1
end

commands.b = function(what, cond)
    local id
    if generation and type(cond) ~= "function" then
        shared.lock(function()
            -- after every id any state has used (break= and the script's
            -- own are numbered alike in every state)
            id = math.max(shared.get(SHARED_NEXT) or 0, next_breakpoint - 1) + 1
            repl.add_breakpoint(what, cond, 4, id)
            shared.set(SHARED_NEXT, id)
            breakpoints[id].shared = true
            local label = breakpoints[id].label
            shared.map(SHARED_BREAKS):set(id, label .. "\n" .. (cond or ""))
            shared_changed()
        end)
    else
        id = repl.add_breakpoint(what, cond, 2)
    end
    outf("breakpoint %d on %s\n", id, tostring(breakpoints[id].label))
    return nil
end

commands.bl = function()
    if next(breakpoints) == nil then
        out("no breakpoints\n")
        return
    end
    local ids = {}
    for id in pairs(breakpoints) do ids[#ids + 1] = id end
    table.sort(ids)
    for _, id in ipairs(ids) do
        local bp = breakpoints[id]
        outf("%d  %s%s  (hit %d time%s)\n", id, bp.label,
             bp.cond_text and ("  if " .. bp.cond_text) or "", bp.hits, bp.hits == 1 and "" or "s")
    end
end

commands.bd = function(id)
    local bp = breakpoints[id]
    if not bp then error("bd: no breakpoint " .. tostring(id), 0) end
    hooks.remove(bp.handle)
    breakpoints[id] = nil
    if bp.shared then
        shared.lock(function()
            shared.map(SHARED_BREAKS):set(id, nil)
            shared_changed()
        end)
    end
    outf("deleted breakpoint %d\n", id)
end

commands.kill = function()
    leave("kill")
end

local HELP = [[
The guest is stopped at a syscall. Type Lua: statements run, expressions print.
In scope: sc (the syscall: sc.name, sc.args, sc:string(i), ...), mem, regs, lh.
  c            continue              s       step to the next syscall entry or return
  fin          run this syscall and stop at its return, showing the result
  ret(v)       return v to the guest and skip the syscall (ret(-2): ENOENT)
  x(addr, n)   hex dump of n bytes   str(addr)  the string at addr
  regs()       general registers     regs.eax = 1   set a register
  bt           the guest's stack (bt(n): n frames at most)
  b(what[, cond])  add a breakpoint (cond: a Lua expression using sc, or a function)
  bl()         list breakpoints      bd(id)  delete one
  threads()    guest threads         kill    end the guest (output flushed)
  help         this text             Ctrl-D  continue
]]
commands.help = function() out(HELP) end

local COMMAND_OF = {}
for name, fn in pairs(commands) do COMMAND_OF[fn] = name end

---------------------------------------------------------------- evaluation

local function make_env()
    local lh = script_env.api
    local e = { lh = lh, luahook = lh, mem = lh.mem, print = print_values }
    for name, fn in pairs(commands) do e[name] = fn end
    return setmetatable(e, { __index = _G })
end

-- Compiles what was typed, as an expression if it is one; more lines are
-- read while the statement is incomplete ("function f()" ... "end").
local function compile(line)
    local chunk = loadstring("return " .. line, "=prompt")
    if chunk then
        return chunk
    end
    while true do
        local err
        chunk, err = loadstring(line, "=prompt")
        if chunk or not err:match("'<eof>'$") then
            return chunk, err
        end
        local more = core.repl_read(CONTINUE)
        if not more then
            return nil, err
        end
        line = line .. "\n" .. more
    end
end

local function evaluate(line)
    local chunk, err = compile(line)
    if not chunk then
        out(err .. "\n")
        return
    end
    setfenv(chunk, env)
    local function report(ok, ...)
        if not ok then
            if (...) == context.EXIT then
                -- os.exit at the prompt: QEMU exits once the prompt is left
                return leave("continue")
            end
            out(tostring((...)) .. "\n")
            return
        end
        local first = ...
        -- a bare command word ("c", "help", "regs") runs the command
        if select("#", ...) == 1 and COMMAND_OF[first] and line:match("^%s*[%a_]+%s*$") then
            local done, err = pcall(first)
            if not done then out(tostring(err) .. "\n") end
        elseif select("#", ...) > 0 then
            print_values(...)
        end
    end
    report(pcall(chunk))
end

---------------------------------------------------------------- completion

local KEYWORDS = { "and", "break", "do", "else", "elseif", "end", "false", "for", "function",
                   "if", "in", "local", "nil", "not", "or", "repeat", "return", "then",
                   "true", "until", "while" }

local function keys_of(value, methods_only)
    local found = {}
    local function add(t, want_functions)
        if type(t) ~= "table" then return end
        for k, v in pairs(t) do
            if type(k) == "string" and k:match("^[%a_][%w_]*$") and k:sub(1, 2) ~= "__"
               and (not want_functions or type(v) == "function") then
                found[k] = true
            end
        end
    end
    if not methods_only then add(value) end
    local mt = getmetatable(value)
    if mt and type(mt.__index) == "table" then add(mt.__index, methods_only) end
    if mt and type(mt) == "table" and type(mt.__index) == "function" then
        add(mt, methods_only)           -- sc's methods live in its metatable
    end
    return found
end

--- Completions for the end of `line`: whole tokens such as "sc.name".
function repl.complete(line)
    local token = line:match("[%a_][%w_%.:]*$") or ""
    local base, sep, partial = token:match("^(.*)([%.:])([%w_]*)$")
    local candidates = {}
    if base then
        local value = env
        for part in base:gmatch("[^%.:]+") do
            if type(value) ~= "table" and type(value) ~= "userdata" then return {} end
            local ok, v = pcall(function() return value[part] end)
            if not ok then return {} end
            value = v
        end
        for k in pairs(keys_of(value, sep == ":")) do
            if k:sub(1, #partial) == partial then candidates[#candidates + 1] = base .. sep .. k end
        end
    else
        local names = keys_of(env)
        for k in pairs(keys_of(_G)) do names[k] = true end
        for _, k in ipairs(KEYWORDS) do names[k] = true end
        for k in pairs(names) do
            if k:sub(1, #token) == token then candidates[#candidates + 1] = k end
        end
    end
    table.sort(candidates)
    return candidates
end

---------------------------------------------------------------- the prompt

--- Opens the prompt for `sc`, at its "entry" or its "return" (with
--- `result`); `why` says what stopped the guest. Returns the action the
--- person chose ("continue", "step", "finish", "return", "kill") and, for
--- "return", the value.
function repl.open(sc, phase, why, result)
    if not core.repl_kind then
        error("no REPL front end: add the plugin argument repl=tty or repl=unix:PATH", 2)
    end
    env = env or make_env()
    env.sc = sc
    core.flush()
    core.stop_world(true)
    local previous = session
    session = { sc = sc, phase = phase }
    outf("%s: %s\n", why, describe_stop(sc, phase, result))
    while not session.action do
        local line = core.repl_read(PROMPT)
        if not line then
            session.action = "continue"      -- Ctrl-D, or the client detached
        elseif line:match("%S") then
            evaluate(line)
        end
    end
    local action, value = session.action, session.value
    session = previous
    core.stop_world(previous ~= nil)
    return action, value
end

--- parallel=1 with a front end: breakpoints added at the prompt reach
--- every state. `breaks_generation` is C's int.
function repl.share_breakpoints(breaks_generation)
    generation = breaks_generation
end

--- Adds and deletes what the prompt of another state added or deleted.
function repl.sync_breakpoints()
    local wanted = shared.map(SHARED_BREAKS):snapshot()
    for id, bp in pairs(breakpoints) do
        if bp.shared and not wanted[tostring(id)] then
            hooks.remove(bp.handle)
            breakpoints[id] = nil
        end
    end
    for key, text in pairs(wanted) do
        local id = tonumber(key)
        if not breakpoints[id] then
            local what, cond = text:match("^(.-)\n(.*)$")
            local ok = pcall(repl.add_breakpoint, syscalls.split(what), cond ~= "" and cond or nil, 1, id)
            if ok then breakpoints[id].shared = true end
        end
    end
end

--- Adds a breakpoint on `what` (a hook selector) with an optional
--- condition: a function of sc, or a Lua expression string using sc.
--- Returns its id (`id` when given). `level` points errors at the caller.
function repl.add_breakpoint(what, cond, level, given_id)
    local test, cond_text = nil, nil
    if type(cond) == "string" then
        local chunk, err = loadstring("return " .. cond, "=condition")
        if not chunk then error("breakpoint condition: " .. err, level + 1) end
        cond_text = cond
        test = function(sc)
            setfenv(chunk, setmetatable({ sc = sc }, { __index = env or _G }))
            return chunk()
        end
    elseif type(cond) == "function" then
        test, cond_text = cond, "<function>"
    elseif cond ~= nil then
        error("breakpoint condition must be a string or a function, got " .. type(cond), level + 1)
    end
    local selection, err = syscalls.select(what)
    if not selection then error("breakpoint: " .. err, level + 1) end
    local id = given_id or next_breakpoint
    next_breakpoint = math.max(next_breakpoint, id + 1)
    local bp = { id = id, cond_text = cond_text, hits = 0,
                 label = type(what) == "table" and table.concat(what, "+") or tostring(what) }
    bp.handle = hooks.add("entry", selection, function(sc)
        if test then
            local ok, hit = pcall(test, sc)
            if not ok then
                out(string.format("breakpoint %d: condition failed: %s\n", id, tostring(hit)))
            elseif not hit then
                return nil
            end
        end
        bp.hits = bp.hits + 1
        return repl.stop(sc, "breakpoint " .. id)
    end, "breakpoint " .. id)
    breakpoints[id] = bp
    return id
end

-- Stepping: one-shot internal hooks that stop this thread at its next
-- entry or return ("step"), or at the return of this very call ("finish").
local function arm_step(sc, action)
    -- sc is reused for the thread's next call: keep what identifies this one
    local tid, nr = sc.tid, sc.nr
    local entry_hook, after_hook
    local function disarm()
        hooks.remove(entry_hook)
        hooks.remove(after_hook)
    end
    if action == "step" then
        entry_hook = hooks.add("entry", { all = true }, function(next_sc)
            if next_sc.tid ~= tid then return nil end
            disarm()
            return repl.stop(next_sc, "step")
        end, "step", "first")
    end
    after_hook = hooks.add("after", action == "step" and { all = true } or { [nr] = true },
        function(done_sc, ret)
            -- the thread's next return is this call's: it cannot start another first
            if done_sc.tid ~= tid then return end
            disarm()
            repl.stop_at_return(done_sc, ret)
        end, action, "first")
end

local function act(sc, action, value)
    if action == "step" or action == "finish" then
        arm_step(sc, action)
    elseif action == "kill" then
        core.kill_guest()
    elseif action == "return" then
        return value
    end
    return nil
end

--- Stops at an entry: opens the prompt, then does what it asked. Returns a
--- result for the guest when the person chose ret(v).
function repl.stop(sc, why)
    return act(sc, repl.open(sc, "entry", why))
end

--- Stops at a return, showing the result.
function repl.stop_at_return(sc, ret)
    act(sc, repl.open(sc, "return", "returned", ret))
end

if core.repl_kind then
    core.set_completer(repl.complete)
end

return repl
