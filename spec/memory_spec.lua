-- Guest memory from hooks: reads, writes, integers of every width, bad
-- addresses (nil and a message, never a crash or a partial write), and
-- rewriting what a syscall reads or returned.
local qemu = require "helpers.qemu"

for _, arch in ipairs(qemu.arch_names()) do
    describe("guest memory on " .. arch, function()
        -- the memory guest's pwrite64(-1, text, numbers, edge, rodata, long text)
        local function run_memory(body)
            return qemu.run {
                arch = arch, guest = "memory",
                lua = "local lh = require 'luahook'\n" ..
                      "lh.on('pwrite64', function(sc)\n" ..
                      "  if sc:int(1) ~= -1 then return end\n" .. body .. "\nend)\n",
            }
        end

        it("reads strings, bytes and integers of every width", function()
            local r = run_memory [[
                local n = sc.args[3]
                print((sc:string(2)), sc:bytes(2, 8), (sc:string(5)))
                print(lh.mem.int(n, "u8"), lh.mem.int(n + 1, "i16"), lh.mem.int(n + 3, "u32"))
                print(lh.mem.int(n + 7, "i64"), lh.hex(lh.mem.int(n + 15, "u64")))
                print(lh.mem.int(n, "i8"), lh.mem.int(n + 1, "u16"), lh.mem.int(n + 3, "i32"))
            ]]
            assert.are.equal(0, r.status)
            assert.are.equal(table.concat({
                "original text\toriginal\tread-only text",
                "254\t-2\t3735928559",
                "-5\t0xfedcba9876543210",
                "-2\t65534\t-559038737", "" }, "\n"), r.stderr)
        end)

        it("writes strings and integers the guest then sees", function()
            local r = run_memory [[
                local n = sc.args[3]
                assert(lh.mem.write(sc.args[2], "rewritten\0"))
                assert(lh.mem.write_int(n, "u8", 7))
                assert(lh.mem.write_int(n + 1, "i16", -300))
                assert(lh.mem.write_int(n + 3, "u32", 0x12345678))
                assert(lh.mem.write_int(n + 7, "i64", -1234567890123))
                assert(lh.mem.write_int(n + 15, "u64", 0x1122334455667788ULL))
            ]]
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal(
                "text=rewritten\nu8=7 i16=-300 u32=0x12345678 i64=-1234567890123 u64=0x1122334455667788\n",
                r.stdout:match("^(text=.-\n.-\n)"))
        end)

        it("writes even read-only guest memory, as a debugger does", function()
            local r = run_memory [[ assert(lh.mem.write(sc.args[5], "READ")) ]]
            assert.matches("rodata=READ%-only text\n", r.stdout)
        end)

        it("reads ptr, long and ulong at the guest's word size", function()
            local r = run_memory [[
                print(lh.mem.int(sc.args[3] + 7, "long"), lh.mem.int(sc.args[3] + 3, "ulong"))
            ]]
            if arch == "mips" then
                -- big-endian: the first word of the int64 -5 is its high half
                assert.are.equal("-1\t3735928559\n", r.stderr)
            elseif qemu.word_size(arch) == 4 then
                assert.are.equal("-5\t3735928559\n", r.stderr)   -- 32-bit words
            else
                -- 0xdeadbeef and the low half of -5 (0xfffffffb): beyond 2^53, so cdata
                assert.are.equal("-5\t18446744055970643695ULL\n", r.stderr)
            end
        end)

        it("gives nil and a message for unmapped addresses", function()
            local r = run_memory [[
                print(lh.mem.read(16, 4))
                print(lh.mem.string(16))
                print(lh.mem.int(16, "u32"))
                print(lh.mem.write(16, "x"))
            ]]
            assert.are.equal(0, r.status)
            assert.are.equal(table.concat({
                "nil\tcannot read 4 bytes at 0x10: not mapped",
                "nil\tcannot read a string at 0x10: not mapped",
                "nil\tcannot read 4 bytes at 0x10: not mapped",
                "nil\tcannot write 1 bytes at 0x10: not mapped", "" }, "\n"), r.stderr)
        end)

        it("never writes part of a range that runs into an unmapped page", function()
            local r = run_memory [[
                print(lh.mem.read(sc.args[4], 4))
                print(lh.mem.read(sc.args[4], 8))
                print(lh.mem.write(sc.args[4], "XXXXXXXX"))
            ]]
            assert.matches("^EDGE\nnil\tcannot read 8 bytes at 0x%x+: not mapped\nnil\tcannot write 8 bytes at 0x%x+: not mapped\n$", r.stderr)
            assert.matches("\nedge=EDGE\n", r.stdout)
        end)

        it("reads a string that ends right before an unmapped page", function()
            local r = run_memory [[ print(sc:string(4)) ]]
            -- "EDGE" fills the page's last bytes: no NUL before the hole
            assert.matches("^nil\tcannot read a string at 0x%x+: not mapped\n$", r.stderr)
            local r2 = run_memory [[ print(sc:string(4, 4)) ]]
            assert.are.equal("EDGE\ttrue\n", r2.stderr)
        end)

        it("reads strings of at most lh.mem.STRING_MAX bytes, allocating no more", function()
            local rss = qemu.tmppath()
            local r = qemu.run {
                arch = arch, guest = "memory", wrap = "/usr/bin/time -f %M -o " .. rss,
                lua = [[
                    local lh = require "luahook"
                    lh.on("pwrite64", function(sc)
                        if sc:int(1) ~= -1 then return end
                        local short, short_cut = lh.mem.string(sc.args[2], 2^31 - 1)
                        local long, long_cut = sc:string(6, 2^31 - 1)
                        print(short, short_cut, #long, long_cut, long == ("x"):rep(#long))
                        print(#sc:string(6, 5000), #sc:string(6))
                    end)
                ]],
            }
            local peak_kib = tonumber(qemu.slurp(rss):match("(%d+)%s*$"))
            os.remove(rss)
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("original text\tfalse\t1048576\ttrue\ttrue\n5000\t4096\n", r.stderr)
            assert.is_true(peak_kib < 400 * 1024, "peak RSS " .. peak_kib .. " KiB")
        end)

        it("is refused outside hooks", function()
            local r = qemu.run {
                arch = arch, guest = "getpid",
                lua = [[print(luahook.mem.read(4096, 1)); print(pcall(function() return luahook.regs.eax end))]],
            }
            assert.matches("^nil\tcannot read 1 bytes at 0x1000: the guest is reachable only inside a hook\nfalse\t", r.stderr)
        end)
    end)
end

describe("typed guest structures", function()
    -- fileio's stat(): statx on i386, newfstatat on x86_64 (glibc's choice)
    local STAT = {
        i386 = { call = "statx", arg = 5, type = "statx", size = "stx_size" },
        x86_64 = { call = "newfstatat", arg = 3, type = "stat", size = "st_size" },
    }

    for _, arch in ipairs({ "i386", "x86_64" }) do
        local s = STAT[arch]
        it("are read, changed and written back by an after-hook on " .. arch, function()
            local path = qemu.tmppath()
            local r = qemu.run {
                arch = arch, guest = "fileio", args = { path },
                lua = ([[
                    local lh = require "luahook"
                    lh.after(%q, function(sc, ret)
                        if ret ~= 0 or sc:string(2) ~= %q then return end
                        local st = assert(sc:struct(%d, %q))
                        print("kernel said", tonumber(st.%s))
                        st.%s = 12345
                        assert(lh.mem.write(sc.args[%d], st))
                    end)
                ]]):format(s.call, path, s.arg, s.type, s.size, s.size, s.arg),
            }
            os.remove(path)
            assert.are.equal(0, r.status)
            assert.are.equal("kernel said\t262144\n", r.stderr)
            assert.matches("read 262144 bytes, size 12345, same=1", r.stdout, 1, true)
        end)
    end

    it("builds new values with lh.ctype and reports unknown types", function()
        local r = qemu.run {
            arch = "x86_64", guest = "getpid",
            lua = [[
                local ffi = require "ffi"
                local ts = luahook.ctype("timespec")({ tv_sec = 5, tv_nsec = 7 })
                print(ffi.sizeof(ts), tonumber(ts.tv_sec), tonumber(ts.tv_nsec))
                print(pcall(luahook.ctype, "nosuch"))
            ]],
        }
        assert.matches("^16\t5\t7\nfalse\t[^\n]*unknown guest type 'nosuch'", r.stderr)
    end)
end)

describe("rewriting guest data", function()
    local a, b = qemu.tmppath(), qemu.tmppath()

    local function put(path, text)
        local f = assert(io.open(path, "w"))
        f:write(text)
        f:close()
    end

    before_each(function()
        put(a, "contents of A\n")
        put(b, "contents of B\n")
    end)
    after_each(function() os.remove(a); os.remove(b) end)

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("changes the path an open reads, in place, on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "cat", args = { a },
                lua = ([[
                    luahook.on("openat", function(sc)
                        if sc:string(2) == %q then assert(sc:set_string(2, %q)) end
                    end)
                ]]):format(a, b),
            }
            assert.are.equal("contents of B\n", r.stdout)
        end)

        it("edits what read returned, in an after-hook, on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "cat", args = { a },
                lua = [[
                    luahook.after("read", function(sc, ret)
                        if sc.args[1] > 2 and ret > 0 then
                            local data = assert(sc:bytes(2, ret))
                            assert(luahook.mem.write(sc.args[2], data:upper()))
                        end
                    end)
                ]],
            }
            assert.are.equal("CONTENTS OF A\n", r.stdout)
        end)

        it("fakes uname in an after-hook on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "uname",
                lua = [[
                    luahook.after("uname", function(sc, ret)
                        assert(luahook.mem.write(sc.args[1], "FakeOS\0"))          -- sysname
                        assert(luahook.mem.write(sc.args[1] + 4 * 65, "pdp11\0"))  -- machine
                    end)
                ]],
            }
            assert.matches("^sysname=FakeOS release=%S+ machine=pdp11\n$", r.stdout)
        end)
    end

    it("refuses a string that does not fit in place", function()
        local r = qemu.run {
            guest = "cat", args = { a },
            lua = [[
                luahook.on("openat", function(sc)
                    print(sc:set_string(2, string.rep("x", 200)))
                end)
            ]],
        }
        assert.matches("^nil\t'x+' does not fit in place of '[^']+' %(%d+ bytes at most%)\n", r.stderr)
        assert.are.equal("contents of A\n", r.stdout)
    end)
end)
