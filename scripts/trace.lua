-- trace.lua: one line per guest syscall, as strace prints them:
--   openat(AT_FDCWD, "/etc/passwd", O_RDONLY|O_CLOEXEC) = 3
--   read(3, "root:x:0:0:root:/root:/bin/bash\n"..., 4096) = 1234
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/trace.lua[,OPTION=VALUE...] ./prog
--
-- Options (plugin arguments; lists use "+", QEMU takes the commas):
--   trace=SET   only these: names, numbers and %classes, e.g. trace=%file+read
--               (on i386 also socketcall's and ipc's sub-calls: trace=socket+semget)
--   strsize=N   bytes of strings and buffers shown before "..." (default 32, strace -s)
--   y=1         descriptors with what they refer to: read(3</etc/passwd>, ...) (strace -y)
--   T=1         time spent in each call: ... = 0 <0.000012> (strace -T)
--   tt=1        wall-clock time of each call's entry: 12:34:56.123456 ... (strace -tt)
--   failed=1    only calls that returned an error (strace -Z)
--   json=1      one JSON object per call instead of a line
--   k=1         after each line, the guest's stack at the call, as strace -k
--               prints it: " > /path/prog(inner+0x1a) [0x8049abc]"
-- Output goes to luahook's stream (stderr, or out=FILE). Lines appear when
-- a call returns; exit and exit_group print "= ?" at entry, and an execve
-- that succeeds "= 0" before the new program's lines, which follow (the
-- new program runs under luahook with this script). With follow_exec=0 the
-- line comes at entry when the host says the exec will succeed; should it
-- fail after all, "<... execve resumed>) = -1 ..." follows. Once the guest
-- has a second thread or process, lines start with "[pid TID] " as under
-- strace -f, in the programs its processes exec too.
local ffi = require "ffi"
local lh = require "luahook"
local clock = require "luahook.clock"
local decode = require "luahook.decode"
local exec = require "luahook.decode.exec"
local fds = require "luahook.decode.fds"
local options = require "luahook.options"
local syscalls = require "luahook.syscalls"
local values = require "luahook.decode.values"

local opts = options.parse(lh.args, {
    trace = { kind = "string", default = "*" },
    strsize = { kind = "integer", default = 32, min = 0 },
    y = { kind = "flag", default = false },
    T = { kind = "flag", default = false },
    tt = { kind = "flag", default = false },
    failed = { kind = "flag", default = false },
    json = { kind = "flag", default = false },
    k = { kind = "flag", default = false },
})

-- What to trace ------------------------------------------------------------

