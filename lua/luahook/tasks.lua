-- Whether the guest has grown a second thread or process, for scripts that
-- label their lines with the thread making the call as strace -f does
-- ("[pid TID] "). A new thread can make its first call before its creator's
-- clone returns, so the count changes when a clone or fork enters, not when
-- it returns.
local lh = require "luahook"

local tasks = {}

--- The calls that make a thread or process, by name.
tasks.FORKS = { fork = true, vfork = true, clone = true, clone3 = true }

--- The same, those of this architecture, as a sorted list for lh.on.
---@return string[]
function tasks.fork_calls()
    local calls = {}
    for name in pairs(tasks.FORKS) do
        if lh.nr(name) then calls[#calls + 1] = name end
    end
    table.sort(calls)
    return calls
end

local PREFIX_SLOTS = 64
local INHERITED = "luahook.tasks"  -- lh.inherited's key

local Tasks = {}
Tasks.__index = Tasks

--- Starts following the guest's threads and processes. Call it before
--- registering the hooks whose lines it labels: its hooks then run first,
--- and a clone's own line already counts the thread it made.
---@return table  with .several (more than one thread or process), .pid
---               (this process's id, the child's own after a fork) and :prefix(sc)
function tasks.track()
    -- a program a followed exec started is one of several if its caller
    -- was; a thread's own state (parallel=1) is one of several threads
    local several = lh.inherited[INHERITED] == "several" or lh.shared.thread_state
    local self = setmetatable({ several = several, pid = lh.pid(), on_several = {},
                                first_tid = false, prefix_tids = {}, prefix_texts = {},
                                -- its own field: called on every line, found at once
                                prefix = Tasks.prefix }, Tasks)
    lh.on_exec(function()
        if self.several then lh.inherited[INHERITED] = "several" end
    end)
    local calls = tasks.fork_calls()
    lh.on(calls, function(sc)
        sc.tasks_was_single = not self.several
        if not self.several then self:became_several() end
    end)
    lh.after(calls, function(sc, ret)
        if ret == 0 then
            self.pid = lh.pid() -- the child's side of a fork
        elseif ret < 0 and sc.tasks_was_single then
            self.several = false -- nothing was made, and nothing else runs
        end
    end)
    return self
end

function Tasks:became_several()
    self.several = true
    local fns = self.on_several
    self.on_several = {}
    for _, fn in ipairs(fns) do fn() end
end

--- Has `fn()` called once the guest has several threads or processes (now,
--- if it has already): the first time only, even should a fork fail and
--- the guest be one again.
---@param fn function
function Tasks:when_several(fn)
    if self.several then
        fn()
    else
        self.on_several[#self.on_several + 1] = fn
    end
end

--- "[pid TID] " once there are several threads or processes, else "".
--- A call from a thread not seen before counts too, should one have
--- started some other way.
function Tasks:prefix(sc)
    if not self.several then
        self.first_tid = self.first_tid or sc.tid
        if sc.tid == self.first_tid then
            return ""
        end
        self:became_several()
    end
    -- a line per call: the texts of recent threads are kept, not remade
    local tid = sc.tid
    local slot = tid % PREFIX_SLOTS
    if self.prefix_tids[slot] ~= tid then
        self.prefix_tids[slot], self.prefix_texts[slot] = tid, "[pid " .. tid .. "] "
    end
    return self.prefix_texts[slot]
end

return tasks
