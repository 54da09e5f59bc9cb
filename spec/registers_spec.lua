-- Guest registers from hooks: read by name, written back, sc.pc.
local qemu = require "helpers.qemu"

local NAMES = {
    i386 = { nr = "eax", arg1 = "ebx", kept = "ebx", pc = "eip" },
    x86_64 = { nr = "rax", arg1 = "rdi", kept = "r12", pc = "rip" },
}

for _, arch in ipairs({ "i386", "x86_64" }) do
    local reg = NAMES[arch]

    describe("registers on " .. arch, function()
        it("hold the syscall number and arguments at entry", function()
            local r = qemu.run {
                arch = arch, guest = "results",
                lua = ([[
                    luahook.on("close", function(sc)
                        print(luahook.regs.%s == sc.nr, luahook.regs.%s == sc.args[1])
                    end)
                ]]):format(reg.nr, reg.arg1),
            }
            assert.are.equal("true\ttrue\n", r.stderr)
        end)

        it("are written back and the guest sees the new value", function()
            local r = qemu.run {
                arch = arch, guest = "regs",
                lua = ([[
                    luahook.on("getpid", function(sc)
                        print(luahook.hex(luahook.regs.%s))
                        luahook.regs.%s = 0xbeef
                    end)
                ]]):format(reg.kept, reg.kept),
            }
            assert.are.equal("0x1234\n", r.stderr)
            assert.matches("marker=0xbeef\n", r.stdout)
        end)

        it("give sc.pc, the address after the syscall instruction", function()
            local r = qemu.run {
                arch = arch, guest = "regs",
                lua = [[luahook.on("getpid", function(sc) print(luahook.hex(sc.pc)) end)]],
            }
            local after = r.stdout:match("after=(0x%x+)")
            assert.is_not_nil(after)
            assert.are.equal(after .. "\n", r.stderr)
        end)

        it("are listed by luahook.register_names()", function()
            local r = qemu.run {
                arch = arch, guest = "getpid",
                lua = [[
                    luahook.on("getpid", function()
                        print(table.concat(luahook.register_names(), " "))
                    end)
                ]],
            }
            assert.matches("%f[%w]" .. reg.pc .. "%f[%W]", r.stderr)
            assert.matches("%f[%w]eflags%f[%W]", r.stderr)
        end)

        it("raise a clear error for an unknown name", function()
            local r = qemu.run {
                arch = arch, guest = "getpid",
                lua = [[luahook.on("getpid", function() return luahook.regs.nosuch end)]],
            }
            assert.matches("no register 'nosuch' on " .. arch, r.stderr, 1, true)
            assert.matches("^pid=%d+\n$", r.stdout)
        end)
    end)
end
