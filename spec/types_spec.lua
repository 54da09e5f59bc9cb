-- luahook._guest.types against the real ABI: the layouts guest prints what gcc makes
-- of the kernel's headers for each guest architecture, a script prints what
-- the FFI makes of luahook._guest.types' declarations, and the two must agree.
-- The rest checks reading, changing and re-encoding structures, on made-up
-- bytes and on what the kernel wrote into a guest's memory.
local ffi = require "ffi"
local qemu = require "helpers.qemu"

-- The module itself, outside the plugin, where only an explicit arch works.
-- (package.path is put back: other spec files must not see lua/.)
local saved_path = package.path
package.path = "lua/?.lua;" .. package.path
local types = require "luahook._guest.types"
package.path = saved_path

local ARCHES = qemu.arch_names()

-- Prints every layout in the guest's format, measured through the FFI, for
-- the guest's architecture (the module's default).
local LAYOUT_SCRIPT = [[
local ffi = require "ffi"
local types = require "luahook._guest.types"

-- The size of a field, and "signed" or "unsigned" if it is an integer. A
-- 64-bit integer reads as an int64_t or uint64_t cdata; arrays and nested
-- structs read as references, with a size of their own. Any other field
-- reads as a number: it is set to -1 in a zeroed struct, the bytes that
-- changed are counted, and what it reads back tells its sign.
local function field_info(ct, field)
    local value = ct()
    local current = value[field]
    if ffi.istype("int64_t", current) then return 8, "signed" end
    if ffi.istype("uint64_t", current) then return 8, "unsigned" end
    if type(current) == "cdata" then return ffi.sizeof(current) end
    value[field] = -1
    local bytes = ffi.cast("const uint8_t *", value)
    local n = 0
    for i = 0, ffi.sizeof(ct) - 1 do
        if bytes[i] ~= 0 then n = n + 1 end
    end
    return n, value[field] < 0 and "signed" or "unsigned"
end

for _, name in ipairs(types.names()) do
    local ct = assert(types.ctype(name))
    for _, field in ipairs(assert(types.fields(name))) do
        local size, sign = field_info(ct, field)
        print(string.format("%s %s %d %d", name, field, ffi.offsetof(ct, field), size))
        if sign then print(string.format("%s %s %s", name, field, sign)) end
    end
    print(string.format("%s sizeof %d", name, ffi.sizeof(ct)))
    print(string.format("%s alignof %d", name, ffi.alignof(ct)))
end
]]

