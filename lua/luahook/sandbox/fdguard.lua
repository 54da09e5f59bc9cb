-- Calls that change which file a descriptor number stands for (close,
-- dup2, dup3, close_range), counted while QEMU runs them. The sandbox
-- makes, removes and renames names relative to a directory it pinned with
-- a descriptor of its own; a guest thread that closed or replaced that
-- number in the middle would redirect the call into a directory of its
-- choosing. Such calls run outside luahook's lock, so the sandbox cannot
-- wait for them inside a hook: while one is under way, a call that needs
-- its pins steady is restarted (QEMU runs it again from the start, after
-- the lock has been let go), and the next try finds the table settled.
local lh = require "luahook"

local fdguard = {}

local running = 0
local pid -- the process the count belongs to: a forked child starts at 0

local function current()
    local now = lh.pid()
    if now ~= pid then
        pid, running = now, 0
    end
end

--- The names of the calls to count, entry and return.
fdguard.NAMES = { "close", "dup2", "dup3", "close_range" }

--- At the entry of one of those calls (marks `sc` so its return counts).
function fdguard.enter(sc)
    current()
    running = running + 1
    sc.fdguard_counted = true
end

--- At the return of one of those calls.
function fdguard.leave(sc)
    if sc.fdguard_counted then
        current()
        if running > 0 then running = running - 1 end
    end
end

--- Whether a descriptor may change under a call now.
---@return boolean
function fdguard.busy()
    current()
    return running > 0
end

return fdguard
