-- inject.lua: fault and result injection with strace's -e inject= syntax:
-- make chosen syscalls fail, return a made-up value, run late, or bring a
-- signal, on every call or only on some of them.
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/inject.lua,inject='openat:error=ENOENT:when=2+;read:retval=0' ./prog
--
-- inject=RULE[;RULE...], RULE = SET:ACTION[:ACTION...]
--   SET        syscall names, numbers or classes joined by "+" or "," (openat+%stat), or all
--   error=E    the call does not run; the guest sees -1 and errno E (ENOENT or 2)
--   retval=N   the call does not run and returns N
--   delay_enter=US, delay_exit=US   sleep US microseconds before / after the call, which runs
--   signal=S   deliver signal S (SIGUSR1, USR1 or 10) to the calling thread when the call returns
--   when=EXPR  which calls of the rule's SET: N (the Nth only), N+ (the Nth and later),
--              N+STEP (every STEP-th from the Nth), N..M, N..M+STEP; calls count from 1
-- Rules are separated by ";", and SET members by "+" as well as strace's
-- ",", because QEMU splits plugin arguments at a single comma. Each rule counts its own calls, and every
-- rule whose SET matches a call applies (the first error= or retval= wins).
-- Option log=1 prints a line per injection on luahook's output.
-- With parallel=1 the calls are counted across every thread's Lua state
-- (lh.shared), as in the default mode.
local ffi = require "ffi"
local lh = require "luahook"
local clock = require "luahook.clock"
local options = require "luahook.options"
local signals = require "luahook.signals"
local syscalls = require "luahook.syscalls"

ffi.cdef [[ int lh_inject_tgkill(int tgid, int tid, int sig) __asm__("tgkill"); ]]

local opts = options.parse(lh.args, {
    inject = { kind = "string" },
    log = { kind = "flag", default = false },
})
if not opts.inject then
    error("missing option inject=SET:ACTION[:ACTION...][;RULE...], e.g. inject=openat:error=ENOENT:when=2+")
end

-- Parses when=EXPR into first, last (nil: no end), step.
local function parse_when(text)
    local first, last, step = text:match("^(%d+)$"), nil, nil
    if first then
        last = first
    else
        first, step = text:match("^(%d+)%+(%d*)$")
        if not first then
            first, last, step = text:match("^(%d+)%.%.(%d+)%+?(%d*)$")
        end
    end
    first, last, step = tonumber(first), tonumber(last), tonumber(step) or 1
    if not first or first < 1 or step < 1 or (last and last < first) then
        return nil, "expected N, N+, N+STEP, N..M or N..M+STEP with N >= 1 (calls count from 1)"
    end
    return { first = first, last = last, step = step }
end

local function parse_integer(text)
    local n = tonumber(text)
    if not n or n ~= math.floor(n) or math.abs(n) >= 2 ^ 53 then
        return nil, "expected an integer"
    end
    return n
end

local function parse_usecs(text)
    local n = parse_integer(text)
    if not n or n < 0 then
        return nil, "expected microseconds, a whole number >= 0"
    end
    return n
end

-- Each action's parser turns its text into the value the rule keeps.
local ACTIONS = {
    error = options.errno,
    retval = parse_integer,
    delay_enter = parse_usecs,
    delay_exit = parse_usecs,
    signal = signals.number,
    when = parse_when,
}

