-- What a script's Lua sees around it, set up once at boot: the global
-- `luahook`, `print` and `os.exit` made safe to call from a hook,
-- `jit.profile` kept for luahook, and `require` searching only beside the
-- scripts.
local context = require "luahook._core.context"

local script_env = {}

-- The real global package table: `package` in this module is its private
-- copy (docs/internals.md, "The Lua library").
local real_package = _G.package

--- Makes `lh` the global `luahook`; `print` writes to luahook's stream,
--- not the guest's stdout; `os.exit` asks C to stop QEMU once the event is
--- done (exit() in mid-event would leave the guest's call half made) and
--- unwinds what called it; `jit.profile` is refused, as LuaJIT's profiler
--- is what interrupts hooks that run too long.
--- The REPL's prompt finds `lh` here (script_env.api) too.
---@param lh table the public module
function script_env.install(lh)
    script_env.api = lh
    _G.luahook = lh
    _G.print = lh.print
    _G.os.exit = function(code)
        local status = code
        if code == nil or code == true then
            status = 0
        elseif code == false then
            status = 1
        elseif type(code) ~= "number" or code % 1 ~= 0 then
            error("bad argument #1 to 'exit' (integer or boolean expected, got "
                  .. type(code) .. ")", 2)
        end
        context.core.request_exit(status)
        error(context.EXIT, 0)
    end
    real_package.preload["jit.profile"] = function()
        error("jit.profile is not available: luahook runs LuaJIT's profiler to interrupt hooks", 2)
    end
end

--- Makes `require` in scripts search the directories of the scripts
--- `paths` (resolved now, before the guest can change directory), in that
--- order, and nothing else: never the current directory, the guest's,
--- which it could fill with Lua of its own.
---@param paths string[]
function script_env.search_beside(paths)
    local lua, c, seen = {}, {}, {}
    for _, path in ipairs(paths) do
        -- a script that cannot be found fails to load with its own message
        local dir = (context.core.realpath(path) or ""):match("^(.*)/[^/]*$")
        if dir and not seen[dir] then
            seen[dir] = true
            lua[#lua + 1] = dir .. "/?.lua;" .. dir .. "/?/init.lua"
            c[#c + 1] = dir .. "/?.so"
        end
    end
    real_package.path, real_package.cpath = table.concat(lua, ";"), table.concat(c, ";")
end

return script_env
