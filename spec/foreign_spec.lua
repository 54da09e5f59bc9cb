-- Every guest architecture's programs under its bare reference QEMU, with
-- no plugin (what the plugin is then compared with; spec/arches_spec.lua
-- and the others run the same programs under it): the spec guests built
-- for it, and real programs nobody here wrote, Debian's busybox-static
-- (build/foreign/busybox.ARCH, tools/foreign-packages.sh) and, for
-- big-endian mips, which no Debian release since 10 builds, glibc's own
-- loader and library from libc6-mips-cross.
local qemu = require "helpers.qemu"

local function bare(arch, program, args)
    return qemu.run { arch = arch, program = program, args = args, plugin = false }
end

-- What uname's machine field says on each architecture.
local machines = { i386 = "i686", x86_64 = "x86_64", aarch64 = "aarch64", arm = "armv7l",
                   riscv64 = "riscv64", mips = "mips", mipsel = "mips" }

-- { guest, arguments, expected status, stdout pattern (anchored) }
local runs = {
    { "getpid", {}, 0, "pid=%d+\n" },
    { "opener", { "/etc/hostname", "/nonexistent" }, 0, "/etc/hostname ok\n/nonexistent errno=2\n" },
    { "results", {}, 0, "hello\ngetpid=%d+ write=6 openat=%-2 close=%-9\n" },
    { "cat", { "tools/guest-arches" }, 0, "# The guest architectures.*mipsel%-linux%-gnu\n" },
    { "threads", { "3", "50" }, 0, "tid %d+\ntid %d+\ntid %d+\nmain %d+\n" },
    { "forker", {}, 0, ".*parent %d+ child %d+ exited 3\n" },
    { "signals", { "exit" }, 0, "handled\n" },
    { "ticker", { "2", "1" }, 0, "ticked 2 times\n" },
    { "calls", { "getppid", "2" }, 0, "getppid 1 = %d+\ngetppid 2 = %d+\n.*" },
    { "manycalls", {}, 0, "done\n" },
    { "explainme", {}, 5, "pipe 3 4 copy 1%d pair 5 6 map 0x%x+\n" },
    { "exitwith", { "3" }, 3, "" },
    { "exitwith", { "kill", "9" }, 128 + 9, "" },
    { "layouts", {}, 0, ".*\nstat sizeof %d+\n.*\nstat64 sizeof %d+\n.*\nstatx sizeof 256\n.*" },
}

for _, a in ipairs(qemu.arches()) do
    local arch = a.qemu
    describe("the " .. arch .. " spec guests under bare qemu-" .. arch, function()
        for _, run in ipairs(runs) do
            local guest, args, status, pattern = unpack(run)
            it("run " .. guest .. " " .. table.concat(args, " "), function()
                local r = bare(arch, qemu.guest(guest, arch), args)
                assert.are.equal(status, r.status, r.stderr)
                assert.matches("^" .. pattern .. "$", r.stdout)
            end)
        end

        it("run fileio, which writes, reads back and stats a file", function()
            local path = qemu.tmppath()
            local r = bare(arch, qemu.guest("fileio", arch), { path })
            os.remove(path)
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^read 262144 bytes, size 262144, same=1, sum=%d+\n$", r.stdout)
        end)

        it("run memory, whose data prints as on x86_64", function()
            local r = bare(arch, qemu.guest("memory", arch))
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal(bare("x86_64", qemu.guest("memory", "x86_64")).stdout, r.stdout)
        end)

        it("run getpid-dynamic with Debian's cross sysroot, /usr/" .. a.triplet, function()
            local text, status = qemu.sh(qemu.quote(qemu.build .. "/qemu/bin/qemu-" .. arch)
                                         .. " -L /usr/" .. a.triplet .. " "
                                         .. qemu.quote(qemu.guest("getpid-dynamic", arch)))
            assert.are.equal(0, status, text)
            assert.matches("^pid=%d+\n$", text)
        end)

        it("run uname, which says the machine is " .. machines[arch], function()
            local r = bare(arch, qemu.guest("uname", arch))
            assert.are.equal(0, r.status, r.stderr)
            assert.matches(" machine=" .. machines[arch] .. "\n$", r.stdout)
        end)
    end)

    if arch ~= "mips" then
        describe("Debian's busybox-static for " .. arch .. " under bare qemu-" .. arch, function()
            local busybox = qemu.build .. "/foreign/busybox." .. arch

            it("echoes", function()
                local r = bare(arch, busybox, { "echo", "hi" })
                assert.are.equal(0, r.status, r.stderr)
                assert.are.equal("hi\n", r.stdout)
            end)

            it("runs a shell command line, with its exit status", function()
                local r = bare(arch, busybox, { "sh", "-c", "echo $((6 * 7)); exit 3" })
                assert.are.equal(3, r.status, r.stderr)
                assert.are.equal("42\n", r.stdout)
            end)

            it("lists a directory as the host's ls does", function()
                local r = bare(arch, busybox, { "ls", "tools" })
                assert.are.equal(0, r.status, r.stderr)
                assert.are.equal(qemu.sh("LC_ALL=C ls tools"), r.stdout)
            end)
        end)
    end
end

describe("real big-endian mips programs: glibc's from libc6-mips-cross under bare qemu-mips", function()
    local root = "/usr/mips-linux-gnu"

    it("libc.so.6 prints its banner (its loader from the sysroot, -L)", function()
        local text, status = qemu.sh(qemu.build .. "/qemu/bin/qemu-mips -L " .. root .. " "
                                     .. root .. "/lib/libc.so.6")
        assert.are.equal(0, status, text)
        assert.matches("^GNU C Library %(Debian GLIBC [^)]+%) stable release version", text)
    end)

    it("ld.so.1 loads and runs a dynamically linked mips guest", function()
        local r = bare("mips", root .. "/lib/ld.so.1",
                       { "--library-path", root .. "/lib", qemu.guest("getpid-dynamic", "mips") })
        assert.are.equal(0, r.status, r.stderr)
        assert.matches("^pid=%d+\n$", r.stdout)
    end)
end)
