-- watch.lua: `luahook --watch`. Reloads a script when its file changes,
-- while the guest keeps running: the new version runs, then the hooks (exit
-- hooks included) of the old one are removed. If the new version fails
-- to load, what it registered is removed instead and the old one stays.
-- Files are compared at the guest's syscalls, at most every
-- CHECK_INTERVAL seconds: a guest blocked in one long syscall picks up an
-- edit at its next one. With parallel=1 every thread's Lua state does
-- this for itself, and each reloads.
local lh = require "luahook"
local clock = require "luahook.clock"

local CHECK_INTERVAL = 0.2

local watch = {}

-- { path, text = last text seen, hooks = set } in load order
local files = {}
local next_check = 0

local function read(path)
    local f = io.open(path, "rb")
    if not f then
        return nil
    end
    local text = f:read("*a")
    f:close()
    return text
end

local function as_set(list)
    local set = {}
    for _, v in ipairs(list) do set[v] = true end
    return set
end

local function added_since(before, list)
    local added = {}
    for _, v in ipairs(list) do
        if not before[v] then added[v] = true end
    end
    return added
end

-- Runs `text` as the script at `path`: the set of hook records it
-- registered, or nil and the error, having removed them again.
local function run(path, text)
    local hooks_before = as_set(lh.hooks())
    local chunk, err = loadstring(text, "@" .. path)
    local ok = chunk ~= nil
    if ok then
        ok, err = pcall(chunk)
    end
    local new_hooks = added_since(hooks_before, lh.hooks())
    if not ok then
        for rec in pairs(new_hooks) do lh.off(rec) end
        return nil, tostring(err)
    end
    return new_hooks
end

local function defined_in(fn, path)
    local info = type(fn) == "function" and debug.getinfo(fn, "S")
    return info and info.source == "@" .. path
end

-- What the running version of `file` registered: while it loaded, or
-- later from a function defined in it (a hook adding a hook).
local function owned(file)
    local recs = {}
    for _, rec in ipairs(lh.hooks()) do
        if file.hooks[rec] or defined_in(rec.fn, file.path) then recs[#recs + 1] = rec end
    end
    return recs
end

-- Says what became of a version of the file, once per process: with
-- parallel=1 each thread's Lua state reloads it at its own next syscall.
local function say_once(file, text, fmt, ...)
    local key = "luahook.watch " .. file.path
    local first = lh.shared.lock(function()
        if lh.shared.get(key) == text then return false end
        lh.shared.set(key, text)
        return true
    end)
    if first then lh.printf(fmt, ...) end
end

local function reload(file, text)
    local old_hooks = owned(file)
    local new_hooks, err = run(file.path, text)
    if not new_hooks then
        say_once(file, text, "luahook: reload of %s failed, keeping the previous version: %s\n",
                 file.path, err)
        return
    end
    for _, rec in ipairs(old_hooks) do
        lh.off(rec)
        -- the syscall being dispatched holds its chain of hooks already
        rec.fn = function() end
    end
    file.hooks = new_hooks
    say_once(file, text, "luahook: reloaded %s\n", file.path)
end

local function check()
    local now = clock.now()
    if now < next_check then
        return
    end
    next_check = now + CHECK_INTERVAL
    for _, file in ipairs(files) do
        local text = read(file.path)
        -- a missing file is often an editor between delete and write
        if text and text ~= file.text then
            file.text = text
            reload(file, text)
        end
    end
end

--- Starts watching: the check runs before every other hook, so a hook that
--- answers a syscall cannot keep it from running.
function watch.start()
    lh.on("*", check)
end

--- Loads the script at `path` and watches its file; a load error stops
--- QEMU as for any script.
---@param path string
function watch.load(path)
    local text, err = read(path)
    if not text then
        error("cannot read " .. path .. ": " .. tostring(err), 0)
    end
    local new_hooks, err = run(path, text)
    if not new_hooks then
        error(err, 0)
    end
    files[#files + 1] = { path = path, text = text, hooks = new_hooks }
end

return watch
