-- The REPL: whole sessions through the socket client (luahook-attach) and
-- through a pseudo-terminal (readline editing, completion, history), and
-- what the guest does afterwards.
local qemu = require "helpers.qemu"

local ATTACH = qemu.build .. "/luahook-attach"

local quote, slurp, write_file, sh = qemu.quote, qemu.slurp, qemu.write_file, qemu.sh

-- Whether `ready()` comes true within ten seconds (asked every 50 ms).
local function eventually(ready)
    for _ = 1, 200 do
        if ready() then
            return true
        end
        os.execute("sleep 0.05")
    end
    return false
end

local function wait_for_socket(path)
    return eventually(function()
        local _, status = sh("test -S " .. quote(path))
        return status == 0
    end)
end

-- Waits until the guest stops at a breakpoint with no client (the plugin
-- says so on stderr). A client attaching before that would stop the guest
-- at whatever call it makes next instead.
local function wait_for_breakpoint(job)
    return eventually(function()
        return (slurp(job.err) or ""):match("waiting for a REPL client") ~= nil
    end)
end

-- Attaches luahook-attach to the job's socket and types `lines`, once the
-- guest waits at a breakpoint (opts.running: attach while it runs);
-- returns the transcript and the client's status.
local function attach(job, lines, opts)
    assert(wait_for_socket(job.sock), "the guest never opened " .. job.sock)
    if not (opts and opts.running) then
        assert(wait_for_breakpoint(job), "the guest never stopped at a breakpoint")
    end
    local input = qemu.tmppath()
    write_file(input, table.concat(lines, "\n") .. "\n")
    local transcript, status = sh(string.format("timeout 20 %s %s <%s", ATTACH, quote(job.sock), input))
    os.remove(input)
    return transcript, status
end

-- A guest under repl=unix:SOCK (opts as for qemu.run); returns the job
-- (job.sock is the socket) and the socket.
local function start_socket_guest(opts)
    local sock = qemu.tmppath() .. ".sock"
    opts.plugin_args = opts.plugin_args or {}
    table.insert(opts.plugin_args, 1, "repl=unix:" .. sock)
    local job = qemu.start(opts)
    job.sock = sock
    return job, sock
end

