-- scripts/trace.lua: strace-style lines, checked against QEMU's own
-- -strace log of the same runs, against what strace 6.1 prints for the
-- same calls, option by option, and on thousands of calls with random
-- arguments; their order across processes and threads; the timeline of
-- format=perfetto.
local json = require "dkjson"
local qemu = require "helpers.qemu"
local compare = require "helpers.strace_compare"
local reference = require "helpers.strace_reference"
local timeline = require "helpers.timeline"

local ARCHES = { "i386", "x86_64" }
local TRACE = "scripts/trace.lua"

-- `text` without its lines of signals ("--- SIGUSR1 {...} ---").
local function without_signals(text)
    return (text:gsub("%-%-%- SIG[^\n]*\n", ""))
end

-- Runs a guest under trace.lua with options ("key=value" strings).
local function trace(opts)
    return qemu.run { arch = opts.arch, guest = opts.guest or "manycalls", args = opts.args,
                      script = TRACE, plugin_args = opts.options, strace = opts.strace }
end

-- The calls QEMU's -strace prints as raw registers, undecoded: only their
-- names and results can be compared.
local UNDECODED = {}
for _, name in ipairs({ "ugetrlimit", "arch_prctl", "readv", "pselect6", "epoll_ctl",
                        "epoll_wait", "mremap", "clock_getres_time64", "getrusage",
                        "socketpair", "shutdown", "semget", "shmget", "shmdt", "shmctl",
                        "prctl", "getuid32", "time" }) do
    UNDECODED[name] = true
end

local DIFFERENCES = {
    undecoded = UNDECODED,
    skip = {
        -- QEMU prints the receive buffer at entry, before the call fills it
        recv = { [2] = true }, recvfrom = { [2] = true },
        -- QEMU prints clock_nanosleep's remaining time at entry (garbage)
        clock_nanosleep = { [4] = true },
        -- QEMU prints socketcall's socketpair array address in hex without 0x
        socketpair = { [4] = true },
        -- strace and trace.lua count the entries read, QEMU shows the address
        getdents64 = { [2] = true },
    },
    -- QEMU prints _llseek's offset as its two register words
    merge = { _llseek = 2 },
    -- QEMU leaves out rt_sigaction's sigsetsize
    drop = { rt_sigaction = 4 },
}

-- What QEMU's -strace prints differently on the other architectures: the
-- calls it prints as raw registers there (and their names and results
-- are still compared), and an argument it prints that the call has not.
local ARCH_DIFFERENCES = {
    -- ppoll and renameat2 as raw registers; faccessat and fchmodat with a
    -- fourth (flags) argument the calls do not take
    aarch64 = { undecoded = { "ppoll", "renameat2" }, qemu_extra = { faccessat = 4, fchmodat = 4 } },
    riscv64 = { undecoded = { "ppoll", "renameat2" }, qemu_extra = { faccessat = 4, fchmodat = 4 } },
    -- arm's own send call as six raw registers
    arm = { undecoded = { "send" } },
    -- QEMU decodes none of mips' own numbers: its SOL_SOCKET (65535),
    -- RLIMIT_NOFILE (5), O_NONBLOCK (0x80) show raw
    mips = { undecoded = { "send", "pipe2", "setsockopt", "getrlimit" } },
}
ARCH_DIFFERENCES.mipsel = ARCH_DIFFERENCES.mips

-- DIFFERENCES with those of `arch`.
local function differences(arch)
    local extra = ARCH_DIFFERENCES[arch] or { undecoded = {} }
    local undecoded = {}
    for name in pairs(UNDECODED) do undecoded[name] = true end
    for _, name in ipairs(extra.undecoded) do undecoded[name] = true end
    local errno = {}
    for _, e in ipairs(dofile(qemu.build .. "/tools/arch_" .. arch .. ".lua").errno) do
        errno[e[1]] = e[2]
    end
    return { undecoded = undecoded, skip = DIFFERENCES.skip, merge = DIFFERENCES.merge,
             drop = DIFFERENCES.drop, qemu_extra = extra.qemu_extra, errno = errno }
end

describe("trace.lua against QEMU's -strace", function()
    for _, arch in ipairs(qemu.arch_names()) do
        it("agrees call for call on " .. arch, function()
            local log = qemu.tmppath()
            local r = trace { arch = arch, strace = log }
            local qemu_calls = compare.parse_qemu(compare.take_log(log))
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("done\n", r.stdout)
            local problems, counted = compare.calls(qemu_calls, compare.parse_trace(r.stderr),
                                                    differences(arch))
            assert.are.same({}, problems)
            -- and the comparison had something to compare
            assert.is_true(counted.calls >= 140, "calls compared: " .. counted.calls)
            assert.is_true(counted.args >= 250, "arguments compared: " .. counted.args)
        end)

        local busybox = qemu.build .. "/foreign/busybox." .. arch
        if qemu.slurp(busybox) then
            it("agrees call for call on Debian's busybox for " .. arch, function()
                local log, out = qemu.tmppath(), qemu.tmppath()
                local r = qemu.run { arch = arch, program = busybox, script = TRACE, strace = log,
                                     plugin_args = { "out=" .. out },
                                     args = { "ls", "-l", "tools", "nosuch" } }
                local qemu_calls = compare.parse_qemu(compare.take_log(log))
                assert.are.equal(1, r.status, r.stderr)     -- for nosuch
                assert.matches("guest%-arches\n", r.stdout)
                local problems, counted = compare.calls(qemu_calls, compare.parse_trace(compare.take_log(out)),
                                                        differences(arch))
                assert.are.same({}, problems)
                assert.is_true(counted.calls >= 60, "calls compared: " .. counted.calls)
            end)
        end
    end

    it("shows mips' socketcall as the call it stands for, its argument words big-endian", function()
        local r = qemu.run { arch = "mips", guest = "escape", args = { "socketcall:unix" },
                             script = TRACE, plugin_args = { "trace=%network" } }
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("socketcall:unix = ok\n", r.stdout)
        assert.are.equal("socket(AF_UNIX, SOCK_STREAM, 0) = 3\n", r.stderr)
    end)

    it("shows i386's socketcall and ipc as the calls they stand for", function()
        local log = qemu.tmppath()
        local r = trace { arch = "i386", strace = log }
        local qemu_log = compare.take_log(log)
        -- QEMU's log proves the multiplexers were used (capitals: socketcall)
        assert.matches("SOCKETPAIR%(", qemu_log)
        assert.matches(" ipc%(2,", qemu_log)
        assert.is_nil(r.stderr:match("socketcall%("))
        assert.is_nil(r.stderr:match("\nipc%("))
        assert.matches("\nsocketpair%(AF_UNIX, SOCK_STREAM, 0, %[%d+, %d+%]%) = 0\n", r.stderr)
        assert.matches("\nsocket%(AF_UNIX, SOCK_STREAM, 0%) = %d+\n", r.stderr)
        assert.matches("\nsemget%(IPC_PRIVATE, 1, IPC_CREAT|0600%) = %d+\n", r.stderr)
        assert.matches("\nsemctl%(%d+, 0, IPC_RMID, 0x%x+%) = 0\n", r.stderr)
        assert.matches("\nsend%(%d+, \"ping\", 4, 0%) = 4\n", r.stderr)
    end)
end)

