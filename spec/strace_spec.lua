-- scripts/trace.lua against strace 6.1 itself: the same x86_64 programs,
-- ours (spec/guests/refcalls.c) and real ones nobody here wrote (coreutils,
-- busybox, dash, python3, find, tar), run natively under `strace -f` and
-- under qemu-x86_64 with trace.lua, compared line by line and process by
-- process, and in their order across processes (spec/helpers/
-- strace_reference.lua says what is normalised and why). docs/scripts.md
-- lists every difference that remains.
local qemu = require "helpers.qemu"
local reference = require "helpers.strace_reference"

-- Each run works in DIR, made afresh, inside a directory of its own: ls -la
-- shows "..", which must not be /tmp, where other programs come and go.
local HOME = "/tmp/luahook-strace-" .. (tonumber(tostring({}):match("0x(%x+)"), 16) or 0) % 100000
local DIR = HOME .. "/run"
local GUEST = os.getenv("PWD") .. "/" .. qemu.guest("refcalls", "x86_64")

-- Files for the real programs to work on; fixed times, so that what they
-- print (ls -l, stat) is the same in both runs.
local FILES = "printf 'b\\na\\nc\\n' >t.txt && echo hello >h.txt && mkdir -p d/e && echo x >d/e/f"
    .. " && ln -s t.txt link && chmod 1777 d"
    .. " && touch -h -d '2020-01-02 03:04:05' t.txt h.txt d/e/f d/e d link"