describe("the REPL over a socket", function()
    it("inspects a call at a breakpoint and returns ENOENT with ret(-2)", function()
        local job, sock = start_socket_guest {
            guest = "opener", args = { "/etc/hostname", "/etc/passwd" },
            plugin_args = { "break=openat" },
        }
        local transcript = attach(job, { "sc.name", "sc:string(2)", "ret(-2)", "c" })
        local r = qemu.finish(job)
        -- the call as trace.lua prints it
        assert.matches('breakpoint 1: %[tid %d+%] openat%(AT_FDCWD, "/etc/hostname", O_RDONLY[^\n]*%)\n',
                       transcript)
        assert.matches('luahook> sc.name\n"openat"\n', transcript, 1, true)
        assert.matches('luahook> sc:string(2)\n"/etc/hostname"\tfalse\n', transcript, 1, true)
        assert.are.equal(0, r.status)
        -- ret(-2) answered the first open; c let the second one run
        assert.are.equal("/etc/hostname errno=2\n/etc/passwd ok\n", r.stdout)
    end)

    -- each architecture's regs(): its first line (the first argument
    -- register, AT_FDCWD in it), the last lines, its syscall number
    -- register and openat's number
    local REGS = {
        aarch64 = { first = "x0%s+0xffffffffffffff9c%s+18446744073709551516",
                    last = "\nx30%s+0x%x+%s+%d+\nsp%s+0x%x+%s+%d+\npc%s+0x%x+%s+%d+\ncpsr%s",
                    nr = "x8", openat = "56 (0x38)" },
        arm = { first = "r0%s+0xffffff9c%s+4294967196",
                last = "\nr12%s+0x%x+%s+%d+\nsp%s+0x%x+%s+%d+\nlr%s+0x%x+%s+%d+\npc%s+0x%x+%s+%d+\ncpsr%s",
                nr = "r7", openat = "322 (0x142)" },
        riscv64 = { first = "ra%s+0x%x+%s+%d+\nsp%s", last = "\na0%s+0xffffffffffffff9c%s+18446744073709551516\n"
                                                         .. ".*\nt6%s+0x%x+%s+%d+\npc%s+0x%x+%s+%d+\n",
                    nr = "a7", openat = "56 (0x38)" },
    }
    for _, arch in ipairs({ "aarch64", "arm", "riscv64" }) do
        local regs = REGS[arch]
        it("works on " .. arch .. ": regs(), registers by name, x, str, ret and stepping", function()
            local job = start_socket_guest {
                arch = arch, guest = "opener", args = { "/etc/hostname", "/etc/passwd" },
                plugin_args = { "break=openat" },
            }
            local asked = "regs." .. regs.nr .. " == sc.nr, regs.nr, regs.arg2 == sc.args[2]"
            local transcript = attach(job, { "regs()", asked, "x(sc.args[2], 16)", "str(sc.args[2])",
                                             "ret(-2)", "s", "c" })
            local r = qemu.finish(job)
            assert.matches('breakpoint 1: %[tid %d+%] openat%(AT_FDCWD, "/etc/hostname", O_RDONLY[^\n]*%)\n',
                           transcript)
            -- regs(): the general registers, one a line, in hex and in full decimal
            assert.matches("luahook> regs%(%)\n" .. regs.first, transcript)
            assert.matches(regs.last, transcript)
            assert.matches("luahook> " .. asked .. "\ntrue\t" .. regs.openat .. "\ttrue\n", transcript, 1, true)
            assert.matches(": 2f 65 74 63 2f 68 6f 73 74 6e 61 6d 65 00 [%x ]+|/etc/hostname", transcript)
            assert.matches('luahook> str(sc.args[2])\n"/etc/hostname"\n', transcript, 1, true)
            -- ret(-2) goes on to the next breakpoint, the second open; s steps to its return
            assert.matches('luahook> s\nreturned: %[tid %d+%] openat%(AT_FDCWD, "/etc/passwd", O_RDONLY%) = 3\n',
                           transcript)
            assert.are.equal(0, r.status)
            assert.are.equal("/etc/hostname errno=2\n/etc/passwd ok\n", r.stdout)
        end)
    end

    it("creates the socket mode 0600", function()
        local job, sock = start_socket_guest { guest = "getpid", plugin_args = { "break=getpid" } }
        assert.is_true(wait_for_socket(sock))
        local mode = sh("stat -c %a " .. quote(sock))
        attach(job, { "c" })
        qemu.finish(job)
        assert.are.equal("600\n", mode)
    end)

    it("refuses a second client with a message", function()
        local job, sock = start_socket_guest { guest = "getpid", plugin_args = { "break=getpid" } }
        assert.is_true(wait_for_socket(sock))
        assert.is_true(wait_for_breakpoint(job))
        -- the first client holds the prompt while the second one tries
        local input = qemu.tmppath()
        write_file(input, "")
        local first = qemu.tmppath()
        os.execute(string.format("(sleep 2; echo c) | %s %s >%s 2>&1 &", ATTACH, quote(sock), first))
        os.execute("sleep 0.5")
        local second, status = sh(string.format("timeout 10 %s %s <%s", ATTACH, quote(sock), input))
        local r = qemu.finish(job)
        os.remove(input)
        assert.are.equal("luahook-attach: another client is attached to this guest\n", second)
        assert.are.equal(1, status)
        assert.are.equal(0, r.status)
        assert.matches("^pid=%d+\n$", r.stdout)
        os.remove(first)
    end)

    it("stops a running guest when a client attaches, and detaching continues it", function()
        local job, sock = start_socket_guest { guest = "ticker", args = { "100", "20" } }
        os.execute("sleep 0.3")
        local transcript = attach(job, { "sc.tid > 0" }, { running = true })   -- then end of input: detach
        local r = qemu.finish(job)
        assert.matches("client attached: %[tid %d+%] %w+%(", transcript)
        assert.matches("luahook> sc.tid > 0\ntrue\n", transcript, 1, true)
        assert.are.equal(0, r.status)
        assert.are.equal("ticked 100 times\n", r.stdout)
    end)

    it("stops at the return with fin, showing the result", function()
        local job, sock = start_socket_guest {
            guest = "opener", args = { "/nonexistent/x" }, plugin_args = { "break=openat" },
        }
        local transcript = attach(job, { "fin", "c" })
        qemu.finish(job)
        assert.matches('returned: %[tid %d+%] openat%(AT_FDCWD, "/nonexistent/x", O_RDONLY[^\n]*%) '
                       .. "= %-1 ENOENT %(No such file or directory%)\n", transcript)
    end)

    it("steps from an entry to its return and on to the next call", function()
        local job, sock = start_socket_guest { guest = "results", plugin_args = { "break=getpid" } }
        local transcript = attach(job, { "s", "s", "c" })
        qemu.finish(job)
        assert.matches("breakpoint 1: [^\n]*getpid[^\n]*\n", transcript)
        assert.matches("returned: %[tid %d+%] getpid%([^\n]*%) = %d+\n", transcript)
        assert.matches('step: %[tid %d+%] write%(1, "', transcript)
    end)

    it("shows the guest's stack with bt, a dynamically linked one under -L too", function()
        local job = start_socket_guest {
            guest = "nested.dyn", qemu_args = { "-L", "/usr/i686-linux-gnu" },
            lua = [[luahook.breakpoint("openat", "sc:string(2) == '/dev/null'")]],
        }
        local transcript = attach(job, { "bt", "bt(2)", "c" })
        local r = qemu.finish(job)
        assert.are.equal(0, r.status, r.stderr)
        assert.matches('breakpoint 1: %[tid %d+%] openat%(AT_FDCWD, "/dev/null", O_RDONLY', transcript)
        -- innermost first: the vDSO's entry, the C library, then the program
        local program = qemu.sh("realpath " .. quote(qemu.guest("nested.dyn"))):gsub("\n$", "")
        local own = {}
        for name in transcript:gmatch("\n#%d+ +0x%x+ ([%w_]+)%+0x%x+ %(" .. program:gsub("%p", "%%%0") .. "%)") do
            own[#own + 1] = name
        end
        assert.are.same({ "inner", "middle", "outer", "main", "_start" }, own, transcript)
        assert.matches("luahook> bt\n#0  0x%x+ __kernel_vsyscall%+0x%x+ %(%[vdso%]%)\n#1  0x%x+ openat%+0x%x+ "
                       .. "%([^)]*libc%.so%.6%)\n", transcript)
        assert.matches("luahook> bt%(2%)\n#0 [^\n]*\n#1 [^\n]*\nluahook> c", transcript)
    end)

    it("prints errors at the prompt and keeps going", function()
        local job, sock = start_socket_guest { guest = "getpid", plugin_args = { "break=getpid" } }
        local transcript = attach(job, { "nosuch()", "1 + nil", "ret(\"x\")", "c" })
        local r = qemu.finish(job)
        assert.matches("attempt to call global 'nosuch' %(a nil value%)", transcript)
        assert.matches("attempt to perform arithmetic on a nil value", transcript, 1, true)
        assert.matches("ret: expected an integer result", transcript, 1, true)
        assert.are.equal(0, r.status)
        assert.matches("^pid=%d+\n$", r.stdout)
    end)

    it("reads more lines until a statement is complete", function()
        local job, sock = start_socket_guest { guest = "getpid", plugin_args = { "break=getpid" } }
        local transcript = attach(job, { "function answer()", "return 6 * 7", "end", "answer()", "c" })
        qemu.finish(job)
        assert.matches("luahook> function answer%(%)\n     %.%.%. return 6 %* 7\n     %.%.%. end\n" ..
                       "luahook> answer%(%)\n42 %(0x2a%)\n", transcript)
    end)

    it("dumps memory, strings and registers", function()
        local job, sock = start_socket_guest {
            guest = "opener", args = { "/etc/hostname" }, plugin_args = { "break=openat" },
        }
        local transcript = attach(job, { "x(sc.args[2], 16)", "str(sc.args[2])", "regs()", "c" })
        qemu.finish(job)
        assert.matches("0x%x+: 2f 65 74 63 2f 68 6f 73 74 6e 61 6d 65 00 %x%x %x%x  |/etc/hostname%.", transcript)
        assert.matches('luahook> str(sc.args[2])\n"/etc/hostname"\n', transcript, 1, true)
        assert.matches("\neax +0x127 +295\n", transcript)          -- openat on i386
        assert.matches("\neip +0x%x+ ", transcript)
    end)

    it("adds, lists and deletes breakpoints with conditions", function()
        -- every static glibc program starts with brk
        local job, sock = start_socket_guest {
            guest = "opener", args = { "/etc/passwd", "/etc/group", "/etc/hostname" },
            plugin_args = { "break=brk" },
        }
        local transcript = attach(job, {
            'b("openat", "sc:string(2) == \'/etc/hostname\'")', "b(\"close\")", "bl()", "bd(3)",
            "bd(1)", "bl()", "c", "sc:string(2)", "c",
        })
        local r = qemu.finish(job)
        assert.matches("breakpoint 2 on openat\n", transcript, 1, true)
        assert.matches("1  brk  (hit 1 time)\n2  openat  if sc:string(2) == '/etc/hostname'  (hit 0 times)\n3  close",
                       transcript, 1, true)
        assert.matches("deleted breakpoint 3\n", transcript, 1, true)
        assert.matches("luahook> bl()\n2  openat  if sc:string(2) == '/etc/hostname'  (hit 0 times)\nluahook> c\n",
                       transcript, 1, true)
        assert.matches('breakpoint 2: [^\n]*\nluahook> sc:string%(2%)\n"/etc/hostname"', transcript)
        assert.is_nil(transcript:match("breakpoint 3:"))
        assert.are.equal(0, r.status)
    end)

    -- Stops a threaded guest (opts as for qemu.run) at its breakpoint, gives
    -- the others a second to reach a syscall, lists the threads and goes
    -- on: the transcript and the guest's result.
    local function threads_at_breakpoint(opts)
        local job, sock = start_socket_guest(opts)
        assert.is_true(wait_for_socket(sock))
        assert.is_true(wait_for_breakpoint(job))
        local input = qemu.tmppath()
        write_file(input, "threads()\nc\n")
        local transcript = sh(string.format("(sleep 1; cat %s) | timeout 20 %s %s", input, ATTACH, quote(sock)))
        os.remove(input)
        return transcript, qemu.finish(job)
    end

    it("lists the stopped thread and those waiting at a syscall", function()
        local transcript, r = threads_at_breakpoint {
            guest = "threads", args = { "2", "2000" },
            lua = [[luahook.breakpoint("getppid", function(sc) return not _G.stopped end)
                    luahook.on("getppid", function() _G.stopped = true end)]],
        }
        assert.matches("%* tid %d+  vcpu %d+  stopped at getppid\n", transcript)
        -- the other thread: the second worker, or main creating it
        assert.matches("\n  tid %d+  vcpu %d+  waiting at [%w_]+\n", transcript)
        assert.are.equal(0, r.status)
    end)

    it("lists a thread that reached its syscall while the breakpoint's condition ran", function()
        -- the other worker's getppid comes while the first holds the core
        -- lock, deciding to stop: it waits for the lock, not at the stop
        local transcript, r = threads_at_breakpoint {
            guest = "threads", args = { "2", "2000" },
            lua = [[
                local clock = require "luahook.clock"
                local first
                luahook.breakpoint("getppid", function(sc)
                    first = first or sc.tid
                    if sc.tid ~= first or _G.stopped then return false end
                    _G.stopped = true
                    local t = clock.now() + 0.5
                    while clock.now() < t do end
                    return true
                end)
            ]],
        }
        assert.matches("%* tid %d+  vcpu %d+  stopped at getppid\n", transcript)
        assert.matches("\n  tid %d+  vcpu %d+  waiting at getppid\n", transcript)
        assert.are.equal(0, r.status)
    end)

    it("stops every thread with parallel=1: the others wait at their next call", function()
        -- a state per thread: the breakpoint's "first time" is counted across them
        local transcript, r = threads_at_breakpoint {
            guest = "threads", args = { "3", "2000" }, plugin_args = { "parallel=1" },
            lua = [[luahook.breakpoint("getppid", function() return luahook.shared.add("stops") == 1 end)]],
        }
        assert.matches("%* tid %d+  vcpu %d+  stopped at getppid\n", transcript)
        local _, waiting = transcript:gsub("\n  tid %d+  vcpu %d+  waiting at [%w_]+", "")
        assert.is_true(waiting >= 1, transcript)
        assert.are.equal(0, r.status)
        local _, tids = r.stdout:gsub("tid %d+\n", "")
        assert.are.equal(3, tids)
    end)

    it("stops any thread at a breakpoint added at the prompt with parallel=1, until deleted", function()
        -- each thread has a state of its own: the new breakpoint must reach the others'
        local job, sock = start_socket_guest {
            guest = "ticker", args = { "60", "10", "3" }, plugin_args = { "parallel=1" },
            lua = [[luahook.breakpoint("getppid", function() return luahook.shared.add("stops") == 1 end)]],
        }
        local transcript = attach(job, {
            "first = sc.tid", "b({ 'nanosleep', 'clock_nanosleep', 'clock_nanosleep_time64' }, 'sc.tid ~= ' .. first)", "c",
            "print(sc.name, sc.tid ~= first)", "bd(2)", "c",
        })
        local r = qemu.finish(job)
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("ticked 180 times\n", r.stdout)
        assert.matches("breakpoint 2 on nanosleep%+clock_nanosleep%+clock_nanosleep_time64\n", transcript)
        assert.matches("\nbreakpoint 2: %[tid %d+%] [%w_]*nanosleep%(", transcript)
        assert.matches("\n\"[%w_]*nanosleep\"\ttrue\n", transcript)
        assert.matches("deleted breakpoint 2\n", transcript)
    end)

    it("kills the guest cleanly, output flushed", function()
        local out = qemu.tmppath()
        local job, sock = start_socket_guest {
            guest = "results", plugin_args = { "break=close", "out=" .. out },
            lua = [[luahook.after("write", function() print("saw write") end)]],
        }
        attach(job, { "kill" })
        local r = qemu.finish(job)
        assert.are.equal(137, r.status)
        assert.matches("luahook: guest killed at the REPL\n", r.stderr, 1, true)
        assert.are.equal("saw write\n", slurp(out))
        assert.are.equal("hello\n", r.stdout)
        os.remove(out)
    end)

    it("opens from a script's breakpoint predicate and from luahook.repl()", function()
        local job, sock = start_socket_guest {
            guest = "results",
            lua = [[
                luahook.breakpoint("write", function(sc) return sc.args[3] == 6 end)
                luahook.on("close", function(sc) return luahook.repl() end)
            ]],
        }
        local transcript = attach(job, { "sc.args[3]", "c", "ret(-13)" })
        local r = qemu.finish(job)
        assert.matches("breakpoint 1: [^\n]*write[^\n]*\nluahook> sc.args%[3%]\n6 %(0x6%)\n", transcript)
        assert.matches("repl%(%): [^\n]*close", transcript)
        assert.matches("close=%-13\n", r.stdout)
    end)

    it("refuses a socket path that is not its own", function()
        local path = qemu.tmppath()
        write_file(path, "not a socket")
        local r = qemu.run { guest = "getpid", lua = "", plugin_args = { "repl=unix:" .. path } }
        os.remove(path)
        assert.are_not.equal(0, r.status)
        assert.are.equal("", r.stdout)
        assert.are.equal("luahook: repl=unix:" .. path .. ": the path exists and is not a socket of ours; "
                         .. "refusing to replace it\n", r.stderr)
    end)

    -- the path in the job's "waiting for a REPL client" line number `n`
    local function waiting_path(job, n)
        for _ = 1, 400 do
            local seen = 0
            for path in (slurp(job.err) or ""):gmatch("waiting for a REPL client: luahook%-attach (%S+)\n") do
                seen = seen + 1
                if seen == n then return path end
            end
            os.execute("sleep 0.05")
        end
    end

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("gives a forked child its own socket, PATH.PID, and each process removes only its own, on " .. arch,
           function()
            -- the child stops at each of its getppid; the parent at its last
            local job, sock = start_socket_guest {
                arch = arch, guest = "forker", wrap = "timeout 60",
                lua = [[
                    local lh = luahook
                    local parent, calls = lh.pid(), 0
                    lh.breakpoint("getppid", function()
                        if lh.pid() == parent then calls = calls + 1 end
                        return lh.pid() ~= parent or calls == 3
                    end)
                ]],
            }
            local child_sock = waiting_path(job, 1)
            assert.is_truthy(child_sock, slurp(job.err))
            assert.matches("^" .. sock:gsub("%p", "%%%0") .. "%.%d+$", child_sock)
            local input = qemu.tmppath()
            write_file(input, "lh.pid()\nbd(1)\nc\n")
            local transcript = sh(string.format("timeout 20 %s %s <%s", ATTACH, quote(child_sock), input))
            assert.matches("luahook> lh.pid%(%)\n" .. child_sock:match("%.(%d+)$") .. " ", transcript)
            -- the child has exited: its socket is gone, the parent's is there
            local parent_sock = waiting_path(job, 2)
            assert.are.equal(sock, parent_sock)
            assert.is_true(wait_for_socket(sock))
            assert.are_not.equal(0, select(2, sh("test -e " .. quote(child_sock))))
            write_file(input, "c\n")
            sh(string.format("timeout 20 %s %s <%s", ATTACH, quote(sock), input))
            os.remove(input)
            local r = qemu.finish(job)
            assert.are.equal(0, r.status)
            assert.matches("exited 3\n", r.stdout)
            assert.are_not.equal(0, select(2, sh("test -e " .. quote(sock))))
        end)
    end

    it("resolves a relative socket path once, at start: the guest's chdir moves nothing", function()
        local root = qemu.tmppath()
        os.execute("mkdir -p " .. root .. "/a " .. root .. "/b")
        write_file(root .. "/b/r.sock", "an unrelated file the guest's directory holds")
        local here = os.getenv("PWD")
        local out, status = sh(string.format(
            "cd %s/a && %s/%s/qemu/bin/qemu-i386 -plugin %s/%s,repl=unix:r.sock,script=/dev/null %s/%s cd:../b 1",
            root, here, qemu.build, here, qemu.plugin, here, qemu.guest("calls")))
        local victim = slurp(root .. "/b/r.sock")
        local _, left = sh("test -e " .. quote(root .. "/a/r.sock"))
        os.execute("rm -rf " .. root)
        assert.are.equal(0, status, out)
        assert.are.equal("an unrelated file the guest's directory holds", victim)
        assert.are_not.equal(0, left)
    end)

    it("leaves no socket behind when the start fails on a bad break=", function()
        local sock = qemu.tmppath() .. ".sock"
        local r = qemu.run { guest = "getpid", lua = "", plugin_args = { "repl=unix:" .. sock, "break=nosuchcall" } }
        local _, exists = sh("test -e " .. quote(sock))
        assert.are_not.equal(0, r.status)
        assert.matches("break=nosuchcall: breakpoint: unknown syscall 'nosuchcall'", r.stderr, 1, true)
        assert.are_not.equal(0, exists)
    end)

    it("still accepts a client after the guest used up every descriptor for a while", function()
        -- calls hog: every descriptor taken for 1.5 s, then given back
        local job, sock = start_socket_guest {
            guest = "calls", args = { "hog:1500", "1", "sleep", "40" },
            wrap = "timeout 60 prlimit --nofile=256 --",
        }
        assert.is_true(wait_for_socket(sock))
        for _ = 1, 200 do
            if (slurp(job.err) or ""):match("descriptors used up") then break end
            os.execute("sleep 0.05")
        end
        -- a client while they are all taken (its end of input detaches it),
        -- then another: the accept thread must be waiting for it, not gone
        local first = attach(job, { "sc.name" }, { running = true })
        local second = attach(job, { "sc.name" }, { running = true })
        local r = qemu.finish(job)
        for _, transcript in ipairs({ first, second }) do
            assert.matches("client attached: ", transcript, 1, true)
            assert.matches("luahook> sc.name\n\"", transcript, 1, true)
        end
        assert.are.equal(0, r.status)
        assert.matches("^hog:1500 1 = %d+\n", r.stdout)
    end)

    it("sends output larger than a frame (16 MiB) in pieces, keeping the client", function()
        local job, sock = start_socket_guest { guest = "getpid", plugin_args = { "break=getpid" } }
        local transcript = attach(job, { 'big = ("x"):rep(17 * 2^20)', "big", '"still here"', "c" })
        local r = qemu.finish(job)
        assert.is_truthy(transcript:find(("x"):rep(17 * 2^20), 1, true))
        assert.matches('luahook> "still here"\n"still here"\n', transcript, 1, true)
        assert.are.equal(0, r.status)
    end)

    it("says so when break= has no terminal and no socket", function()
        local r = qemu.run { guest = "getpid", plugin_args = { "break=getpid" }, wrap = "setsid -w" }
        assert.are_not.equal(0, r.status)
        assert.are.equal("", r.stdout)
        assert.matches("^luahook: repl=tty: no terminal to talk on %(/dev/tty: [^)]+%); use repl=unix:PATH and luahook%-attach\n$",
                       r.stderr)
    end)
end)

