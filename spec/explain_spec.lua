-- scripts/explain.lua on real guests, i386 and x86_64: the sentences it
-- writes under each call (with the descriptors, paths and numbers of that
-- run), how it follows descriptors and mappings, and its closing summary.
local qemu = require "helpers.qemu"

local EXPLAIN = "scripts/explain.lua"

local function escape(s)
    return (s:gsub("%p", "%%%0"))
end

local function explain(opts)
    opts.script = EXPLAIN
    return qemu.run(opts)
end

-- The explanation printed right after the first line matching `pattern`
-- (a Lua pattern anchored at the line's start, after any "[pid N] "), and
-- that line's captures.
local function explanation_of(text, pattern)
    local lines = qemu.lines(text)
    for i, line in ipairs(lines) do
        local found = { (line:gsub("^%[pid %d+%] ", "")):match("^" .. pattern) }
        if #found > 0 then
            local next_line = (lines[i + 1] or ""):gsub("^%[pid %d+%] ", "")
            return next_line:match("^  # (.*)$"), table.unpack(found)
        end
    end
    return nil
end

-- The lines of the summary part of luahook's output.
local function summary_of(text)
    return text:match("(explain: summary of process %d+\n.*)$")
end

local function count(text, pattern)
    local n = 0
    for _ in text:gmatch(pattern) do n = n + 1 end
    return n
end

for _, arch in ipairs({ "i386", "x86_64" }) do
    describe("explain.lua on " .. arch, function()
        it("explains an open with its path, its flags and the descriptor the kernel chose", function()
            local r = explain { arch = arch, guest = "opener", args = { "/etc/hostname" } }
            assert.are.equal(0, r.status)
            local sentence, fd = explanation_of(r.stderr, 'openat%(AT_FDCWD, "/etc/hostname", O_RDONLY%) = (%d+)')
            assert.is_not_nil(fd, r.stderr)
            assert.are.equal("Opens /etc/hostname for reading; the kernel answers with file descriptor " .. fd
                             .. ", the lowest number not in use.", sentence)
            assert.are.equal("Closes file descriptor " .. fd .. " (/etc/hostname); the kernel answers 0: the number "
                             .. "is free again, and no descriptor refers to the open file any more, so it is released.",
                             (explanation_of(r.stderr, "close%(" .. fd .. "%) = 0")))
        end)

        it("explains a failure by its errno and what it means", function()
            local r = explain { arch = arch, guest = "opener", args = { "/nonexistent/x" } }
            assert.are.equal("Opens /nonexistent/x for reading; the kernel answers ENOENT (there is no such file "
                             .. "or directory).", (explanation_of(r.stderr, 'openat%(AT_FDCWD, "/nonexistent/x", '
                                                                          .. 'O_RDONLY%) = %-1 ENOENT')))
        end)

        it("explains each kind of call once, and every call with verbose=1", function()
            local paths = { "/etc/hostname", "/etc/passwd", "/etc/group" }
            local once = explain { arch = arch, guest = "opener", args = paths }
            local every = explain { arch = arch, guest = "opener", args = paths, plugin_args = { "verbose=1" } }
            assert.are.equal(3, count(once.stderr, "\nopenat%("))
            assert.are.equal(1, count(once.stderr, "\n  # Opens "))
            assert.are.equal(3, count(every.stderr, "\n  # Opens "))
            assert.matches("  # Opens /etc/group for reading", every.stderr, 1, true)
        end)

        it("names pipe ends and copied descriptors by what they refer to", function()
            local r = explain { arch = arch, guest = "explainme" }
            local rd, wr, copy = r.stdout:match("^pipe (%d+) (%d+) copy (%d+) ")
            assert.is_not_nil(rd, r.stdout)
            assert.matches("  # Asks for a pipe, a one-way channel through the kernel; the kernel writes two "
                           .. "descriptors into the program's array: " .. rd .. " for reading and " .. wr
                           .. " for writing; ", r.stderr, 1, true)
            assert.are.equal("Asks for a copy of file descriptor " .. wr .. " (the write end of a pipe) numbered "
                             .. "10 or higher; the kernel answers " .. copy .. ", the lowest free number from there.",
                             (explanation_of(r.stderr, "fcntl6?4?%(" .. wr .. ", F_DUPFD, 10%) = " .. copy)))
            assert.matches("^Writes 4 bytes from its memory at 0x%x+ to file descriptor " .. copy
                           .. " %(the write end of a pipe%); the kernel answers 4,",
                           (explanation_of(r.stderr, "write%(" .. copy .. ", \"ping\", 4%) = 4")))
            assert.matches("^Moves the read/write position of file descriptor " .. rd .. " %(the read end of a "
                           .. "pipe%) to 0 bytes from the start; the kernel answers ESPIPE: a pipe, socket or "
                           .. "terminal has no position to move%.$",
                           (explanation_of(r.stderr, "_?l?l?seek%(" .. rd .. ", 0, [^\n]*%) = %-1 ESPIPE")))
        end)

        it("follows a mapping through mprotect and munmap", function()
            local r = explain { arch = arch, guest = "explainme", plugin_args = { "verbose=1" } }
            local map = r.stdout:match("map (0x%x+)")
            local mmap = arch == "i386" and "mmap2" or "mmap"
            assert.matches("^Asks for 12288 bytes %(12 KiB%) of new zero%-filled memory, readable and writable, "
                           .. "wherever the kernel likes; the kernel answers " .. map .. ", ",
                           (explanation_of(r.stderr, mmap .. "%(NULL, 12288, [^\n]*%) = " .. map)))
            assert.are.equal("Gives back 4096 bytes (4 KiB) of memory at " .. map .. " (part of the anonymous "
                             .. "memory made by " .. mmap .. "); the kernel answers 0: using those addresses now "
                             .. "crashes the program.", (explanation_of(r.stderr, "munmap%(" .. map .. ", 4096%)")))
            local summary = summary_of(r.stderr)
            assert.matches("\n    mmap: 1 call mapped 12288 bytes (12 KiB) in all, in whole pages: anonymous "
                           .. "12288 bytes (12 KiB), from files 0 bytes\n", summary, 1, true)
            assert.matches("\n    munmap gave back 4096 bytes (4 KiB)\n", summary, 1, true)
            -- the mprotect cut the rest in two
            assert.matches("\n    mapped at the end: 2 regions, 8192 bytes (8 KiB): anonymous 8192 bytes",
                           summary, 1, true)
            local base = tonumber(map)
            local function range(from, to) return string.format("0x%x-0x%x", base + from, base + to) end
            assert.matches("\n      " .. range(4096, 8192) .. " --- 4096 bytes (4 KiB), anonymous (" .. mmap .. ")\n"
                           .. "      " .. range(8192, 12288) .. " rw- 4096 bytes (4 KiB), anonymous (" .. mmap .. ")\n",
                           summary, 1, true)
        end)

        it("sums the bytes through each descriptor in the summary", function()
            local r = explain { arch = arch, guest = "explainme" }
            local rd, wr, copy = r.stdout:match("^pipe (%d+) (%d+) copy (%d+) ")
            local summary = summary_of(r.stderr)
            assert.matches("\n    fd 1, standard output, [^\n]* %(inherited%): wrote " .. #r.stdout
                           .. " bytes in 1 call; still open at the end\n", summary)
            assert.matches("\n    fd " .. rd .. ", the read end of a pipe (pipe2): read 4 bytes in 1 call; "
                           .. "still open at the end\n", summary, 1, true)
            assert.matches("\n    fd " .. copy .. ", the write end of a pipe (fcntl of " .. wr .. "): wrote 4 bytes "
                           .. "in 1 call; still open at the end\n", summary, 1, true)
            assert.matches("\n  end: exit status 5\n$", summary)
            assert.are.equal(5, r.status)
        end)

        it("counts what a program wrote to and read from a file", function()
            local path = qemu.tmppath()
            local r = explain { arch = arch, guest = "fileio", args = { path } }
            os.remove(path)
            local got = r.stdout:match("^read (%d+) bytes")
            local fd = r.stderr:match('\nopenat%(AT_FDCWD, "' .. escape(path) .. '", O_RDONLY%) = (%d+)\n')
            assert.is_not_nil(got, r.stdout)
            assert.is_not_nil(fd, r.stderr)
            local summary = summary_of(r.stderr)
            assert.matches("\n    " .. escape(path) .. ": openat O_WRONLY|O_CREAT|O_TRUNC, openat O_RDONLY, "
                           .. "[%w]*stat[%w]*\n", summary)
            assert.matches("\n    fd " .. fd .. ", " .. escape(path) .. " %(openat O_WRONLY|O_CREAT|O_TRUNC%): wrote "
                           .. got .. " bytes %(256 KiB%) in 1 call; closed\n", summary)
            assert.matches("\n    fd " .. fd .. ", " .. escape(path) .. " %(openat O_RDONLY%): read " .. got
                           .. " bytes %(256 KiB%) in %d+ calls; closed\n", summary)
        end)

        it("tells what a descriptor was before dup2 replaced it", function()
            local r = explain { arch = arch, guest = "redirect" }
            local fd = r.stderr:match('openat%(AT_FDCWD, "/dev/null", O_WRONLY%) = (%d+)')
            assert.is_not_nil(fd, r.stderr)
            assert.matches("^Makes file descriptor 2 refer to what file descriptor " .. fd .. " %(/dev/null%) "
                           .. "refers to, closing file descriptor 2 %(standard error, [^)]+%) first if it is open; "
                           .. "the kernel answers 2: from now on 2 and " .. fd .. " are two names for one open file",
                           (explanation_of(r.stderr, "dup2%(" .. fd .. ", 2%) = 2")))
            assert.are.equal("done\n", r.stdout)
        end)

        it("lists the child processes and how they ended, and the child sums up its own part", function()
            local r = explain { arch = arch, guest = "forker" }
            local parent, child = r.stdout:match("parent (%d+) child (%d+) exited 3")
            assert.is_not_nil(parent, r.stdout)
            assert.matches("explain: summary of process " .. parent .. "\n.-  child processes:\n    " .. child
                           .. " %(clone%): exited with status 3\n  end: exit status 0\n", r.stderr)
            assert.matches("explain: summary of forked child process " .. child .. "\n.-  child processes: none\n"
                           .. "  end: exit status 3\n", r.stderr)
            assert.matches("^Creates a new process, a copy of this one %(what fork%(%) does%); the kernel answers "
                           .. child .. ", the child's process id, in the parent;",
                           (explanation_of(r.stderr, "clone%([^\n]*%) = " .. child)))
            assert.are.equal("Waits for its child " .. child .. " to end; the kernel answers " .. child
                             .. ", the child that ended: it exited with status 3.",
                             (explanation_of(r.stderr, "wait4%([^\n]*%) = " .. child)))
        end)

        it("explains an exit at its entry, with the status", function()
            local r = explain { arch = arch, guest = "exitwith", args = { "7" } }
            assert.are.equal(7, r.status)
            assert.matches("\nexit_group%(7%) = %?\n  # Ends the process, every thread of it, with exit status 7; "
                           .. "the call never returns", r.stderr)
        end)

        it("says what uname answered, machine included", function()
            local r = explain { arch = arch, guest = "uname" }
            local machine = arch == "i386" and "i686" or "x86_64"
            assert.matches("^Asks which system it runs on; the kernel fills in the utsname structure: Linux, "
                           .. "release [^,]+, machine " .. machine .. ", host name ",
                           (explanation_of(r.stderr, "uname%([^\n]*%) = 0")))
        end)

        it("shows only the calls trace= names, and still sums up all of them", function()
            local r = explain { arch = arch, guest = "explainme", plugin_args = { "trace=write" } }
            local rd = r.stdout:match("^pipe (%d+)")
            for line in r.stderr:match("^(.-)explain: summary"):gmatch("[^\n]+") do
                assert.matches("^write%(", (line:gsub("^  # .*", "write(")))
            end
            assert.matches("\n    fd " .. rd .. ", the read end of a pipe (pipe2): read 4 bytes", r.stderr, 1, true)
        end)

        it("explains a socket, a failed connect and a failed execve, on one line as it returns", function()
            local r = explain { arch = arch, guest = "escape",
                                args = { "socket:unix", "connect:/nonexistent/sock", "execve:/nonexistent" } }
            assert.matches("\nsocket%(AF_UNIX, SOCK_STREAM, 0%) = (%d+)\n  # Asks for a new stream %(a reliable "
                           .. "two%-way byte stream%) socket for talking to programs on this machine %(AF_UNIX%); the "
                           .. "kernel answers with file descriptor %1, the lowest number not in use%.\n", r.stderr)
            assert.matches("\n  # Connects file descriptor (%d+) %(a socket, AF_UNIX SOCK_STREAM%) to {sa_family=AF_UNIX, "
                           .. 'sun_path="/nonexistent/sock"}; the kernel answers ENOENT: no socket file has that name%.\n',
                           r.stderr)
            -- a followed exec is known to fail before it starts: one line, one summary
            assert.matches('\nexecve%("/nonexistent", %["/nonexistent"%], [^\n]*%) = %-1 ENOENT [^\n]*\n  # '
                           .. "Replaces this program by /nonexistent [^\n]*; the kernel answers ENOENT %(there "
                           .. "is no such file or directory%)%.\n", r.stderr)
            assert.are.equal(1, select(2, r.stderr:gsub("explain: summary of process", "")))
            assert.matches("\n    /nonexistent: execve %(ENOENT%)\n.-\n  end: exit status 0\n$", r.stderr)
        end)

        it("leaves the summary out with summary=0", function()
            local r = explain { arch = arch, guest = "getpid", plugin_args = { "summary=0" } }
            assert.are.equal(0, r.status)
            assert.is_nil(r.stderr:find("explain: summary", 1, true))
            assert.matches("\ngetpid%(%) = %d+\n  # Asks for its process id; the kernel answers %d+%.\n", r.stderr)
        end)
    end)
end

describe("explain.lua", function()
    it("explains the clock with the date it read", function()
        local r = qemu.run { program = qemu.build .. "/examples/weekday", script = EXPLAIN }
        local sentence, clock, sec, nsec = explanation_of(r.stderr, "clock_gettime64%((CLOCK_[%u_]+), "
                                                          .. "{tv_sec=(%d+), tv_nsec=(%d+)}%) = 0")
        assert.is_not_nil(sentence, r.stderr)
        assert.matches("^Reads the wall clock", sentence)
        assert.matches(escape(clock), sentence)
        assert.matches("; the kernel writes " .. escape(os.date("!%Y-%m-%d %H:%M:%S UTC", tonumber(sec))) .. " %("
                       .. sec .. "%." .. string.format("%09d", tonumber(nsec)) .. " seconds since 1970%) into",
                       sentence)
    end)

    it("shows i386's socketcall as the call it stands for, selected by that name", function()
        local r = explain { guest = "escape", args = { "socketcall:unix" }, plugin_args = { "trace=socket" } }
        assert.matches("^socket%(AF_UNIX, SOCK_STREAM, 0%) = (%d+)\n  # Asks for a new stream [^\n]*; the kernel "
                       .. "answers with file descriptor %1, the lowest number not in use%.\nexplain: summary", r.stderr)
        assert.matches("\n    fd %d+, a socket, AF_UNIX SOCK_STREAM %(socket%)", r.stderr)
    end)

    it("has explanations for the common syscalls of both architectures, and only real ones", function()
        local required = {
            "openat", "open", "read", "write", "close", "fstat", "newfstatat", "statx", "stat64", "fstat64",
            "mmap", "mmap2", "munmap", "mprotect", "brk", "execve", "exit_group", "getpid", "uname", "dup",
            "dup2", "dup3", "pipe", "pipe2", "fcntl", "fcntl64", "lseek", "_llseek", "ioctl", "access",
            "faccessat", "getcwd", "chdir", "mkdir", "unlink", "rename", "readlink", "clone", "fork", "vfork",
            "wait4", "waitpid", "kill", "rt_sigaction", "rt_sigprocmask", "nanosleep", "clock_nanosleep",
            "clock_gettime", "gettimeofday", "time", "getrandom", "set_tid_address", "set_robust_list", "rseq",
            "arch_prctl", "set_thread_area", "prlimit64", "ugetrlimit", "socket", "connect", "bind", "listen",
            "accept", "sendto", "recvfrom", "poll", "select", "getuid", "geteuid", "getgid", "sysinfo",
        }
        local script = [[
            local render = require "luahook.explain.render"
            local subcalls = require("luahook.decode").subcalls()
            local missing, unknown = {}, {}
            for _, name in ipairs({ %s }) do
                if not render.known(name) then missing[#missing + 1] = name end
            end
            for _, name in ipairs(render.names()) do
                if not luahook.nr(name) and not subcalls[name] then unknown[#unknown + 1] = name end
            end
            print("count " .. #render.names())
            print("missing " .. table.concat(missing, " "))
            print("unknown " .. table.concat(unknown, " "))
        ]]
        local quoted = {}
        for i, name in ipairs(required) do quoted[i] = string.format("%q", name) end
        local unknown = {}
        for _, arch in ipairs({ "i386", "x86_64" }) do
            local r = qemu.run { arch = arch, guest = "getpid", lua = script:format(table.concat(quoted, ", ")) }
            assert.are.equal(0, r.status, r.stderr)
            assert.is_true(tonumber(r.stderr:match("count (%d+)")) >= 60)
            assert.matches("\nmissing \n", r.stderr, 1, true)
            for name in r.stderr:match("unknown ([^\n]*)"):gmatch("%S+") do
                unknown[name] = (unknown[name] or 0) + 1
            end
        end
        -- a name may belong to one architecture, never to none
        for name, n in pairs(unknown) do
            assert.are_not.equal(2, n, name .. " is a syscall of neither architecture")
        end
    end)

    for _, case in ipairs({
        { "an unknown option", "verbos=1",
          "unknown option 'verbos' %(known: strsize, summary, trace, verbose%)" },
        { "a misspelt syscall in trace=", "trace=opnat",
          "trace=opnat: unknown syscall 'opnat' for i386 %(did you mean 'openat'%?%)" },
    }) do
        it("refuses " .. case[1] .. " before the guest runs", function()
            local r = explain { guest = "getpid", plugin_args = { case[2] } }
            assert.are_not.equal(0, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("^luahook: scripts/explain%.lua:%d+: " .. case[3] .. "\n$", r.stderr)
        end)
    end
end)
