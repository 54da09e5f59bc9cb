-- Signals in scripts/trace.lua and lh.on_signal: deliveries to the guest's
-- handlers ("--- SIGUSR1 {...} ---"), the rt_sigreturn that ends them, and
-- deaths by a signal ("+++ killed by SIGSEGV +++"), through the reference
-- QEMU on i386 and x86_64 guests, in each of trace.lua's formats.
-- spec/strace_spec.lua compares the same lines with strace's.
local json = require "dkjson"
local qemu = require "helpers.qemu"
local timeline = require "helpers.timeline"

local ARCHES = { "i386", "x86_64" }

-- Every signal at its default action: a spec run in the background (a
-- shell's `&`) would have the guests ignore SIGINT and SIGQUIT.
local function trace(arch, guest, args, options)
    return qemu.run { arch = arch, guest = guest, args = args, script = "scripts/trace.lua",
                      plugin_args = options, wrap = "env --default-signal" }
end

-- The lines of `text` that match `pattern`.
local function matching(text, pattern)
    local found = {}
    for line in text:gmatch("[^\n]+") do
        if line:match(pattern) then found[#found + 1] = line end
    end
    return found
end

local function has_line(text, line)
    for l in text:gmatch("[^\n]+") do
        if l == line then return true end
    end
    return false
end

for _, arch in ipairs(ARCHES) do
    describe("trace.lua's signals on " .. arch, function()
        local run
        -- refcalls caught: handlers with and without SA_SIGINFO, two children
        local function caught()
            run = run or trace(arch, "refcalls", { "caught" })
            return run, run.stderr
        end

        it("shows a signal delivered to a handler with SA_SIGINFO, and its siginfo", function()
            local r, text = caught()
            assert.are.equal(0, r.status, text)
            local pid = text:match("kill%((%d+), SIGUSR1%) = 0")
            assert.is_truthy(pid, text)
            local uid = text:match("getuid%(%) = (%d+)") or "0"
            assert.is_true(has_line(text, string.format(
                "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_USER, si_pid=%s, si_uid=%s} ---", pid, uid)), text)
            assert.is_true(has_line(text, string.format(
                "--- SIGUSR2 {si_signo=SIGUSR2, si_code=SI_TKILL, si_pid=%s, si_uid=%s} ---", pid, uid)), text)
            assert.is_true(has_line(text, string.format(
                "--- SIGUSR1 {si_signo=SIGUSR1, si_code=SI_QUEUE, si_pid=%s, si_uid=%s, si_int=42, "
                .. "si_ptr=0x2a} ---", pid, uid)), text)
            assert.is_true(has_line(text,
                "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=NULL} ---"), text)
        end)

        it("shows a child's SIGCHLD with how the child ended", function()
            local _, text = caught()
            local children = {}
            for child in text:gmatch("clone%(child_stack=NULL, [^\n]*%) = (%d+)") do
                children[#children + 1] = child
            end
            assert.are.equal(2, #children, text)
            assert.are.equal(1, #matching(text, "%-%-%- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid="
                                          .. children[1] .. ", si_uid=%d+, si_status=3, si_utime=%d+, si_stime=%d+} %-%-%-$"), text)
            assert.are.equal(1, #matching(text, "%-%-%- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_KILLED, si_pid="
                                          .. children[2] .. ", si_uid=%d+, si_status=SIGALRM, si_utime=%d+, si_stime=%d+} %-%-%-$"), text)
            assert.is_true(has_line(text, "[pid " .. children[2] .. "] +++ killed by SIGALRM +++"), text)
        end)

        it("shows only the signal when the handler has no SA_SIGINFO (QEMU writes no siginfo)", function()
            local _, text = caught()
            assert.are.same({ "--- SIGHUP {si_signo=SIGHUP, ...} ---" }, matching(text, "SIGHUP {"))
        end)

        it("takes a handler the program calls itself for no signal", function()
            local _, text = caught()
            -- kill and sigqueue: the call before them is not one
            assert.are.equal(2, #matching(text, "^%-%-%- SIGUSR1 "), text)
        end)

        it("ends each handler with its sigreturn, the mask and the result it restores", function()
            local _, text = caught()
            local returns = matching(text, "sigreturn%({mask=%[%]}%) = 0$")
            -- six handlers returned: USR1 twice, USR2, HUP, CHLD twice (SEGV's jumped out)
            assert.are.equal(6, #returns, text)
            local plain = arch == "i386" and "sigreturn({mask=[]}) = 0" or "rt_sigreturn({mask=[]}) = 0"
            local after_hup = text:match("%-%-%- SIGHUP [^\n]*\n([^\n]*)")
            assert.are.equal(plain, after_hup)
        end)

        it("shows the guest's death by SIGSEGV, and the guest dies as under bare QEMU", function()
            local r = trace(arch, "signals", { "crash" })
            local bare = qemu.run { arch = arch, guest = "signals", args = { "crash" }, plugin = false }
            assert.are.equal(bare.status, r.status)
            assert.are.equal(128 + 11, r.status)
            local lines = qemu.lines(r.stderr)
            assert.are.equal("+++ killed by SIGSEGV +++", lines[#lines], r.stderr)
            assert.are.equal(0, #matching(r.stderr, "^%+%+%+ exited"), r.stderr)
        end)

        it("shows a death by a signal the guest sends itself, QEMU's own SIGQUIT too", function()
            for signo, name in pairs({ [15] = "SIGTERM", [3] = "SIGQUIT", [10] = "SIGUSR1" }) do
                local r = trace(arch, "exitwith", { "kill", tostring(signo) })
                assert.are.equal(128 + signo, r.status)
                local lines = qemu.lines(r.stderr)
                assert.are.equal("+++ killed by " .. name .. " +++", lines[#lines], r.stderr)
            end
        end)

        it("shows no death for SIGKILL, which ends QEMU before luahook can see it", function()
            local r = trace(arch, "exitwith", { "kill", "9" })
            assert.are.equal(128 + 9, r.status)
            assert.are.same({}, matching(r.stderr, "^%+%+%+"))
        end)

        it("writes signals and deaths as JSON objects with format=json", function()
            local r = trace(arch, "refcalls", { "caught" }, { "format=json" })
            assert.are.equal(0, r.status)
            local signals, killed = {}, {}
            for line in r.stderr:gmatch("[^\n]+") do
                local object = json.decode(line, 1, json.null)
                assert.is_table(object, line)
                assert.is_number(object.pid, line)
                if object.signal then signals[#signals + 1] = object end
                if object.killed_by then killed[#killed + 1] = object end
            end
            assert.are.equal(7, #signals, r.stderr)
            assert.are.equal("SIGUSR1", signals[1].signal)
            assert.matches("^{si_signo=SIGUSR1, si_code=SI_USER, si_pid=%d+, si_uid=%d+}$", signals[1].siginfo)
            assert.are.equal(1, #killed, r.stderr)
            assert.are.equal("SIGALRM", killed[1].killed_by)
            assert.are.equal(false, killed[1].core_dumped)
        end)

        it("marks signals and deaths on the timeline with format=perfetto", function()
            local path = qemu.tmppath()
            local from = timeline.now_us()
            local r = trace(arch, "refcalls", { "caught" }, { "format=perfetto", "out=" .. path })
            local to = timeline.now_us()
            local text = qemu.slurp(path) or ""
            os.remove(path)
            assert.are.equal(0, r.status)
            local t, problems = timeline.check(text, from, to)
            assert.are.same({}, problems, text)
            local names = {}
            for _, e in ipairs(t.instants) do names[#names + 1] = e.name end
            table.sort(names)
            assert.are.same({ "SIGCHLD", "SIGCHLD", "SIGHUP", "SIGSEGV", "SIGUSR1", "SIGUSR1",
                              "SIGUSR2", "killed by SIGALRM" }, names)
        end)
    end)
end

describe("lh.on_signal", function()
    for _, arch in ipairs(ARCHES) do
        it("calls its function with the signal and its siginfo's address on " .. arch, function()
            local r = qemu.run { arch = arch, guest = "refcalls", args = { "caught" }, lua = [[
                local lh = require "luahook"
                lh.on_signal(function(s)
                    local signo = s.info and lh.mem.int(s.info, "i32")
                    lh.printf("signal %d info %s handler %s tid %s\n", s.signo, tostring(signo),
                              tostring(s.handler > 0), tostring(s.tid == lh.pid()))
                end)
            ]] }
            assert.are.equal(0, r.status, r.stderr)
            local lines = matching(r.stderr, "^signal ")
            assert.are.same({ "signal 10 info 10 handler true tid true",
                              "signal 12 info 12 handler true tid true",
                              "signal 10 info 10 handler true tid true",
                              "signal 1 info nil handler true tid true",
                              "signal 11 info 11 handler true tid true",
                              "signal 17 info 17 handler true tid true",
                              "signal 17 info 17 handler true tid true" }, lines)
        end)
    end

    it("is removed by lh.off, from inside its function too, while the others go on", function()
        local r = qemu.run { guest = "refcalls", args = { "caught" }, lua = [[
            local lh = require "luahook"
            local once
            once = lh.on_signal(function(s)
                lh.printf("once %d %s\n", s.signo, tostring(lh.off(once)))
            end)
            local n = 0
            lh.on_signal(function() n = n + 1 end)
            lh.on_exit(function() lh.printf("all %d %s\n", n, tostring(lh.off(once))) end)
        ]] }
        assert.are.equal(0, r.status, r.stderr)
        assert.are.same({ "once 10 true" }, matching(r.stderr, "^once "))
        -- each process of the guest's tree counts its own: the first saw all 7
        assert.matches("\nall 7 false\n", r.stderr, 1, true)
        assert.is_nil(r.stderr:match("\nall %d+ true"))
    end)

    it("refuses what is not a function, before the guest runs", function()
        local r = qemu.run { guest = "getpid", lua = [[luahook.on_signal("x")]] }
        assert.are_not.equal(0, r.status)
        assert.matches("on_signal%(%): expected a function, got string", r.stderr)
        assert.are.equal("", r.stdout)
    end)

    it("reports a failing function and goes on", function()
        local r = qemu.run { guest = "refcalls", args = { "caught" }, lua = [[
            luahook.on_signal(function(s) error("boom " .. s.signo) end)
        ]] }
        assert.are.equal(0, r.status)
        assert.matches("signal hook failed: [^\n]*boom 10", r.stderr)
        assert.are.equal("done\n", r.stdout)
    end)
end)

describe("trace.lua's signals on the other guest architectures", function()
    for _, arch in ipairs({ "aarch64", "arm", "riscv64", "mips", "mipsel" }) do
        it("shows a death by a signal, and no delivery it cannot recognise, on " .. arch, function()
            local handled = trace(arch, "signals", { "exit" })
            assert.are.equal(0, handled.status, handled.stderr)
            assert.are.same({}, matching(handled.stderr, "^luahook:"))
            assert.are.same({}, matching(handled.stderr, "^%-%-%- "))
            local killed = trace(arch, "exitwith", { "kill", "15" })
            assert.are.equal(128 + 15, killed.status)
            local lines = qemu.lines(killed.stderr)
            assert.are.equal("+++ killed by SIGTERM +++", lines[#lines], killed.stderr)
        end)
    end
end)
