-- Checks a timeline trace.lua wrote with format=perfetto: Chrome's trace
-- event format in its JSON array form, as Perfetto's UI and
-- chrome://tracing read it. Parses it with dkjson and checks every event's
-- fields, the names of processes and threads, and the timestamps: within
-- the run, and one thread's calls one after another.
local json = require "dkjson"
local ffi = require "ffi"

ffi.cdef [[
struct timeline_spec_timespec { long tv_sec; long tv_nsec; };
int timeline_spec_clock_gettime(int clock, struct timeline_spec_timespec *ts) __asm__("clock_gettime");
]]

local timeline = {}

local CLOCK_MONOTONIC = 1
-- the microseconds trace.lua writes have three decimals
local ROUNDING = 0.002

--- Now on the monotonic clock, in microseconds: what the timestamps count.
---@return number
function timeline.now_us()
    local ts = ffi.new("struct timeline_spec_timespec")
    ffi.C.timeline_spec_clock_gettime(CLOCK_MONOTONIC, ts)
    return tonumber(ts.tv_sec) * 1e6 + tonumber(ts.tv_nsec) / 1e3
end

local function integer(v)
    return type(v) == "number" and v == math.floor(v) and v > 0
end

-- The problems of one event, added to `problems`.
local function check_event(e, i, problems)
    local function problem(what)
        problems[#problems + 1] = string.format("event %d (%s): %s", i, json.encode(e), what)
    end
    if type(e) ~= "table" then return problem("not an object") end
    if not integer(e.pid) or not integer(e.tid) then problem("pid and tid must be integers") end
    if e.ph == "M" then
        if e.name ~= "process_name" and e.name ~= "thread_name" then
            problem("unknown metadata")
        end
        if type(e.args) ~= "table" or type(e.args.name) ~= "string" or e.args.name == "" then
            problem("metadata without a name")
        end
    elseif e.ph == "X" then
        if e.cat ~= "syscall" or type(e.name) ~= "string" then problem("not a syscall slice") end
        if type(e.ts) ~= "number" or type(e.dur) ~= "number" or e.dur < 0 then
            problem("bad ts or dur")
        end
        local args = e.args
        if type(args) ~= "table" or type(args.line) ~= "string" or type(args.result) ~= "string" then
            return problem("no line or result")
        end
        if args.line:sub(1, #e.name + 1) ~= e.name .. "("
            or args.line:sub(-(#args.result + 3)) ~= " = " .. args.result then
            problem("the line is not NAME(...) = RESULT")
        end
        if args.result:match("^%-1 E") and args.errno ~= args.result:match("^%-1 (E%w+)") then
            problem("errno does not match the result")
        end
    elseif e.ph == "i" then
        if e.cat ~= "signal" or type(e.name) ~= "string" or (e.s ~= "t" and e.s ~= "p") then
            problem("not a signal's instant")
        end
        if type(e.ts) ~= "number" then problem("bad ts") end
    else
        problem("unexpected phase " .. tostring(e.ph))
    end
end

--- Parses and checks `text`, a timeline of a run that started at `from`
--- and ended at `to` (timeline.now_us()). Returns the events, and a list
--- of what is wrong (empty when all is well). The result has, besides:
--- names[pid] = the process's names in order, thread_names[tid] = the
--- thread's, slices[tid] = its calls in order of time, instants = the
--- signals' instant events (a delivery, a death) in the file's order.
function timeline.check(text, from, to)
    local events, _, err = json.decode(text, 1, json.null)
    if type(events) ~= "table" then
        return nil, { "not JSON: " .. tostring(err) }
    end
    local problems = {}
    local result = { events = events, names = {}, thread_names = {}, slices = {}, instants = {} }
    for i, e in ipairs(events) do
        check_event(e, i, problems)
        if type(e) == "table" and e.ph == "M" and type(e.args) == "table" then
            local list = e.name == "process_name" and result.names or result.thread_names
            local key = e.name == "process_name" and e.pid or e.tid
            list[key] = list[key] or {}
            table.insert(list[key], e.args.name)
        elseif type(e) == "table" and e.ph == "i" then
            result.instants[#result.instants + 1] = e
            if type(e.ts) == "number" and (e.ts < from or e.ts > to + ROUNDING) then
                problems[#problems + 1] = string.format("event %d at %.3f is outside the run", i, e.ts)
            end
        elseif type(e) == "table" and e.ph == "X" then
            result.slices[e.tid] = result.slices[e.tid] or {}
            table.insert(result.slices[e.tid], e)
            if not result.names[e.pid] then
                problems[#problems + 1] = "a call of process " .. e.pid .. " before its name"
            end
            if not result.thread_names[e.tid] then
                problems[#problems + 1] = "a call of thread " .. e.tid .. " before its name"
            end
            if type(e.ts) == "number" and (e.ts < from or e.ts + (e.dur or 0) > to + ROUNDING) then
                problems[#problems + 1] = string.format("event %d at %.3f is outside the run "
                                                        .. "(%.3f to %.3f)", i, e.ts, from, to)
            end
        end
    end
    for tid, slices in pairs(result.slices) do
        table.sort(slices, function(a, b) return a.ts < b.ts end)
        for k = 2, #slices do
            local before, after = slices[k - 1], slices[k]
            if before.ts + before.dur > after.ts + ROUNDING then
                problems[#problems + 1] = string.format("thread %d: %s overlaps the next call, %s",
                                                        tid, before.args.line, after.args.line)
            end
        end
    end
    return result, problems
end

return timeline
