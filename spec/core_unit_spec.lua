-- The core without QEMU: build/fake_guest (spec/fake/fake_guest.c) stands
-- in for plugin/, feeding syscall events to the core over a fake guest (64
-- KiB of memory at 0x10000, a register file). Each run takes milliseconds
-- and nothing in it depends on timing.
local qemu = require "helpers.qemu"

local FAKE = qemu.build .. "/fake_guest"

-- Runs `source` as the script over the events (a list of lines); returns
-- { stdout (the core's answers), stderr (luahook's stream), status }.
local function fake(arch, source, events, args)
    local script, input = qemu.script(source), qemu.tmppath()
    local out, err = qemu.tmppath(), qemu.tmppath()
    qemu.write_file(input, table.concat(events, "\n") .. "\n")
    local words = { qemu.quote(FAKE), arch, qemu.quote(script) }
    for _, a in ipairs(args or {}) do words[#words + 1] = qemu.quote(a) end
    local _, status = qemu.sh(string.format("%s <%s >%s 2>%s", table.concat(words, " "),
                                            input, out, err))
    local r = { stdout = qemu.slurp(out), stderr = qemu.slurp(err), status = status }
    for _, path in ipairs({ script, input, out, err }) do os.remove(path) end
    return r
end

-- getpid, getppid and write by architecture
local NR = { i386 = { getpid = 20, getppid = 64, write = 4, openat = 295 },
             x86_64 = { getpid = 39, getppid = 110, write = 1, openat = 257 } }

for _, arch in ipairs({ "i386", "x86_64" }) do
    local nr = NR[arch]
    describe("the core over a fake guest on " .. arch, function()
        it("gives QEMU a hook's answer, and lets a call its hooks decline run", function()
            local r = fake(arch, [[
                local lh = require "luahook"
                lh.on("getpid", function() return 4242 end)
                lh.on("getppid", function() end)
            ]], { "entry " .. nr.getpid, "entry " .. nr.getppid, "entry " .. nr.write })
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("answer 4242\nrun\nunwanted\n", r.stdout)
        end)

        it("asks for returns only once an after-hook wants them, and hands them the result",
           function()
            local r = fake(arch, [[
                local lh = require "luahook"
                lh.on("getpid", function() end)
                lh.after("openat", function(sc, ret) print("openat", ret, (sc:string(2))) end)
            ]], { "entry " .. nr.getpid, "poke 0x10000 /etc/motd",
                  "entry " .. nr.openat .. " -100 0x10000 0", "return " .. nr.openat .. " 3" })
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("watching returns\nrun\nrun\n", r.stdout)
            assert.are.equal("openat\t3\t/etc/motd\n", r.stderr)
        end)

        it("never asks for returns when no hook wants one", function()
            local r = fake(arch, [[require("luahook").on("getpid", function() return 1 end)]],
                           { "entry " .. nr.getpid })
            assert.are.equal("answer 1\n", r.stdout)
        end)

        it("runs the hooks in order, the first answer winning", function()
            local r = fake(arch, [[
                local lh = require "luahook"
                lh.on("getpid", function() print("first") end)
                lh.on("getpid", function() print("second"); return 7 end)
                lh.on("getpid", function() print("third") end)
            ]], { "entry " .. nr.getpid })
            assert.are.equal("answer 7\n", r.stdout)
            assert.are.equal("first\nsecond\n", r.stderr)
        end)

        it("reads and writes the guest's memory and registers through the guest ops", function()
            local reg = arch == "i386" and "ebx" or "rdi"
            local r = fake(arch, [[
                local lh = require "luahook"
                lh.on("write", function(sc)
                    print((sc:string(2)))
                    lh.mem.write(sc.args[2], "HE")
                    lh.regs.]] .. reg .. [[ = 0x1234
                    print(lh.mem.read(0x5, 4))
                end)
            ]], { "poke 0x10100 hello", "entry " .. nr.write .. " 1 0x10100 5", "peek 0x10100 5",
                  "reg " .. reg })
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("run\npeek HEllo\nreg " .. reg .. " 1234\n", r.stdout)
            assert.are.equal("hello\nnil\tcannot read 4 bytes at 0x5: not mapped\n", r.stderr)
        end)

        it("reports a failing hook once, goes on with the next, lets the call run, and counts "
           .. "the repeats at exit", function()
            local r = fake(arch, [[
                local lh = require "luahook"
                lh.on("getpid", function() error("boom") end)
                lh.on("getpid", function() print("second ran") end)
            ]], { "entry " .. nr.getpid, "entry " .. nr.getpid })
            assert.are.equal(0, r.status)
            assert.are.equal("run\nrun\n", r.stdout)
            local _, failures = r.stderr:gsub("failed on getpid: [^\n]*boom", "")
            assert.are.equal(1, failures)
            assert.matches("\nsecond ran\nsecond ran\nluahook: hook registered at [^\n]*:2 failed 1 "
                           .. "more time\n$", r.stderr)
        end)

        it("stops at the first failing hook under onerror=abort", function()
            local r = fake(arch, [[require("luahook").on("getpid", function() error("boom") end)]],
                           { "entry " .. nr.getpid, "entry " .. nr.getpid }, { "onerror=abort" })
            assert.are.equal(1, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("luahook: stopping QEMU because a hook failed %(onerror=abort%)\n$",
                           r.stderr)
        end)

        it("runs exit hooks when QEMU exits", function()
            local r = fake(arch, [[require("luahook").on_exit(function() print("bye") end)]], {})
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("bye\n", r.stderr)
        end)

        it("keeps exit hooks in the one registry: in order, and removed with lh.off", function()
            local r = fake(arch, [[
                local lh = require "luahook"
                lh.on_exit(function(how) print("first", how) end)
                local h = lh.on_exit(function() print("removed") end)
                lh.on_exec(function() print("not an exec") end)
                lh.on_exit(function() print("last") end)
                lh.on("getpid", function() print(lh.off(h), lh.off(h)) end)
            ]], { "entry " .. nr.getpid })
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("true\tfalse\nfirst\texit\nlast\n", r.stderr)
        end)

        it("refuses a script that does not compile, with one line, before any event", function()
            local r = fake(arch, "x = ", { "entry " .. nr.getpid })
            assert.are.equal(1, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("^luahook: [^\n]*unexpected symbol near '<eof>'\n$", r.stderr)
        end)
    end)
end
