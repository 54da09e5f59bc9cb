-- Every command of every lesson walkthrough (examples/NN-name/README.md)
-- runs as the walkthrough writes it, and the lines of its output that do
-- not vary from run to run are checked, so the walkthroughs stay true.
-- Commands are the "$ " lines of the ```sh blocks; REPL sessions are typed
-- from the "luahook> " lines of their transcripts.
local command = require "helpers.command"
local qemu = require "helpers.qemu"

local function readme(lesson)
    return assert(command.slurp("examples/" .. lesson .. "/README.md"))
end

-- The walkthrough's commands, in order, for this build directory.
local function commands(lesson)
    local list = {}
    for block in readme(lesson):gmatch("```sh\n(.-)```") do
        for line in block:gmatch("[^\n]+") do
            local cmd = line:match("^%$ (.*)$")
            if cmd then list[#list + 1] = (cmd:gsub("build/", qemu.build .. "/")) end
        end
    end
    return list
end

-- The transcripts of REPL sessions: { lines = {...}, typed = {...} } each.
local function sessions(lesson)
    local list = {}
    for block in readme(lesson):gmatch("```text\n(breakpoint .-)```") do
        local s = { lines = qemu.lines(block), typed = {} }
        for _, line in ipairs(s.lines) do
            local typed = line:match("^luahook> (.*)$")
            if typed then s.typed[#s.typed + 1] = typed end
        end
        list[#list + 1] = s
    end
    return list
end

-- The shell command line that runs `cmd` as from a fresh shell: only
-- descriptors 0, 1 and 2 open (the walkthroughs' descriptor numbers depend
-- on it; busted's process holds many more).
local function fresh(cmd)
    return { "python3", "-c", "import os, sys; os.closerange(3, 65536); os.execvp('sh', ['sh', '-c', sys.argv[1]])",
             cmd }
end

local function sh(cmd)
    return command.run(fresh(cmd))
end

-- Runs `cmd` on a pseudo-terminal, typing `typed` at each prompt; returns
-- what the terminal showed, without carriage returns and readline's
-- bracketed-paste switches.
local function on_terminal(cmd, typed)
    local steps = {}
    for _, line in ipairs(typed or {}) do
        steps[#steps + 1] = "expect luahook> "
        steps[#steps + 1] = "send " .. line .. "\\r"
    end
    local steps_file, history = qemu.tmppath(), qemu.tmppath()
    command.write(steps_file, table.concat(steps, "\n") .. "\n")
    local argv = { "python3", "spec/helpers/pty_session.py", steps_file, "--" }
    for _, word in ipairs(fresh(cmd)) do argv[#argv + 1] = word end
    local r = command.run(argv, { env = "LUAHOOK_HISTORY=" .. command.quote(history) })
    os.remove(steps_file)
    os.remove(history)
    return (r.stdout:gsub("\r", ""):gsub("\27%[%?2004[hl]", "")), r.status
end

-- Lines of `text` with what varies between runs made alike.
local function alike(line)
    return (line:gsub("%[tid %d+%]", "[tid N]"):gsub("0x%x+", "0xN"):gsub(" = %d+$", " = N"))
end

local function writes(text)
    local list = {}
    for call in text:gmatch("\nwrite(%b())") do list[#list + 1] = call end
    if text:match("^write") then table.insert(list, 1, text:match("^write(%b())")) end
    return list
end

describe("lesson 1, what printf becomes", function()
    local cmds = commands("01-printf")

    it("has the five commands checked here", function()
        assert.are.equal(5, #cmds)
    end)

    it("makes one write of three printf calls when standard output is a pipe", function()
        local r = sh(cmds[1])
        assert.are.equal("15\n", r.stdout)
        assert.are.same({ '(1, "one\\ntwo, three\\n", 15)' }, writes(r.stderr))
        assert.matches("to file descriptor 1 (standard output, a pipe); the kernel answers 15,", r.stderr, 1, true)
    end)

    it("makes a write per line with _IOLBF, and one per piece without buffering", function()
        assert.are.same({ '(1, "one\\n", 4)', '(1, "two, three\\n", 11)' }, writes(sh(cmds[2]).stderr))
        assert.are.same({ '(1, "one", 3)', '(1, "\\n", 1)', '(1, "two, ", 5)', '(1, "three", 5)', '(1, "\\n", 1)' },
                        writes(sh(cmds[3]).stderr))
    end)

    it("asks isatty() about /dev/null and buffers fully", function()
        local r = sh(cmds[4])
        assert.matches("\nioctl%(1, TCGETS, 0x%x+%) = %-1 ENOTTY [^\n]*\n  # Asks for the terminal settings of file "
                       .. "descriptor 1 %(standard output, /dev/null%), which is how the C library's isatty%(%) "
                       .. "learns whether it is a terminal; the kernel answers ENOTTY: it is not a terminal%.\n",
                       r.stderr)
        assert.are.equal(1, #writes(r.stderr))
    end)

    it("buffers line by line on a terminal", function()
        local screen, status = on_terminal(cmds[5])
        assert.are.equal(0, status, screen)
        assert.matches("stx_mode=S_IFCHR|", screen, 1, true)
        assert.matches('\none\nwrite(1, "one\\n", 4) = 4\n', screen, 1, true)
        assert.matches('\ntwo, three\nwrite(1, "two, three\\n", 11) = 11\n', screen, 1, true)
        assert.is_nil(screen:find("TCGETS", 1, true))
    end)
end)

describe("lesson 2, how a program starts", function()
    local cmds = commands("02-startup")

    it("has the two commands checked here", function()
        assert.are.equal(2, #cmds)
    end)

    it("shows a static program's start-up, with nothing mapped", function()
        local r = sh(cmds[1])
        assert.are.equal("hello from main\n", r.stdout)
        assert.matches("\nset_thread_area%(0x%x+%) = 0\n  # Installs a segment for this thread's thread%-local storage",
                       r.stderr)
        assert.matches("\nset_robust_list%([^\n]*= %-1 ENOSYS [^\n]*\n  # [^\n]*the kernel answers ENOSYS: QEMU does "
                       .. "not implement this call", r.stderr)
        assert.matches('\nwrite(1, "hello from main\\n", 16) = 16\n', r.stderr, 1, true)
        assert.matches("\n    mmap: not used\n", r.stderr, 1, true)
        assert.is_nil(r.stderr:find("\nopenat(", 1, true))
        assert.matches("\n  end: exit status 0\n$", r.stderr)
    end)

    it("shows the dynamic loader finding and mapping the C library", function()
        local r = sh(cmds[2])
        assert.are.equal("hello from main\n", r.stdout)
        assert.matches('\naccess("/etc/ld.so.preload", R_OK) = -1 ENOENT', r.stderr, 1, true)
        assert.matches('\nopenat(AT_FDCWD, "/etc/ld.so.cache", O_RDONLY|O_LARGEFILE|O_CLOEXEC) = 3\n', r.stderr, 1, true)
        assert.matches('\nopenat%(AT_FDCWD, "[^"]*/libc%.so%.6", O_RDONLY|O_LARGEFILE|O_CLOEXEC%) = 3\n', r.stderr)
        assert.matches("MAP_PRIVATE|MAP_FIXED|MAP_DENYWRITE, 3, 0x%x+%) = 0x%x+\n  # Asks for %d+ bytes [^\n]* of "
                       .. "[^\n]*/libc%.so%.6 %(file descriptor 3%) from offset %d+, private", r.stderr)
        assert.matches("\n    mmap: %d+ calls mapped %d+ bytes", r.stderr)
        assert.matches("\n      [^\n]*/libc%.so%.6: %d+ bytes", r.stderr)
    end)
end)

describe("lesson 3, file descriptors and redirection", function()
    local cmds = commands("03-redirect")
    local path = "/tmp/luahook-lesson-redirect.txt"

    it("has the two commands checked here", function()
        assert.are.equal(2, #cmds)
    end)

    it("sends the first line into the file and the second to standard output", function()
        local r = sh(cmds[1])
        assert.are.equal("back on the original standard output; the file held: this line went into " .. path .. "\n",
                         r.stdout)
    end)

    it("explains every step of the descriptor table, as the walkthrough's table says", function()
        local r = sh(cmds[2])
        assert.are.equal("dup(1) = 3\n", r.stderr:match("^[^\n]*\n"))
        assert.matches("\ndup2(4, 1) = 1\n  # Makes file descriptor 1 refer to what file descriptor 4 (" .. path
                       .. ") refers to, closing file descriptor 1 (standard output, ", r.stderr, 1, true)
        assert.matches("\nclose(4) = 0\n  # Closes file descriptor 4 (" .. path .. "); the kernel answers 0: the "
                       .. "number is free again, and file descriptor 1 still refers to the open file, so it stays "
                       .. "open.\n", r.stderr, 1, true)
        assert.matches('\nopenat(AT_FDCWD, "' .. path .. '", O_RDONLY) = 3\n', r.stderr, 1, true)
        assert.matches("\n    fd 1, " .. path .. " (dup2 of 4): wrote 53 bytes in 1 call; replaced by dup2 of 3\n",
                       r.stderr, 1, true)
        assert.matches("\n    fd 3, " .. path .. " (openat O_RDONLY): read 53 bytes in 1 call; closed\n",
                       r.stderr, 1, true)
    end)
end)

describe("lesson 4, changing what the kernel answers", function()
    local cmds = commands("04-fake-clock")

    it("has the five commands checked here", function()
        assert.are.equal(5, #cmds)
    end)

    it("shows the real date and refuses to work before 2030", function()
        local r = sh(cmds[1])
        local year = tonumber(os.date("!%Y"))
        assert.matches("^Today is %a+ " .. year .. "%-%d%d%-%d%d %(UTC%); the machine is i686%.\n", r.stdout)
        if year < 2030 then
            assert.matches("\nThis program only runs from 2030 on%.\nstatus 1\n$", r.stdout)
        end
    end)

    it("explains where the date and the machine come from", function()
        local r = sh(cmds[2])
        assert.matches("\n  # Reads the wall clock, cheaply and to the last tick %(CLOCK_REALTIME_COARSE%); the kernel "
                       .. "writes " .. os.date("!%Y") .. "%-", "\n" .. r.stderr)
        assert.matches("; the kernel fills in the utsname structure: Linux, release [^,]+, machine i686, ", r.stderr)
    end)

    it("makes it Monday 2030-01-07, then a Friday, then a pdp11", function()
        local monday, friday, pdp11 = sh(cmds[3]), sh(cmds[4]), sh(cmds[5])
        assert.are.equal("Today is Monday 2030-01-07 (UTC); the machine is i686.\nWorking.\nstatus 0\n", monday.stdout)
        assert.matches("^fake%-clock: clock_gettime64 said %d+%-%d%d%-%d%d [%d:]+, the program sees 2030%-01%-07 "
                       .. "12:00:0%d\n$", monday.stderr)
        assert.are.equal("Today is Friday 2031-03-14 (UTC); the machine is i686.\nNo work on Fridays.\nstatus 2\n",
                         friday.stdout)
        assert.are.equal("Today is Monday 2030-01-07 (UTC); the machine is pdp11.\nWorking.\nstatus 0\n", pdp11.stdout)
        assert.are.equal("", pdp11.stderr)
    end)
end)

describe("lesson 5, when malloc fails", function()
    local cmds = commands("05-no-memory")

    it("has the four commands checked here", function()
        assert.are.equal(4, #cmds)
    end)

    it("gets all its memory without the script", function()
        assert.are.equal("asking for memory\nmalloc(100000) worked\nmalloc(100000) worked\nmalloc(8000000) worked\n"
                         .. "status 0\n", sh(cmds[1]).stdout)
    end)

    it("sees malloc return NULL once brk and mmap say no", function()
        local r = sh(cmds[2])
        assert.are.equal("asking for memory\nmalloc(100000) worked\nmalloc(100000) failed: Cannot allocate memory\n"
                         .. "malloc(8000000) failed: Cannot allocate memory\nstatus 2\n", r.stdout)
        assert.matches("\nno%-memory: brk%(0x%x+%) refused: the heap stays at 0x%x+\nno%-memory: mmap2 of 1048576 "
                       .. "bytes refused with ENOMEM\n", r.stderr)
    end)

    it("explains brk's refusal and mmap2's ENOMEM", function()
        local r = sh(cmds[3])
        local asked, got = r.stderr:match("\nbrk%((0x%x+)%) = (0x%x+)\n  # Asks to move the end of its heap to 0x%x+; "
                                          .. "the kernel answers 0x%x+, the old end: it refused, which is how brk "
                                          .. "says no")
        assert.is_not_nil(asked, r.stderr)
        assert.are_not.equal(asked, got)
        assert.matches("\nmmap2(NULL, 1048576, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = -1 ENOMEM ",
                       r.stderr, 1, true)
    end)

    it("stops the C library before main with from=start", function()
        local r = sh(cmds[4])
        assert.are.equal("status 127\n", r.stdout)
        assert.matches("Fatal glibc error: Cannot allocate TLS block", r.stderr, 1, true)
        assert.matches("no-memory: mmap2 of 2176 bytes refused with ENOMEM", r.stderr, 1, true)
    end)
end)

describe("lesson 6, a breakpoint before openat", function()
    local cmds = commands("06-repl")
    local transcripts = sessions("06-repl")

    it("has the commands and the two sessions checked here", function()
        assert.are.equal(7, #cmds)
        assert.are.equal(2, #transcripts)
    end)

    it("reads the file it is given, and fails on its own", function()
        assert.are.equal(0, sh(cmds[1]).status)
        assert.are.equal("cannot read /etc/luahook-lesson.conf: No such file or directory\nstatus 1\n",
                         sh(cmds[2]).stdout)
        assert.are.equal("config: colour = blue\n", sh(cmds[3]).stdout)
    end)

    for i, n in ipairs({ 4, 5 }) do
        it("gives the walkthrough's session " .. i .. " when its lines are typed on a terminal", function()
            sh(cmds[1])
            local screen = on_terminal(cmds[n], transcripts[i].typed)
            local seen = {}
            for _, line in ipairs(qemu.lines(screen)) do seen[#seen + 1] = alike(line) end
            local at = 1
            for _, line in ipairs(transcripts[i].lines) do
                while seen[at] and seen[at] ~= alike(line) do at = at + 1 end
                assert.is_not_nil(seen[at], "missing: " .. line .. "\nin:\n" .. screen)
            end
        end)
    end

    it("takes the same lines from luahook-attach over a socket", function()
        sh(cmds[1])
        local job = command.start(fresh(cmds[6]))
        local attach = cmds[7]
        local input = qemu.tmppath()
        command.write(input, table.concat(transcripts[2].typed, "\n") .. "\n")
        -- attach once the guest waits at the breakpoint, as the walkthrough's
        -- reader does: a client attaching earlier stops it at another call
        for _ = 1, 200 do
            if (command.slurp(job.err) or ""):match("waiting for a REPL client") then break end
            os.execute("sleep 0.05")
        end
        local transcript
        for _ = 1, 100 do
            local r = sh(string.format("test -S /tmp/readconf.sock && %s <%s", attach, input))
            if r.status == 0 then
                transcript = r.stdout
                break
            end
            os.execute("sleep 0.05")
        end
        os.remove(input)
        local r = command.finish(job)
        assert.matches("luahook> ret(-13)\n", transcript, 1, true)
        assert.are.equal("cannot read /etc/luahook-lesson.conf: Permission denied\n", r.stdout)
    end)
end)

describe("lesson 7, two processes and a pipe", function()
    local cmds = commands("07-pipe-fork")

    it("has the two commands checked here", function()
        assert.are.equal(2, #cmds)
    end)

    it("passes the message through the pipe", function()
        assert.are.equal("parent read: hello through the pipe\nchild exited with status 7\n", sh(cmds[1]).stdout)
    end)

    it("sums up both processes, each with its own part", function()
        local r = sh(cmds[2])
        local child = r.stderr:match("explain: summary of forked child process (%d+)\n")
        assert.is_not_nil(child, r.stderr)
        assert.matches("explain: summary of forked child process " .. child .. "\n.-\n    fd 4, the write end of a "
                       .. "pipe %(pipe2%): wrote 23 bytes in 1 call; still open at the end\n.-\n  end: exit status 7\n",
                       r.stderr)
        assert.matches("explain: summary of process %d+\n.-\n    fd 3, the read end of a pipe %(pipe2%): read 23 bytes "
                       .. "in 1 call; closed\n.-\n    " .. child .. " %(clone%): exited with status 7\n", r.stderr)
        assert.matches("%[pid " .. child .. "%]   # Closes file descriptor 3 %(the read end of a pipe%); the kernel "
                       .. "answers 0: the number is free again, and the open file stays open as long as the parent "
                       .. "process has a descriptor for it%.\n", r.stderr)
    end)
end)