-- Lines as strace 6.1 prints them for the same calls of manycalls on
-- x86_64 (from a native `strace` run; what varies from run to run as %d+,
-- %x+ or, inside quotes, %S+).
local STRACE_LINES = {
    'openat(AT_FDCWD, "data.txt", O_RDONLY) = 3',
    'write(3, "hello\\n\\tworld \\"quoted\\" \\\\ \\1\\377 and a"..., 50) = 50',
    'writev(3, [{iov_base="vec1", iov_len=4}, {iov_base="vec2\\n", iov_len=5}], 2) = 9',
    'read(3, "helPo\\n\\twor", 10) = 10',
    'readv(3, [{iov_base="lPo", iov_len=3}, {iov_base="\\n\\twor", iov_len=5}], 2) = 8',
    'newfstatat(3, "", {st_mode=S_IFREG|0600, st_size=59, ...}, AT_EMPTY_PATH) = 0',
    'fcntl(3, F_GETFL) = 0x8000 (flags O_RDONLY|O_LARGEFILE)',
    'fcntl(3, F_SETFD, FD_CLOEXEC) = 0',
    'fcntl(3, F_GETFD) = 0x1 (flags FD_CLOEXEC)',
    'newfstatat(AT_FDCWD, "/nonexistent/luahook", 0x%x+, 0) = -1 ENOENT (No such file or directory)',
    'access("/tmp/luahook-manycalls-%d+/data.txt", R_OK|W_OK) = 0',
    'umask(022) = 022',
    'pipe2([3, 4], 0) = 0',
    'pipe2([5, 6], O_NONBLOCK|O_CLOEXEC) = 0',
    'poll([{fd=3, events=POLLIN}], 1, 0) = 1 ([{fd=3, revents=POLLIN}])',
    'pselect6(4, [3], NULL, NULL, {tv_sec=0, tv_nsec=0}, NULL) = 1 (in [3], left {tv_sec=0, tv_nsec=0})',
    'read(5, 0x%x+, 1) = -1 EAGAIN (Resource temporarily unavailable)',
    'close(-1) = -1 EBADF (Bad file descriptor)',
    'epoll_ctl(8, EPOLL_CTL_ADD, 7, {events=EPOLLIN, data={u32=7, u64=7}}) = 0',
    'mmap(NULL, 16384, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x%x+',
    'mremap(0x%x+, 4096, 16384, MREMAP_MAYMOVE) = 0x%x+',
    'mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, -1, 0) = -1 EBADF (Bad file descriptor)',
    'socketpair(AF_UNIX, SOCK_STREAM, 0, [3, 4]) = 0',
    'socket(AF_UNIX, SOCK_DGRAM|SOCK_CLOEXEC, 0) = 3',
    'bind(3, {sa_family=AF_UNIX, sun_path="/tmp/luahook-manycalls-%d+.sock"}, 110) = 0',
    'getsockname(3, {sa_family=AF_UNIX, sun_path="/tmp/luahook-manycalls-%d+.sock"}, [110 => %d+]) = 0',
    'socket(AF_INET, SOCK_STREAM, IPPROTO_IP) = 3',
    'setsockopt(3, SOL_SOCKET, SO_REUSEADDR, [1], 4) = 0',
    'bind(3, {sa_family=AF_INET, sin_port=htons(0), sin_addr=inet_addr("127.0.0.1")}, 16) = 0',
    'getsockname(3, {sa_family=AF_INET, sin_port=htons(%d+), sin_addr=inet_addr("127.0.0.1")}, [16]) = 0',
    'semget(IPC_PRIVATE, 1, IPC_CREAT|0600) = %d+',
    'shmat(%d+, NULL, 0) = 0x%x+',
    'rt_sigaction(SIGUSR1, {sa_handler=0x%x+, sa_mask=[USR2], sa_flags=SA_RESTORER|SA_RESTART, sa_restorer=0x%x+}, {sa_handler=SIG_DFL, sa_mask=[], sa_flags=0}, 8) = 0',
    'rt_sigprocmask(SIG_BLOCK, [USR1 TERM], [], 8) = 0',
    'kill(%d+, SIGUSR1) = 0',
    'clock_nanosleep(CLOCK_MONOTONIC, 0, {tv_sec=0, tv_nsec=1000}, NULL) = 0',
    'uname({sysname="Linux", nodename="%S+", ...}) = 0',
    'wait4(-1, NULL, WNOHANG, NULL) = -1 ECHILD (No child processes)',
    'exit_group(0) = ?',
}