local CASES = {
    -- coreutils and friends
    { "ls -la", { "/bin/ls", "-la", "." } },
    { "cat", { "/bin/cat", "t.txt", "h.txt" } },
    { "cp", { "/bin/cp", "t.txt", "copy.txt" } },
    { "cp -a", { "/bin/cp", "-a", "d", "d2" } },
    { "mv", { "/bin/mv", "t.txt", "moved.txt" } },
    { "ln -s", { "/bin/ln", "-s", "t.txt", "sym" } },
    { "ln", { "/bin/ln", "h.txt", "hard" } },
    { "stat", { "/usr/bin/stat", "-c", "%n %s %F %A %h", "t.txt", "d", "link" } },
    { "touch -d", { "/usr/bin/touch", "-d", "2021-05-06 07:08:09", "h.txt", "new.txt" } },
    { "chmod", { "/bin/chmod", "u+s,g+s,o+t", "h.txt" } },
    { "mkdir -p", { "/bin/mkdir", "-p", "a/b/c" } },
    { "rm -r", { "/bin/rm", "-r", "d" } },
    { "date", { "/bin/date", "-u", "-d", "@1234567890" } },
    { "id", { "/usr/bin/id" } },
    { "env", { "/usr/bin/env" } },
    { "sort", { "/usr/bin/sort", "t.txt" } },
    { "head", { "/usr/bin/head", "-n", "2", "t.txt" } },
    { "wc", { "/usr/bin/wc", "t.txt" } },
    { "readlink -f", { "/usr/bin/readlink", "-f", "link" } },
    { "truncate", { "/usr/bin/truncate", "-s", "100", "t.txt" } },
    { "dd", { "/bin/dd", "if=/dev/zero", "of=z", "bs=4k", "count=4", "status=none" } },
    { "sleep", { "/bin/sleep", "0.01" } },
    { "uname -a", { "/bin/uname", "-a" } },
    { "nproc", { "/usr/bin/nproc" } },
    { "find", { "/usr/bin/find", ".", "-name", "*.txt" } },
    { "tar c", { "/bin/tar", "cf", "a.tar", "t.txt", "d" } },
    { "tar x", { "/bin/tar", "xf", "a.tar" }, "tar cf a.tar t.txt h.txt d && rm -r t.txt d" },
    { "python3", { "/usr/bin/python3", "-c", "import os; os.stat('t.txt'); print(os.listdir('d'))" } },
    -- processes: dash forks a subshell; busybox (static) forks and execs
    { "sh -c", { "/bin/sh", "-c", "echo hi; (echo sub)" } },
    { "busybox ls -l", { "/bin/busybox", "ls", "-l", "." } },
    { "busybox sh", { "/bin/busybox", "sh", "-c", "echo a; cat t.txt | sort" } },
    { "busybox stat", { "/bin/busybox", "stat", "-c", "%n %s %F %A %h", "d", "t.txt" } },
}
for _, mode in ipairs({ "files", "dirs", "links", "perms", "pipes", "fork", "signals", "caught",
                        "crash", "sockets", "time", "memory", "pty", "proc", "exec", "events" }) do
    CASES[#CASES + 1] = { "refcalls " .. mode, { GUEST, mode } }
end

local TARGET = 97
local ORDER_TARGET = 97

-- Every run, compared once for all the specs below.
local runs
local function corpus()
    if runs then return runs end
    reference.check_strace()
    local list = {}
    for _, case in ipairs(CASES) do
        -- case[3]: more set-up, after the files
        local setup = case[3] and (FILES .. " && " .. case[3]) or FILES
        local result = reference.run({ argv = case[2], setup = setup }, DIR)
        list[#list + 1] = { name = case[1], result = result, stats = reference.compare(result) }
    end
    os.remove(HOME)
    runs = list
    return runs
end

local function percent(identical, total)
    return total == 0 and 100 or 100 * identical / total
end

-- A line per run, and the differences of those below 100%.
local function breakdown(list)
    local out = {}
    for _, run in ipairs(list) do
        local s = run.stats
        local enosys = {}
        for name in pairs(s.enosys) do enosys[#enosys + 1] = name end
        table.sort(enosys)
        out[#out + 1] = string.format(
            "%-18s %4d/%-4d %6.2f%%  order: %d/%d (timing: %d); "
                .. "left out: signals unseen %d, vDSO %d, loader's memory %d; "
                .. "ENOSYS under QEMU: %s",
            run.name, s.identical, s.total, percent(s.identical, s.total), s.in_order, s.pairs,
            s.timing,
            s.unseen, s.vdso,
            s.loader, #enosys > 0 and table.concat(enosys, " ") or "none")
        if s.identical < s.total then out[#out + 1] = reference.describe(s) end
        for _, pair in ipairs(s.out_of_order) do
            out[#out + 1] = "    out of strace's order: " .. pair
        end
    end
    return table.concat(out, "\n")
end

-- The normalised lines of both sides of the run called `name`.
local function lines_of(name)
    for _, run in ipairs(corpus()) do
        if run.name == name then return reference.lines(run.result) end
    end
    error("no run " .. name)
end

-- Asserts that strace's log of run `name` has `line` (a plain line after
-- normalising), and that trace.lua's has it too.
local function both_print(name, line)
    local native, emulated = lines_of(name)
    local function has(list)
        for _, l in ipairs(list) do if l == line then return true end end
        return false
    end
    assert.is_true(has(native), "strace did not print: " .. line .. "\n" .. table.concat(native, "\n"))
    assert.is_true(has(emulated), "trace.lua did not print: " .. line .. "\n"
                   .. table.concat(emulated, "\n"))
end

describe("trace.lua against strace 6.1 on the same programs run natively", function()
    it("runs at least 30 programs, each the same way natively and under QEMU", function()
        local list = corpus()
        assert.is_true(#list >= 30, #list .. " runs")
        for _, run in ipairs(list) do
            local r = run.result
            assert.are.equal(r.status.native, r.status.emulated, run.name .. ": exit status")
            assert.are.equal(r.stdout.native, r.stdout.emulated, run.name .. ": output")
            assert.is_true(run.stats.total >= 10, run.name .. ": too few lines compared")
        end
    end)

    it("prints at least " .. TARGET .. "% of strace's lines identically, process by process", function()
        local identical, total, unseen = 0, 0, 0
        for _, run in ipairs(corpus()) do
            identical, total = identical + run.stats.identical, total + run.stats.total
            unseen = unseen + run.stats.unseen
        end
        local summary = string.format("%d of %d lines identical (%.2f%%); left out: %d lines of "
                                      .. "signals QEMU does not show", identical, total,
                                      percent(identical, total), unseen)
        io.stderr:write("trace.lua against strace: " .. summary .. "\n")
        assert.is_true(percent(identical, total) >= TARGET, summary .. "\n" .. breakdown(corpus()))
    end)

    it("orders at least " .. ORDER_TARGET .. "% of those lines' starts and ends across processes as strace does", function()
        local pairs, in_order, timing = 0, 0, 0
        for _, run in ipairs(corpus()) do
            pairs, in_order = pairs + run.stats.pairs, in_order + run.stats.in_order
            timing = timing + run.stats.timing
        end
        local summary = string.format("%d of %d pairs of events of different processes in strace's "
                                      .. "order (%.2f%%); left out as timing (the two strace runs "
                                      .. "differ): %d", in_order, pairs, percent(in_order, pairs),
                                      timing)
        io.stderr:write("trace.lua against strace: " .. summary .. "\n")
        assert.is_true(pairs >= 1000, summary)
        assert.is_true(percent(in_order, pairs) >= ORDER_TARGET, summary .. "\n" .. breakdown(corpus()))
    end)

    it("shows utimensat's special times by name", function()
        both_print("refcalls files", 'utimensat(AT_FDCWD, "f.txt", [UTIME_NOW, UTIME_OMIT], 0) = 0')
        both_print("refcalls files",
                   'utimensat(AT_FDCWD, "f.txt", [UTIME_NOW, UTIME_NOW], AT_SYMLINK_NOFOLLOW) = 0')
    end)

    it("prints flag sets in strace's order", function()
        both_print("refcalls dirs", 'openat(AT_FDCWD, "d1", O_RDONLY|O_CLOEXEC|O_DIRECTORY) = 3')
        both_print("refcalls events", "eventfd2(0, EFD_CLOEXEC|EFD_NONBLOCK) = 4")
    end)

    it("names the set-user-ID, set-group-ID and sticky bits of a mode", function()
        both_print("refcalls perms",
                   'newfstatat(AT_FDCWD, "sticky", {st_mode=S_IFDIR|S_ISVTX|0777, st_size=4096, ...}, 0) = 0')
        both_print("refcalls perms",
                   'newfstatat(AT_FDCWD, "p", {st_mode=S_IFREG|S_ISUID|S_ISGID|S_ISVTX|0777, st_size=0, ...}, 0) = 0')
    end)

    it("shows the name prctl(PR_GET_NAME) wrote", function()
        both_print("refcalls proc", 'prctl(PR_GET_NAME, "refcalls-name") = 0')
    end)

    it("shows the list getgroups wrote", function()
        both_print("refcalls perms", "getgroups(64, []) = 0")
    end)

    it("shows every field of sysinfo", function()
        both_print("refcalls proc", "sysinfo({uptime=N, loads=[N, N, N], totalram=N, freeram=N, "
                   .. "sharedram=N, bufferram=N, totalswap=N, freeswap=N, procs=N, totalhigh=N, "
                   .. "freehigh=N, mem_unit=N}) = 0")
    end)

    it("shows a signal delivered to a handler with SA_SIGINFO with its siginfo", function()
        both_print("refcalls caught", "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=P1, si_uid=0} ---")
        both_print("refcalls caught", "--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_TKILL, si_pid=P1, si_uid=0} ---")
        both_print("refcalls caught", "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=P1, "
                   .. "si_uid=0, si_int=42, si_ptr=0x2a} ---")
        both_print("refcalls caught", "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---")
        both_print("refcalls caught", "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=P2, "
                   .. "si_uid=0, si_status=3, si_utime=N, si_stime=N} ---")
        both_print("refcalls caught", "--- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid=P3, "
                   .. "si_uid=0, si_status=SIGALRM, si_utime=N, si_stime=N} ---")
    end)

    it("shows only the signal of a delivery to a handler without SA_SIGINFO", function()
        local native, emulated = lines_of("refcalls caught")
        local plain = "--- SIGHUP {si_signo=SIGHUP, ...} ---"
        local function count(list)
            local n = 0
            for _, line in ipairs(list) do if line == plain then n = n + 1 end end
            return n
        end
        assert.are.equal(1, count(native), table.concat(native, "\n"))
        assert.are.equal(1, count(emulated), table.concat(emulated, "\n"))
    end)

    it("shows the mask and result of the rt_sigreturn that ends a handler", function()
        both_print("refcalls caught", "rt_sigreturn({mask=[]}) = 0")
    end)

    it("shows a death by a signal, the guest's own and a child's", function()
        both_print("refcalls crash", "+++ killed by SIGSEGV +++")
        both_print("refcalls caught", "+++ killed by SIGALRM +++")
    end)

    it("prints a failed execve on one line", function()
        both_print("refcalls exec",
                   'execve("/nonexistent", ["x", "y"], 0xADDR /* 1 var */) = -1 ENOENT (No such file or directory)')
        both_print("refcalls exec", 'execve("/bin/true", ["x", "y"], 0xADDR /* 1 var */) = 0')
    end)

    it("follows the program an execve starts, as strace -f does: every line of it the same", function()
        local native, emulated = lines_of("refcalls exec")
        local function after_exec(lines)
            for i, line in ipairs(lines) do
                if line:match('^execve%("/bin/true", .*%) = 0$') then
                    return { unpack(lines, i + 1) }
                end
            end
            return {}
        end
        local expected = after_exec(native)
        -- /bin/true is dynamically linked: its loader's calls, then its own
        assert.is_true(#expected > 30, table.concat(native, "\n"))
        assert.are.same(expected, after_exec(emulated))
    end)
end)
