-- Runs one x86_64 program natively under strace 6.1 (`strace -f`) and under
-- the reference qemu-x86_64 with scripts/trace.lua, and compares the two
-- traces line by line, process by process: strace is the reference for
-- trace.lua's lines. Only what emulation must change, and what differs
-- between any two runs of a program, is normalised; each rule below says
-- why. Lines are compared process by process; then the order across
-- processes of the identical ones (each call's start and end an event at
-- its place in the whole log), where a second native run of strace orders
-- them alike. strace's lines of signals that QEMU does not let a plugin
-- see are left out, and counted.
local qemu = require "helpers.qemu"

local reference = {}

local ROOT = os.getenv("PWD") or "."
local QEMU = ROOT .. "/" .. qemu.build .. "/qemu/bin/qemu-x86_64"
local PLUGIN = ROOT .. "/" .. qemu.plugin
local TRACE = ROOT .. "/scripts/trace.lua"

-- Both runs get this environment and nothing else: the same variables (an
-- execve line counts them), the C locale (no locale files to look for) and
-- UTC (no time zone file to read).
local ENV = "env -i PATH=/usr/bin:/bin HOME=/tmp LC_ALL=C TZ=UTC"

-- Running -------------------------------------------------------------------

--- Raises unless strace 6 is installed and can trace here: a missing strace
--- fails the specs, it is never a reason to skip them (tools/deps.sh
--- installs it).
function reference.check_strace()
    local out, status = qemu.sh("strace -V")
    assert(status == 0 and out:match("^strace %-%- version 6%."),
           "strace 6 is not installed (tools/deps.sh installs it): " .. tostring(out))
    out, status = qemu.sh("strace -f -o /dev/null /bin/true")
    assert(status == 0, "strace cannot trace here: " .. tostring(out))
end

-- Runs the command line `shell` in a fresh directory `dir` made by `setup`
-- (a command line run there first, untraced); returns the program's stdout
-- and exit status.
local function run_in(dir, setup, shell)
    qemu.sh("rm -rf " .. qemu.quote(dir))
    assert(os.execute("mkdir -p " .. qemu.quote(dir)))
    if setup then
        local out, status = qemu.sh("cd " .. qemu.quote(dir) .. " && " .. ENV .. " sh -c "
                                    .. qemu.quote(setup))
        assert(status == 0, "setup failed: " .. setup .. "\n" .. out)
    end
    local stdout = os.tmpname()
    local _, status = qemu.sh(string.format("cd %s && %s </dev/null >%s 2>/dev/null",
                                            qemu.quote(dir), shell, stdout))
    local text = qemu.slurp(stdout)
    os.remove(stdout)
    return text, status
end

--- Runs case.argv (a list: the program by absolute path, its arguments) in
--- the directory `dir`, made afresh each time with case.setup (a shell
--- command line) run in it first: natively under strace -f, then under
--- QEMU with trace.lua, then natively under strace again (how the order
--- of processes' lines varies between two runs of strace itself). Returns
--- { native = strace's log, again = the second one, emulated = trace.lua's,
--- emulated_pid = the first process's pid under QEMU, stdout = { native =,
--- emulated = }, status = { native =, emulated = } }.
function reference.run(case, dir)
    local words = {}
    for i, a in ipairs(case.argv) do words[i] = qemu.quote(a) end
    local command = table.concat(words, " ")
    local native_log, emulated_log, pid_file = qemu.tmppath(), qemu.tmppath(), qemu.tmppath()
    local result = { stdout = {}, status = {} }
    result.stdout.native, result.status.native = run_in(dir, case.setup,
        string.format("%s strace -f -o %s %s", ENV, native_log, command))
    result.native = qemu.slurp(native_log) or ""
    run_in(dir, case.setup, string.format("%s strace -f -o %s %s", ENV, native_log, command))
    result.again = qemu.slurp(native_log) or ""
    -- the first process's pid, which trace.lua's lines show only once there
    -- are several: the shell writes its own and execs env, env QEMU
    local plugin = table.concat({ PLUGIN, "script=" .. TRACE, "out=" .. emulated_log }, ",")
    result.stdout.emulated, result.status.emulated = run_in(dir, case.setup,
        string.format("sh -c 'echo $$ >%s; exec \"$@\"' sh %s %s -plugin %s %s", pid_file, ENV,
                      QEMU, qemu.quote(plugin), command))
    qemu.sh("rm -rf " .. qemu.quote(dir))
    result.emulated = qemu.slurp(emulated_log) or ""
    result.emulated_pid = tonumber(qemu.slurp(pid_file))
    os.remove(native_log)
    os.remove(emulated_log)
    os.remove(pid_file)
    return result
