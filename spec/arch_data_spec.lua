-- Each guest architecture's generated data module (build/tools/arch_ARCH.lua,
-- tools/gen_arch.lua) against independent readings, run on the architecture
-- itself under its bare reference QEMU: the uapi guest prints every value as
-- the architecture's C compiler computes it from the same kernel headers,
-- and some names as glibc's own headers define them; and numbers known to
-- differ between architectures are checked one by one.
local qemu = require "helpers.qemu"

local function data_of(arch)
    return dofile(qemu.build .. "/tools/arch_" .. arch .. ".lua")
end

-- name -> value of everything in a data module, by the macro's own name
-- (__NR_openat, ENOSYS, SIGUSR1, O_DIRECTORY, ...)
local function by_macro(data)
    local values = {}
    for nr, name in pairs(data.syscalls) do values["__NR_" .. name] = nr end
    for name, nr in pairs(data.syscall_aliases) do values["__NR_" .. name] = nr end
    for _, list in ipairs({ data.errno, data.signals }) do
        for _, e in ipairs(list) do values[e[1]] = e[2] end
    end
    for name, v in pairs(data.constants) do values[name] = v end
    return values
end

-- A value as the uapi guest prints it: the exact integer, in decimal.
local function text(v)
    if type(v) == "number" then return string.format("%d", v) end
    return (tostring(v):gsub("U?LL$", ""))
end

-- The uapi guest's lines under bare qemu-ARCH: { uapi = {NAME = "V"}, libc = {...} }.
local function printed(arch)
    local r = qemu.run { arch = arch, guest = "uapi", plugin = false }
    assert.are.equal(0, r.status, r.stderr)
    local out = { uapi = {}, libc = {} }
    for line in r.stdout:gmatch("[^\n]+") do
        local name, v = line:match("^libc (%S+) (%S+)$")
        if name then
            out.libc[name] = v
        else
            name, v = line:match("^(%S+) (%S+)$")
            out.uapi[name] = v
        end
    end
    return out
end

-- Values that differ between architectures, from each architecture's own
-- kernel documentation and ABI (not from the generated data).
local known = {
    __NR_openat = { i386 = 295, x86_64 = 257, aarch64 = 56, arm = 322, riscv64 = 56,
                    mips = 4288, mipsel = 4288 },
    __NR_getppid = { i386 = 64, x86_64 = 110, aarch64 = 173, arm = 64, riscv64 = 173,
                     mips = 4064, mipsel = 4064 },
    ENOSYS = { i386 = 38, x86_64 = 38, aarch64 = 38, arm = 38, riscv64 = 38, mips = 89, mipsel = 89 },
    EAGAIN = { i386 = 11, x86_64 = 11, aarch64 = 11, arm = 11, riscv64 = 11, mips = 11, mipsel = 11 },
    ENOTEMPTY = { i386 = 39, x86_64 = 39, aarch64 = 39, arm = 39, riscv64 = 39, mips = 93, mipsel = 93 },
    SIGUSR1 = { i386 = 10, x86_64 = 10, aarch64 = 10, arm = 10, riscv64 = 10, mips = 16, mipsel = 16 },
    SIGCHLD = { i386 = 17, x86_64 = 17, aarch64 = 17, arm = 17, riscv64 = 17, mips = 18, mipsel = 18 },
    O_DIRECTORY = { i386 = 65536, x86_64 = 65536, aarch64 = 16384, arm = 16384, riscv64 = 65536,
                    mips = 65536, mipsel = 65536 },
    O_NONBLOCK = { i386 = 2048, x86_64 = 2048, aarch64 = 2048, arm = 2048, riscv64 = 2048,
                   mips = 128, mipsel = 128 },
    MAP_ANONYMOUS = { i386 = 0x20, x86_64 = 0x20, aarch64 = 0x20, arm = 0x20, riscv64 = 0x20,
                      mips = 0x800, mipsel = 0x800 },
    SOL_SOCKET = { i386 = 1, x86_64 = 1, aarch64 = 1, arm = 1, riscv64 = 1,
                   mips = 0xffff, mipsel = 0xffff },
    RLIMIT_NOFILE = { i386 = 7, x86_64 = 7, aarch64 = 7, arm = 7, riscv64 = 7, mips = 5, mipsel = 5 },
}