-- The selector for lh.on, and for i386's multiplexers asked for only in
-- part (trace=socket), the sub-calls wanted: filters[mux] = { name = true }.
local function selection(text)
    if text == "*" or text == "all" then
        return "*", {}
    end
    local subcalls = decode.subcalls()
    local list, wanted_subs = {}, {}
    for _, item in ipairs(syscalls.split(text)) do
        local ok, err = syscalls.select(item)
        if ok then
            list[#list + 1] = item
        elseif not subcalls[item] then
            error("trace=" .. text .. ": " .. err, 2)
        end
        if subcalls[item] then
            wanted_subs[#wanted_subs + 1] = item
        end
    end
    if #list == 0 and #wanted_subs == 0 then
        error("trace= names no syscall", 2)
    end
    local chosen = #list > 0 and syscalls.select(list) or {}
    local filters = {}
    for _, sub in ipairs(wanted_subs) do
        local mux = subcalls[sub]
        if not chosen[lh.nr(mux)] then
            if not filters[mux] then
                filters[mux] = {}
                list[#list + 1] = mux
            end
            filters[mux][sub] = true
        end
    end
    return list, filters
end

-- A table by syscall number, false for every number: read on every call,
-- so it has an array part (no i386 or x86_64 syscall number reaches 512).
local function by_number()
    local t = require("table.new")(512, 0)
    for nr = 0, 511 do t[nr] = false end
    return t
end

local selector, filters = selection(opts.trace)
-- the same by multiplexer's number
local filter_of = by_number()
for mux, wanted in pairs(filters) do filter_of[lh.nr(mux)] = wanted end

-- Line prefixes and suffixes -------------------------------------------------

ffi.cdef [[
struct lh_trace_timespec { long tv_sec; long tv_nsec; };
int lh_trace_clock_gettime(int clock, struct lh_trace_timespec *ts) __asm__("clock_gettime");
]]
local CLOCK_REALTIME = 0
local now_ts = ffi.new("struct lh_trace_timespec")
local last_second, last_hms

-- The wall-clock time now, as strace -tt writes it (local time).
local function wall_clock()
    ffi.C.lh_trace_clock_gettime(CLOCK_REALTIME, now_ts)
    local sec = tonumber(now_ts.tv_sec)
    if sec ~= last_second then
        last_second, last_hms = sec, os.date("%H:%M:%S", sec)
    end
    return string.format("%s.%06d", last_hms, math.floor(tonumber(now_ts.tv_nsec) / 1000))
end

-- Several threads or processes: see luahook.tasks. Tracked before the
-- tracing hooks are registered, so that its hooks run first.
local tasks = require "luahook.tasks"
local family = tasks.track()

-- Stacks (k=1) ---------------------------------------------------------------

-- The guest's stack at the call, as strace -k lines; the map of modules is
-- followed from the first call on, so that none is missed.
local stack_lines
if opts.k then
    local backtrace = require "luahook.backtrace"
    require("luahook.modmap").track()
    stack_lines = function()
        local frames, err = backtrace.frames()
        local lines = {}
        for i, frame in ipairs(frames or {}) do lines[i] = backtrace.strace_line(frame) end
        if not frames then lines[1] = " > backtrace unavailable: " .. err end
        return lines
    end
end

-- JSON ---------------------------------------------------------------------

local JSON_ESCAPES = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r",
                       ["\t"] = "\\t" }

local function json_string(s)
    return '"' .. s:gsub('[%c"\\\128-\255]', function(c)
        return JSON_ESCAPES[c] or string.format("\\u%04x", c:byte())
    end) .. '"'
end

local function json_args(args)
    local parts = {}
    for i = 1, args.shown do parts[i] = json_string(args[i]) end
    return "[" .. table.concat(parts, ",") .. "]"
end

local WORD_RANGE = lh.arch == "x86_64" and 2 ^ 64 or 2 ^ 32

-- The result as JSON fields: "ret" (-1 on failure, null when none; an
-- address that arrived negative as the unsigned word it is), "errno"
-- ("ENOENT") on failure, else "result", the text after "= ".
local function json_result(ret, result)
    if ret == nil then
        return '"ret":null'
    end
    local name = result:match("^%-1 (E%w+)")
    if name then
        return '"ret":-1,"errno":"' .. name .. '"'
    end
    if type(ret) == "number" and ret < 0 then
        ret = ret + WORD_RANGE
    end
    return '"ret":' .. values.dec(ret) .. ',"result":' .. json_string(result)
end

-- Output -------------------------------------------------------------------

local concat, args_text = table.concat, decode.args_text

-- Writes one call as a line: `result` is the text after "= ". call.stamp
-- (tt=1) is when it started, call.start and call.stop (T=1) when it
-- started and returned.
-- The line goes out in pieces: joining them first would make a string
-- per line, which costs more than the writes.
local out = lh.out
local function emit_line(sc, call, result)
    out(family:prefix(sc))
    if call.stamp then out(call.stamp, " ") end
    out(call.name, "(")
    local separator = ""
    for i = 1, call.shown do
        out(separator, call[i])
        separator = ", "
    end
    out(") = ", result)
    if call.stop then
        out(string.format(" <%.6f>\n", call.stop - call.start))
    else
        out("\n")
    end
    if stack_lines then
        for _, line in ipairs(stack_lines()) do out(line, "\n") end
    end
end

-- The same as a JSON object; `ret` is the raw result (nil when there is
-- none).
local function emit_json(sc, call, result, ret)
    local fields = { '{"pid":', family.pid, ',"tid":', sc.tid, ',"name":', json_string(call.name),
                     ',"args":', json_args(call), ",", json_result(ret, result) }
    if call.stamp then fields[#fields + 1] = ',"time":"' .. call.stamp .. '"' end
    if call.stop then
        fields[#fields + 1] = string.format(',"duration":%.6f', call.stop - call.start)
    end
    if stack_lines then
        local frames = {}
        for i, line in ipairs(stack_lines()) do frames[i] = json_string(line:sub(4)) end
        fields[#fields + 1] = ',"stack":[' .. concat(frames, ",") .. "]"
    end
    fields[#fields + 1] = "}\n"
    lh.out(concat(fields))
end

local emit = opts.json and emit_json or emit_line

-- Hooks --------------------------------------------------------------------

local decoder = decode.new { strsize = opts.strsize, fds = opts.y and fds.new() or nil }
local only_failed, with_stamp, with_time = opts.failed, opts.tt, opts.T

-- What is special about a syscall number: "exit" and "exit_group" never
-- return, "exec" may not, "fork" returns twice.
local SPECIAL = by_number()
for kind, names in pairs({ exit = { exit = true }, exit_group = { exit_group = true },
                           exec = { execve = true, execveat = true }, fork = tasks.FORKS }) do
    for name in pairs(names) do
        if lh.nr(name) then SPECIAL[lh.nr(name)] = kind end
    end
end

local function failed(ret)
    return type(ret) == "number" and ret < 0 and ret > -4096
end

lh.on(selector, function(sc)
    local call = decoder:enter(sc)
    local filter = filter_of[sc.nr]
    if filter and not filter[call.name] then
        return
    end
    sc.trace = call
    if with_stamp or with_time then
        -- a call QEMU restarts after a signal handler keeps its first entry's times
        if not sc.restarted then
            sc.stamp = with_stamp and wall_clock()
            sc.start = with_time and clock.now()
        end
        call.stamp, call.start = sc.stamp or nil, sc.start or nil
    end
    local special = SPECIAL[sc.nr]
    if not special or only_failed then
        return
    end
    if special == "exit" or special == "exit_group" then
        emit(sc, call, "?")
        if special == "exit_group" and not opts.json then
            lh.out(family:prefix(sc), call.stamp and (call.stamp .. " ") or "",
                   "+++ exited with ", call[1], " +++\n")
        end
    elseif special == "exec" and not lh.follow_exec and exec.call_will_succeed(sc) then
        -- a successful exec never returns, and unfollowed nothing is told
        -- when it succeeds: its line, as strace ends it, now
        emit(sc, call, "0", 0)
        call.printed = true
    end
end)

-- A followed exec: its line once it is sure to succeed, before the new
-- program's lines (which the new image prints, under the same pid).
lh.on_exec(function(sc)
    if sc.trace and not only_failed then
        emit(sc, sc.trace, "0", 0)
    end
end)

lh.after(selector, function(sc, ret)
    local call = sc.trace
    if not call then
        return
    end
    if with_time then call.stop = clock.now() end
    local result = decoder:finish(call, ret)
    if only_failed and not failed(ret) then
        return
    end
    local special = SPECIAL[sc.nr]
    if special == "fork" and ret == 0 then
        return -- the child's side of a fork: strace shows the parent's only
    elseif call.printed then
        -- an exec the host said would succeed failed: the truth after all
        if opts.json then
            emit_json(sc, call, result, ret)
        else
            lh.out(family:prefix(sc), "<... ", call.name, " resumed>) = ", result, "\n")
        end
        return
    end
    emit(sc, call, result, ret)
end)

-- y=1 must see every call that changes what a descriptor refers to, even
-- those it does not show.
if opts.y then
    lh.after(decode.descriptor_calls(), function(sc, ret)
        if not sc.trace then
            decoder:observe(sc, ret)
        end
    end)
end
