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
--   format=F    text (the default), json (one JSON object per call; json=1
--               says the same) or perfetto (a timeline: Chrome's trace event
--               JSON, which Perfetto's UI and chrome://tracing open)
--   k=1         after each line, the guest's stack at the call, as strace -k
--               prints it: " > /path/prog(inner+0x1a) [0x8049abc]"
-- Output goes to luahook's stream (stderr, or out=FILE). As strace does,
-- a line starts at the call's entry, its arguments up to the first one
-- the call writes, and is completed when the call returns; should another
-- line come between (another thread's or process's: a call that blocks),
-- the start ends with " <unfinished ...>" and the rest follows later as
-- "<... NAME resumed>...". While the guest is one thread, only the calls
-- that may block start at entry (nothing can come between the others').
-- exit and exit_group print "= ?" at entry, and an execve that succeeds
-- "= 0" before the new program's lines, which follow (the new program runs
-- under luahook with this script). With follow_exec=0 the line comes at
-- entry when the host says the exec will succeed; should it fail after
-- all, "<... execve resumed>) = -1 ..." follows. With failed=1 and in
-- JSON, a call is written whole when it returns. Once the guest has a
-- second thread or process, lines start with "[pid TID] " as under
-- strace -f, in the programs its processes exec too. Signals delivered to
-- the guest's handlers show as "--- SIGUSR1 {si_signo=SIGUSR1, ...} ---",
-- a death by a signal as "+++ killed by SIGSEGV +++" (docs/scripts.md
-- says which signals QEMU lets luahook see).
local ffi = require "ffi"
local lh = require "luahook"
local clock = require "luahook.clock"
local decode = require "luahook.decode"
local exec = require "luahook.decode.exec"
local fds = require "luahook.decode.fds"
local options = require "luahook.options"
local sigframe = require "luahook.decode.sigframe"
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
    format = { kind = "choice", default = "text", choices = { "text", "json", "perfetto" } },
    k = { kind = "flag", default = false },
})
if opts.json then
    if opts.format == "perfetto" then
        error("json=1 and format=perfetto: choose one")
    end
    opts.format = "json"
end
if opts.format == "perfetto" and (opts.T or opts.tt) then
    error("format=perfetto has every call's start and duration: T=1 and tt=1 do not apply")
end
-- Read on every call and never changed: compiled code takes them as
-- constants, and asks a call for a time only when there can be one.
local only_failed, with_stamp = opts.failed, opts.tt
local with_time = opts.T or opts.format == "perfetto"

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

-- Several threads or processes: see luahook.tasks; their lines in the
-- order of their events: see luahook.order. Both are started before the
-- tracing hooks are registered, so that their hooks run first.
local tasks = require "luahook.tasks"
local family = tasks.track()
local order = require "luahook.order"
-- exit hooks that must write before luahook.order lets go of the output
local before_leaving = {}
lh.on_exit(function(how) for _, fn in ipairs(before_leaving) do fn(how) end end)
order.start()

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

-- The stack as a JSON list of frames, without strace's leading " > ".
local function json_stack()
    local frames = {}
    for i, line in ipairs(stack_lines()) do frames[i] = json_string(line:sub(4)) end
    return "[" .. table.concat(frames, ",") .. "]"
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

-- Lines --------------------------------------------------------------------

local concat = table.concat
local out = lh.out

local new_text, opened, ended, continue_line = order.new_text, order.opened, order.ended,
                                              order.continue_line
-- Where each vCPU's call is: the number order.opened gave its line's
-- start (false once the rest is written), the first argument the rest of
-- its line shows, the thread and the decoded call. Read on every call, so
-- made with an array part from vCPU 0 (more than 64 vCPUs still fit).
local new_table = require "table.new"
local open_serial, rest_from = new_table(64, 0), new_table(64, 0)
local head_tid, head_call = new_table(64, 0), new_table(64, 0)
-- Whether the vCPU's current call opened the line open_serial numbers: a
-- call a signal handler makes while another waits finds that one's line.
local line_is_own = new_table(64, 0)

