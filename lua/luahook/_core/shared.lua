-- lh.shared: what the Lua states of one process share (core/shared.c).
-- parallel=1 runs the script in a state per guest thread, which share
-- nothing else; in the default mode the one state sees the same API, so a
-- script written for both needs no test of the mode. Every call takes one
-- process-wide mutex: count in the state's own tables on the hot path and
-- merge here at exit; use the store where a value must be exact while
-- threads run.
local context = require "luahook._core.context"

local core = context.core
local add, set, get, snapshot = core.shared_add, core.shared_set, core.shared_get,
                                core.shared_snapshot
local lock, unlock = core.shared_lock, core.shared_unlock

local shared = {}

local function check_key(where, key)
    local t = type(key)
    if t ~= "string" and t ~= "number" then
        error(where .. ": a key is a string or a number, got " .. t, 3)
    end
    return tostring(key)
end

---@class luahook.SharedMap
local Map = {}
Map.__index = Map

--- Adds `n` (default 1) to the number at `key` (0 if none); returns the sum.
---@param key string|number
---@param n? number
---@return number
function Map:add(key, n)
    return add(self.name, check_key("add", key), n or 1)
end

--- Sets `key` to a number or a string, or removes it with nil.
---@param key string|number
---@param value number|string|nil
function Map:set(key, value)
    set(self.name, check_key("set", key), value)
end

--- The value at `key`, or nil.
---@param key string|number
---@return number|string|nil
function Map:get(key)
    return get(self.name, check_key("get", key))
end

--- A plain table copy of the whole map, as it is now.
---@return table<string, number|string>
function Map:snapshot()
    return snapshot(self.name)
end

local maps = {}

--- The map named `name`, the same in every state of the process.
---@param name string
---@return luahook.SharedMap
function shared.map(name)
    if type(name) ~= "string" then
        error("lh.shared.map(): expected a name, got " .. type(name), 2)
    end
    local m = maps[name]
    if not m then
        m = setmetatable({ name = name }, Map)
        maps[name] = m
    end
    return m
end

-- Counters are the map named "".
local counters = shared.map("")

--- Adds `n` (default 1) to counter `name`; returns its new value.
---@param name string
---@param n? number
---@return number
function shared.add(name, n)
    return add("", check_key("lh.shared.add", name), n or 1)
end

--- The value of counter (or value) `name`, or nil.
function shared.get(name)
    return counters:get(name)
end

--- Sets value `name` (a number or a string; nil removes it).
function shared.set(name, value)
    counters:set(name, value)
end

-- How deep this state is in lh.shared.lock: a hook cut short inside lets go.
local depth = 0
context.on_unwind(function()
    while depth > 0 do
        depth = depth - 1
        unlock()
    end
end)

local function leave(ok, ...)
    depth = depth - 1
    unlock()
    if not ok then error((...), 0) end
    return ...
end

--- Runs fn(...) holding the process's one script lock (every state's
--- lh.shared.lock waits meanwhile; it may be taken again inside), and
--- returns what fn returns.
---@param fn function
function shared.lock(fn, ...)
    if type(fn) ~= "function" then
        error("lh.shared.lock(): expected a function, got " .. type(fn), 2)
    end
    lock()
    depth = depth + 1
    return leave(pcall(fn, ...))
end

--- Whether this process runs a Lua state per guest thread (parallel=1).
shared.parallel = core.parallel

--- For a script that needs one Lua state to see every thread's calls:
--- with parallel=1, an error (the script's load stops QEMU with one line
--- naming the script and `why`); nothing otherwise.
---@param why string
function shared.single_state(why)
    if core.parallel then
        local script = debug.getinfo(2, "S").short_src:match("[^/]*$")
        error(script .. " does not run with parallel=1: " .. why, 0)
    end
end

--- Whether this is a thread's own state (parallel=1), not the main one.
shared.thread_state = core.thread_state

return shared