-- A literal line with %d+, %x+ and %S+ placeholders as a Lua pattern.
local function line_pattern(line)
    local escaped = line:gsub("[%(%)%.%+%-%*%?%[%]%^%$]", "%%%0")
        :gsub("%%d%%%+", "%%d+"):gsub("%%x%%%+", "%%x+"):gsub("%%S%%%+", '[^"]*')
    return "\n" .. escaped .. "\n"
end

describe("trace.lua's decoding", function()
    it("prints what strace prints for the same calls", function()
        local r = trace { arch = "x86_64" }
        assert.are.equal(0, r.status)
        local text = "\n" .. r.stderr
        for _, line in ipairs(STRACE_LINES) do
            assert.matches(line_pattern(line), text)
        end
    end)

    it("shows garbage pointers as addresses, on thousands of random calls", function()
        for _, arch in ipairs(ARCHES) do
            local r = trace { arch = arch, guest = "fuzzcalls", args = { "3000" } }
            assert.are.equal(0, r.status)
            assert.is_nil(r.stderr:match("hook registered"), "a decoder failed")
            assert.matches("\nuname%(0x%x+%) = %-1 EFAULT %(Bad address%)\n", r.stderr)
            assert.matches("\n[%w_]+%(NULL", r.stderr)
        end
    end)

    it("has signatures for at least 150 syscalls on each architecture", function()
        for _, arch in ipairs(ARCHES) do
            local r = qemu.run { arch = arch, guest = "getpid",
                                 lua = [[print("signatures", require("luahook.decode").check())]] }
            assert.are.equal(0, r.status, r.stderr)
            local n = tonumber(r.stderr:match("signatures\t(%d+)"))
            assert.is_true(n and n >= 150, arch .. ": " .. tostring(n))
        end
    end)
end)

-- A trace normalised for comparing a native strace run with a QEMU one:
-- what differs between any two runs (addresses, ids, times, random bytes)
-- is blanked, strace's column padding removed, and calls left out that
-- differ by nature: the kernel implements rseq and set_robust_list where
-- QEMU says ENOSYS; natively the vDSO answers the clock calls; strace
-- shows the execve that started the guest, signals and sigreturn.
local NOT_COMPARABLE = { execve = true, rt_sigreturn = true, rseq = true, set_robust_list = true,
                         clock_gettime = true, clock_getres = true, gettimeofday = true }

