-- The registry of every hook, in registration order, by kind: entry and
-- after hooks of syscalls; exit hooks (lh.on_exit, lh.on_exec), which run
-- when the program image ends; signal hooks (lh.on_signal), which
-- luahook._core.delivery calls; code hooks, which run when the guest
-- reaches a watched code address (one per address). Derived from it:
-- per-syscall chains (cached), the want table C reads on every syscall to
-- decide, without entering Lua, whether a syscall is wanted, and the
-- hook of each watched code address. runtime.boot calls hooks.init()
-- before anything registers, C calls hooks.settle() once the script ran.
local bit = require "bit"
local context = require "luahook._core.context"
local syscalls = require "luahook.syscalls"

local hooks = {}

local registered = {}                     -- records, oldest first
-- [kind][nr] = array of records, filled on first use
local function no_chains()
    return { entry = context.by_nr(), after = context.by_nr() }
end
local chains = no_chains()
local EMPTY = {}

-- Bits some syscalls always carry: output must be on disk before exec
-- replaces the process image, and luahook's signal handling must be taken
-- back after the guest changes a signal action (core/signals.c).
local fixed_bits = {}
local function mark(names, bit_value)
    for _, name in ipairs(names) do
        local nr = syscalls.number(name)
        if nr then fixed_bits[nr] = bit.bor(fixed_bits[nr] or 0, bit_value) end
    end
end

--- Sets up what holds before any hook: the bits some syscalls always carry,
--- and returns watched from the start when there is a REPL (it adds
--- after-hooks at any call: fin, ret). Needs the guest's architecture
--- (context.init).
function hooks.init()
    mark({ "execve", "execveat" }, context.WANT_FLUSH)
    mark({ "rt_sigaction", "sigaction", "signal" }, context.WANT_REARM)
    if context.core.repl_kind then
        context.core.watch_returns()
    end
end

-- The want bits of the kinds that hook syscalls; exit, signal and code
-- hooks want none.
local KIND_BITS = {
    entry = context.WANT_ENTRY,
    -- C keeps the arguments for the return, where the object is made
    -- unless an entry hook made it at the entry (core/dispatch.c)
    after = context.WANT_ARGS + context.WANT_RETURN,
}

local function wanted_by(rec, nr)
    return rec.selection.all or rec.selection[nr]
end

-- Rewrites the want table. Other vCPUs read it without the lock, so each
-- slot is written once with its final value, never cleared on the way.
-- Slot nr_max stands for every number beyond the table (hypercalls): it
-- wants what any hook on any such number (or on "*") wants, and the chains
-- then tell those numbers apart.
local function refresh()
    local want, nr_max = context.want, context.nr_max
    local bits = {}
    for _, rec in ipairs(registered) do
        local b = KIND_BITS[rec.kind]
        if not b then
            -- wants no syscall
        elseif rec.selection.all then
            for nr = 0, nr_max do bits[nr] = bit.bor(bits[nr] or 0, b) end
        else
            for nr in pairs(rec.selection) do
                local slot = (nr >= 0 and nr < nr_max) and nr or nr_max
                bits[slot] = bit.bor(bits[slot] or 0, b)
            end
        end
    end
    for nr, b in pairs(fixed_bits) do
        bits[nr] = bit.bor(bits[nr] or 0, b)
    end
    local returns = false
    for nr = 0, nr_max do
        local b = bits[nr] or 0
        if want[nr] ~= b then want[nr] = b end
        returns = returns or bit.band(b, context.WANT_RETURN) ~= 0
    end
    -- parallel=1: the table QEMU reads is every state's bits together
    context.core.want_changed()
    -- QEMU reports returns only once asked (see plugin/plugin.c); a return
    -- asked for while a call runs may come from the next call on
    if returns then context.core.watch_returns() end
    chains = no_chains()
end

-- Until the script has loaded (hooks.settle), a hook added or removed only
-- marks the want table and the chains stale (no event is dispatched before
-- then): rewriting the table for each one walked every slot once per
-- catch-all hook, and twelve hooks took 6-8 ms to register.
local settled, stale = false, false

local function changed()
    if settled then
        refresh()
    else
        stale = true
    end
end

--- The script has loaded (C calls this before the guest runs, or before a
--- parallel=1 thread's first event is dispatched): the want table is
--- written once for every hook registered so far, and from now on at each
--- change.
function hooks.settle()
    settled = true
    if stale then
        stale = false
        refresh()
    end
end

-- [addr] = the code hook of a watched address
local code_at = {}

--- Adds a hook of `kind` ("entry", "after", "exit", "signal" or "code");
--- `selection` comes from syscalls.select for "entry" and "after", is the
--- guest address for "code" (C watches it from now on; a later code hook
--- of the same address replaces this one), nil otherwise. `place` "first"
--- puts it before every other hook (the REPL's stepping must see calls
--- first); "last" after every other, those added later included (following
--- an exec must come after every hook that could answer it).
---@param place? "first"|"last"
---@return table record
function hooks.add(kind, selection, fn, site, place)
    local rec = { kind = kind, selection = selection, fn = fn, site = site, errors = 0,
                  last = place == "last" }
    local at = #registered + 1
    if place == "first" then
        at = 1
    elseif place ~= "last" then
        while at > 1 and registered[at - 1].last do at = at - 1 end
    end
    table.insert(registered, at, rec)
    if KIND_BITS[kind] then
        changed()
    elseif kind == "code" then
        code_at[selection] = rec
        context.core.watch_code(selection)
    end
    return rec
end

--- Removes a hook record; returns false when it was not registered.
function hooks.remove(rec)
    for i, r in ipairs(registered) do
        if r == rec then
            table.remove(registered, i)
            if KIND_BITS[rec.kind] then
                changed()
            elseif rec.kind == "code" and code_at[rec.selection] == rec then
                -- C goes on reporting the address: code() then has nothing
                code_at[rec.selection] = nil
            end
            return true
        end
    end
    return false
end

--- The hooks of `kind` ("entry" or "after") that want syscall `nr`, in order.
function hooks.chain(kind, nr)
    local cache = chains[kind]
    local chain = cache[nr]
    if not chain then
        for _, rec in ipairs(registered) do
            if rec.kind == kind and wanted_by(rec, nr) then
                chain = chain or {}
                chain[#chain + 1] = rec
            end
        end
        chain = chain or EMPTY
        cache[nr] = chain
    end
    return chain
end

--- Every registered record, oldest first (for reports at exit).
function hooks.all()
    return registered
end

--- The functions of the hooks of `kind` ("exit", "done" or "signal"),
--- oldest first: a list of its own, so hooks added or removed while they
--- run change nothing.
---@param kind "exit"|"done"|"signal"
function hooks.fns(kind)
    local fns = {}
    for _, rec in ipairs(registered) do
        if rec.kind == kind then fns[#fns + 1] = rec.fn end
    end
    return fns
end

--- The function of the code hook of guest address `addr`, or nil.
---@param addr integer
function hooks.code(addr)
    local rec = code_at[addr]
    return rec and rec.fn
end

return hooks