end

-- Parsing -------------------------------------------------------------------

local function name_of(line)
    return line:match("^([%w_]+)%(")
end

local function result_of(line)
    return line:match("%) += (.*)$")
end

-- A new, empty trace: its processes by pid (each a list of lines, with
-- each line's span: the spans in the whole log of its start and of its
-- end, the same for a line written at once), in order of appearance.
local function new_trace()
    return { pids = {}, by_pid = {}, position = 0, split_calls = 0 }
end

local function add_line(trace, pid, text, span)
    local proc = trace.by_pid[pid]
    if not proc then
        proc = { pid = pid, lines = {}, spans = {} }
        trace.by_pid[pid] = proc
        trace.pids[#trace.pids + 1] = pid
    end
    proc.lines[#proc.lines + 1] = text
    proc.spans[#proc.lines] = span
end

-- Adds one line of process `pid`. A call split by <unfinished ...> and
-- <... NAME resumed> because other processes' lines came between is
-- joined again, spanning from its start to its end; one split with
-- nothing between stays two lines (strace never does that).
local function add(trace, pending, pid, text)
    trace.position = trace.position + 1
    local position = trace.position
    local head = text:match("^(.*) <unfinished %.%.%.>$")
    if head then
        pending[pid] = { head, position }
        trace.split_calls = trace.split_calls + 1
        return
    end
    local tail = text:match("^<%.%.%. [%w_]+ resumed>(.*)$")
    local split = tail and pending[pid]
    local span = { position, position }
    if split then
        pending[pid] = nil
        if split[2] == position - 1 then
            add_line(trace, pid, split[1] .. " <unfinished ...>", { split[2], split[2] })
        else
            text, span = split[1] .. tail, { split[2], position }
        end
    end
    add_line(trace, pid, text, span)
end

local function finish(trace, pending)
    for pid, head in pairs(pending) do
        add_line(trace, pid, head[1] .. " <unfinished ...>", { head[2], head[2] })
    end
    return trace
end

--- strace -f -o's log: every line starts with the pid.
function reference.parse_native(text)
    local trace, pending = new_trace(), {}
    for line in text:gmatch("[^\n]+") do
        local pid, rest = line:match("^(%d+) +(.*)$")
        assert(pid, "not a strace -f line: " .. line)
        add(trace, pending, tonumber(pid), rest)
    end
    return finish(trace, pending)
end

--- trace.lua's lines: "[pid N] " once there are several processes; lines
--- before that belong to the first process, `first_pid`.
function reference.parse_emulated(text, first_pid)
    local trace, pending = new_trace(), {}
    for line in text:gmatch("[^\n]+") do
        local pid, rest = line:match("^%[pid +(%d+)%] (.*)$")
        if pid then
            add(trace, pending, tonumber(pid), rest)
        else
            add(trace, pending, first_pid, line)
        end
    end
    return finish(trace, pending)
end

local FORKS = { clone = true, clone3 = true, fork = true, vfork = true }

-- The processes and threads a process made, in order: its forks' results.
local function children(proc)
    local list = {}
    for _, line in ipairs(proc and proc.lines or {}) do
        local name = name_of(line)
        local child = name and FORKS[name] and tonumber(result_of(line))
        if child and child > 0 then list[#list + 1] = child end
    end
    return list
end

--- Pairs the processes of two traces: the first with the first, then the
--- k-th process each one made with the other's k-th. Returns a list of
--- { native = pid, emulated = pid, label = "P1" } (a side without the
--- process has no pid) and the maps pid -> label of each side.
function reference.pair(native, emulated, first_emulated)
    local list, labels_n, labels_e = {}, {}, {}
    local queue = { { native.pids[1], first_emulated } }
    while #queue > 0 do
        local n, e = unpack(table.remove(queue, 1))
        local label = "P" .. (#list + 1)
        list[#list + 1] = { native = n, emulated = e, label = label }
        if n then labels_n[n] = label end
        if e then labels_e[e] = label end
        local cn, ce = children(native.by_pid[n]), children(emulated.by_pid[e])
        for k = 1, math.max(#cn, #ce) do
            queue[#queue + 1] = { cn[k], ce[k] }
        end
    end
    -- processes no fork on either side explains: compared with nothing
    for _, side in ipairs({ { native, labels_n, "native" }, { emulated, labels_e, "emulated" } }) do
        for _, pid in ipairs(side[1].pids) do
            if not side[2][pid] then
                side[2][pid] = "?" .. pid
                list[#list + 1] = { [side[3]] = pid, label = "?" .. pid }
            end
        end
    end
    return list, labels_n, labels_e
end

-- Normalising ---------------------------------------------------------------

-- The signals' actions strace's log shows a process setting: [SIGX] =
-- "siginfo" (a handler with SA_SIGINFO) or "plain" (a handler without);
-- none for the default or ignored. Children inherit them: the whole log's
-- calls count, in the order of its processes.
local function handlers_of(trace)
    local handlers = {}
    for _, pid in ipairs(trace.pids) do
        for _, line in ipairs(trace.by_pid[pid].lines) do
            local sig, handler, flags = line:match(
                "^rt_sigaction%((SIG%w+), {sa_handler=([^,]+), sa_mask=~?%b[], sa_flags=([^,}]+)")
            if sig and result_of(line) == "0" then
                handlers[sig] = handler:match("^0x") and (flags:match("SA_SIGINFO") and "siginfo"
                                                          or "plain") or nil
            end
        end
    end
    return handlers
end

-- Deaths by a signal that never passes through luahook's handlers: SIGKILL
-- ends QEMU at once; QEMU sends the guest's SIGABRT as another signal.
local UNSEEN_DEATHS = { SIGKILL = true, SIGABRT = true }

-- A line of strace's about a signal as trace.lua can show it (docs/
-- scripts.md says what QEMU lets it see): a delivery to a handler of the
-- guest, whose siginfo QEMU writes only for an action with SA_SIGINFO; a
-- death by a signal that passes through the host. Nil: one it cannot see,
-- or the kernel's restart_syscall, which QEMU never has the guest make (it
-- restarts calls itself). Other lines as they are.
local function as_seen(line, handlers)
    if name_of(line) == "restart_syscall" then
        return nil
    end
    local sig = line:match("^%-%-%- (SIG%w+) ")
    if sig then
        local handler = handlers[sig]
        if handler == "plain" then
            return "--- " .. sig .. " {si_signo=" .. sig .. ", ...} ---"
        end
        return handler and line or nil
    end
    local killer = line:match("^%+%+%+ killed by (SIG%w+)")
    if killer and UNSEEN_DEATHS[killer] then
        return nil
    end
    return line
end

-- The calls a vDSO answers natively without a syscall; under QEMU the
-- guest's vDSO makes them as syscalls, so trace.lua shows them. Only such
-- lines that have no counterpart in strace's log are left out.
local VDSO = { clock_gettime = true, clock_getres = true, gettimeofday = true, time = true,
               getcpu = true }

-- Calls whose values differ between any two runs of a program, whatever
-- runs it: what they read from clocks and counters, their fields' numbers.
local VARYING = { clock_gettime = true, gettimeofday = true, times = true, sysinfo = true,
                  getrusage = true, clock_nanosleep = true, nanosleep = true }

local function volatile(line)
    local name = name_of(line)
    if VARYING[name] then
        -- every field's number, and the result of times (clock ticks)
        line = line:gsub("=%d+", "=N"):gsub("=%[[%d, ]+%]", function(list)
            return (list:gsub("%d+", "N"))
        end)
        if name == "times" then line = line:gsub("%) = %d+$", ") = N") end
    elseif name == "time" then
        line = line:gsub("%) = %d+$", ") = N")
    elseif name == "getrandom" then
        line = line:gsub('^getrandom%(".-"', 'getrandom("(random)"')
    end
    -- the free blocks and inodes of a file system
    line = line:gsub("(f_bfree=)%d+", "%1N"):gsub("(f_bavail=)%d+", "%1N"):gsub("(f_ffree=)%d+", "%1N")
    -- the CPU time a process used (wait4's rusage, waitid's siginfo)
    line = line:gsub("(ru_[us]time=){tv_sec=%d+, tv_usec=%d+}", "%1{tv_sec=N, tv_usec=N}")
        :gsub("(si_[us]time=)%d+ /%* [%d.]+ s %*/", "%1N")
        :gsub("(si_[us]time=)%d+", "%1N")
    -- the ports the kernel picks for sockets bound to port 0
    line = line:gsub("htons%((%d+)%)", function(port)
        return tonumber(port) >= 1024 and "htons(PORT)" or nil
    end)
    -- which pseudo-terminal the kernel hands out
    line = line:gsub("/dev/pts/%d+", "/dev/pts/N"):gsub("^(ioctl%(%d+, TIOCGPTN, )%[%d+%]", "%1[N]")
    return line
end

-- What every line gets, both sides alike.
-- Where a pid can stand in a line: the results of these calls, these
-- arguments (by position) of these, and a siginfo's si_pid. Only there is
-- a number taken for a pid: a size that happens to equal one (8192, in a
-- pid namespace) stays a size.
-- (A sigreturn's result is the register it restores: a pid when the
-- signal came into a wait4.)
local PID_RESULTS = { clone = true, clone3 = true, fork = true, vfork = true, wait4 = true,
                      waitpid = true, getpid = true, gettid = true, set_tid_address = true,
                      getpgid = true, getpgrp = true, getsid = true, setsid = true,
                      rt_sigreturn = true, sigreturn = true }
local PID_ARGS = { kill = { 1 }, tkill = { 1 }, tgkill = { 1, 2 }, wait4 = { 1 }, waitpid = { 1 },
                   waitid = { 2 }, getpgid = { 1 }, setpgid = { 1, 2 }, getsid = { 1 },
                   prlimit64 = { 1 }, sched_setaffinity = { 1 }, sched_getaffinity = { 1 },
                   sched_getparam = { 1 }, sched_setparam = { 1 }, sched_getscheduler = { 1 },
                   sched_setscheduler = { 1 }, sched_rr_get_interval = { 1 },
                   getpriority = { 2 }, setpriority = { 2 }, rt_sigqueueinfo = { 1 },
                   rt_tgsigqueueinfo = { 1, 2 }, pidfd_open = { 1 }, ptrace = { 2 },
                   process_vm_readv = { 1 }, process_vm_writev = { 1 }, kcmp = { 1, 2 },
                   get_robust_list = { 1 } }

local function label_pids(line, labels)
    local function label(n) return labels[tonumber(n)] end
    local name = name_of(line)
    for _, position in ipairs(name and PID_ARGS[name] or {}) do
        local head = "^(" .. name .. "%(" .. ("[^,]*, "):rep(position - 1) .. ")(%d+)%f[%D]"
        line = line:gsub(head, function(before, n) return before .. (label(n) or n) end)
    end
    if name and PID_RESULTS[name] then
        line = line:gsub("(%) += )(%d+)$", function(eq, n) return eq .. (label(n) or n) end)
    end
    return (line:gsub("(si_pid=)(%d+)", function(key, n) return key .. (label(n) or n) end))
end

local function common(line, labels)
    -- strace pads a short call to column 40 before " = "
    line = line:gsub("%)  +=", ") =")
    -- addresses: QEMU lays out the guest's stack, heap and libraries
    -- elsewhere than the kernel does (and ASLR moves them every run); any
    -- hex number of five digits or more is taken for one
    line = line:gsub("0x%x%x%x%x%x+", "0xADDR")
    -- process ids: the pids of the two runs differ
    line = label_pids(line, labels)
    -- the first process's parent: strace natively, the spec's shell under QEMU
    line = line:gsub("^getppid%(%) = %d+$", "getppid() = (parent)")
    return volatile(line)
end

-- The dynamic loader's own memory: anonymous mappings it makes before it
-- hands over to the program (it unmaps ld.so.cache last). Their number
-- and sizes depend on the CPU's features, whose list it keeps: QEMU's CPU
-- has others (no AVX-512) than the host's. Where the two sides' differ,
-- they are left out of both.
local LOADER_MEMORY = "^mmap%(NULL, %d+, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, %-1, 0%) = "

-- The indexes of the loader's mappings in a process's lines.
local function loader_memory(lines)
    local found, cache = {}, false
    for i, line in ipairs(lines) do
        if line:match('^openat%(AT_FDCWD, "/etc/ld%.so%.cache"') then
            cache = true
        elseif cache and line:match("^munmap%(") then
            return found
        elseif line:match(LOADER_MEMORY) then
            found[#found + 1] = i
        end
    end
    return {}
end

local function drop_loader_memory(a, pa, b, pb, stats)
    local ia, ib = loader_memory(a), loader_memory(b)
    local same = #ia == #ib
    for k = 1, #ia do same = same and a[ia[k]] == b[ib[k]] end
    if same then return end
    for _, side in ipairs({ { a, pa, ia }, { b, pb, ib } }) do
        for k = #side[3], 1, -1 do
            table.remove(side[1], side[3][k])
            table.remove(side[2], side[3][k])
        end
        stats.loader = stats.loader + #side[3]
    end
end

-- A process's name before it sets one is the file it was exec'd from;
-- QEMU's linux-user asks the host, where the process is QEMU.
local function initial_name(line, named)
    if not named then
        return (line:gsub('^prctl%(PR_GET_NAME, ".-"%)', "prctl(PR_GET_NAME, (the process's name))"))
    end
    return line
end

-- The lines of one process, normalised for comparing, with their spans
-- in the whole log; strace's lines of signals trace.lua cannot see are
-- counted in stats.unseen.
-- `first`: the native process strace started with an execve, a line QEMU
-- has no counterpart for (it loads the program itself).
local function normalise(proc, labels, side, first, stats, handlers)
    local lines, spans = {}, {}
    if not proc then return lines, spans end
    local named = false
    for i, line in ipairs(proc.lines) do
        local seen = side ~= "native" and line or as_seen(line, handlers)
        if not seen then
            stats.unseen = stats.unseen + 1
        elseif not (first and i == 1 and name_of(line) == "execve") then
            line = initial_name(common(seen, labels), named)
            named = named or line:match("^prctl%(PR_SET_NAME,") ~= nil
            if name_of(line) == "execve" and result_of(line) == "0" then
                named = false -- a new program: named after its file again
            end
            lines[#lines + 1] = line
            spans[#lines] = proc.spans[i]
        end
    end
    return lines, spans
end

local function failed_enosys(line)
    return (result_of(line) or ""):match("^%-1 ENOSYS") ~= nil
end

-- Calls QEMU does not implement: ENOSYS under QEMU where the kernel has
-- them. Their arguments are compared, their results left out.
local function add_enosys(names, native_lines, emulated_lines)
    local natively = {}
    for _, line in ipairs(native_lines) do
        local name = name_of(line)
        if name and not failed_enosys(line) then natively[name] = true end
    end
    for _, line in ipairs(emulated_lines) do
        local name = name_of(line)
        if name and natively[name] and failed_enosys(line) then names[name] = true end
    end
end

local function drop_results(lines, names)
    for i, line in ipairs(lines) do
        local name = name_of(line)
        if name and names[name] then
            lines[i] = line:gsub("%) = .*$", ") = (ENOSYS under QEMU)")
        end
    end
end

-- Comparing -----------------------------------------------------------------

-- The longest common subsequence of two lists, as a list of index pairs.
local function lcs(a, b)
    local n, m = #a, #b
    local len = {}
    for i = n + 1, 1, -1 do
        local row, below = {}, len[i + 1]
        for j = m + 1, 1, -1 do
            if i > n or j > m then
                row[j] = 0
            elseif a[i] == b[j] then
                row[j] = below[j + 1] + 1
            else
                row[j] = math.max(below[j], row[j + 1])
            end
        end
        len[i] = row
    end
    local out, i, j = {}, 1, 1
    while i <= n and j <= m do
        if a[i] == b[j] then
            out[#out + 1] = { i, j }
            i, j = i + 1, j + 1
        elseif len[i + 1][j] >= len[i][j + 1] then
            i = i + 1
        else
            j = j + 1
        end
    end
    return out
end

-- Compares one pair of processes' lines: counts identical lines into
-- stats, adds the matched lines' spans to `matched`, and returns the
-- hunks of lines that differ ({ native = {...}, emulated = {...} }).
local function compare_lines(a, b, pa, pb, stats, matched, label)
    local matches = lcs(a, b)
    for _, m in ipairs(matches) do
        matched[#matched + 1] = { pa[m[1]], pb[m[2]], label, a[m[1]] }
    end
    local hunks = {}
    local i, j = 1, 1
    matches[#matches + 1] = { #a + 1, #b + 1 }
    for _, m in ipairs(matches) do
        local hunk = { native = {}, emulated = {} }
        for k = i, m[1] - 1 do hunk.native[#hunk.native + 1] = a[k] end
        for k = j, m[2] - 1 do
            if VDSO[name_of(b[k]) or ""] then
                stats.vdso = stats.vdso + 1
            else
                hunk.emulated[#hunk.emulated + 1] = b[k]
            end
        end
        if #hunk.native + #hunk.emulated > 0 then
            hunks[#hunks + 1] = hunk
            stats.total = stats.total + math.max(#hunk.native, #hunk.emulated)
        end
        i, j = m[1] + 1, m[2] + 1
    end
    stats.identical = stats.identical + #matches - 1
    stats.total = stats.total + #matches - 1
    return hunks
end

-- The processes of a run's two logs, paired and normalised: a list of
-- { label, native lines, other lines, native spans, other spans }, and the
-- stats compare fills in. The other log is trace.lua's, or with `again`
-- strace's second one.
local function prepare(result, again)
    local native = reference.parse_native(result.native)
    local other, first_other
    if again then
        other = reference.parse_native(result.again)
        first_other = other.pids[1]
    else
        other = reference.parse_emulated(result.emulated, result.emulated_pid)
        first_other = result.emulated_pid
    end
    local list, labels_n, labels_o = reference.pair(native, other, first_other)
    local stats = { identical = 0, total = 0, unseen = 0, vdso = 0, loader = 0,
                    hunks = {}, enosys = {}, split_calls = native.split_calls }
    local sides = {}
    local handlers, other_handlers = handlers_of(native), handlers_of(other)
    for k, p in ipairs(list) do
        local a, pa = normalise(native.by_pid[p.native], labels_n, "native", k == 1, stats, handlers)
        local b, pb = normalise(other.by_pid[p.emulated], labels_o, again and "native" or "emulated",
                                again and k == 1, stats, other_handlers)
        drop_loader_memory(a, pa, b, pb, stats)
        sides[k] = { p.label, a, b, pa, pb }
        add_enosys(stats.enosys, a, b)
    end
    for _, side in ipairs(sides) do
        drop_results(side[2], stats.enosys)
        drop_results(side[3], stats.enosys)
    end
    return sides, stats
end

--- A run's normalised lines, all processes' together: strace's, trace.lua's.
function reference.lines(result)
    local native, emulated = {}, {}
    for _, side in ipairs((prepare(result))) do
        for _, line in ipairs(side[2]) do native[#native + 1] = line end
        for _, line in ipairs(side[3]) do emulated[#emulated + 1] = line end
    end
    return native, emulated
end

-- The identical lines of every process, as { native span, other span,
-- process label, text }, and the stats: see reference.compare.
local function matched_lines(result, again)
    local sides, stats = prepare(result, again)
    local matched = {}
    for _, s in ipairs(sides) do
        local hunks = compare_lines(s[2], s[3], s[4], s[5], stats, matched, s[1])
        if #hunks > 0 then stats.hunks[#stats.hunks + 1] = { label = s[1], hunks = hunks } end
    end
    return matched, stats
end

-- Orders the identical lines across processes. Each line is two events,
-- its start and its end, at their places in each log (a line written
-- whole has its two side by side). Two events of different processes
-- that both of strace's runs put in the same order are taken to be in an
-- order the programs make (one waits for the other); those the two runs
-- order differently are timing, left out. Counts into stats the pairs
-- taken (pairs), those trace.lua orders as strace did (in_order), those
-- left out (timing), and lists the pairs out of order.
local function compare_order(matched, with_again, stats)
    local again_of = {}
    for _, m in ipairs(with_again) do again_of[m[1][1]] = m[2] end
    local events = {}
    for _, m in ipairs(matched) do
        local a = again_of[m[1][1]]
        if a then
            events[#events + 1] = { 2 * m[1][1], 2 * m[2][1], 2 * a[1], m, "start" }
            events[#events + 1] = { 2 * m[1][2] + 1, 2 * m[2][2] + 1, 2 * a[2] + 1, m, "end" }
        end
    end
    table.sort(events, function(x, y) return x[1] < y[1] end)
    local taken, same, timing, wrong = 0, 0, 0, {}
    for i = 1, #events do
        local x = events[i]
        for j = i + 1, #events do
            local y = events[j]
            if x[4][3] ~= y[4][3] then
                if x[3] > y[3] then
                    timing = timing + 1
                elseif x[2] < y[2] then
                    taken, same = taken + 1, same + 1
                else
                    taken = taken + 1
                    wrong[#wrong + 1] = string.format("the %s of %s %s, after the %s of %s %s",
                                                      x[5], x[4][3], x[4][4], y[5], y[4][3], y[4][4])
                end
            end
        end
    end
    stats.pairs, stats.in_order, stats.timing, stats.out_of_order = taken, same, timing, wrong
end

--- Compares a run's logs (as reference.run returns them). Returns stats:
--- identical and total (lines compared; a changed line counts once), hunks
--- (the differences, per process label), unseen (strace's lines of
--- signals QEMU does not let trace.lua see, left out), vdso (trace.lua's lines of calls the vDSO answers
--- natively), loader (the loader's mappings left out, both sides), enosys (names of
--- calls QEMU does not implement), split_calls (calls strace split with
--- <unfinished ...>), and the order of the identical lines across
--- processes (see compare_order): pairs, in_order, timing, out_of_order.
function reference.compare(result)
    local matched, stats = matched_lines(result)
    local with_again = matched_lines(result, true)
    compare_order(matched, with_again, stats)
    return stats
end

--- The differences of a compared run as text, hunk by hunk.
function reference.describe(stats)
    local out = {}
    for _, proc in ipairs(stats.hunks) do
        for _, hunk in ipairs(proc.hunks) do
            out[#out + 1] = "  " .. proc.label .. ":"
            for _, line in ipairs(hunk.native) do out[#out + 1] = "    strace:    " .. line end
            for _, line in ipairs(hunk.emulated) do out[#out + 1] = "    trace.lua: " .. line end
        end
    end
    return table.concat(out, "\n")
end

return reference
