-- Signals: a guest dying of one luahook had no part in (output flushed,
-- exit hooks run, the same death as under bare QEMU), a crash flushing
-- output first, and SIGTERM, a second SIGINT or hook_timeout= stopping a
-- hook that never returns, compiled or not.
local qemu = require "helpers.qemu"

local slurp, quote = qemu.slurp, qemu.quote

-- Signals by number, as kill and the shell's status know them.
local SIG = { HUP = 1, INT = 2, ABRT = 6, USR1 = 10, SEGV = 11, PIPE = 13, ALRM = 14, TERM = 15 }

-- Waits (10 s at most) for a file to have something in it; returns that.
local function wait_for(path)
    for _ = 1, 200 do
        local text = slurp(path)
        if text and text ~= "" then return text end
        os.execute("sleep 0.05")
    end
end

-- Starts a guest (opts as for qemu.start) whose QEMU's pid is written to a
-- file, as the process exec'd in place of a shell; returns the job and that
-- file. SIGINT is put back to its default: background jobs ignore it.
local function start_with_pid(opts)
    local pid_file = qemu.tmppath()
    opts.wrap = string.format("timeout -s KILL 60 env --default-signal=INT sh -c 'echo $$ >%s; exec \"$@\"' sh",
                              pid_file)
    return qemu.start(opts), pid_file
end

local function kill(sig, pid_file)
    os.execute(string.format("kill -%s %s", sig, assert(wait_for(pid_file), "no pid"):match("%d+")))
end

-- Prints, at exit, that exit hooks ran.
local EXIT_HOOK = [[luahook.on_exit(function() print("exit hooks ran") end)]]

