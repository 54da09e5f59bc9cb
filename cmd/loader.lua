-- loader.lua: the one script the luahook command gives the plugin when it
-- runs several scripts, -e one-liners or --watch. The command passes them,
-- in command-line order, as plugin arguments: _s1=PATH (a script file),
-- _e2=CODE (a one-liner), ..., and _watch=1; _a1=KEY=VALUE is an argument
-- for script 1 alone (replay.lua's in=FILE). They are taken out of
-- luahook.args, so scripts see only their own arguments.
local lh = require "luahook"

local args = lh.args
local sources = {}
for i = 1, math.huge do
    local path, code = args["_s" .. i], args["_e" .. i]
    if not path and not code then
        break
    end
    local key, value = (args["_a" .. i] or ""):match("^([^=]+)=(.*)$")
    sources[i] = { path = path, code = code, key = key, value = value }
    args["_s" .. i], args["_e" .. i], args["_a" .. i] = nil, nil, nil
end
local watching = args._watch ~= nil
args._watch = nil

-- One-liners see the API as globals (on, after, printf, mem, errno, args,
-- ...) and share one environment, so one -e can define what another uses.
local one_liner_env = setmetatable({ lh = lh }, {
    __index = function(_, key)
        local value = lh[key]
        if value ~= nil then
            return value
        end
        return _G[key]
    end,
})

-- error(message, 0): the message already says FILE:LINE, as the plugin's
-- own report of a failing script would.
local function must(chunk, err)
    if not chunk then
        error(err, 0)
    end
    return chunk
end

local watch
if watching then
    local dir = debug.getinfo(1, "S").source:match("^@(.*)/[^/]*$") or "."
    watch = dofile(dir .. "/watch.lua")
    watch.start()
end

-- `require` in a script searches the scripts' directories (not this one's)
local script_paths = {}
for _, src in ipairs(sources) do
    script_paths[#script_paths + 1] = src.path
end
require("luahook._core.script_env").search_beside(script_paths)

local n_code = 0
for _, src in ipairs(sources) do
    if src.code then
        n_code = n_code + 1
        local chunk = must(loadstring(src.code, "=(-e " .. n_code .. ")"))
        setfenv(chunk, one_liner_env)()
    else
        -- its own argument is there while it loads (and reads its options)
        if src.key then args[src.key] = src.value end
        if watch then
            watch.load(src.path)
        else
            must(loadfile(src.path))()
        end
        if src.key then args[src.key] = nil end
    end
end
