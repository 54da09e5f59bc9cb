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