-- Calls whose numbers are process and thread ids, small in a young pid
-- namespace (CI's) or after the ids wrapped: blanked whatever their size.
local PIDS = { getpid = true, getppid = true, gettid = true, set_tid_address = true,
               getpgrp = true, getpgid = true, getsid = true, setpgid = true, setsid = true,
               kill = true, tkill = true, tgkill = true, wait4 = true, waitid = true,
               clone = true, clone3 = true, fork = true, vfork = true }

local function comparable(text)
    local lines = {}
    for line in text:gmatch("[^\n]+") do
        local name = line:match("^([%w_]+)%(")
        if name and not NOT_COMPARABLE[name] then
            line = line:gsub("%)%s+= ", ") = "):gsub('^getrandom%(".-", ', "getrandom(DATA, ")
                :gsub("0x%x%x%x%x+", "ADDR"):gsub("%d%d%d%d+", "N"):gsub("tv_usec=%d+", "tv_usec=N")
            if name:match("^sem") or name:match("^shm") or PIDS[name] then line = line:gsub("%d+", "N") end
            lines[#lines + 1] = line
        end
    end
    return lines
end

describe("trace.lua against strace itself", function()
    it("prints the same lines for the same x86_64 run", function()
        -- strace is installed by tools/deps.sh: without it this fails
        reference.check_strace()
        local log, out = qemu.tmppath(), os.tmpname()
        local status = os.execute(string.format("strace -o %s %s >%s 2>/dev/null", log,
                                                qemu.guest("manycalls", "x86_64"), out))
        os.remove(out)
        assert.is_true(status == 0 or status == true, "strace failed on manycalls")
        local native = compare.take_log(log)
        local r = trace { arch = "x86_64" }
        local ours, theirs = comparable(r.stderr), comparable(native)
        assert.is_true(#theirs > 100)
        assert.are.same(theirs, ours)
    end)
end)

describe("luahook.decode.text", function()
    -- outside the plugin (package.path is put back for other spec files)
    local saved_path = package.path
    package.path = "lua/?.lua;" .. package.path
    local text = require "luahook.decode.text"
    package.path = saved_path

    it("escapes as strace does", function()
        -- strace 6.1 on write(-1, THESE_BYTES, 20)
        assert.are.equal([["a\0b\0001\177\200\377\7\10\33\"\\\t\n\v\f\r9\0"]],
                         text.quote("a\0b\0001\127\128\255\7\8\27\"\\\t\n\v\f\r9\0"))
        assert.are.equal([["hello"...]], text.quote("hello", true))
        assert.are.equal([[""...]], text.quote("", true))
        assert.are.equal([["\x7f\x25"]], text.quote_hex("\127%"))
    end)
end)

describe("trace.lua on random syscalls", function()
    for _, arch in ipairs(ARCHES) do
        it("leaves the guest's output and exit status alone on " .. arch, function()
            local args = { "5000" }
            local bare = qemu.run { arch = arch, guest = "fuzzcalls", args = args, plugin = false }
            local traced = trace { arch = arch, guest = "fuzzcalls", args = args }
            assert.are.equal(0, bare.status)
            assert.matches("^calls=5000 failures=%d+ digest=%x+\n$", bare.stdout)
            assert.are.equal(bare.stdout, traced.stdout)
            assert.are.equal(bare.status, traced.status)
            local lines = select(2, traced.stderr:gsub("\n", ""))
            assert.is_true(lines > 5000, lines .. " lines")
        end)
    end

    it("writes valid JSON for every call, garbage included", function()
        local r = trace { arch = "x86_64", guest = "fuzzcalls", args = { "3000", "7" },
                          options = { "json=1", "y=1", "strsize=64" } }
        assert.are.equal(0, r.status)
        local n = 0
        for line in r.stderr:gmatch("[^\n]+") do
            local object, _, err = json.decode(line)
            assert.is_table(object, tostring(err) .. ": " .. line)
            assert.is_string(object.name)
            n = n + 1
        end
        assert.is_true(n > 3000)
    end)
end)

describe("trace.lua's options", function()
    it("trace= selects names and classes joined with +", function()
        local r = trace { arch = "i386", options = { "trace=%file+read" } }
        assert.are.equal(0, r.status)
        local seen = {}
        for name in r.stderr:gmatch("%f[^\n%z]([%w_]+)%(") do seen[name] = true end
        for _, name in ipairs({ "openat", "read", "statx", "unlink", "rename", "mkdir" }) do
            assert.is_true(seen[name], name)
        end
        for _, name in ipairs({ "write", "close", "mmap2", "socket", "kill", "getpid" }) do
            assert.is_nil(seen[name], name)
        end
    end)

    it("trace= with a socketcall sub-call selects only that sub-call on i386", function()
        local log = qemu.tmppath()
        local r = trace { arch = "i386", options = { "trace=socket" }, strace = log }
        -- QEMU writes socketcall's socket as SOCKET(, the direct syscall as socket(
        local qemu_log = compare.take_log(log)
        local in_qemu = select(2, qemu_log:gsub(" SOCKET%(", "")) + select(2, qemu_log:gsub(" socket%(", ""))
        local lines = compare.parse_trace(r.stderr)
        assert.is_true(in_qemu >= 4)
        assert.are.equal(in_qemu, #lines)
        for _, call in ipairs(lines) do
            assert.are.equal("socket", call.name)
        end
    end)

    it("strsize= cuts strings and buffers, never paths", function()
        local r = trace { arch = "x86_64", options = { "strsize=5" } }
        assert.matches('\nwrite%(3, "hello"%.%.%., 50%) = 50\n', r.stderr)
        assert.matches('\nread%(3, "helPo"%.%.%., 10%) = 10\n', r.stderr)
        assert.matches('\nopenat%(AT_FDCWD, "/tmp/luahook%-manycalls%-%d+/data%.txt", ', r.stderr)
        r = trace { arch = "x86_64", options = { "strsize=0" } }
        assert.matches('\nwrite%(3, ""%.%.%., 50%) = 50\n', r.stderr)
        r = trace { arch = "x86_64", options = { "strsize=100" } }
        assert.matches('\nwrite%(3, "hello\\n\\tworld \\"quoted\\" \\\\ \\1\\377 and a long tail of text", 50%)', r.stderr)
    end)

    it("y=1 shows what descriptors refer to, following closes and reuse", function()
        local r = trace { arch = "x86_64", options = { "y=1" } }
        local file = "</tmp/luahook%-manycalls%-%d+/data%.txt>"
        assert.matches("\nopenat%(AT_FDCWD, \"data%.txt\", O_RDONLY%) = 3" .. file .. "\n", r.stderr)
        assert.matches("\nread%(3" .. file .. ", ", r.stderr)
        -- fd 3 is a pipe once the file is closed and a pipe made
        assert.matches("\npipe2%(%[3<pipe:%[%d+%]>, 4<pipe:%[%d+%]>%], 0%) = 0\n", r.stderr)
        assert.matches("\nread%(3<pipe:%[%d+%]>, \"x\", 1%) = 1\n", r.stderr)
        assert.matches("\nsocket%(AF_INET, SOCK_STREAM, IPPROTO_IP%) = 3<socket:%[%d+%]>\n", r.stderr)
        assert.matches("\nwrite%(1</tmp/[^>]+>, \"done\\n\", 5%) = 5\n", r.stderr)
    end)

    it("y=1 follows descriptors through calls it does not show", function()
        local r = trace { arch = "i386", options = { "y=1", "trace=read" } }
        assert.matches("^read%(3</tmp/luahook%-manycalls%-%d+/data%.txt>, ", r.stderr)
        -- close and pipe2 were not shown, yet fd 3 is known to be a pipe now
        assert.matches("\nread%(3<pipe:%[%d+%]>, \"x\", 1%) = 1\n", r.stderr)
    end)

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("T=1 and tt=1 time a call QEMU restarts after a signal handler from its first entry, on " .. arch, function()
            -- read waits 600 ms for its byte while SIGALRM (SA_RESTART) interrupts it every 150 ms
            local r = qemu.run { arch = arch, guest = "restart", script = "scripts/trace.lua",
                                 plugin_args = { "T=1", "tt=1", "trace=read+setitimer" } }
            assert.are.equal(0, r.status)
            local started = r.stderr:match(" (%d+:%d+:%d+%.%d+) setitimer%(ITIMER_REAL, ")
            -- the handlers' signal lines come between its start and its end
            local stamp = r.stderr:match(" (%d+:%d+:%d+%.%d+) read%(3,  <unfinished %.%.%.>\n")
            local seconds = r.stderr:match("<%.%.%. read resumed>\"x\", 1%) = 1 <(%d+%.%d+)>\n")
            assert.is_truthy(started, r.stderr)
            assert.is_true(tonumber(seconds) >= 0.4, r.stderr)
            -- the read's stamp is its first entry's: right after the first
            -- setitimer, not the last restart's, 450 ms or more later
            local function seconds_of(hms)
                local h, m, sec = hms:match("(%d+):(%d+):([%d.]+)")
                return h * 3600 + m * 60 + tonumber(sec)
            end
            assert.is_true(seconds_of(stamp) - seconds_of(started) < 0.3, r.stderr)
        end)
    end

    -- one thread: read waits while SIGALRM's handler calls getppid, four
    -- times; the fourth writes the byte it waits for. Native strace shows
    -- the same, each interrupted read ending "= ? ERESTARTSYS" where
    -- luahook can only leave it unfinished. T=1 enters every call at its
    -- entry; without it, getppid is entered only when it returns.
    for _, arch in ipairs({ "i386", "x86_64", "aarch64" }) do
        for _, options in ipairs({ {}, { "T=1" } }) do
            local label = options[1] and " with " .. options[1] or ""
            it("writes a signal handler's calls whole while the call they interrupt waits, on "
               .. arch .. label, function()
                local r = qemu.run { arch = arch, guest = "restart", args = { "alone" },
                                     script = "scripts/trace.lua", plugin_args = options }
                assert.are.equal(0, r.status, r.stderr)
                assert.are.equal("read 1 after 4 alarms\n", r.stdout)
                assert.is_nil(r.stderr:find("resumed>", 1, true), r.stderr)
                local _, handlers = r.stderr:gsub("\n%-%-%- SIGALRM [^\n]*\ngetppid%(%) = %d+[^\n]*\n", "")
                assert.are.equal(4, handlers, r.stderr)
                local _, restarted = r.stderr:gsub("\nread%(3,  <unfinished %.%.%.>\n%-%-%- SIGALRM", "")
                assert.are.equal(4, restarted, r.stderr)
                assert.matches('\nread%(3, "x", 1%) = 1[^\n]*\n', r.stderr)
            end)
        end
    end

    it("T=1 adds each call's duration", function()
        local r = trace { arch = "i386", options = { "T=1" } }
        local timed = 0
        for line in r.stderr:gmatch("[^\n]+") do
            if line:match(" = %?$") or line:match("^%+%+%+") or line:match("^%-%-%- ") then
                assert.is_nil(line:match("<%d"), line)
            else
                local seconds = assert(line:match(" <(%d+%.%d%d%d%d%d%d)>$"), line)
                assert.is_true(tonumber(seconds) < 5)
                timed = timed + 1
            end
        end
        assert.is_true(timed > 100)
    end)

    it("tt=1 starts each line with the wall-clock time of the call", function()
        local before = os.time()
        local r = trace { arch = "i386", options = { "tt=1" } }
        local now = os.date("*t")
        local now_s = now.hour * 3600 + now.min * 60 + now.sec
        local last = -1
        for line in r.stderr:gmatch("[^\n]+") do
            local h, m, s, us = line:match("^(%d%d):(%d%d):(%d%d)%.(%d%d%d%d%d%d) ")
            assert.is_truthy(h, line)
            local t = h * 3600 + m * 60 + s + us / 1e6
            assert.is_true(t >= last or last - t > 80000, "time goes back: " .. line)
            last = t
            -- within the run, allowing for a midnight in between
            local ago = (now_s - math.floor(t)) % 86400
            assert.is_true(ago <= os.time() - before + 2, line)
        end
    end)

    it("failed=1 shows only calls that failed", function()
        local r = trace { arch = "x86_64", options = { "failed=1" } }
        assert.are.equal("done\n", r.stdout)
        local n = 0
        for line in r.stderr:gmatch("[^\n]+") do
            if not line:match("^%-%-%- ") then -- signals show, as under strace -Z
                assert.matches(" = %-1 E%u+ %(.*%)$", line)
                n = n + 1
            end
        end
        assert.matches('\nopenat%(AT_FDCWD, "/nonexistent/luahook", O_RDONLY%) = %-1 ENOENT', "\n" .. r.stderr)
        assert.matches("\nclose%(%-1%) = %-1 EBADF", "\n" .. r.stderr)
        assert.is_true(n >= 5)
    end)

    it("json=1 writes one JSON object per call", function()
        local r = trace { arch = "i386", options = { "json=1", "T=1", "tt=1" } }
        local calls = {}
        for line in r.stderr:gmatch("[^\n]+") do
            local object = json.decode(line, 1, json.null)
            assert.is_table(object, line)
            calls[#calls + 1] = object
        end
        local pid = calls[1].pid
        local failed, last
        for _, c in ipairs(calls) do
            assert.are.equal(pid, c.pid)
            assert.is_string(c.time)
            if c.name == "openat" and c.errno then failed = c end
            last = c
        end
        assert.are.same({ "AT_FDCWD", '"/nonexistent/luahook"', "O_RDONLY" }, failed.args)
        assert.are.equal(-1, failed.ret)
        assert.are.equal("ENOENT", failed.errno)
        assert.is_number(failed.duration)
        assert.are.equal("exit_group", last.name)
        assert.are.same({ "0" }, last.args)
        assert.are.equal(json.null, last.ret)
    end)

    it("prefixes lines with [pid N] once a second process exists", function()
        local r = trace { arch = "i386", guest = "forker" }
        local child = tonumber(r.stdout:match("child (%d+)"))
        local parent = tonumber(r.stdout:match("parent (%d+)"))
        assert.matches("^brk%(", r.stderr)                            -- before the fork: none
        -- the fork's line starts before the child exists: no prefix yet
        assert.matches("\nclone%(child_stack=NULL, flags=[^\n]*SIGCHLD", r.stderr)
        local trace = reference.parse_emulated(r.stderr, parent)
        local of_parent = table.concat(trace.by_pid[parent].lines, "\n") .. "\n"
        local of_child = table.concat(trace.by_pid[child].lines, "\n") .. "\n"
        assert.matches("\nclone%([^\n]*%) = " .. child .. "\n", of_parent)
        assert.not_matches("clone%([^\n]*%) = 0\n", r.stderr)          -- the child's side: not shown
        assert.matches("\ngetppid%(%) = " .. parent .. "\n", of_child)
        assert.matches("\nexit_group%(3%) = %?\n", of_child)
        assert.matches("\nwait4%(" .. child .. ", %[{WIFEXITED%(s%) && WEXITSTATUS%(s%) == 3}%], 0, NULL%) = "
                       .. child, of_parent)
    end)

    it("prefixes lines with [pid TID] once a second thread exists", function()
        local r = trace { arch = "x86_64", guest = "threads", args = { "2", "1" },
                          options = { "trace=gettid" } }
        local tids = {}
        for tid in r.stdout:gmatch("tid (%d+)") do tids[#tids + 1] = tid end
        assert.are.equal(2, #tids)
        for _, tid in ipairs(tids) do
            assert.matches("%[pid " .. tid .. "%] gettid%(%) = " .. tid .. "\n", r.stderr)
        end
    end)

    it("starts a thread-making clone's line without a prefix, as strace: the thread does not exist yet", function()
        local r = trace { arch = "x86_64", guest = "threads", args = { "1", "0" },
                          options = { "trace=clone+clone3" } }
        local lines = qemu.lines(r.stderr)
        -- glibc tries clone3 first; the reference QEMU does not implement it
        assert.matches("^clone3%(0x%x+, %d+%) = %-1 ENOSYS ", lines[1])
        assert.matches("^clone%(child_stack=0x%x+, flags=CLONE_VM|.*CLONE_THREAD", lines[2])
    end)

    it("prints a failed execve on one line when it returns", function()
        local r = trace { arch = "i386", guest = "signals", options = { "trace=execve" },
                          args = { "exec", "/nonexistent/luahook", "x" } }
        -- one line, and the guest's perror() (unbuffered, so first); the
        -- guest's signal first, shown whatever trace= says, as by strace
        assert.matches('^execv: [^\n]*\nexecve%("/nonexistent/luahook", %["/nonexistent/luahook", "x"%], 0x%x+ /%* %d+ vars %*/%) = %-1 ENOENT %(No such file or directory%)\n$',
                       without_signals(r.stderr))
    end)

    it("prints a successful execve as = 0, before the program is replaced", function()
        local r = trace { arch = "i386", guest = "signals", options = { "trace=execve" },
                          args = { "exec", "/bin/echo", "replaced" } }
        assert.are.equal(0, r.status)
        assert.matches("\nreplaced\n$", r.stdout)
        assert.matches('^execve%("/bin/echo", %["/bin/echo", "replaced"%], 0x%x+ /%* %d+ vars %*/%) = 0\n$',
                       without_signals(r.stderr))
    end)

    it("with follow_exec=0, gives an execve's real result after all when one expected to succeed fails",
       function()
        -- executable, but in no format the kernel runs: only the exec finds out
        local path = qemu.tmppath()
        qemu.write_file(path, "not a program\n")
        os.execute("chmod 755 " .. path)
        local r = trace { arch = "x86_64", guest = "signals", options = { "trace=execve", "follow_exec=0" },
                          args = { "exec", path, "x" } }
        os.remove(path)
        local lines = qemu.lines(without_signals(r.stderr))
        assert.are.equal(3, #lines, r.stderr) -- one of them the guest's perror()
        assert.matches('^execve%("' .. path:gsub("%p", "%%%0") .. '", .*%) = 0$', lines[1])
        assert.are.equal("<... execve resumed>) = -1 ENOEXEC (Exec format error)", lines[3])
    end)

    local BAD = {
        { "strsiz=5", "unknown option 'strsiz' %(known: T, failed, format, json, k, strsize, trace, tt, y%)" },
        { "strsize=abc", "strsize=abc: expected an integer" },
        { "strsize=-1", "strsize=%-1: expected an integer of at least 0" },
        { "y=maybe", "y=maybe: expected 1 or 0" },
        { "trace=opnat", "trace=opnat: unknown syscall 'opnat' for i386 %(did you mean 'openat'%?%)" },
        { "trace=%bogus", "trace=%%bogus: unknown syscall class '%%bogus'" },
        { "format=svg", "format=svg: expected one of text, json, perfetto" },
        { "json=1,format=perfetto", "json=1 and format=perfetto: choose one" },
        { "format=perfetto,T=1", "format=perfetto has every call's start and duration: "
                                 .. "T=1 and tt=1 do not apply" },
    }
    for _, case in ipairs(BAD) do
        it("stops before the guest runs on " .. case[1], function()
            local given = {}
            for option in case[1]:gmatch("[^,]+") do given[#given + 1] = option end
            local r = trace { arch = "i386", options = given }
            assert.are_not.equal(0, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("^luahook: scripts/trace%.lua:%d+: " .. case[2], r.stderr)
        end)
    end
end)

-- The index of the first line matching `pattern` (after the "[pid N] "
-- prefix), and that pid.
local function find_line(lines, pattern)
    for i, line in ipairs(lines) do
        local pid, rest = line:match("^%[pid (%d+)%] (.*)$")
        if (rest or line):match(pattern) then return i, tonumber(pid) end
    end
end

describe("trace.lua's order of lines across processes and threads", function()
    for _, arch in ipairs(ARCHES) do
        for _, mode in ipairs({ "fork", "thread" }) do
            it("prints a read that blocks at entry and resumes it after the lines of the " .. mode
               .. " that wakes it, on " .. arch, function()
                local r = trace { arch = arch, guest = "blocker", args = { mode },
                                  options = { "trace=read+write+getppid+clone" } }
                assert.are.equal(0, r.status, r.stderr)
                local lines = qemu.lines(r.stderr)
                -- as strace: the start, the other's lines, "<... resumed>"
                local start, reader = find_line(lines, "^read%(3,  <unfinished %.%.%.>$")
                local wake, worker = find_line(lines, '^write%(4, "go", 2')
                local resumed, again = find_line(lines, '^<%.%.%. read resumed>"go", 8%) = 2$')
                assert.is_truthy(start and wake and resumed, r.stderr)
                assert.is_true(start < wake and wake < resumed, r.stderr)
                assert.are.equal(reader, again)
                assert.are_not.equal(reader, worker)
                assert.matches("^getppid%(%) = %d+$", lines[wake - 1]:gsub("^%[pid %d+%] ", ""))
            end)
        end

        it("prints a fork's line, at least its start, before its child's first line, on " .. arch, function()
            local r = trace { arch = arch, guest = "blocker", args = { "fork" } }
            assert.are.equal(0, r.status, r.stderr)
            local lines = qemu.lines(r.stderr)
            local fork = find_line(lines, "^clone%(child_stack=NULL, flags=")
            local parent = tonumber(lines[#lines]:match("^%[pid (%d+)%]"))
            local first
            for i, line in ipairs(lines) do
                local pid = tonumber(line:match("^%[pid (%d+)%]"))
                if pid and pid ~= parent then first = first or i end
            end
            assert.is_truthy(fork and first, r.stderr)
            assert.is_true(fork < first, r.stderr)
        end)
    end

    it("needs no entry hook on calls that cannot block while the guest is one process, and has one on every call once it is two", function()
        -- trace.lua as a module, and what hooks it has at the end
        local function entry_hooks(guest)
            return qemu.run { guest = guest, lua = [[
                local lh = require "luahook"
                dofile("scripts/trace.lua")
                lh.on_exit(function()
                    local every, getppid = false, false
                    for _, h in ipairs(lh.hooks()) do
                        if h.kind == "entry" then
                            every = every or h.selection.all or false
                            getppid = getppid or h.selection[lh.nr("getppid")] or false
                        end
                    end
                    lh.printf("entry hooks: every call %s, getppid %s\n", every, getppid)
                end)
            ]] }
        end
        local one = entry_hooks("getpid")
        assert.are.equal(0, one.status, one.stderr)
        assert.matches("\ngetpid%(%) = %d+\n.*\nentry hooks: every call false, getppid false\n$", one.stderr)
        local two = entry_hooks("forker")
        assert.are.equal(0, two.status, two.stderr)
        local _, parent_and_child = two.stderr:gsub("entry hooks: every call true, getppid false\n", "")
        assert.are.equal(2, parent_and_child, two.stderr)
        assert.matches("%] getppid%(%) = %d+\n", two.stderr)
    end)

    it("lets go of the processes' shared lock when a hook holding it is cut short", function()
        -- the child's hook fails holding the lock (two processes share it
        -- then): its next text, or the parent's, must not wait for ever
        local job = qemu.start { guest = "forker", lua = [[
            local lh = require "luahook"
            local order = require "luahook.order"
            order.start()
            lh.on("getppid", function()
                local locked = order.new_text()
                if locked then error("cut short") end
                order.ended(locked)
            end)
            lh.after("wait4", function()
                local locked = order.new_text()
                lh.out("the parent writes\n")
                order.ended(locked)
            end)
        ]] }
        local r = qemu.finish(job, 30)
        assert.are.equal(0, r.status, r.stderr)
        assert.matches("parent %d+ child %d+ exited 3\n", r.stdout)
        assert.matches("failed on getppid: [^\n]*cut short", r.stderr)
        assert.matches("the parent writes\n", r.stderr)
    end)
end)

describe("trace.lua on a terminal", function()
    it("shows a call that waits at its entry, before it returns", function()
        -- the guest reads the terminal; trace.lua writes to it too
        local steps = qemu.tmppath()
        qemu.write_file(steps, table.concat({
            "expect read\\(3, $",             -- shown while the read waits
            "send hello\\r",
            [[expect "hello\\n", 4096\) = 6]],
            "expect read\\(3, $",
            "send \\x04",
            [[expect "", 4096\) = 0]],
        }, "\n") .. "\n")
        local guest = string.format("exec %s/qemu/bin/qemu-i386 -plugin %s %s /dev/stdin >/dev/null",
                                    qemu.build, qemu.quote(qemu.plugin .. ",script=" .. TRACE),
                                    qemu.quote(qemu.guest("cat")))
        local transcript, status = qemu.sh(string.format(
            "python3 spec/helpers/pty_session.py %s -- sh -c %s", steps, qemu.quote(guest)))
        os.remove(steps)
        assert.are.equal(0, status, transcript)
    end)
end)

describe("trace.lua on a call QEMU restarts", function()
    for _, arch in ipairs(ARCHES) do
        it("goes on with the line it started, as natively, on " .. arch, function()
            -- QEMU restarts a call inside when a signal is pending; a hook
            -- answering lh.AGAIN (QEMU's own restart) makes it restart the
            -- first getppid, whose entry trace.lua then sees twice
            local r = qemu.run { arch = arch, guest = "forker", plugin_args = { "trace=getppid" },
                                 lua = [[
                dofile("scripts/trace.lua")
                local lh = require "luahook"
                local entries = 0
                lh.on("getppid", function()
                    entries = entries + 1
                    if entries == 1 then return lh.AGAIN end
                end)
            ]] }
            assert.are.equal(0, r.status, r.stderr)
            local lines = qemu.lines(r.stderr)
            assert.matches("^getppid%(%) = %d+$", lines[1])
            assert.is_nil(r.stderr:match("unfinished"), r.stderr)
            local calls = select(2, r.stderr:gsub("getppid%(%) = ", ""))
            assert.are.equal(6, calls, r.stderr)   -- 1, then 3 in the child, 2 in the parent
        end)
    end
end)

-- The i386 guests are NAME, the others NAME.ARCH: the name a process gets
-- from its file, at most 15 bytes as the kernel keeps it.
local function comm(guest, arch)
    return (arch == "i386" and guest or guest .. "." .. arch):sub(1, 15)
end

-- Runs a guest with format=perfetto into a file; returns the run and the
-- checked timeline (helpers/timeline.lua).
local function timeline_of(arch, guest, args, option)
    local path = qemu.tmppath()
    local from = timeline.now_us()
    local r = trace { arch = arch, guest = guest, args = args,
                      options = { "format=perfetto", "out=" .. path, option } }
    local to = timeline.now_us()
    local text = qemu.slurp(path) or ""
    os.remove(path)
    local t, problems = timeline.check(text, from, to)
    assert.are.same({}, problems, text)
    return r, t, text
end

-- The names of the calls in a list of slices.
local function names_of(slices)
    local list = {}
    for i, e in ipairs(slices or {}) do list[i] = e.name end
    return list
end

describe("trace.lua's timeline (format=perfetto)", function()
    for _, arch in ipairs(ARCHES) do
        it("writes a forking guest's calls as a valid trace, a process each, on " .. arch, function()
            local r, t, text = timeline_of(arch, "forker")
            assert.are.equal(0, r.status)
            local child = tonumber(r.stdout:match("child (%d+)"))
            local parent = tonumber(r.stdout:match("parent (%d+)"))
            assert.are.same({ comm("forker", arch) }, t.names[parent])
            assert.are.same({ comm("forker", arch) }, t.names[child])
            assert.are.same({ comm("forker", arch) }, t.thread_names[child])
            local fork, wait
            for _, e in ipairs(t.slices[parent]) do
                if e.name == "clone" then fork = e end
                if e.name == "wait4" then wait = e end
            end
            assert.are.equal(tostring(child), fork.args.result)
            assert.are.equal(tostring(child), wait.args.result)
            local of_child = t.slices[child]
            assert.are.same({ "getppid", "getppid", "getppid" },
                            { of_child[2].name, of_child[3].name, of_child[4].name })
            assert.are.equal("exit_group", of_child[#of_child].name)
            -- the child's calls come after the fork started, and before
            -- the parent's wait for it ended
            assert.is_true(of_child[1].ts > fork.ts)
            assert.is_true(of_child[#of_child].ts < wait.ts + wait.dur)
            -- the last process to exit closed the array
            assert.matches("^%[\n{.*}\n%]\n$", text)
        end)

        it("writes a threaded guest's calls, a track per thread, on " .. arch, function()
            local r, t = timeline_of(arch, "threads", { "3", "2" })
            assert.are.equal(0, r.status)
            local main = tonumber(r.stdout:match("main (%d+)"))
            local tids = {}
            for tid in r.stdout:gmatch("tid (%d+)") do tids[#tids + 1] = tonumber(tid) end
            assert.are.equal(3, #tids)
            for _, tid in ipairs(tids) do
                assert.are.same({ comm("threads", arch) }, t.thread_names[tid])
                local counts = {}
                for _, name in ipairs(names_of(t.slices[tid])) do
                    counts[name] = (counts[name] or 0) + 1
                end
                assert.are.equal(2, counts.getppid)
                assert.are.equal(1, counts.gettid)
                assert.are.equal(main, t.slices[tid][1].pid)
            end
            assert.are.same({ comm("threads", arch) }, t.names[main])
        end)
    end

    it("writes a valid timeline of threads with parallel=1, each thread's events merged in", function()
        -- the separator before each text is decided where the rings merge:
        -- "[" once, for the run's first event, commas after it
        local r, t, text = timeline_of("i386", "turns", { "4", "300" }, "parallel=1")
        assert.are.equal(0, r.status)
        local numbered, threads = 0, 0
        for _, slices in pairs(t.slices) do
            local mine = 0
            for _, name in ipairs(names_of(slices)) do
                if name == "read" or name == "close" then mine = mine + 1 end
            end
            numbered = numbered + mine
            if mine > 0 then threads = threads + 1 end
        end
        assert.are.equal(1200, numbered)
        assert.are.equal(4, threads)
        assert.matches("^%[\n{.*}\n%]\n$", text)
    end)

    it("names a process as the guest names itself", function()
        local r, t = timeline_of("x86_64", "refcalls", { "proc" })
        assert.are.equal(0, r.status)
        local pid = t.slices[next(t.slices)][1].pid
        assert.are.same({ "refcalls.x86_64", "refcalls-name" }, t.names[pid])
        assert.are.same({ "refcalls.x86_64", "refcalls-name" }, t.thread_names[pid])
    end)

    it("ends the array when the last process execs a program left to the host (follow_exec=0)",
       function()
        local r, t = timeline_of("i386", "signals", { "exec", "/bin/echo", "replaced" },
                                 "follow_exec=0")
        assert.are.equal(0, r.status)
        local slices = t.slices[t.events[#t.events].tid]
        assert.are.equal('execve("/bin/echo", ["/bin/echo", "replaced"], ',
                         slices[#slices].args.line:match('^execve%(.-%], '))
        assert.are.equal("0", slices[#slices].args.result)
    end)

    it("goes on in the program a followed exec starts, named as the kernel names it", function()
        local r, t = timeline_of("i386", "signals", { "exec", "/bin/echo", "replaced" })
        assert.are.equal(0, r.status)
        assert.are.equal("handled\nreplaced\n", r.stdout)
        local pid = t.slices[next(t.slices)][1].pid
        local slices, exec = t.slices[pid], nil
        for i, e in ipairs(slices) do
            if e.name == "execve" then exec = i end
        end
        assert.are.equal("0", slices[exec].args.result)
        local wrote = false
        for i = exec + 1, #slices do
            wrote = wrote or slices[i].args.line == 'write(1, "replaced\\n", 9) = 9'
        end
        assert.is_true(wrote)
        assert.are.same({ comm("signals", "i386"), "echo" }, t.names[pid])
    end)
end)

describe("make demo's command", function()
    it("traces the bundled example", function()
        local r = qemu.run { program = qemu.build .. "/examples/hello", script = TRACE }
        assert.are.equal(0, r.status)
        assert.matches("I wrote and read back", r.stdout, 1, true)
        assert.matches('\nopenat%(AT_FDCWD, "/tmp/luahook%-hello%.txt", O_WRONLY|O_CREAT|O_TRUNC, 0600%) = 3\n',
                       r.stderr)
        assert.matches("\nuname%({sysname=\"Linux\", ", r.stderr)
        assert.matches("\nexit_group%(0%) = %?\n%+%+%+ exited with 0 %+%+%+\n$", r.stderr)
    end)
end)
