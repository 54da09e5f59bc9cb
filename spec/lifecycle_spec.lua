-- Entry and return pairing, syscalls that never return, threads, fork,
-- and luahook's output stream (out=, flushing before exec and on a crash).
local qemu = require "helpers.qemu"

local slurp = qemu.slurp

-- Records every entry and every after-hook, by name, in order.
local RECORDER = [[
    local entries, afters = {}, {}
    luahook.on("*", function(sc) entries[#entries + 1] = sc.name; sc.seen = true end)
    luahook.after("*", function(sc, ret)
        assert(sc.seen, "after-hook without its entry")
        afters[#afters + 1] = sc.name
    end)
    luahook.on_exit(function()
        print("entries " .. table.concat(entries, " "))
        print("afters " .. table.concat(afters, " "))
    end)
]]

for _, arch in ipairs({ "i386", "x86_64" }) do
    describe("entry and return on " .. arch, function()
        it("pair up around a signal handler, and sigreturn/exit never reach after-hooks", function()
            local r = qemu.run { arch = arch, guest = "signals", lua = RECORDER }
            assert.are.equal(0, r.status)
            assert.are.equal("handled\n", r.stdout)
            local entries = r.stderr:match("entries ([^\n]*)")
            local afters = r.stderr:match("afters ([^\n]*)")
            -- kill returns, the handler's write runs, then (rt_)sigreturn
            assert.matches("kill write r?t?_?sigreturn getppid", entries)
            assert.matches("exit_group$", entries)
            assert.matches("kill write getppid", afters, 1, true)
            assert.is_nil(afters:match("sigreturn"))
            assert.is_nil(afters:match("exit"))
        end)

        it("keep the result of a failed execve for its after-hook", function()
            local r = qemu.run {
                arch = arch, guest = "signals", args = { "exec", "/nonexistent", "x" },
                lua = [[luahook.after("execve", function(sc, ret) print(sc:string(1), ret) end)]],
            }
            assert.matches("/nonexistent\t-2\n", r.stderr, 1, true)
            assert.matches("execv: No such file or directory", r.stderr, 1, true)
        end)
    end)

    describe("threads on " .. arch, function()
        it("are all counted: 8 threads x 10000 syscalls is exactly 80000", function()
            local r = qemu.run {
                arch = arch, guest = "threads", args = { "8", "10000" },
                lua = [[
                    local per_tid, total, vcpu_of = {}, 0, {}
                    luahook.on("getppid", function(sc)
                        total = total + 1
                        per_tid[sc.tid] = (per_tid[sc.tid] or 0) + 1
                        -- a thread keeps its vCPU (QEMU may reuse an index after a thread exits)
                        if vcpu_of[sc.tid] and vcpu_of[sc.tid] ~= sc.vcpu then print("vcpu changed") end
                        vcpu_of[sc.tid] = sc.vcpu
                    end)
                    luahook.on_exit(function()
                        print("total " .. total)
                        for tid, n in pairs(per_tid) do print("tid " .. tid .. " " .. n) end
                    end)
                ]],
            }
            assert.are.equal(0, r.status)
            assert.matches("total 80000\n", r.stderr, 1, true)
            -- each thread's own gettid() matches the tid the hook saw, 10000 times
            local tids = {}
            for tid in r.stdout:gmatch("tid (%d+)") do tids[#tids + 1] = tid end
            assert.are.equal(8, #tids)
            for _, tid in ipairs(tids) do
                assert.matches("tid " .. tid .. " 10000\n", r.stderr, 1, true)
            end
            assert.is_nil(r.stderr:match("vcpu changed"))
        end)

        -- the lock is the main thread's alone until a second thread takes it
        -- (core/lock.c): hooks on every call put the main thread's clone and
        -- futex events beside the new threads' first ones
        it("share one Lua state safely from the first thread on, hooks on every call", function()
            for _ = 1, 3 do
                local r = qemu.run {
                    arch = arch, guest = "threads", args = { "8", "5000" },
                    lua = [[
                        local per_name, tids = {}, {}
                        luahook.on("*", function(sc)
                            per_name[sc.name] = (per_name[sc.name] or 0) + 1
                            tids[sc.tid] = true
                        end)
                        luahook.on_exit(function()
                            local n = 0
                            for _ in pairs(tids) do n = n + 1 end
                            print("getppid " .. per_name.getppid .. " threads " .. n)
                        end)
                    ]],
                }
                assert.are.equal(0, r.status)
                assert.matches("getppid 40000 threads 9\n", r.stderr, 1, true)
            end
        end)
    end)

    describe("fork on " .. arch, function()
        it("gives the child its own copy of the script state, with nothing lost or doubled", function()
            local out = qemu.tmppath()
            local r = qemu.run {
                arch = arch, guest = "forker", plugin_args = { "out=" .. out },
                lua = [[
                    local lh = require "luahook"
                    local calls = 0
                    lh.printf("started in %d\n", lh.pid())
                    lh.on("getppid", function() calls = calls + 1 end)
                    lh.on_exit(function() lh.printf("pid %d made %d getppid\n", lh.pid(), calls) end)
                ]],
            }
            local text = slurp(out)
            os.remove(out)
            assert.are.equal(0, r.status)
            assert.are.equal("", r.stderr)
            local child = r.stdout:match("child (%d+)")
            local parent = r.stdout:match("parent (%d+)")
            assert.matches("exited 3", r.stdout, 1, true)
            local _, starts = text:gsub("started in", "")
            assert.are.equal(1, starts)
            assert.matches("^started in " .. parent .. "\n", text)
            -- one getppid before the fork, then 3 in the child and 2 in the parent
            assert.matches("pid " .. child .. " made 4 getppid\n", text, 1, true)
            assert.matches("pid " .. parent .. " made 3 getppid\n", text, 1, true)
        end)
    end)
end

describe("luahook's output", function()
    it("goes to the out= file, not to stderr", function()
        local out = qemu.tmppath()
        local r = qemu.run {
            guest = "getpid", plugin_args = { "out=" .. out },
            lua = [[luahook.on("getpid", function() print("to the file") end)]],
        }
        assert.are.equal("", r.stderr)
        assert.are.equal("to the file\n", slurp(out))
        os.remove(out)
    end)

    it("stops QEMU before the guest when out= cannot be opened", function()
        local r = qemu.run { guest = "getpid", lua = "", plugin_args = { "out=/nonexistent/dir/log" } }
        assert.are_not.equal(0, r.status)
        assert.are.equal("", r.stdout)
        assert.are.equal("luahook: out=/nonexistent/dir/log: No such file or directory\n", r.stderr)
    end)

    it("is flushed before an exec it does not follow (follow_exec=0) replaces the process", function()
        local out = qemu.tmppath()
        local r = qemu.run {
            guest = "signals", args = { "exec", "/bin/echo", "exec-ok" },
            plugin_args = { "out=" .. out, "follow_exec=0" },
            lua = [[luahook.on("*", function(sc) print("saw " .. sc.name) end)]],
        }
        local text = slurp(out)
        os.remove(out)
        assert.are.equal("handled\nexec-ok\n", r.stdout)
        assert.matches("saw getppid\n", text, 1, true)
        assert.matches("saw execve\n$", text)
    end)

    it("is flushed when the guest dies of a signal, and on_exit runs", function()
        local out = qemu.tmppath()
        local r = qemu.run {
            guest = "signals", args = { "crash" }, plugin_args = { "out=" .. out },
            lua = [[
                luahook.on("getppid", function(sc) print("saw getppid") end)
                luahook.on_exit(function() print("on_exit ran") end)
            ]],
        }
        local text = slurp(out)
        os.remove(out)
        assert.are.equal(139, r.status)
        assert.are.equal("saw getppid\non_exit ran\n", text)
    end)

    it("is not captured when the guest redirects its own stderr", function()
        local r = qemu.run {
            guest = "redirect",
            lua = [[luahook.on("getpid", function() print("hook output") end)]],
        }
        assert.are.equal("done\n", r.stdout)
        assert.are.equal("hook output\n", r.stderr)
    end)
end)

for _, arch in ipairs({ "i386", "x86_64" }) do
    describe("os.exit on " .. arch, function()
        -- timeout: os.exit used to hang QEMU for good
        local function run(lua, guest, args)
            return qemu.run { arch = arch, guest = guest or "getpid", args = args,
                              wrap = "timeout 20", lua = lua }
        end

        it("in a hook flushes, runs the exit hooks once and exits with its status", function()
            local r = run [[
                luahook.on("getpid", function() print("hook"); os.exit(3) end)
                luahook.on_exit(function() print("exit hook") end)
            ]]
            assert.are.equal(3, r.status)
            assert.are.equal("", r.stdout)      -- getpid never ran to its print
            assert.are.equal("hook\nexit hook\n", r.stderr)
        end)

        it("takes true and false as Lua's os.exit does, even under pcall", function()
            local t = run [[luahook.on("getpid", function() pcall(os.exit, true) end)]]
            local f = run [[luahook.on("getpid", function() os.exit(false) end)]]
            assert.are.same({ 0, "", "" }, { t.status, t.stdout, t.stderr })
            assert.are.same({ 1, "", "" }, { f.status, f.stdout, f.stderr })
        end)

        it("in an exit hook lets the other exit hooks run once, then exits with its status", function()
            local r = run [[
                luahook.on_exit(function() print("first"); os.exit(5) end)
                luahook.on_exit(function() print("second") end)
            ]]
            assert.are.equal(5, r.status)
            assert.matches("^pid=%d+\n$", r.stdout)
            assert.are.equal("first\nsecond\n", r.stderr)
        end)

        it("while the script loads exits before the guest runs", function()
            local r = run [[
                luahook.on_exit(function() print("exit hook") end)
                print("loading")
                os.exit(9)
            ]]
            assert.are.same({ 9, "", "loading\nexit hook\n" }, { r.status, r.stdout, r.stderr })
        end)

        it("from one thread stops the others' hooks and exits once", function()
            local r = run([[
                local calls = 0
                luahook.on("getppid", function() calls = calls + 1; os.exit(7) end)
                luahook.on_exit(function() print("calls " .. calls) end)
            ]], "threads", { "4", "1000" })
            assert.are.equal(7, r.status)
            assert.are.equal("calls 1\n", r.stderr)
        end)
    end)

    describe("onerror=abort on " .. arch, function()
        it("exits with status 1 when an exit hook fails, not with the guest's status", function()
            local r = qemu.run {
                arch = arch, guest = "exitwith", args = { "0" }, plugin_args = { "onerror=abort" },
                lua = [[
                    luahook.on_exit(function() error("exit hook broke") end)
                    luahook.on_exit(function() print("second exit hook ran") end)
                ]],
            }
            assert.are.equal(1, r.status)
            assert.matches("exit hook failed: [^\n]*exit hook broke\n", r.stderr)
            assert.matches("second exit hook ran\nluahook: stopping QEMU because a hook failed %(onerror=abort%)\n$",
                           r.stderr)
        end)

        it("stops every thread's hooks at the first failure and says so once", function()
            -- a hook that keeps the lock 2 ms, so the other threads crowd at it
            local script = qemu.script [[
                local clock = require "luahook.clock"
                local runs = 0
                luahook.on("getppid", function()
                    runs = runs + 1
                    local t = clock.now() + 0.002
                    while clock.now() < t do end
                    error("broke")
                end)
                luahook.on_exit(function() print("hook runs: " .. runs) end)
            ]]
            for _ = 1, 10 do
                local r = qemu.run { arch = arch, guest = "threads", args = { "4", "1000" },
                                     script = script, plugin_args = { "onerror=abort" } }
                assert.are.equal(1, r.status)
                local _, stops = r.stderr:gsub("stopping QEMU", "")
                assert.are.equal(1, stops, r.stderr)
                assert.matches("hook runs: 1\n", r.stderr, 1, true)
                assert.is_nil(r.stderr:match("more time"))
            end
            os.remove(script)
        end)
    end)
end
