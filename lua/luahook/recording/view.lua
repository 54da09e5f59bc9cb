-- A recorded call as trace.lua shows it, for replay's reports: decoded by
-- luahook.decode with guest memory seen through the recording, so its
-- strings, buffers and what it wrote are the recorded ones (memory the
-- recording does not hold, such as a structure the call only read, is
-- read from the guest as it is now).
local ffi = require "ffi"
local context = require "luahook._core.context"
local decode = require "luahook.decode"

local view = {}

-- The region of `rec` that holds the `len` bytes at `addr`, and the offset.
local function find(rec, addr, len)
    for _, r in ipairs(rec.regions) do
        local offset = addr - r.addr
        if offset >= 0 and offset + len <= #r.bytes then
            return r, offset
        end
    end
end

-- Memory reads as luahook._guest.memory makes them (core.read, calls.read_string),
-- answered from the recording first. A string kept in a recording has no
-- NUL: its region ends it.
local function recorded_memory(rec, core, calls)
    local function read(addr, len)
        local r, offset = find(rec, addr, len)
        if r then return r.bytes:sub(offset + 1, offset + len) end
        return core.read(addr, len)
    end
    local function read_string(addr, buf, max)
        local r, offset = find(rec, addr, 1)
        if not r then return calls.read_string(addr, buf, max) end
        local s = r.bytes:sub(offset + 1)
        s = s:match("^[^%z]*") or s
        local n = math.min(#s, max)
        ffi.copy(buf, s, n)
        return n
    end
    return setmetatable({ read = read }, { __index = core }),
           setmetatable({ read_string = read_string }, { __index = function(_, k) return calls[k] end })
end

--- Recorded call `rec` as strace shows it, with its result when it has one.
--- `vcpu`: the vCPU whose decoding slot to use (the reporting thread's).
---@param rec table a call record (luahook.recording.format)
---@param vcpu integer
---@return string
function view.call(rec, vcpu)
    local core, calls = context.core, context.calls
    -- luahook._guest.memory reads through these two: swapped for this call only
    context.core, context.calls = recorded_memory(rec, core, calls)
    local ok, text = pcall(decode.format_call, { nr = rec.nr, args = rec.regs, vcpu = vcpu },
                           rec.result)
    context.core, context.calls = core, calls
    if not ok then error(text, 0) end
    return text
end

return view