-- Runs a guest on a pseudo-terminal, typing the steps (see pty_session.py:
-- its expect patterns are Python regular expressions);
-- the guest's stdout goes to a file, apart from the terminal.
local function pty_session(guest_cmd, steps, env)
    local steps_file, stdout_file = qemu.tmppath(), qemu.tmppath()
    write_file(steps_file, table.concat(steps, "\n") .. "\n")
    -- exec: Ctrl-C goes to the whole foreground group, and a shell in
    -- between would die of it
    local inner = string.format("%s exec %s >%s", env or "", guest_cmd, stdout_file)
    local transcript, status = sh(string.format("python3 spec/helpers/pty_session.py %s -- sh -c %s",
                                                steps_file, quote(inner)))
    local stdout = slurp(stdout_file)
    os.remove(steps_file); os.remove(stdout_file)
    return transcript, status, stdout
end

local function guest_cmd(plugin_args, guest, args)
    return string.format("%s/qemu/bin/qemu-i386 -plugin %s %s %s", qemu.build,
                         quote(qemu.plugin .. "," .. plugin_args), quote(qemu.guest(guest)),
                         table.concat(args or {}, " "))
end

describe("the REPL on the terminal", function()
    it("completes names and methods with Tab, and leaves the guest's stdout alone", function()
        local transcript, status, stdout = pty_session(
            guest_cmd("break=openat", "opener", { "/etc/hostname", "/etc/passwd" }),
            { "expect luahook> ", "send sc.na\\t\\r", 'expect "openat"', "expect luahook> ",
              "send sc:stri\\t(2)\\r", 'expect "/etc/hostname"', "expect luahook> ", "send c\\r",
              "expect luahook> ", "send c\\r" })
        assert.are.equal(0, status, transcript)
        assert.matches("sc%.name\r?\n[^\n]*\"openat\"", transcript)
        assert.matches('sc:string%(2%)\r?\n[^\n]*"/etc/hostname"', transcript)
        local bare = qemu.run { guest = "opener", args = { "/etc/hostname", "/etc/passwd" }, plugin = false }
        assert.are.equal(bare.stdout, stdout)
    end)

    it("shows the stack with source lines where there is debug information", function()
        local transcript, status = pty_session(guest_cmd("break=openat", "nested.g"), {
            "expect luahook> ", "send bt\\r", "expect luahook> ", "send c\\r" })
        assert.are.equal(0, status, transcript)
        assert.matches("\n#2  0x%x+ inner%+0x%x+ at [^\n]*nested%.c:%d+ %([^)]*nested%.g%)\r?\n"
                       .. "#3  0x%x+ middle%+", transcript)
    end)

    it("edits the line with readline keys", function()
        -- type "Xsc.nme", go home, delete the X, go to the end, back over "me", insert "a"
        local transcript, status = pty_session(guest_cmd("break=openat", "opener", { "/etc/passwd" }), {
            "expect luahook> ", "send Xsc.nme\\x01\\x04\\x05\\x1b[D\\x1b[Da\\r",
            'expect "openat"', "expect luahook> ", "send c\\r" })
        assert.are.equal(0, status, transcript)
    end)

    it("keeps history across runs", function()
        local history = qemu.tmppath()
        local env = "LUAHOOK_HISTORY=" .. quote(history)
        local _, first = pty_session(guest_cmd("break=getpid", "getpid"), {
            "expect luahook> ", "send 6 * 7\\r", "expect 42", "expect luahook> ", "send c\\r" }, env)
        assert.are.equal(0, first)
        -- Up arrow twice: "c", then "6 * 7" from the first run
        local transcript, second = pty_session(guest_cmd("break=getpid", "getpid"), {
            "expect luahook> ", "send \\x1b[A\\x1b[A\\r", "expect 42 \\(0x2a\\)", "expect luahook> ",
            "send c\\r" }, env)
        os.remove(history)
        assert.are.equal(0, second, transcript)
    end)

    it("opens the prompt on Ctrl-C while the guest runs, then continues", function()
        local transcript, status, stdout = pty_session(guest_cmd("repl=tty,script=/dev/null", "ticker", { "60", "20" }), {
            "sleep 0.4", "send \\x03", "expect interrupted: \\[tid \\d+\\]", "expect luahook> ",
            "send c\\r" })
        assert.are.equal(0, status, transcript)
        assert.are.equal("ticked 60 times\n", stdout)
    end)

    it("completes and edits in luahook-attach too, over the socket", function()
        local job, sock = start_socket_guest {
            guest = "opener", args = { "/etc/hostname" }, plugin_args = { "break=openat" },
        }
        assert.is_true(wait_for_socket(sock))
        assert.is_true(wait_for_breakpoint(job))
        local steps_file = qemu.tmppath()
        write_file(steps_file, table.concat({
            "expect luahook> ", "send sc.na\\t\\r", 'expect "openat"', "expect luahook> ",
            "send Xc\\x01\\x04\\r" }, "\n") .. "\n")
        local transcript, status = sh(string.format("python3 spec/helpers/pty_session.py %s -- %s %s",
                                                    steps_file, ATTACH, quote(sock)))
        os.remove(steps_file)
        local r = qemu.finish(job)
        assert.are.equal(0, status, transcript)
        assert.matches("sc%.name\r?\n[^\n]*\"openat\"", transcript)
        assert.are.equal(0, r.status)
        assert.are.equal("/etc/hostname ok\n", r.stdout)
    end)

    it("lets a second Ctrl-C within a second end the guest as usual", function()
        local transcript, status = pty_session(guest_cmd("repl=tty,script=/dev/null", "ticker", { "200", "20" }), {
            -- apart, as fingers press them: one burst would merge into one signal
            "sleep 0.4", "send \\x03", "sleep 0.2", "send \\x03", "sleep 0.5" })
        assert.are_not.equal(0, status, transcript)
        assert.is_nil(transcript:match("ticked"))
    end)
end)
