-- Hooks on every guest architecture, through its reference QEMU: calls
-- named and numbered by the architecture's own table, answers, results
-- and errno names in its own numbering (mips has ENOSYS 89), string
-- arguments, and real programs nobody here wrote (Debian's busybox).
local qemu = require "helpers.qemu"

local function data_of(arch)
    return dofile(qemu.build .. "/tools/arch_" .. arch .. ".lua")
end

local function errno_of(arch, name)
    for _, e in ipairs(data_of(arch).errno) do
        if e[1] == name then return e[2] end
    end
end

for _, arch in ipairs(qemu.arch_names()) do
    describe("hooks on " .. arch, function()
        it("see each call under its name and number in " .. arch .. "'s own table", function()
            local r = qemu.run {
                arch = arch, guest = "results",
                lua = [[
                    local seen = false
                    luahook.after("*", function(sc, ret)
                        if sc.name == "getpid" then seen = true end
                        if seen then print(sc.nr, sc.name) end
                    end)
                ]],
            }
            assert.are.equal(0, r.status, r.stderr)
            local calls = data_of(arch).syscalls
            local names = {}
            for nr, name in r.stderr:gmatch("(%d+)\t([%w_]+)\n") do
                assert.are.equal(calls[tonumber(nr)], name)
                names[#names + 1] = name
            end
            assert.are.same({ "getpid", "write", "openat", "close" }, { unpack(names, 1, 4) })
        end)

        it("answer a call, which QEMU then skips, and read its string argument", function()
            local r = qemu.run {
                arch = arch, guest = "opener", args = { "/denied", "/nonexistent", "/dev/null" },
                lua = [[
                    luahook.on("%file", function(sc)
                        if sc.name:match("open") and sc:string(sc.name == "openat" and 2 or 1) == "/denied" then
                            return -luahook.errno.ENOSYS
                        end
                    end)
                    luahook.after("%file", function(sc, ret)
                        if sc.name:match("open") then print(sc.name, luahook.result(ret)) end
                    end)
                ]],
            }
            assert.are.equal(0, r.status, r.stderr)
            -- the guest sees its architecture's own ENOSYS: 89 on mips, 38 elsewhere
            assert.are.equal(("/denied errno=%d\n/nonexistent errno=%d\n/dev/null ok\n")
                             :format(errno_of(arch, "ENOSYS"), errno_of(arch, "ENOENT")), r.stdout)
            assert.matches("^open[at]*\t%-1 ENOSYS %(Function not implemented%)\n"
                           .. "open[at]*\t%-1 ENOENT %(No such file or directory%)\n"
                           .. "open[at]*\t%d+\n$", r.stderr)
        end)

        it("see a failing call's result as -errno with " .. arch .. "'s errno names", function()
            local r = qemu.run {
                arch = arch, guest = "calls", args = { "badclose", "1" },
                lua = [[luahook.after("close", function(sc, ret) print(ret, luahook.result(ret)) end)]],
            }
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^badclose 1 = %-9\n", r.stdout)
            assert.are.equal("-9\t-1 EBADF (Bad file descriptor)\n", r.stderr)
        end)

        it("know " .. arch .. "'s errno numbers by name", function()
            local r = qemu.run {
                arch = arch, guest = "getpid",
                lua = [[print(luahook.errno.ENOSYS, luahook.errno.ENOTEMPTY, luahook.errno.EDQUOT)]],
            }
            assert.are.equal(("%d\t%d\t%d\n"):format(errno_of(arch, "ENOSYS"), errno_of(arch, "ENOTEMPTY"),
                                                   errno_of(arch, "EDQUOT")), r.stderr)
        end)
    end)

    local busybox = qemu.build .. "/foreign/busybox." .. arch
    if qemu.slurp(busybox) then
        describe("Debian's busybox for " .. arch .. " under luahook", function()
            it("runs cat with its calls hooked and their paths read", function()
                local r = qemu.run {
                    arch = arch, program = busybox, args = { "cat", "tools/guest-arches" },
                    lua = [[
                        luahook.after("%file", function(sc, ret)
                            if sc.name:match("^open") then
                                print(sc.name, sc:string(sc.name == "openat" and 2 or 1), ret)
                            end
                        end)
                    ]],
                }
                assert.are.equal(0, r.status, r.stderr)
                assert.matches("^# The guest architectures", r.stdout)
                assert.matches("\topen[at]*\ttools/guest%-arches\t3\n$", "\t" .. r.stderr)
            end)
        end)
    end
end

-- The ready-made scripts, unchanged, on a 64-bit little-endian and a
-- 32-bit big-endian architecture with errno numbers of its own.
for _, arch in ipairs({ "aarch64", "mips" }) do
    describe("the scripts on " .. arch, function()
        it("count.lua counts calls and errors", function()
            local r = qemu.run { arch = arch, guest = "calls", args = { "badclose", "3", "getppid", "2" },
                                 script = "scripts/count.lua" }
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("\n[ %d.]+%s3%s+3 close\n", r.stderr)
            assert.matches("\n[ %d.]+%s2%s+getppid\n", r.stderr)
        end)

        it("inject.lua fails a call with the architecture's errno, fakes a result and sends signals "
           .. "the guest gets as its own (mips' SIGUSR1 is 16)", function()
            local r = qemu.run { arch = arch, guest = "calls", args = { "getppid", "1", "badclose", "1" },
                                 script = "scripts/inject.lua",
                                 plugin_args = { "inject=getppid:retval=4242:signal=SIGUSR1;"
                                                 .. "close:error=ENOSYS:signal=USR2" } }
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^getppid 1 = 4242\nbadclose 1 = %-" .. errno_of(arch, "ENOSYS")
                           .. "\nusr1=1 usr2=1 caught=0 ", r.stdout)
        end)

        it("sandbox.lua allows, denies and passes on the host's errors in the architecture's numbers", function()
            local dir = qemu.tmppath()
            os.execute("mkdir " .. dir .. " && ln -s loop " .. dir .. "/loop")
            local r = qemu.run { arch = arch, guest = "opener",
                                 args = { "/etc/hostname", "/nonexistent", dir .. "/loop" },
                                 script = "scripts/sandbox.lua",
                                 plugin_args = { "policy=examples/sandbox-policy.lua" } }
            os.execute("rm -rf " .. dir)
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal(("/etc/hostname ok\n/nonexistent errno=%d\n%s/loop errno=%d\n")
                             :format(errno_of(arch, "EACCES"), dir, errno_of(arch, "ELOOP")), r.stdout)
            assert.matches('sandbox: denied openat("/nonexistent")', r.stderr, 1, true)
        end)

        -- the escape guest is not built for aarch64, which lacks its legacy calls
        if qemu.slurp(qemu.guest("escape", arch)) then
            it("sandbox.lua connects a socket for the guest, a refusal in the architecture's errno", function()
                -- a socket file nobody listens on: connect is refused
                local sock = qemu.tmppath()
                os.execute("python3 -c 'import socket, sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' " .. sock)
                local r = qemu.run { arch = arch, guest = "escape", args = { "connect:" .. sock },
                                     script = "scripts/sandbox.lua",
                                     plugin_args = { "policy=examples/sandbox-policy.lua" } }
                os.remove(sock)
                assert.are.equal(0, r.status, r.stderr)
                assert.are.equal(("connect:%s = errno %d\n"):format(sock, errno_of(arch, "ECONNREFUSED")), r.stdout)
            end)
        end

        it("sandbox.lua stats a file for the guest in its layout and byte order", function()
            local path = qemu.tmppath()
            local r = qemu.run { arch = arch, guest = "fileio", args = { path },
                                 script = "scripts/sandbox.lua",
                                 plugin_args = { "policy=examples/sandbox-policy.lua" } }
            os.remove(path)
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^read 262144 bytes, size 262144, same=1", r.stdout)
        end)

        it("explain.lua explains the calls", function()
            local r = qemu.run { arch = arch, guest = "explainme", script = "scripts/explain.lua" }
            assert.are.equal(5, r.status, r.stderr)
            assert.matches("\npipe2%(%[3, 4%], 0%) = 0\n  # Asks for a pipe, a one%-way channel through the "
                           .. "kernel; the kernel writes two descriptors into the program's array: 3 for "
                           .. "reading and 4 for writing", r.stderr)
            assert.matches("%(the read end of a pipe%) to 0 bytes from the start; the kernel answers "
                           .. "ESPIPE", r.stderr)
            if arch == "mips" then
                -- mips' own set_thread_area: a pointer, not i386's segment description
                assert.matches("\nset_thread_area%(0x%x+%) = 0\n  # Sets this thread's thread%-local storage "
                               .. "pointer %(where errno lives, among others%) to 0x%x+, which mips code reads "
                               .. "through the ULR register; the kernel answers 0: done%.\n", r.stderr)
            end
        end)
    end)
end
