-- Bad input: one clear line and a non-zero exit before the guest runs; a
-- failing hook is reported and the guest carries on (or QEMU stops, with
-- onerror=abort).
local qemu = require "helpers.qemu"

-- Runs the fileio guest, whose first act is to create a file: if the file
-- is missing afterwards, the guest never ran.
local function run_refused(opts)
    local marker = qemu.tmppath()
    opts.guest, opts.args = "fileio", { marker }
    local r = qemu.run(opts)
    local f = io.open(marker)
    r.guest_ran = f ~= nil
    if f then f:close(); os.remove(marker) end
    return r
end

local function assert_refused(r, message)
    assert.are_not.equal(0, r.status)
    assert.is_false(r.guest_ran)
    assert.are.equal("", r.stdout)
    assert.are.equal(1, #qemu.lines(r.stderr), "expected one line, got:\n" .. r.stderr)
    assert.matches(message, r.stderr, 1, true)
end

describe("bad input", function()
    it("stops before the guest when script= is missing", function()
        assert_refused(run_refused {}, "luahook: no script given; use -plugin luahook.so,script=FILE.lua (or break=SYSCALL)")
    end)

    it("stops before the guest when the script cannot be read", function()
        assert_refused(run_refused { script = "/nonexistent/trace.lua" },
                       "luahook: cannot open /nonexistent/trace.lua")
    end)

    -- `message` follows "luahook: SCRIPT_PATH:"
    local function assert_script_refused(source, message)
        local path = qemu.script(source)
        local r = run_refused { script = path }
        os.remove(path)
        assert_refused(r, "luahook: " .. path .. ":" .. message)
    end

    it("shows a syntax error as file:line: message", function()
        assert_script_refused('local lh = require "luahook"\nlh.on("getpid" function() end)\n',
                              "2: ')' expected near 'function'")
    end)

    it("names the line of an unknown syscall and suggests the right one", function()
        assert_script_refused('local lh = require "luahook"\n\nlh.on("opnat", function() end)\n',
                              "3: on(): unknown syscall 'opnat' for i386 (did you mean 'openat'?)")
    end)

    it("rejects a hook that is not callable", function()
        assert_refused(run_refused { lua = 'luahook.after("read", 42)' },
                       "after(): the hook must be a function, got number")
    end)

    it("rejects a syscall number out of range", function()
        assert_refused(run_refused { lua = 'luahook.on(2^32, function() end)' },
                       "on(): syscall number 4294967296 is out of range (-2^31..2^32-1)")
    end)

    it("stops before the guest when the script unloads the module its hooks are kept in", function()
        -- the hooks are settled once the script has loaded, from package.loaded
        assert_refused(run_refused { lua = 'luahook.on("getpid", function() return 5 end)\n'
                                           .. 'package.loaded["luahook._core.hooks"] = nil' },
                       "luahook: cannot register the script's hooks: the script unloaded "
                       .. "luahook._core.hooks")
    end)

    it("reports an error the script raises while loading", function()
        assert_refused(run_refused { lua = 'error("no config here")' }, "no config here")
    end)

    it("rejects an unknown onerror= value", function()
        assert_refused(run_refused { lua = "", plugin_args = { "onerror=maybe" } },
                       "luahook: onerror=maybe: expected onerror=report or onerror=abort")
    end)

    it("rejects script= given twice", function()
        assert_refused(run_refused { lua = "", plugin_args = { "script=/tmp/other.lua" } },
                       "script= given twice")
    end)
end)

describe("a hook that fails at run time", function()
    local failing = [[
        luahook.on("getpid", function(sc) error("getpid hook broke") end)
        luahook.after("write", function(sc, ret) local t = nil; return t.field end)
    ]]

    it("prints its traceback once, declines, and the guest runs on", function()
        local r = qemu.run { guest = "results", lua = failing }
        assert.are.equal(0, r.status)
        assert.matches("^hello\ngetpid=%d+ write=6 openat=%-2 close=%-9\n$", r.stdout)
        local _, reports = r.stderr:gsub("getpid hook broke", "")
        assert.are.equal(1, reports)
        assert.matches("hook registered at [^\n]*:1 failed on getpid: [^\n]*getpid hook broke\nstack traceback:", r.stderr)
        assert.matches("attempt to index local 't'", r.stderr, 1, true)
    end)

    it("leaves the hooks after it to run, at entry and after the call", function()
        local r = qemu.run {
            guest = "getpid",
            lua = [[
                local seen = {}
                luahook.on("getpid", function() error("first entry hook broke") end)
                luahook.on("getpid", function() seen[#seen + 1] = "entry" end)
                luahook.on("getpid", function() return 7 end)
                luahook.after("getpid", function() error("first after-hook broke") end)
                luahook.after("getpid", function(sc, ret) seen[#seen + 1] = "after " .. ret end)
                luahook.on_exit(function() print(table.concat(seen, ", ")) end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.are.equal("pid=7\n", r.stdout)
        assert.matches("failed on getpid: [^\n]*first entry hook broke\nstack traceback:\n", r.stderr)
        assert.matches("failed on getpid: [^\n]*first after%-hook broke\nstack traceback:\n", r.stderr)
        assert.matches("\nentry, after 7\n$", r.stderr)
    end)

    it("is reported when it overflows the stack, and the hooks after it run", function()
        local r = qemu.run {
            guest = "getpid",
            lua = [[
                luahook.on("getpid", function()
                    local function deeper() return deeper() + 1 end
                    return deeper()
                end)
                luahook.on("getpid", function() return 99 end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.are.equal("pid=99\n", r.stdout)
        assert.matches("hook registered at [^\n]*:1 failed on getpid: [^\n]*stack overflow", r.stderr)
    end)

    it("at exit is reported with its traceback, and the other exit hooks run", function()
        local r = qemu.run {
            guest = "getpid",
            lua = [[
                luahook.on_exit(function() error("exit hook broke") end)
                luahook.on_exit(function() print("second exit hook ran") end)
            ]],
        }
        assert.are.equal(0, r.status)
        assert.matches("exit hook failed: [^\n]*:1: exit hook broke\nstack traceback:\n"
                       .. "\t%[C%]: in function 'error'\n\t[^\n]*:1: in function <[^\n]*:1>\n"
                       .. "second exit hook ran\n", r.stderr)
    end)

    it("is counted at exit after its first report", function()
        local r = qemu.run { guest = "results", lua = failing }
        -- results writes twice: the first failure is shown, the other counted
        assert.matches("hook registered at [^\n]*:2 failed 1 more time\n", r.stderr)
    end)

    it("reports a result that is not an integer", function()
        local r = qemu.run { guest = "getpid", lua = [[luahook.on("getpid", function() return "7" end)]] }
        assert.are.equal(0, r.status)
        assert.matches("^pid=%d+\n$", r.stdout)
        assert.are_not.equal("pid=7\n", r.stdout)
        assert.matches("failed on getpid: returned a string; return an integer result", r.stderr, 1, true)
    end)

    it("stops QEMU with onerror=abort", function()
        local r = qemu.run { guest = "results", lua = failing, plugin_args = { "onerror=abort" } }
        assert.are_not.equal(0, r.status)
        assert.are.equal("", r.stdout)
        assert.matches("getpid hook broke", r.stderr, 1, true)
        assert.matches("luahook: stopping QEMU because a hook failed %(onerror=abort%)\n$", r.stderr)
    end)
end)

describe("a hook's answer", function()
    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("is refused when it is NaN, 1e300 or a complex FFI number, with the hook named, on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "getpid", wrap = "timeout 20",
                lua = [[
                    local ffi = require "ffi"
                    luahook.on("getpid", function() return ffi.new("double", 0/0) end)
                    luahook.on("getpid", function() return ffi.new("double", 1e300) end)
                    luahook.on("getpid", function() return ffi.new("complex", 7, 1) end)
                ]],
            }
            assert.are.equal(0, r.status)
            assert.matches("^pid=%d+\n$", r.stdout)
            assert.are_not.equal("pid=0\n", r.stdout)
            assert.are_not.equal("pid=7\n", r.stdout)
            assert.matches(":2 failed on getpid: returned nan, which is not a 64%-bit integer\n"
                           .. "stack traceback:\n\t[^\n]*:2: in the hook that returned it\n", r.stderr)
            assert.matches(":3 failed on getpid: returned 1e%+300, which is not a 64%-bit integer\n", r.stderr)
            assert.matches(":4 failed on getpid: returned the complex number 7%+1i;", r.stderr)
        end)

        it("is refused when QEMU reserves it (-512 to -514), and the syscall runs, on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "getpid", wrap = "timeout 20",
                lua = [[
                    luahook.on("getpid", function() return -512 end)
                    luahook.on("getpid", function() return -513LL end)
                    luahook.on("getpid", function() return 0xfffffffffffffdfeULL end)
                ]],
            }
            assert.are.equal(0, r.status)
            assert.matches("^pid=%d+\n$", r.stdout)
            assert.matches("failed on getpid: returned %-512, a value QEMU reserves %(QEMU_ERESTARTSYS", r.stderr)
            assert.matches("failed on getpid: returned %-513LL, a value QEMU reserves %(QEMU_ESIGRETURN", r.stderr)
            assert.matches("failed on getpid: returned 18446744073709551102ULL, a value QEMU reserves %(QEMU_ESETPC", r.stderr)
        end)
    end

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("may be lh.AGAIN, which runs the syscall instruction again with the registers as left, on "
           .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "getpid", wrap = "timeout 20",
                lua = [[
                    local entries, again = 0, 0
                    local nr_reg = luahook.arch == "i386" and "eax" or "rax"
                    luahook.on("getpid", function(sc)
                        entries = entries + 1
                        if entries == 1 then return luahook.AGAIN end   -- the same call again
                        if entries == 2 then                            -- another call instead
                            luahook.regs[nr_reg] = luahook.nr("getppid")
                            return luahook.AGAIN
                        end
                    end)
                    luahook.on("getppid", function() again = again + 1 end)
                    luahook.after("getpid", function(sc, ret) print("after getpid", ret) end)
                    luahook.after("getppid", function(sc, ret) print("after getppid", ret) end)
                    luahook.on_exit(function() print("entries", entries, "getppid", again) end)
                ]],
            }
            assert.are.equal(0, r.status)
            local ppid = r.stderr:match("after getppid\t(%d+)\n")
            assert.is_not_nil(ppid, r.stderr)
            assert.are.equal("pid=" .. ppid .. "\n", r.stdout)
            assert.is_nil(r.stderr:find("after getpid", 1, true))
            assert.matches("entries\t2\tgetppid\t1\n", r.stderr)
        end)
    end

    it("is refused on i386 when its low 32 bits are a reserved value", function()
        local r = qemu.run {
            guest = "getpid", wrap = "timeout 20",
            lua = [[luahook.on("getpid", function() return 4294966784 end)]],
        }
        assert.are.equal(0, r.status)
        assert.matches("^pid=%d+\n$", r.stdout)
        assert.matches("returned 4294966784, a value QEMU reserves %(QEMU_ERESTARTSYS", r.stderr)
    end)
end)