for _, a in ipairs(qemu.arches()) do
    local arch = a.qemu
    describe("build/tools/arch_" .. arch .. ".lua", function()
        local data, values, out

        setup(function()
            data = data_of(arch)
            values = by_macro(data)
            out = printed(arch)
        end)

        it("holds every syscall, errno, signal and constant as " .. a.triplet
           .. "-gcc computes it, run under qemu-" .. arch, function()
            local missing, wrong, count = {}, {}, 0
            for name, v in pairs(values) do
                count = count + 1
                if out.uapi[name] == nil then
                    missing[#missing + 1] = name
                elseif out.uapi[name] ~= text(v) then
                    wrong[#wrong + 1] = name .. "=" .. text(v) .. " (compiler: " .. out.uapi[name] .. ")"
                end
            end
            assert.are.same({}, missing)
            assert.are.same({}, wrong)
            local printed_count = 0
            for _ in pairs(out.uapi) do printed_count = printed_count + 1 end
            assert.are.equal(count, printed_count)
        end)

        it("agrees with glibc's own definitions for " .. arch, function()
            local compared = 0
            for name, v in pairs(out.libc) do
                local macro = name:gsub("^SYS_", "__NR_")
                assert.are.equal(v, values[macro] and text(values[macro]), name)
                compared = compared + 1
            end
            assert.is_true(compared >= 40, "only " .. compared .. " glibc names printed")
        end)

        it("has the numbers that differ between architectures right for " .. arch, function()
            for name, by_arch in pairs(known) do
                assert.are.equal(by_arch[arch], values[name], name)
            end
        end)

        it("lists a whole syscall table, errno list and signal list for " .. arch, function()
            local syscalls = 0
            for _ in pairs(data.syscalls) do syscalls = syscalls + 1 end
            assert.is_true(syscalls > 250, syscalls .. " syscalls")
            assert.is_true(#data.errno > 120, #data.errno .. " errno names")
            assert.are.equal("EPERM", data.errno[1][1])
            assert.are.equal("SIGHUP", data.signals[1][1])
            -- every signal from 1 to 31 has a name
            local numbers = {}
            for _, s in ipairs(data.signals) do numbers[s[2]] = true end
            for n = 1, 31 do assert.is_true(numbers[n] ~= nil, "signal " .. n) end
        end)
    end)
end

describe("the data modules' special cases", function()
    it("name arm's syscall 341 arm_sync_file_range, with sync_file_range2 an alias", function()
        local arm = data_of("arm")
        assert.are.equal("arm_sync_file_range", arm.syscalls[341])
        assert.are.equal(341, arm.syscall_aliases.sync_file_range2)
    end)

    it("keep bases and counts out of the syscall tables (__NR_Linux, __NR_syscalls)", function()
        local mips, aarch64 = data_of("mips"), data_of("aarch64")
        assert.are.equal("syscall", mips.syscalls[4000])
        for _, data in ipairs({ mips, aarch64, data_of("arm") }) do
            for _, name in pairs(data.syscalls) do
                assert.is_nil(name:match("^Linux") or name:match("BASE$") or name:match("^syscalls$"), name)
            end
        end
    end)

    it("give an unsigned long its width: RLIM_INFINITY is 2^32-1 on arm, 2^64-1 on aarch64", function()
        assert.are.equal(4294967295, data_of("arm").constants.RLIM_INFINITY)
        assert.are.equal(0xffffffffffffffffULL, data_of("aarch64").constants.RLIM_INFINITY)
        assert.are.equal(0x7fffffff, data_of("mips").constants.RLIM_INFINITY)
    end)
end)