local function action_names()
    local names = {}
    for name in pairs(ACTIONS) do names[#names + 1] = name end
    table.sort(names)
    return table.concat(names, ", ")
end

-- The selector list of SET: "openat+%stat+all" -> { "openat", "%stat", "*" }.
-- strace's "," works too where it can reach the script (QEMU reads ",,"
-- in a plugin argument as one comma; the luahook command passes it as is).
local function parse_set(text)
    local list = {}
    for member in (text .. "+"):gmatch("([^+,]*)[+,]") do
        if member == "" then
            return nil, "empty syscall name in '" .. text .. "'"
        end
        list[#list + 1] = member == "all" and "*" or tonumber(member) or member
    end
    local set, err = syscalls.select(list)
    if not set then
        return nil, err
    end
    return set
end

local function parse_rule(text)
    if text == "" then
        return nil, "empty rule (a ';' at the end, or two in a row?)"
    end
    local fields = {}
    for field in (text .. ":"):gmatch("([^:]*):") do fields[#fields + 1] = field end
    local set, err = parse_set(fields[1])
    if not set then
        return nil, err
    end
    local rule = { set = set, calls = 0, text = text }
    for i = 2, #fields do
        local key, value = fields[i]:match("^([%w_]+)=(.*)$")
        if not key or not ACTIONS[key] then
            return nil, string.format("unknown action '%s' (known: %s)", fields[i], action_names())
        end
        if rule[key] ~= nil then
            return nil, key .. "= is given twice"
        end
        local parsed, why = ACTIONS[key](value)
        if parsed == nil then
            return nil, string.format("%s=%s: %s", key, value, why)
        end
        rule[key] = parsed
    end
    if rule.error and rule.retval then
        return nil, "error= and retval= exclude each other"
    end
    if not (rule.error or rule.retval or rule.delay_enter or rule.delay_exit or rule.signal) then
        return nil, "nothing to inject: add error=, retval=, delay_enter=, delay_exit= or signal="
    end
    rule.when = rule.when or { first = 1, step = 1 }
    rule.result = rule.error and -rule.error or rule.retval
    return rule
end

local rules = {}
for text in (opts.inject .. ";"):gmatch("([^;]*);") do
    local rule, err = parse_rule(text)
    if not rule then
        error(string.format("inject rule '%s': %s", text, err))
    end
    rules[#rules + 1] = rule
    rule.index = #rules
end

-- parallel=1: the calls of every state's rules, counted together
local shared_calls = lh.shared.parallel and lh.shared.map("inject.lua")

-- Whether the rule's latest call (its calls-th) is one its when= picks.
local function fires(rule)
    local w, k = rule.when, rule.calls
    return k >= w.first and (w.last == nil or k <= w.last) and (k - w.first) % w.step == 0
end

local function matches(rule, nr)
    return rule.set.all or rule.set[nr]
end

-- The selectors of the rules `keep` accepts, as one list for lh.on/after.
local function selection(keep)
    local list = {}
    for _, rule in ipairs(rules) do
        if keep(rule) then
            if rule.set.all then
                return "*"
            end
            for nr in pairs(rule.set) do list[#list + 1] = nr end
        end
    end
    return #list > 0 and list or nil
end

lh.on(selection(function() return true end), function(sc)
    local result
    for _, rule in ipairs(rules) do
        if matches(rule, sc.nr) then
            if shared_calls then
                rule.calls = shared_calls:add(rule.index)
            else
                rule.calls = rule.calls + 1
            end
            if fires(rule) then
                if rule.delay_enter then
                    clock.sleep_us(rule.delay_enter)
                end
                sc.injected = sc.injected or {}
                sc.injected[#sc.injected + 1] = rule
                if result == nil then
                    result = rule.result
                end
            end
        end
    end
    return result
end)

local at_exit = selection(function(rule) return opts.log or rule.delay_exit or rule.signal end)
if at_exit then
    lh.after(at_exit, function(sc, ret)
        for _, rule in ipairs(sc.injected or {}) do
            if rule.delay_exit then
                clock.sleep_us(rule.delay_exit)
            end
            if rule.signal then
                -- the thread's own host signal: QEMU queues it for the guest
                ffi.C.lh_inject_tgkill(lh.pid(), sc.tid, rule.signal)
            end
        end
        if opts.log and sc.injected then
            lh.printf("inject: %s = %s (INJECTED)\n", sc.name, lh.result(ret))
        end
    end)
end