-- The lines of `a` missing from `b`, for a readable failure.
local function missing(a, b)
    local in_b, out = {}, {}
    for _, line in ipairs(b) do in_b[line] = true end
    for _, line in ipairs(a) do
        if not in_b[line] then out[#out + 1] = "  " .. line end
    end
    return table.concat(out, "\n")
end

-- A string of `n` bytes that differ from their neighbours, none zero.
local function pattern(n)
    local t = {}
    for i = 1, n do t[i] = string.char(i % 251 + 1) end
    return table.concat(t)
end

-- The unsigned little-endian integer of `len` bytes at 0-based `offset`.
local function le(s, offset, len)
    local v = 0
    for i = len, 1, -1 do v = v * 256 + s:byte(offset + i) end
    return v
end

-- The unsigned big-endian integer of `len` bytes at 0-based `offset`.
local function be(s, offset, len)
    return le(s:sub(offset + 1, offset + len):reverse(), 0, len)
end

-- `v` as `len` little-endian bytes (v < 2^53).
local function le_bytes(v, len)
    local t = {}
    for i = 1, len do
        t[i] = string.char(v % 256)
        v = math.floor(v / 256)
    end
    return table.concat(t)
end

describe("luahook._guest.types layouts", function()
    for _, arch in ipairs(ARCHES) do
        it("match the kernel headers' offsets, sizes, signs and alignments on " .. arch, function()
            local r = qemu.run { arch = arch, guest = "layouts", lua = LAYOUT_SCRIPT }
            assert.are.equal(0, r.status, r.stderr)
            local real, declared = qemu.lines(r.stdout), qemu.lines(r.stderr)
            -- every structure prints at least one field, sizeof and alignof
            assert.is_true(#real >= 3 * #types.names(), "the guest printed:\n" .. r.stdout)
            assert.are.same(real, declared,
                "from the headers, not declared:\n" .. missing(real, declared)
                .. "\ndeclared, not from the headers:\n" .. missing(declared, real))
        end)
    end

    it("differ between the architectures where the ABIs do", function()
        assert.are.equal(64, types.sizeof("stat", "i386"))
        assert.are.equal(144, types.sizeof("stat", "x86_64"))
        assert.are.equal(96, types.sizeof("stat64", "i386"))
        assert.are.equal(144, types.sizeof("stat64", "x86_64"))
        -- i386 aligns 64-bit members to 4 bytes: st_size right after __pad3
        assert.are.equal(44, ffi.offsetof(types.ctype("stat64", "i386"), "st_size"))
        assert.are.equal(8, types.sizeof("timespec", "i386"))
        assert.are.equal(16, types.sizeof("timespec", "x86_64"))
        assert.are.equal(256, types.sizeof("statx", "i386"))
    end)

    it("are declared under arch-prefixed names, both in one process", function()
        assert.are.equal(types.ctype("stat", "i386"), ffi.typeof("struct lh_i386_stat"))
        assert.are.equal(types.ctype("stat", "x86_64"), ffi.typeof("struct lh_x86_64_stat"))
        assert.are.equal(types.ctype("stat", "x86_64"), types.ctype("stat64", "x86_64"))
    end)

    it("are looked up once per name and architecture", function()
        local first = types.ctype("rusage", "i386")
        local typeof, parsed = ffi.typeof, 0
        ffi.typeof = function(...)
            parsed = parsed + 1
            return typeof(...)
        end
        local again = types.ctype("rusage", "i386")
        types.sizeof("rusage", "i386")
        types.read("rusage", ("\0"):rep(72), "i386")
        ffi.typeof = typeof
        assert.are.equal(first, again)
        assert.are.equal(0, parsed)
    end)
end)

describe("luahook._guest.types names", function()
    it("lists the supported structures, sorted", function()
        local names = types.names()
        local sorted = { unpack(names) }
        table.sort(sorted)
        assert.are.same(sorted, names)
        local set = {}
        for _, n in ipairs(names) do set[n] = true end
        for _, n in ipairs({ "timespec", "timeval", "timezone", "stat", "stat64", "statfs",
                             "statfs64", "statx", "iovec", "utsname", "sockaddr", "sockaddr_in",
                             "sockaddr_in6", "sockaddr_un", "pollfd", "rlimit", "rusage" }) do
            assert.is_true(set[n], n .. " missing")
        end
    end)

    it("refuses an unknown structure with the list of known ones", function()
        local ct, err = types.ctype("foo", "i386")
        assert.is_nil(ct)
        assert.are.equal("unknown guest type 'foo' (known: " .. table.concat(types.names(), ", ")
                         .. ")", err)
        assert.are.same({ nil, err }, { types.sizeof("foo", "x86_64") })
        assert.are.same({ nil, err }, { types.read("foo", "", "i386") })
        assert.are.same({ nil, err }, { types.fields("foo", "i386") })
    end)

    it("refuses an unknown architecture, and needs one outside the plugin", function()
        assert.are.same({ nil, "unknown guest architecture 'sparc' (known: aarch64, arm, i386, mips, "
                               .. "mipsel, riscv64, x86_64)" },
                        { types.ctype("stat", "sparc") })
        assert.are.same({ nil, "no guest architecture: pass one (aarch64, arm, i386, mips, mipsel, "
                               .. "riscv64, x86_64) outside luahook" },
                        { types.ctype("stat") })
    end)

    for _, arch in ipairs(ARCHES) do
        it("default to the guest's architecture inside the plugin on " .. arch, function()
            local r = qemu.run {
                arch = arch, guest = "getpid",
                lua = [[
                    local types = require "luahook._guest.types"
                    print(types.sizeof("stat"), types.sizeof("timespec"))
                    print(types.ctype("foo"))
                ]],
            }
            assert.are.equal(0, r.status, r.stderr)
            local sizes = ({ i386 = "64\t8", x86_64 = "144\t16", aarch64 = "128\t16", riscv64 = "128\t16",
                             arm = "64\t8", mips = "144\t8", mipsel = "144\t8" })[arch]
            assert.are.equal(sizes .. "\nnil\tunknown guest type 'foo' (known: "
                             .. table.concat(types.names(), ", ") .. ")\n", r.stderr)
        end)
    end
end)

describe("luahook._guest.types read and bytes", function()
    -- where st_size lies in the kernel's stat64 (stat where there is no stat64)
    local ST_SIZE = { i386 = 44, x86_64 = 48, aarch64 = 48, riscv64 = 48, arm = 48, mips = 56, mipsel = 56 }

    for _, arch in ipairs(ARCHES) do
        it("round-trip a stat64 with one field changed on " .. arch, function()
            local size = types.sizeof("stat64", arch)
            local raw = pattern(size)
            local st = assert(types.read("stat64", raw, arch))
            local at = ST_SIZE[arch]
            local order = arch == "mips" and be or le
            assert.are.equal(order(raw, at, 8), tonumber(st.st_size))
            assert.are.equal(raw, types.bytes(st))

            st.st_size = 0x123456789
            local changed = types.bytes(st)
            assert.are.equal(size, #changed)
            local value = le_bytes(0x123456789, 8)
            if arch == "mips" then value = value:reverse() end
            assert.are.equal(raw:sub(1, at) .. value .. raw:sub(at + 9), changed)
            -- a new value each time: the first one is untouched by the change
            assert.are.equal(raw, types.bytes(assert(types.read("stat64", raw, arch))))
        end)

        it("round-trip a utsname and a sockaddr_in on " .. arch, function()
            local uts = assert(types.new("utsname", arch))
            ffi.copy(uts.machine, "m68k")
            local again = assert(types.read("utsname", types.bytes(uts), arch))
            assert.are.equal("m68k", ffi.string(again.machine))
            assert.are.equal(260, (types.bytes(again):find("m68k", 1, true)) - 1)

            local sin = assert(types.new("sockaddr_in", arch))
            sin.sin_family = 2
            sin.sin_port = 0x5000 -- port 80 in network byte order
            sin.sin_addr.s_addr = 0x0100007f -- 127.0.0.1
            -- the family in the guest's byte order, port and address in the network's
            local family = arch == "mips" and "\0\2" or "\2\0"
            assert.are.equal(family .. "\0\80\127\0\0\1" .. ("\0"):rep(8), types.bytes(sin))
        end)
    end

    it("refuses bytes that are not exactly the structure's size", function()
        assert.are.same({ nil, "timespec needs 8 bytes, got 5" },
                        { types.read("timespec", "short", "i386") })
        assert.are.same({ nil, "timespec needs 16 bytes, got 17" },
                        { types.read("timespec", ("x"):rep(17), "x86_64") })
        assert.are.same({ nil, "timespec needs 8 bytes, got nil" },
                        { types.read("timespec", nil, "i386") })
        assert.are.same({ nil, "bytes(): expected a cdata value, got string" },
                        { types.bytes("abc") })
    end)

    -- stat's result in the guest's memory, decoded in an after-hook, against
    -- the host's view of the same file.
    local STAT_SCRIPT = [[
        local lh = require "luahook"
        local types = require "luahook._guest.types"
        -- where each stat-like syscall takes the path and puts the result
        local calls = {
            stat = { path = 1, buf = 2, type = "stat" },
            stat64 = { path = 1, buf = 2, type = "stat64" },
            newfstatat = { path = 2, buf = 3, type = "stat" },
            fstatat64 = { path = 2, buf = 3, type = "stat64" },
            statx = { path = 2, buf = 5, type = "statx" },
        }
        for name, how in pairs(calls) do
            if lh.nr(name) then
                lh.after(name, function(sc, ret)
                    if ret ~= 0 or sc:string(how.path) ~= lh.args.path then return end
                    local bytes = assert(lh.mem.read(sc.args[how.buf], types.sizeof(how.type)))
                    local st = assert(types.read(how.type, bytes))
                    local x = how.type == "statx"
                    lh.printf("%s size=%d ino=%d\n", sc.name,
                              tonumber(x and st.stx_size or st.st_size),
                              tonumber(x and st.stx_ino or st.st_ino))
                end)
            end
        end
    ]]

    for _, arch in ipairs(ARCHES) do
        it("decode what the kernel wrote into guest memory on " .. arch, function()
            local path = qemu.tmppath()
            local r = qemu.run {
                arch = arch, guest = "fileio", args = { path },
                lua = STAT_SCRIPT, plugin_args = { "path=" .. path },
            }
            local p = io.popen("stat -c %i " .. path)
            local ino = p:read("*l")
            p:close()
            os.remove(path)
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("size 262144", r.stdout)
            local lines = qemu.lines(r.stderr)
            assert.are.equal(1, #lines, r.stderr)
            assert.matches("^%w+ size=262144 ino=" .. ino .. "$", lines[1])
        end)
    end
end)