for _, arch in ipairs({ "i386", "x86_64" }) do
    describe("a guest dying of a signal on " .. arch, function()
        for _, name in ipairs({ "TERM", "INT", "HUP", "ALRM", "PIPE", "USR1" }) do
            it("dies of SIG" .. name .. " as under bare QEMU, after luahook flushed and ran exit hooks", function()
                local out = qemu.tmppath()
                local function run(plugin)
                    return qemu.run { arch = arch, guest = "exitwith", args = { "kill", tostring(SIG[name]) },
                                      plugin = plugin, lua = EXIT_HOOK, plugin_args = { "out=" .. out },
                                      wrap = "env --default-signal=INT" }
                end
                local bare, r = run(false), run(nil)
                local text = slurp(out)
                os.remove(out)
                assert.are.equal(128 + SIG[name], bare.status)
                assert.are.equal(bare.status, r.status)
                assert.are.equal("exit hooks ran\n", text)
            end)
        end

        it("killed from outside (SIGTERM) prints count.lua's table, and dies of it", function()
            local out = qemu.tmppath()
            local job, pid_file = start_with_pid {
                arch = arch, guest = "calls", args = { "getppid", "1", "say:running", "1", "sleep", "200" },
                script = "scripts/count.lua", plugin_args = { "out=" .. out },
            }
            wait_for(job.err)          -- the guest is running
            kill("TERM", pid_file)
            local r = qemu.finish(job)
            local text = slurp(out)
            os.remove(out); os.remove(pid_file)
            assert.are.equal(128 + SIG.TERM, r.status)
            assert.matches("%% time +seconds +usecs/call +calls +errors syscall\n", text)
            assert.matches("\n[^\n]* getppid\n", text)
        end)

        it("of SIGPIPE on its own stdout dies of it as bare QEMU does, exit hooks run", function()
            local function run(plugin)
                local status_file, out = qemu.tmppath(), qemu.tmppath()
                os.execute(string.format("{ %s/qemu/bin/qemu-%s %s %s getppid 100000; echo $? >%s; } | head -1 >/dev/null",
                                         qemu.build, arch, plugin and ("-plugin " .. quote(qemu.plugin .. ",script="
                                         .. plugin .. ",out=" .. out)) or "", qemu.guest("calls", arch), status_file))
                local status, text = tonumber(slurp(status_file)), slurp(out)
                os.remove(status_file); os.remove(out)
                return status, text
            end
            local script = qemu.script(EXIT_HOOK)
            local bare = run(nil)
            local status, text = run(script)
            os.remove(script)
            assert.are.equal(128 + SIG.PIPE, bare)
            assert.are.equal(bare, status)
            assert.are.equal("exit hooks ran\n", text)
        end)
    end)

    describe("a crash on " .. arch, function()
        for _, crash in ipairs({
            { what = "a hook's bad FFI write (SIGSEGV)", code = 'ffi.cast("int *", 16)[0] = 1', status = 128 + SIG.SEGV },
            { what = "abort() (SIGABRT)", code = 'ffi.cdef "void abort(void);" ffi.C.abort()', status = 128 + SIG.ABRT },
        }) do
            it("by " .. crash.what .. " leaves every line luahook had written", function()
                local out = qemu.tmppath()
                local r = qemu.run {
                    arch = arch, guest = "calls", args = { "getppid", "3" }, plugin_args = { "out=" .. out },
                    lua = [[
                        local ffi = require "ffi"
                        local n = 0
                        luahook.on("getppid", function()
                            n = n + 1
                            print("line " .. n)
                            if n == 3 then ]] .. crash.code .. [[ end
                        end)
                    ]],
                }
                local text = slurp(out)
                os.remove(out)
                assert.are.equal(crash.status, r.status)
                assert.are.equal("line 1\nline 2\nline 3\n", text)
            end)
        end
    end)

    describe("a hook that never returns on " .. arch, function()
        -- the hook writes QEMU's pid where the spec waits for it, then loops
        -- (LuaJIT compiles the loop at once)
        local STUCK = [[
            luahook.on("getppid", function()
                local f = io.open(luahook.args.marker, "w"); f:write(luahook.pid()); f:close()
                local n = 0
                while true do n = n + 1 end
            end)
        ]] .. EXIT_HOOK

        local function start_stuck(args, plugin_args)
            local marker = qemu.tmppath()
            local job = qemu.start {
                arch = arch, guest = "calls", args = args, lua = STUCK, wrap = "timeout -s KILL 60 env --default-signal=INT",
                plugin_args = { "marker=" .. marker, unpack(plugin_args or {}) },
            }
            return job, marker
        end

        it("is interrupted by SIGTERM; a guest that handles SIGTERM gets it and goes on", function()
            local job, marker = start_stuck { "catch:15", "1", "getppid", "1" }
            kill("TERM", marker)
            local r = qemu.finish(job)
            os.remove(marker)
            assert.are.equal(0, r.status)
            assert.matches("\ngetppid 1 = %d+\nusr1=0 usr2=0 caught=1 ", r.stdout)
            assert.matches("failed on getppid: [^\n]*:4: interrupted %(SIGTERM%)\nstack traceback:\n"
                           .. "[^\n]*:4: in function 'hook'", r.stderr)
            assert.matches("exit hooks ran\n$", r.stderr)
        end)

        it("is interrupted by SIGTERM; a guest that leaves SIGTERM alone dies of it, exit hooks run", function()
            local job, marker = start_stuck { "getppid", "1" }
            kill("TERM", marker)
            local r = qemu.finish(job)
            os.remove(marker)
            assert.are.equal(128 + SIG.TERM, r.status)
            assert.matches("interrupted %(SIGTERM%)", r.stderr)
            assert.matches("exit hooks ran\n$", r.stderr)
        end)

        it("is interrupted by a second SIGINT; the guest's handler gets the first", function()
            local job, marker = start_stuck { "catch:2", "1", "getppid", "1" }
            kill("INT", marker)
            os.execute("sleep 0.2")
            kill("INT", marker)
            local r = qemu.finish(job)
            os.remove(marker)
            assert.are.equal(0, r.status)
            assert.matches("\ngetppid 1 = %d+\nusr1=0 usr2=0 caught=1 ", r.stdout)
            assert.matches("failed on getppid: [^\n]*:4: interrupted %(a second SIGINT%)\n", r.stderr)
        end)

        -- LuaJIT interrupts compiled code of one Lua state only (the main
        -- thread's): another thread's stuck hook must not keep the guest alive
        it("in another thread's state with parallel=1 lets SIGTERM end the guest, said in one line", function()
            local marker = qemu.tmppath()
            local job = qemu.start {
                arch = arch, guest = "threads", args = { "3", "1000" }, wrap = "timeout -s KILL 60",
                plugin_args = { "parallel=1", "marker=" .. marker },
                lua = [[
                    luahook.on("getppid", function(sc)
                        if luahook.shared.add("stuck") ~= 1 then return end
                        local f = io.open(luahook.args.marker, "w"); f:write(luahook.pid()); f:close()
                        local n = 0
                        while true do n = n + 1 end
                    end)
                    luahook.on_exit(function(how) print("exit hooks ran: " .. how) end)
                ]],
            }
            kill("TERM", marker)
            local r = qemu.finish(job)
            os.remove(marker)
            assert.are.equal(128 + SIG.TERM, r.status)
            local _, lines = r.stderr:gsub("luahook: parallel=1: thread %d+'s hooks have run for 2000 ms "
                                           .. "and go on: its exit hooks are left out\n", "")
            assert.are.equal(1, lines, r.stderr)
            assert.matches("exit hooks ran: exit\n$", r.stderr)
        end)

        it("is interrupted after hook_timeout=MS, and the guest goes on", function()
            local job, marker = start_stuck({ "getppid", "2" }, { "hook_timeout=300" })
            local r = qemu.finish(job)
            os.remove(marker)
            assert.are.equal(0, r.status)
            assert.matches("^getppid 1 = %d+\ngetppid 2 = %d+\n", r.stdout)
            assert.matches("failed on getppid: [^\n]*:4: interrupted %(hook_timeout=300%)\n", r.stderr)
            assert.matches("failed 1 more time\n", r.stderr)
        end)
    end)
end

describe("hook_timeout=MS", function()
    it("interrupts an exit hook that never returns, and QEMU exits", function()
        local r = qemu.run {
            guest = "getpid", plugin_args = { "hook_timeout=200" }, wrap = "timeout -s KILL 60",
            lua = [[
                luahook.on_exit(function() while true do end end)
                luahook.on_exit(function() print("second exit hook ran") end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.matches("exit hook failed: [^\n]*:1: interrupted %(hook_timeout=200%)\n", r.stderr)
        assert.matches("second exit hook ran\n$", r.stderr)
    end)

    it("is luahook's own: the script does not see it in luahook.args", function()
        local r = qemu.run { guest = "getpid", plugin_args = { "hook_timeout=1000" },
                             lua = [[print(luahook.args.hook_timeout)]] }
        assert.are.equal("nil\n", r.stderr)
    end)

    it("must be a whole number of milliseconds, or QEMU stops before the guest", function()
        local r = qemu.run { guest = "getpid", lua = "", plugin_args = { "hook_timeout=soon" } }
        assert.are_not.equal(0, r.status)
        assert.are.equal("", r.stdout)
        assert.are.equal("luahook: hook_timeout=soon: expected a whole number of milliseconds from 1 up\n",
                         r.stderr)
    end)
end)