-- One piece of a line: lh.out loops over its arguments, and compiled code
-- checks for an interrupt at each line it runs, so a piece cost more in
-- that loop than in the copy.
local put = lh.put

-- The start of a call's line, as strace writes it at entry: the prefix,
-- the time (tt=1), the name and the arguments up to the first one decoded
-- when the call returns. call.stamp (tt=1) is when it started.
-- A line goes out in pieces: joining them first would make a string per
-- line, which costs more than the writes.
local function write_head(prefix, call)
    if prefix ~= "" then put(prefix) end
    if with_stamp and call.stamp then put(call.stamp) put(" ") end
    put(call.plan.opening)
    for i = 1, call.shown do
        local part = call[i]
        if part == false then
            if i > 1 and not call.plan.late_separator then put(", ") end
            return i
        end
        if i > 1 then put(", ") end
        put(part)
    end
    return call.shown + 1
end

-- The rest of the line from argument `from` on: `result` is the text after
-- "= "; call.start and call.stop (T=1) are when the call started and
-- returned. Then, with k=1, the stack.
local function write_rest(call, from, result)
    for i = from, call.shown do
        if i > from or (from > 1 and call.plan.late_separator) then put(", ") end
        put(call[i])
    end
    put(") = ")
    put(result)
    if with_time and call.stop then
        put(string.format(" <%.6f>\n", call.stop - call.start))
    else
        put("\n")
    end
    if stack_lines then
        for _, line in ipairs(stack_lines()) do out(line, "\n") end
    end
end

-- A call's start, at its entry: it stays open until the call returns or
-- another line comes. `prefix` is the line's "[pid N] ", if any.
local function text_entry(sc, call, prefix)
    local locked = new_text()
    local vcpu = sc.vcpu
    rest_from[vcpu] = write_head(prefix, call)
    open_serial[vcpu] = opened(locked, sc.tid)
    head_tid[vcpu], head_call[vcpu] = sc.tid, call
    line_is_own[vcpu] = true
end

-- What starts the rest of a call's line when another line came since its
-- start.
local function resumed(sc, call)
    return family:prefix(sc) .. (with_stamp and call.stamp and (wall_clock() .. " ") or "")
           .. "<... " .. call.name .. " resumed>"
end

-- The rest of a call's line once it returns; "<... NAME resumed>" first
-- when another line came since its start.
local function text_return(sc, call, result)
    local vcpu = sc.vcpu
    local locked = continue_line(sc.tid, open_serial[vcpu], resumed, sc, call)
    write_rest(call, rest_from[vcpu], result)
    open_serial[vcpu] = false
    ended(locked)
end

-- A whole line at once: a call that never returns (at its entry), or one
-- that did not start its line at entry (when it returns). `exited`: the
-- process ended with the call (exit_group), a "+++ exited" line follows.
local function text_line(sc, call, result, exited)
    local locked = new_text()
    write_rest(call, write_head(family:prefix(sc), call), result)
    if exited then
        out(family:prefix(sc), with_stamp and call.stamp and (call.stamp .. " ") or "",
            "+++ exited with ", call[1], " +++\n")
    end
    ended(locked)
end

-- An exec printed as successful at its entry returned after all: the truth.
local function text_resumed(sc, call, result)
    local locked = new_text()
    out(family:prefix(sc), "<... ", call.name, " resumed>) = ", result, "\n")
    ended(locked)
end

