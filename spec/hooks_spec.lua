-- End-to-end: Lua hooks on real guests under the reference QEMU.
local qemu = require "helpers.qemu"

describe("an entry hook", function()
    for _, arch in ipairs(qemu.arch_names()) do
        it("fakes getpid's result on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "getpid",
                lua = [[luahook.on("getpid", function(sc) return 4242 end)]],
            }
            assert.are.equal(0, r.status)
            assert.are.equal("pid=4242\n", r.stdout)
        end)
    end

    it("denies one path with -EACCES while other opens succeed", function()
        local r = qemu.run {
            guest = "opener", args = { "/etc/passwd", "/etc/hostname", "/etc/group" },
            lua = [[
                local lh = require "luahook"
                lh.on("openat", function(sc)
                    if sc:string(2) == "/etc/hostname" then
                        return -lh.errno.EACCES
                    end
                end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.are.equal("/etc/passwd ok\n/etc/hostname errno=13\n/etc/group ok\n", r.stdout)
    end)

    it("lets the syscall run when it returns nothing: the guest gets its real pid", function()
        -- the shell's pid is QEMU's once it execs QEMU, and the guest's
        local r = qemu.run { guest = "getpid", lua = [[luahook.on("getpid", function() end)]],
                             wrap = [[sh -c 'echo "pid=$$" >&2; exec "$@"' sh]] }
        assert.are.equal(0, r.status)
        assert.matches("^pid=%d+\n$", r.stdout)
        assert.are.equal(r.stderr, r.stdout)
    end)

    it("sees the syscall's number, name and arguments", function()
        local r = qemu.run {
            guest = "results",
            lua = [[
                luahook.on("close", function(sc)
                    print(sc.nr == luahook.nr("close"), sc.name, sc.args[1], #sc.args)
                end)
            ]],
        }
        -- close(-1): i386 arguments are unsigned 32-bit values
        assert.matches("true\tclose\t4294967295\t6\n", r.stderr, 1, true)
    end)

    it("gets an x86_64 argument of 2^53 or more exactly, as a uint64_t", function()
        local r = qemu.run {
            arch = "x86_64", guest = "calls", args = { "wide", "1" },
            lua = [[
                luahook.on("getppid", function(sc)
                    print(tostring(sc.args[1]), tostring(sc.args[2]), sc:int(1), sc.args[3])
                end)
            ]],
        }
        assert.are.equal(0, r.status)
        -- 2^54-1 has no double: a number would have come out as 2^54
        assert.are.equal("18446744073709551615ULL\t18014398509481983ULL\t-1\t0\n", r.stderr)
    end)

    it("returns a result of 2^53 or more exactly, and after-hooks see it so", function()
        local r = qemu.run {
            arch = "x86_64", guest = "calls", args = { "wide", "1" },
            lua = [[
                luahook.on("getppid", function() return 0x7ffffffffffffff1LL end)
                luahook.after("getppid", function(sc, ret) print(tostring(ret)) end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.matches("^wide 1 = 9223372036854775793\n", r.stdout)
        assert.are.equal("9223372036854775793LL\n", r.stderr)
    end)

    it("accepts a number, a list and \"*\" as the syscall selector", function()
        local r = qemu.run {
            guest = "results",
            lua = [[
                local lh = luahook
                local seen = {}
                lh.on(lh.nr("getpid"), function(sc) seen[#seen + 1] = "nr:" .. sc.name end)
                lh.on({ "write", "close" }, function(sc) seen[#seen + 1] = "list:" .. sc.name end)
                local all = 0
                lh.on("*", function(sc) all = all + 1 end)
                lh.on_exit(function() print(table.concat(seen, " "), all > 10) end)
            ]],
        }
        assert.matches("nr:getpid list:write list:close list:write\ttrue\n", r.stderr, 1, true)
    end)

    it("runs hooks in registration order until one returns a result", function()
        local r = qemu.run {
            guest = "getpid",
            lua = [[
                luahook.on("getpid", function() print("first") end)
                luahook.on("getpid", function() print("second"); return 7 end)
                luahook.on("getpid", function() print("third") end)
            ]],
        }
        assert.are.equal("pid=7\n", r.stdout)
        assert.are.equal("first\nsecond\n", r.stderr)
    end)

    it("is removed by luahook.off", function()
        local r = qemu.run {
            guest = "getpid",
            lua = [[
                local h = luahook.on("getpid", function() return 1 end)
                luahook.on("getpid", function() return 2 end)
                assert(luahook.off(h) == true and luahook.off(h) == false)
            ]],
        }
        assert.are.equal("pid=2\n", r.stdout)
    end)

    it("is listed by luahook.hooks, oldest first, with its function and site, until removed", function()
        local r = qemu.run {
            guest = "getpid",
            lua = [[
                local function first() end
                local a = luahook.on("getpid", first)
                local b = luahook.on_exit(function() end)
                local list = luahook.hooks()
                print(#list, list[1] == a, list[2] == b, list[1].fn == first,
                      (list[1].site:match(":%d+$")) ~= nil)
                luahook.off(a)
                print(#luahook.hooks(), luahook.hooks()[1] == b, #list)
            ]],
        }
        assert.are.equal("2\ttrue\ttrue\ttrue\ttrue\n1\ttrue\t2\n", r.stderr)
    end)

    it("is the only way into Lua: unwanted syscalls never enter it", function()
        local r = qemu.run {
            guest = "results",
            lua = [[
                luahook.on("getpid", function() end)
                luahook.after("close", function() end)
                luahook.on_exit(function()
                    local s = luahook.stats()
                    print(s.entries, s.returns)
                end)
            ]],
        }
        -- getpid's entry; close's return alone (its arguments came with it)
        assert.are.equal("1\t1\n", r.stderr)
    end)

    it("changes nothing when every hook declines", function()
        local out1, out2 = qemu.tmppath(), qemu.tmppath()
        local bare = qemu.run { guest = "fileio", args = { out1 }, plugin = false }
        local hooked = qemu.run {
            guest = "fileio", args = { out2 },
            lua = [[
                luahook.on("*", function(sc) local _ = sc:string(1) end)
                luahook.after("*", function(sc, ret) end)
            ]],
        }
        assert.are.equal(0, bare.status)
        assert.are.equal(0, hooked.status)
        assert.matches("same=1", bare.stdout)
        assert.are.equal(bare.stdout, hooked.stdout)
        assert.are.equal("", hooked.stderr)
        os.remove(out1); os.remove(out2)
    end)

    it("gets plugin arguments that are not luahook's own as luahook.args", function()
        local r = qemu.run {
            guest = "getpid", plugin_args = { "pid=99", "note=a b" },
            lua = [[
                local lh = require "luahook"
                lh.on("getpid", function() return tonumber(lh.args.pid) end)
                print(lh.args.note, lh.args.script)
            ]],
        }
        assert.are.equal("pid=99\n", r.stdout)
        assert.are.equal("a b\tnil\n", r.stderr)
    end)

    it("prints to luahook's output, never to the guest's stdout", function()
        local r = qemu.run {
            guest = "getpid",
            lua = [[luahook.on("getpid", function() print("hooked"); luahook.printf("%d\n", 5) end)]],
        }
        assert.matches("^pid=%d+\n$", r.stdout)
        assert.are.equal("hooked\n5\n", r.stderr)
    end)
end)

describe("a hook on a number no syscall has (a hypercall)", function()
    -- not arm and mips: their QEMU answers numbers outside their tables
    -- itself (SIGILL for arm's private range, ENOSYS on mips o32), as their
    -- kernels do, before any plugin sees the call
    for _, arch in ipairs({ "i386", "x86_64", "aarch64", "riscv64" }) do
        it("answers it, from 4096 up and below 0, and \"*\" sees them all, on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "calls", args = { "nr:4096", "1", "nr:-1", "1", "nr:70000", "1", "getppid", "1" },
                lua = [[
                    luahook.on(4096, function(sc) return 4096 + sc.args[1] + sc.args[2] + sc.args[3] end)
                    luahook.on(2^32 - 1, function(sc) return -7 end)
                    luahook.after("*", function(sc, ret)
                        if sc.nr >= 4096 or sc.nr < 0 then print(sc.name, ret) end
                    end)
                ]],
            }
            assert.are.equal(0, r.status)
            assert.matches("^nr:4096 1 = 4102\nnr:%-1 1 = %-7\nnr:70000 1 = %-38\ngetppid 1 = %d+\n", r.stdout)
            assert.are.equal("syscall_4096\t4102\nsyscall_-1\t-7\nsyscall_70000\t-38\n", r.stderr)
        end)
    end
end)

describe("an after-hook", function()
    for _, arch in ipairs(qemu.arch_names()) do
        it("sees the real results the guest sees on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "results",
                lua = [[
                    local seen = {}
                    luahook.after({ "getpid", "write", "openat", "close" }, function(sc, ret)
                        seen[#seen + 1] = sc.name .. "=" .. ret
                    end)
                    luahook.on_exit(function() print(table.concat(seen, " ")) end)
                ]],
            }
            assert.are.equal(0, r.status)
            local pid, w, o, c = r.stdout:match("getpid=(%-?%d+) write=(%-?%d+) openat=(%-?%d+) close=(%-?%d+)")
            assert.is_not_nil(pid)
            assert.are.equal("6", w)
            assert.are.equal("-2", o)
            assert.are.equal("-9", c)
            -- the guest's own writes also pass through write(): find ours in order
            assert.matches("getpid=" .. pid .. " write=6 openat=%-2 close=%-9 ", r.stderr)
        end)
    end

    it("sees a result an entry hook returned, with the same sc", function()
        local r = qemu.run {
            guest = "getpid",
            lua = [[
                luahook.on("getpid", function(sc) sc.mark = "from entry"; return 31337 end)
                luahook.after("getpid", function(sc, ret) print(sc.mark, ret) end)
            ]],
        }
        assert.are.equal("pid=31337\n", r.stdout)
        assert.are.equal("from entry\t31337\n", r.stderr)
    end)

    it("sees none of the fields hooks added to the thread's previous call", function()
        local r = qemu.run {
            guest = "opener", args = { "/etc/passwd", "/etc/hostname" },
            lua = [[
                local calls, stale = 0, 0
                luahook.on("*", function(sc)
                    calls = calls + 1
                    if rawget(sc, "mark") ~= nil or rawget(sc, "pc") ~= nil then
                        stale = stale + 1
                    end
                    sc.mark = sc.name
                    local _ = sc.pc
                end)
                luahook.after("*", function(sc)
                    if sc.mark ~= sc.name then stale = stale + 1 end
                end)
                luahook.on_exit(function() print(calls > 10, stale) end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.are.equal("true\t0\n", r.stderr)
    end)

    it("gets a decoded call without the previous call's arguments or fields", function()
        local r = qemu.run {
            guest = "opener", args = { "/etc/passwd" },
            lua = [[
                local decoder = require("luahook.decode").new()
                local stale = 0
                luahook.on("*", function(sc)
                    local call = decoder:enter(sc)
                    if rawget(call, "mine") ~= nil then stale = stale + 1 end
                    call.mine = true
                    if sc.name == "close" then
                        print(call.name .. "(" .. table.concat(call, ", ") .. ")", #call)
                    end
                end)
                luahook.on_exit(function() print("stale", stale) end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.matches("^close%(3%)\t1\n", r.stderr)
        assert.matches("\nstale\t0\n$", r.stderr)
    end)
end)

describe("the guest's program and syscall numbers", function()
    for _, arch in ipairs(qemu.arch_names()) do
        it("are luahook.program()'s host path in a hook and luahook.nr_max's bound on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "getpid",
                lua = [[
                    local below, beyond = 0, 0
                    for nr = 0, luahook.nr_max + 4000 do
                        if luahook.nr(luahook.name(nr)) then
                            if nr < luahook.nr_max then below = below + 1 else beyond = beyond + 1 end
                        end
                    end
                    print("bound", below > 200, beyond == 0)
                    print("outside", luahook.program())
                    luahook.on("getpid", function()
                        local program = luahook.program()
                        print("program", program.path, program.entry > 0, program.start_code > 0)
                    end)
                ]],
            }
            assert.are.equal(0, r.status)
            assert.matches("bound\ttrue\ttrue\n", r.stderr, 1, true)
            assert.matches("outside\tnil\t[^\n]+\n", r.stderr)
            local name = qemu.guest("getpid", arch):match("[^/]+$")
            assert.matches("program\t/[^\t]*/" .. name:gsub("%p", "%%%0") .. "\ttrue\ttrue\n",
                           r.stderr)
        end)
    end
end)

describe("the runtime", function()
    it("keeps its own globals: a script that assigns type, math, string ... breaks none of it", function()
        local r = qemu.run {
            guest = "results",
            lua = [[
                local lh = luahook
                local on, after, on_exit, printf, format_call = lh.on, lh.after, lh.on_exit, lh.printf, lh.format_call
                type, math, ipairs, pairs, string, tostring, tonumber, table, select, next = nil
                rawget, rawset, setmetatable, getmetatable, error, pcall, xpcall, unpack, require, debug = nil
                print = nil
                on("getpid", function(sc) return 7 end)
                on("openat", function(sc) local bad = nil; return bad.x end)
                after({ "write", "close" }, function(sc, ret) printf("%s\n", format_call(sc, ret)) end)
                on_exit(function() printf("exit hook ran\n") end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.matches("^hello\ngetpid=7 write=6 openat=%-2 close=%-9\n$", r.stdout)
        assert.matches('write(1, "hello\\n", 6) = 6\n', r.stderr, 1, true)
        assert.matches(":7 failed on openat: [^\n]*attempt to index local 'bad'", r.stderr)
        assert.matches("close(-1) = -1 EBADF (Bad file descriptor)\n", r.stderr, 1, true)
        assert.matches("exit hook ran\n$", r.stderr)
    end)
end)

describe("require in a hook", function()
    -- a directory the guest runs in, holding Lua the guest could have planted,
    -- and beside it the script's own directory with its helper module
    local function tree()
        local root = qemu.tmppath()
        os.execute("mkdir -p " .. root .. "/scripts " .. root .. "/guest")
        qemu.write_file(root .. "/scripts/helper.lua", 'return "the script\'s helper"\n')
        qemu.write_file(root .. "/guest/helper.lua", 'return "planted helper"\n')
        qemu.write_file(root .. "/guest/planted.lua", 'return "planted"\n')
        qemu.write_file(root .. "/scripts/s.lua", [[
            luahook.on("getpid", function()
                print(require("helper"), (pcall(require, "planted")))
            end)
        ]])
        return root
    end
    local here = os.getenv("PWD")

    for _, arch in ipairs(qemu.arch_names()) do
        it("finds the script's modules, never the guest's current directory's, on " .. arch, function()
            local root = tree()
            local out, status = qemu.sh(string.format(
                "cd %s/guest && %s/%s/qemu/bin/qemu-%s -plugin %s/%s,script=../scripts/s.lua %s/%s",
                root, here, qemu.build, arch, here, qemu.plugin, here, qemu.guest("getpid", arch)))
            os.execute("rm -rf " .. root)
            assert.are.equal(0, status)
            assert.matches("the script's helper\tfalse\n", out, 1, true)
        end)
    end

    it("finds the modules beside each script the luahook command runs", function()
        local root = tree()
        qemu.write_file(root .. "/scripts/t.lua", "")
        local out, status = qemu.sh(string.format(
            "cd %s/guest && %s/%s/cmd/luahook -s ../scripts/t.lua -s ../scripts/s.lua %s/%s",
            root, here, qemu.build, here, qemu.guest("getpid")))
        os.execute("rm -rf " .. root)
        assert.are.equal(0, status)
        assert.matches("the script's helper\tfalse\n", out, 1, true)
    end)
end)

describe("an after-hook on a call no entry hook selects", function()
    -- the guest "results" under `hooks`; how often Lua was entered comes last
    local function run_counted(hooks)
        return qemu.run { guest = "results", lua = hooks .. [[
            luahook.on_exit(function()
                local s = luahook.stats()
                print(s.entries, s.returns)
            end)
        ]] }
    end

    it("brings the call to Lua once, at its return, with its arguments and memory", function()
        local r = run_counted [[
            luahook.after({ "write", "openat", "close" }, function(sc, ret)
                print(sc.name, sc.nr == luahook.nr(sc.name), sc.tid > 0, sc:int(1),
                      sc.name == "write" and sc:bytes(2, sc.args[3])
                      or sc.name == "openat" and sc:string(2) or "-", ret)
            end)
        ]]
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("write\ttrue\ttrue\t1\thello\n\t6\n"
                         .. "openat\ttrue\ttrue\t-100\t/nonexistent/luahook\t-2\n"
                         .. "close\ttrue\ttrue\t-1\t-\t-9\n"
                         .. "write\ttrue\ttrue\t1\tgetpid=N write=6 openat=-2 close=-9\n\tLEN\n"
                         .. "0\t4\n",
                         (r.stderr:gsub("getpid=%d+", "getpid=N"):gsub("\t%d+\n0\t4\n$", "\tLEN\n0\t4\n")))
    end)

    it("sees the object an entry hook made when another hook selects the entry", function()
        local r = run_counted [[
            luahook.on("close", function(sc) sc.note = "from entry" end)
            luahook.after({ "close", "getpid" }, function(sc, ret)
                print(sc.name, sc.note)
            end)
        ]]
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("getpid\tnil\nclose\tfrom entry\n1\t2\n", r.stderr)
    end)

    for _, arch in ipairs({ "i386", "x86_64", "aarch64" }) do
        it("counts the restarts of a call QEMU restarts after a signal handler, on " .. arch, function()
            -- read waits 600 ms for its byte while SIGALRM (SA_RESTART) interrupts
            -- it every 150 ms, and the handler calls getppid, hooked too
            local r = qemu.run {
                arch = arch, guest = "restart",
                lua = [[
                    local handler_calls = 0
                    luahook.after("getppid", function() handler_calls = handler_calls + 1 end)
                    luahook.after("read", function(sc, ret)
                        if ret == 1 then print(sc.restarted, sc.args[3], handler_calls > 0) end
                    end)
                    luahook.on_exit(function() print(luahook.stats().entries) end)
                ]],
            }
            assert.are.equal(0, r.status, r.stderr)
            local alarms = tonumber(r.stdout:match("^read 1 after (%d+) alarms\n$"))
            assert.is_true(alarms and alarms >= 1, r.stdout)
            local restarted = tonumber(r.stderr:match("^(%d+)\t1\ttrue\n0\n$"))
            assert.is_true(restarted and restarted >= 1, r.stderr)
        end)
    end
end)

describe("an entry hook with on_error", function()
    it("answers the call with it when the hook fails or gives no valid answer, reported once", function()
        local r = qemu.run {
            guest = "results",
            lua = [[
                luahook.on("getpid", function() error("broken") end, { on_error = 7 })
                luahook.on("openat", function() return 0/0 end, { on_error = -luahook.errno.EACCES })
                luahook.on("close", function() error("broken") end)
            ]],
        }
        assert.are.equal(0, r.status, r.stderr)
        -- close's hook has no on_error: the call ran (EBADF)
        assert.are.equal("hello\ngetpid=7 write=6 openat=-13 close=-9\n", r.stdout)
        local _, reports = r.stderr:gsub("failed on", "")
        assert.are.equal(3, reports, r.stderr)
        assert.matches("failed on getpid: [^\n]*broken", r.stderr)
    end)

    it("refuses options it does not know, or an on_error that is no answer, before the guest runs", function()
        for _, case in ipairs({
            { "{ on_eror = 1 }", "on%(%): unknown option 'on_eror' %(known: on_error%)" },
            { "{ on_error = 1.5 }", "on%(%): on_error: " },
            { "'EPERM'", "on%(%): options must be a table, got string" },
        }) do
            local r = qemu.run { guest = "getpid", lua = "luahook.on('getpid', function() end, "
                                                         .. case[1] .. ")" }
            assert.are_not.equal(0, r.status)
            assert.are.equal("", r.stdout)
            assert.matches(case[2], r.stderr)
        end
    end)
end)
