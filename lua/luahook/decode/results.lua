-- Successful results as strace prints them, by the `ret` kind a signature
-- names: decimal (the default), addresses in hex (mmap, brk), file
-- descriptors (annotated with their path under y=1), octal (umask), and
-- results strace explains in parentheses: fcntl's flags, poll's and
-- select's ready descriptors. Each takes (decoder, result, arguments).
-- Failures never get here: luahook._guest.format.result prints them.
local context = require "luahook._core.context"
local format = require "luahook._guest.format"
local structs = require "luahook.decode.structs"
local values = require "luahook.decode.values"

local results = {}
local kinds = {}

local WORD_RANGE = 2 ^ ((context.word_size or 4) * 8)

kinds.int = function(_, ret) return values.dec(ret) end

-- an address: the kernel's unsigned word, whatever sign it arrived with
kinds.hex = function(_, ret)
    if type(ret) == "number" and ret < 0 then
        ret = ret + WORD_RANGE
    end
    return format.hex(ret)
end

kinds.fd = function(self, ret) return self:fd(ret) end

kinds.oct = function(_, ret) return string.format("%#03o", ret) end

local open_flags, fd_flags = values.formatter("open"), values.formatter("fd_flags")

-- fcntl: F_GETFL and F_GETFD return flags, F_DUPFD* a descriptor
kinds.fcntl = function(self, ret, a)
    local cmd = values.u32(a[2])
    if cmd == 3 then
        return string.format("%#x (flags %s)", ret, open_flags(ret))
    elseif cmd == 1 and ret ~= 0 then
        return string.format("%#x (flags %s)", ret, fd_flags(ret))
    elseif cmd == 0 or cmd == 1030 then
        return self:fd(ret)
    end
    return values.dec(ret)
end

-- poll and ppoll: the descriptors that have events
kinds.poll = function(self, ret, a)
    if ret == 0 then
        return "0 (Timeout)"
    end
    local ready = structs.pollfds(self, a[1], a[2], true)
    return ready and string.format("%d (%s)", ret, ready) or values.dec(ret)
end

-- select and pselect6: what is left in each set, and of the timeout
-- (a struct `timeout` at the fifth argument)
local function select_result(self, ret, a, timeout)
    if ret == 0 then
        return "0 (Timeout)"
    end
    local parts = {}
    for i, label in ipairs({ "in", "out", "except" }) do
        local addr = a[i + 1]
        if addr ~= 0 then
            local set = structs.fd_set(self, addr, a[1])
            if set and set ~= "[]" then
                parts[#parts + 1] = label .. " " .. set
            end
        end
    end
    local decode = timeout == "timeval" and structs.timeval or structs.timespec
    local left = a[5] ~= 0 and decode(self, a[5], timeout)
    if left then
        parts[#parts + 1] = "left " .. left
    end
    if #parts == 0 then
        return values.dec(ret)
    end
    return string.format("%d (%s)", ret, table.concat(parts, ", "))
end

kinds.select = function(self, ret, a) return select_result(self, ret, a, "timeval") end
kinds.pselect = function(self, ret, a) return select_result(self, ret, a, "timespec") end
kinds.pselect64 = function(self, ret, a) return select_result(self, ret, a, "timespec64") end

local dumpable = values.formatter("prctl_dumpable")
local PR_GET_DUMPABLE = 3

-- prctl: PR_GET_DUMPABLE's answer by name
kinds.prctl = function(_, ret, a)
    if values.u32(a[1]) == PR_GET_DUMPABLE then
        return string.format("%d (%s)", ret, dumpable(ret))
    end
    return values.dec(ret)
end

local personality = values.formatter("personality")
kinds.personality = function(_, ret)
    return string.format("%s (%s)", ret == 0 and "0" or format.hex(ret), personality(ret))
end

local sched_policy = values.formatter("sched_policy")
kinds.sched_policy = function(_, ret)
    return string.format("%d (%s)", ret, sched_policy(ret))
end

-- time: the seconds, and the date they are
kinds.time = function(_, ret)
    local date = structs.iso_time(ret, 0, 0)
    return date and string.format("%s (%s)", values.dec(ret), date) or values.dec(ret)
end

--- The formatter for result kind `name`, or nil.
---@param name string
---@return function?
function results.get(name)
    return kinds[name]
end

return results