-- The same as a JSON object per line; `ret` is the raw result (nil when
-- there is none).
local function json_line(sc, call, result, ret)
    local fields = { '{"pid":', family.pid, ',"tid":', sc.tid, ',"name":', json_string(call.name),
                     ',"args":', json_args(call), ",", json_result(ret, result) }
    if call.stamp then fields[#fields + 1] = ',"time":"' .. call.stamp .. '"' end
    if call.stop then
        fields[#fields + 1] = string.format(',"duration":%.6f', call.stop - call.start)
    end
    if stack_lines then fields[#fields + 1] = ',"stack":' .. json_stack() end
    fields[#fields + 1] = "}\n"
    local locked = new_text()
    out(concat(fields))
    ended(locked)
end

-- A timeline (format=perfetto) -------------------------------------------------

-- Chrome's trace event format, JSON array form: "[" then one event object
-- after another, separated by commas, and "]" once the last process has
-- exited. The first event of the whole run, whichever process writes it,
-- opens the array (luahook.order.first). A run cut short (a process killed
-- by SIGKILL) leaves the array unclosed, which the format allows. Each
-- slice has "ts" before any list: Perfetto's reader looks for it key by
-- key and gives up at a list.

-- The name of every thread seen, by thread id, as the kernel's comm: 15
-- bytes at most, the program's file name until the guest sets another
-- (prctl PR_SET_NAME). Threads and forked processes start with their
-- maker's.
local comm = {}
-- The threads whose name, and whether this process's name, this process
-- has written (a forked child starts again).
local thread_named, process_named = {}, false
local PR_SET_NAME = 15
local COMM_MAX = 15

-- A text of timeline events: luahook.order puts its separator before the
-- first ("[" if it is the run's first text; with parallel=1 that is known
-- only where the text is placed); a comma goes before the others.
local events_in_text = 0
local function timeline_text()
    events_in_text = 0
    return new_text("[\n", ",\n")
end

local function timeline_event(text)
    out(events_in_text > 0 and ",\n" or "", text)
    events_in_text = events_in_text + 1
end

local function name_event(kind, tid, name)
    timeline_event(string.format('{"name":"%s","ph":"M","pid":%d,"tid":%d,"args":{"name":%s}}',
                                 kind, family.pid, tid, json_string(name)))
end

-- The program's file name, as the kernel names a process it execs.
local function program_name()
    local program = lh.program()
    local base = program and program.path:match("([^/]*)$") or "?"
    return base:sub(1, COMM_MAX)
end

-- Writes the process's and the thread's names where not written yet.
local function name_events(tid)
    local pid = family.pid
    comm[pid] = comm[pid] or program_name()
    if not process_named then
        process_named = true
        name_event("process_name", pid, comm[pid])
    end
    if not thread_named[tid] then
        thread_named[tid] = true
        comm[tid] = comm[tid] or comm[pid]
        name_event("thread_name", tid, comm[tid])
    end
end

-- One slice: the call from its start to now, with its line and result.
local function timeline_slice(sc, call, result, ret)
    local stop = clock.now()
    local fields = { '{"name":', json_string(call.name), ',"cat":"syscall","ph":"X","ts":',
                     string.format("%.3f", call.start * 1e6), ',"dur":',
                     string.format("%.3f", (stop - call.start) * 1e6), ',"pid":', family.pid,
                     ',"tid":', sc.tid, ',"args":{"line":',
                     json_string(call.name .. "(" .. concat(call, ", ", 1, call.shown) .. ") = "
                                 .. result),
                     ',"result":', json_string(result) }
    local errno_name = ret and result:match("^%-1 (E%w+)")
    if errno_name then fields[#fields + 1] = ',"errno":"' .. errno_name .. '"' end
    if stack_lines then fields[#fields + 1] = ',"stack":' .. json_stack() end
    fields[#fields + 1] = "}}"
    local locked = timeline_text()
    name_events(sc.tid)
    timeline_event(concat(fields))
    ended(locked)
end

if opts.format == "perfetto" then
    order.on_last_exit(function()
        out(order.first() and "[" or "", "\n]\n")
    end)
    -- names: given by the guest, and passed on to new threads and processes
    lh.after("prctl", function(sc, ret)
        if ret == 0 and sc.args[1] == PR_SET_NAME then
            local name = lh.mem.string(sc.args[2], COMM_MAX)
            if name then
                comm[sc.tid] = name
                thread_named[sc.tid] = false
                if sc.tid == family.pid then process_named = false end
            end
        end
    end)
    local makers = tasks.fork_calls()
    lh.on(makers, function(sc) sc.maker_comm = comm[sc.tid] or comm[family.pid] end)
    lh.after(makers, function(sc, ret)
        if ret == 0 then -- a forked child
            thread_named, process_named = {}, false
            comm[family.pid] = sc.maker_comm
        elseif ret > 0 then
            comm[ret] = sc.maker_comm
        end
    end)
end

-- Hooks --------------------------------------------------------------------

local format = opts.format
local decoder = decode.new { strsize = opts.strsize, fds = opts.y and fds.new() or nil }
-- lines may start at entry: text, all calls shown
local streaming = format == "text" and not only_failed
local parallel = lh.shared.parallel

-- The calls that may wait for another process or thread, or for the
-- world (a pipe, a socket, a terminal, a lock, a signal, time): their
-- lines start at entry even while the guest is one thread, so that a
-- terminal shows what it waits in. While it is one thread nothing else
-- can come between a call's entry and its return, and other calls are
-- written whole when they return, as cheap as a line can be.
local MAY_BLOCK = by_number()
for _, name in ipairs({ "read", "readv", "pread64", "preadv", "preadv2", "write", "writev",
                        "open", "openat", "creat", "recv", "recvfrom", "recvmsg", "recvmmsg",
                        "send", "sendto", "sendmsg", "sendmmsg", "sendfile", "sendfile64",
                        "splice", "tee", "accept", "accept4", "connect", "socketcall",
                        "wait4", "waitpid", "waitid", "poll", "ppoll", "ppoll_time64", "select",
                        "_newselect", "pselect6", "pselect6_time64", "epoll_wait",
                        "epoll_pwait", "epoll_pwait2", "futex", "futex_time64", "nanosleep",
                        "clock_nanosleep", "clock_nanosleep_time64", "pause", "rt_sigsuspend",
                        "sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "msgrcv",
                        "msgsnd", "semop", "semtimedop", "semtimedop_time64", "ipc",
                        "mq_timedreceive", "mq_timedsend", "flock", "fcntl", "fcntl64", "ioctl",
                        "io_getevents", "io_pgetevents" }) do
    if lh.nr(name) then MAY_BLOCK[lh.nr(name)] = true end
end

-- What is special about a syscall number: "exit" and "exit_group" never
-- return, "exec" may not, "fork" returns twice, "sigreturn" returns to
-- where the signal came (after-hooks never see it).
local SPECIAL = by_number()
for kind, names in pairs({ exit = { exit = true }, exit_group = { exit_group = true },
                           exec = { execve = true, execveat = true }, fork = tasks.FORKS,
                           sigreturn = { sigreturn = true, rt_sigreturn = true } }) do
    for name in pairs(names) do
        if lh.nr(name) then SPECIAL[lh.nr(name)] = kind end
    end
end

local function failed(ret)
    return type(ret) == "number" and ret < 0 and ret > -4096
end

-- A call written whole: its line, JSON object or slice.
local function emit(sc, call, result, ret, exited)
    if format == "text" then
        text_line(sc, call, result, exited)
    elseif format == "json" then
        json_line(sc, call, result, ret)
    else
        timeline_slice(sc, call, result, ret)
    end
end

-- A call that entered but never returned, kept (at the thread's next
-- entry, before its decoded call is reused) to tell whether a later entry
-- is the same call again: QEMU restarts some calls inside, to deliver a
-- signal first (its handler's rt_sigreturn comes between), where the
-- kernel needs no restart. One is kept, that of the vCPU and line
-- `unreturned.vcpu` and `.serial`.
local unreturned = { shown = 0 }

local function keep_unreturned(vcpu)
    if unreturned.vcpu == vcpu and unreturned.serial == open_serial[vcpu] then
        return
    end
    local call = head_call[vcpu]
    for i = 1, call.shown do unreturned[i] = call[i] end
    unreturned.name, unreturned.shown = call.name, call.shown
    unreturned.stamp, unreturned.start = call.stamp, call.start
    unreturned.vcpu, unreturned.serial = vcpu, open_serial[vcpu]
end

local function is_unreturned(call)
    if call.name ~= unreturned.name or call.shown ~= unreturned.shown then
        return false
    end
    for i = 1, call.shown do
        if call[i] ~= unreturned[i] then return false end
    end
    return true
end

-- The decoded call of each vCPU's syscall from its entry to its return
-- (false when it is not shown): kept here, not in the syscall object,
-- where a field added per call costs its adding and its clearing.
local call_of = new_table(64, 0)

-- y=1 follows descriptors through calls it does not show (below): those
-- reach no hook of the selector, so the entry says there is no call first.
if opts.y then
    lh.on(decode.descriptor_calls(), function(sc) call_of[sc.vcpu] = false end)
end

-- Calls decoded whole at their return, entry and all: while the guest is
-- one thread, a call that cannot block and shows at entry only what its
-- registers hold (decode's enters_from_registers) gets the same line
-- then, and with no entry hook luahook brings it to Lua once, not twice
-- (docs/performance.md). Calls with an entry hook: ENTERED (false for
-- every number, beyond the table too, when `late` is off). Once the guest
-- has several threads or processes, every call's line starts at entry
-- (unless parallel=1, whose threads write a call whole when it returns),
-- and so every call gets the entry hook.
local late = not (with_stamp or with_time or opts.y)
local ENTERED = by_number()
local entry_selector = selector
if late then
    local chosen = syscalls.select(selector)
    local list = {}
    for _, nr in ipairs(syscalls.numbers()) do
        if (chosen.all or chosen[nr])
           and (SPECIAL[nr] or MAY_BLOCK[nr] or filter_of[nr]
                or not decoder:enters_from_registers(nr)) then
            ENTERED[nr] = true
            list[#list + 1] = nr
        end
    end
    entry_selector = #list > 0 and list or nil
end
-- Whether the entry hook ran for the vCPU's current call, where ENTERED
-- says it need not (the guest became several since its entry, or not).
local entered_late = new_table(64, 0)

local function on_entry(sc)
    local vcpu = sc.vcpu
    entered_late[vcpu] = not ENTERED[sc.nr]
    local pending = open_serial[vcpu] and head_tid[vcpu] == sc.tid
    if pending then keep_unreturned(vcpu) end
    line_is_own[vcpu] = false
    local call = decoder:enter(sc)
    local filter = filter_of[sc.nr]
    if filter and not filter[call.name] then
        call_of[vcpu] = false
        return
    end
    call_of[vcpu] = call
    if pending and is_unreturned(call) then
        -- restarted while its line was open: the line goes on, as natively
        call.stamp, call.start = unreturned.stamp, unreturned.start
        line_is_own[vcpu] = true
        return
    end
    if with_stamp or with_time then
        -- a call QEMU restarts after a signal handler keeps its first entry's times
        if not sc.restarted then
            sc.stamp = with_stamp and wall_clock()
            sc.start = with_time and clock.now()
        end
        call.stamp, call.start = sc.stamp or nil, sc.start or nil
    end
    local special = SPECIAL[sc.nr]
    if not special then
        -- parallel=1: threads write at once, and a second half would take
        -- the order's lock again (docs/scripts.md "Order of lines")
        if streaming and ((family.several and not parallel) or MAY_BLOCK[sc.nr]) then
            text_entry(sc, call, family:prefix(sc))
        end
    elseif special == "fork" then
        -- its line starts before the task it makes exists (luahook.tasks
        -- counts that one from the fork's entry): no prefix yet, as strace
        if streaming then text_entry(sc, call, sc.tasks_was_single and "" or family:prefix(sc)) end
    elseif special == "sigreturn" then
        -- it returns to where the signal came: its result is what it restores
        local value = sigframe.result(sc.name)
        if value and (not only_failed or failed(value)) then
            if with_time then call.stop = clock.now() end
            emit(sc, call, decoder:finish(call, value), value)
        end
    elseif only_failed then
        return
    elseif special == "exit" or special == "exit_group" then
        emit(sc, call, "?", nil, special == "exit_group")
    elseif not lh.follow_exec and exec.call_will_succeed(sc) then
        -- a successful exec never returns, and unfollowed nothing is told
        -- when it succeeds: its line, as strace ends it, now; the program
        -- runs without luahook
        emit(sc, call, "0", 0)
        call.printed = true
        order.leave()
    end
    -- an exec that will fail is written whole when it returns: it cannot
    -- block, and luahook flushes its output at an exec's entry
end

local entry_hook = entry_selector and lh.on(entry_selector, on_entry)
if late and not parallel then
    family:when_several(function()
        if entry_hook then lh.off(entry_hook) end
        entry_hook = lh.on(selector, on_entry)
    end)
end

-- A followed exec: its line once it is sure to succeed, before the new
-- program's lines (which the new image prints, under the same pid).
lh.on_exec(function(sc)
    local call = call_of[sc.vcpu]
    if call and not only_failed then
        emit(sc, call, "0", 0)
    end
end)

lh.after(selector, function(sc, ret)
    local vcpu = sc.vcpu
    if late and not ENTERED[sc.nr] then
        if not entered_late[vcpu] then on_entry(sc) end
        entered_late[vcpu] = false
    end
    local call = call_of[vcpu]
    if not call then
        return
    end
    if with_time then call.stop = clock.now() end
    local result = decoder:finish(call, ret)
    local special = SPECIAL[sc.nr]
    if special == "fork" and ret == 0 then
        return -- the child's side of a fork: strace shows the parent's only
    elseif special == "exec" and call.printed then
        -- an exec the host said would succeed failed: the truth after all
        order.rejoin()
        if format == "text" then
            text_resumed(sc, call, result)
        else
            emit(sc, call, result, ret)
        end
    elseif open_serial[vcpu] and line_is_own[vcpu] then
        text_return(sc, call, result)
    elseif not only_failed or failed(ret) then
        -- a line open on this vCPU is another call's (a read whose signal
        -- handler makes calls): this one ends it, and the interrupted
        -- call, restarted, starts a new one
        open_serial[vcpu] = false
        emit(sc, call, result, ret)
    end
end)

-- y=1 must see every call that changes what a descriptor refers to, even
-- those it does not show.
if opts.y then
    lh.after(decode.descriptor_calls(), function(sc, ret)
        if not call_of[sc.vcpu] then
            decoder:observe(sc, ret)
        end
    end)
end

-- Signals --------------------------------------------------------------------

-- A signal delivered to one of the guest's handlers, and the process's
-- death by a signal, in each format.
local siginfo = require "luahook.decode.siginfo"
local exited = false

-- The siginfo as strace prints it; only the signal when QEMU wrote none
-- (an action without SA_SIGINFO).
local function signal_info(signal)
    return signal.info and siginfo.text(signal.info)
           or "{si_signo=" .. values.signal(signal.signo) .. ", ...}"
end

-- One event that is no call: `text` the line's text; the JSON object's and
-- the instant's fields. `scope`: the thread ("t") or the process ("p").
local function signal_event(who, text, json_fields, name, scope, args)
    local locked = format == "perfetto" and timeline_text() or new_text()
    if format == "text" then
        out(family:prefix(who), with_stamp and (wall_clock() .. " ") or "", text, "\n")
    elseif format == "json" then
        out('{"pid":', family.pid, ',"tid":', who.tid, json_fields,
            with_stamp and (',"time":"' .. wall_clock() .. '"') or "", "}\n")
    else
        name_events(who.tid)
        timeline_event(string.format('{"name":%s,"cat":"signal","ph":"i","s":"%s","ts":%.3f,'
                                     .. '"pid":%d,"tid":%d,"args":{%s}}', json_string(name),
                                     scope, clock.now() * 1e6, family.pid, who.tid, args))
    end
    ended(locked)
end

lh.on_signal(function(signal)
    local name, info = values.signal(signal.signo), signal_info(signal)
    signal_event(signal, "--- " .. name .. " " .. info .. " ---",
                 ',"signal":"' .. name .. '","siginfo":' .. json_string(info), name, "t",
                 '"siginfo":' .. json_string(info))
end)

lh.on("exit_group", function() exited = true end)
before_leaving[#before_leaving + 1] = function(how)
    if how ~= "exit" or exited then return end   -- a followed exec goes on
    local signo, core_dumped = lh.killed_by()
    if not signo then return end
    local name, dumped = values.signal(signo), core_dumped and " (core dumped)" or ""
    signal_event({ tid = family.pid }, "+++ killed by " .. name .. dumped .. " +++",
                 ',"killed_by":"' .. name .. '","core_dumped":' .. tostring(core_dumped),
                 "killed by " .. name .. dumped, "p", "")
end
