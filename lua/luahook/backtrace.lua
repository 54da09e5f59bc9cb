-- Guest stack traces and symbols: sc:backtrace(), lh.symbol(), trace.lua's
-- k=1 and the REPL's bt. libdw unwinds (core/unwind.c); this module keeps
-- its module list current (luahook.modmap) and writes frames as text.
-- Loaded on first use, so scripts that never ask pay nothing.
local context = require "luahook._core.context"
local modmap = require "luahook.modmap"

local backtrace = {}

local core = context.core
local DEFAULT_MAX, MAX = 64, 1024
-- a frame in memory no module covers may be in an image found only then
-- (the vDSO): unwind again with it, a few times at most
local RETRIES = 3

--- One frame: `pc`; `module` (its file, or "[vdso]"); `symbol` and
--- `offset` from it, or without a symbol `offset` from the module's load
--- address; `file` and `line` where debug information says; `fp` when
--- the unwinder had no CFI for the frame below and followed the frame
--- pointer, a guess.
---@class luahook.Frame
---@field pc integer
---@field module string?
---@field symbol string?
---@field offset integer?
---@field file string?
---@field line integer?
---@field fp boolean?

--- The current thread's stack, innermost frame first, at most `max`
--- frames (64 by default): inside a hook only.
---@param max? integer
---@return luahook.Frame[]? frames
---@return string? reason
function backtrace.frames(max)
    max = max or DEFAULT_MAX
    if type(max) ~= "number" or max < 1 or max ~= math.floor(max) then
        error("backtrace(): max must be a positive integer, got " .. tostring(max), 3)
    end
    if not core.in_event() then
        return nil, "the guest's stack is reachable only inside a hook"
    end
    local frames, err
    for _ = 0, RETRIES do
        local ok, why = modmap.sync()
        if not ok then return nil, why end
        frames, err = core.backtrace(math.min(max, MAX))
        if not frames then return nil, err end
        local found = false
        for _, frame in ipairs(frames) do
            if not frame.module and modmap.probe(frame.pc) then found = true end
        end
        if not found then break end
    end
    return frames
end

--- What `addr` is in the guest: a frame table for it (module, symbol,
--- offset, file, line); inside a hook only.
---@param addr integer
---@return luahook.Frame? frame
---@return string? reason
function backtrace.symbol(addr)
    if type(addr) ~= "number" and not (type(addr) == "cdata" and tonumber(addr)) then
        error("symbol(): expected an address, got " .. type(addr), 3)
    end
    addr = tonumber(addr)
    if not core.in_event() then
        return nil, "symbols are known only inside a hook"
    end
    local ok, err = modmap.sync()
    if not ok then return nil, err end
    if not modmap.at(addr) and modmap.probe(addr) then
        ok, err = modmap.sync()
        if not ok then return nil, err end
    end
    return core.resolve(addr)
end

-- "inner+0x1a", "+0x1234" (no symbol: from the module's load address), or
-- "" outside every module.
local function where(frame)
    if frame.symbol then
        return string.format("%s+0x%x", frame.symbol, frame.offset)
    elseif frame.module then
        return string.format("+0x%x", frame.offset)
    end
    return ""
end

--- A frame as strace -k writes one: ` > /path/prog(inner+0x1a) [0x8049abc]`,
--- with ` (fp)` after a frame found by following the frame pointer.
---@param frame luahook.Frame
---@return string
function backtrace.strace_line(frame)
    return string.format(" > %s(%s) [0x%x]%s", frame.module or "?", where(frame), frame.pc,
                         frame.fp and " (fp)" or "")
end

--- A frame as the REPL's bt shows it: `#1  0x08049abc inner+0x1a at
--- nested.c:12 (/path/prog)`.
---@param i integer the frame's number, from 0
---@param frame luahook.Frame
---@return string
function backtrace.gdb_line(i, frame)
    local text = string.format("#%-2d 0x%08x %s", i, frame.pc, frame.symbol and where(frame) or "??")
    if frame.file then
        text = text .. " at " .. frame.file .. (frame.line and (":" .. frame.line) or "")
    end
    if frame.module then
        text = text .. " (" .. (frame.symbol and frame.module or frame.module .. where(frame)) .. ")"
    end
    return text .. (frame.fp and " [frame pointer]" or "")
end

return backtrace
