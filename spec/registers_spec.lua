-- Guest registers from hooks: read by name (each architecture's own and
-- the portable nr, arg1.., ret, pc, sp), written back, sc.pc.
local qemu = require "helpers.qemu"

-- each architecture's result, syscall number and first argument registers, one
-- the kernel preserves (the regs guest's marker), the program counter and
-- the flags register
local NAMES = {
    i386 = { ret = "eax", nr = "eax", arg1 = "ebx", kept = "ebx", pc = "eip", flags = "eflags" },
    x86_64 = { ret = "rax", nr = "rax", arg1 = "rdi", kept = "r12", pc = "rip", flags = "eflags" },
    aarch64 = { ret = "x0", nr = "x8", arg1 = "x0", kept = "x19", pc = "pc", flags = "cpsr" },
    arm = { ret = "r0", nr = "r7", arg1 = "r0", kept = "r9", pc = "pc", flags = "cpsr" },
    riscv64 = { ret = "a0", nr = "a7", arg1 = "a0", kept = "s2", pc = "pc", flags = "fcsr" },
}

describe("registers on mips and mipsel", function()
    for _, arch in ipairs({ "mips", "mipsel" }) do
        it("are refused with one clear line, as QEMU gives plugins none, on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "getpid",
                lua = [[luahook.on("getpid", function() return luahook.regs.pc end)]],
            }
            assert.matches("no registers on " .. arch .. ": QEMU gives plugins none for this architecture",
                           r.stderr, 1, true)
            assert.matches("^pid=%d+\n$", r.stdout)
        end)
    end
end)

for _, arch in ipairs({ "i386", "x86_64", "aarch64", "arm", "riscv64" }) do
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

        it("answer to the portable names nr, arg1..arg6, ret, pc and sp", function()
            local r = qemu.run {
                arch = arch, guest = "results",
                lua = ([[
                    local regs = luahook.regs
                    luahook.on("close", function(sc)
                        print(regs.nr == sc.nr, regs.arg1 == sc.args[1], regs.arg2 == sc.args[2],
                              regs.arg6 == sc.args[6], regs.pc == regs.%s, regs.pc == sc.pc,
                              regs.sp ~= 0, regs.ret == regs.%s)
                    end)
                ]]):format(reg.pc, reg.ret),
            }
            assert.are.equal("true\ttrue\ttrue\ttrue\ttrue\ttrue\ttrue\ttrue\n", r.stderr)
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
            assert.matches("%f[%w]" .. reg.flags .. "%f[%W]", r.stderr)
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
