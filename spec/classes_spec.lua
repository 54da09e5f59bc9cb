-- Syscall classes ("%file", "%desc", ...) as hook selectors: the data table
-- names real syscalls, and each class selects what strace's -e trace=%CLASS
-- would on real guests of both architectures.
local qemu = require "helpers.qemu"

local classes = dofile("lua/luahook/_guest/classes.lua")
local tables = {
    i386 = dofile(qemu.build .. "/tools/arch_i386.lua").syscalls,
    x86_64 = dofile(qemu.build .. "/tools/arch_x86_64.lua").syscalls,
}
local has = {}
for arch, by_nr in pairs(tables) do
    has[arch] = {}
    for _, name in pairs(by_nr) do has[arch][name] = true end
end

local function contains(list, value)
    for _, v in ipairs(list) do
        if v == value then return true end
    end
    return false
end

describe("the class table", function()
    it("names only syscalls that exist on i386 or x86_64", function()
        local unknown = {}
        for _, class in ipairs(classes.names()) do
            for _, name in ipairs(classes.members(class)) do
                if not has.i386[name] and not has.x86_64[name] then
                    unknown[#unknown + 1] = class .. ":" .. name
                end
            end
        end
        assert.are.same({}, unknown)
    end)

    it("lists no name twice in a class", function()
        local doubled = {}
        for _, class in ipairs(classes.names()) do
            local seen = {}
            for _, name in ipairs(classes.members(class)) do
                if seen[name] then doubled[#doubled + 1] = class .. ":" .. name end
                seen[name] = true
            end
        end
        assert.are.same({}, doubled)
    end)

    it("has strace's classes, each with members on both architectures", function()
        -- sorted by the word, "%stat" before "%%stat"
        assert.are.same({ "%clock", "%creds", "%desc", "%file", "%fstat", "%fstatfs",
                          "%ipc", "%lstat", "%memory", "%network", "%process", "%signal",
                          "%stat", "%%stat", "%statfs", "%%statfs" }, classes.names())
        for _, class in ipairs(classes.names()) do
            for arch in pairs(tables) do
                local n = 0
                for _, name in ipairs(classes.members(class)) do
                    if has[arch][name] then n = n + 1 end
                end
                assert.is_true(n > 0, class .. " selects nothing on " .. arch)
            end
        end
        assert.is_nil(classes.members("%fle"))
        assert.is_nil(classes.members("file"))
        assert.are.same(classes.members("%network"), classes.members("%net"))
    end)

    it("puts i386's multiplexers socketcall in %network and ipc in %ipc only", function()
        for _, class in ipairs(classes.names()) do
            local members = classes.members(class)
            assert.are.equal(class == "%network", contains(members, "socketcall"), class)
            assert.are.equal(class == "%ipc", contains(members, "ipc"), class)
        end
    end)
end)

-- Runs `guest` on `arch` with a hook on `selector` that records the names
-- it sees; returns the run and the set of names.
local function seen_by(arch, guest, selector, args)
    local r = qemu.run {
        arch = arch, guest = guest, args = args,
        lua = string.format([[
            local lh = require "luahook"
            lh.on(%s, function(sc)
                local path = sc.name:match("stat") and sc:string(2) or ""
                lh.printf("seen %%s %%s\n", sc.name, path)
            end)
        ]], selector),
    }
    local seen = {}
    for name, path in r.stderr:gmatch("seen (%S+) ([^\n]*)\n") do
        seen[name] = seen[name] or {}
        seen[name][#seen[name] + 1] = path
    end
    return r, seen
end

local STAT_CALL = { i386 = "statx", x86_64 = "newfstatat" }

for _, arch in ipairs({ "i386", "x86_64" }) do
    describe("a class selector on " .. arch, function()
        it("%file sees openat and the stat call with its path, not fd-only calls", function()
            local path = qemu.tmppath()
            local r, seen = seen_by(arch, "fileio", '"%file"', { path })
            os.remove(path)
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("same=1", r.stdout)
            assert.are.equal(2, seen.openat and #seen.openat)
            assert.is_true(contains(seen[STAT_CALL[arch]] or {}, path), r.stderr)
            assert.is_not_nil(seen.readlink) -- the C library's /proc/self/exe
            for _, name in ipairs({ "write", "read", "close", "brk", "exit_group" }) do
                assert.is_nil(seen[name], name .. " seen:\n" .. r.stderr)
            end
        end)

        it("%file does not see getpid, write or close", function()
            local r, seen = seen_by(arch, "results", '"%file"')
            assert.are.equal(0, r.status, r.stderr)
            assert.is_not_nil(seen.openat, r.stderr)
            for _, name in ipairs({ "getpid", "write", "close" }) do
                assert.is_nil(seen[name], name .. " seen:\n" .. r.stderr)
            end
        end)

        it("%desc sees write, read, close and openat, not brk", function()
            local path = qemu.tmppath()
            local r, seen = seen_by(arch, "fileio", '"%desc"', { path })
            os.remove(path)
            assert.are.equal(0, r.status, r.stderr)
            for _, name in ipairs({ "write", "read", "close", "openat" }) do
                assert.is_not_nil(seen[name], name .. " not seen:\n" .. r.stderr)
            end
            for _, name in ipairs({ "brk", "mprotect", "readlink", "exit_group" }) do
                assert.is_nil(seen[name], name .. " seen:\n" .. r.stderr)
            end
        end)

        it("%process sees exit_group and nothing else of the getpid guest", function()
            local r, seen = seen_by(arch, "getpid", '"%process"')
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^pid=%d+\n$", r.stdout)
            assert.are.equal("seen exit_group \n", r.stderr)
            assert.is_not_nil(seen.exit_group)
        end)

        it("%memory sees brk and mprotect, not getpid, write, openat or close", function()
            local r, seen = seen_by(arch, "results", '"%memory"')
            assert.are.equal(0, r.status, r.stderr)
            assert.is_not_nil(seen.brk, r.stderr)
            assert.is_not_nil(seen.mprotect, r.stderr)
            for _, name in ipairs({ "getpid", "write", "openat", "close" }) do
                assert.is_nil(seen[name], name .. " seen:\n" .. r.stderr)
            end
        end)

        it("mixes classes and names in a list", function()
            local r, seen = seen_by(arch, "results", '{ "%file", "getpid" }')
            assert.are.equal(0, r.status, r.stderr)
            assert.is_not_nil(seen.getpid, r.stderr)
            assert.is_not_nil(seen.openat, r.stderr)
            assert.is_nil(seen.write, r.stderr)
            assert.is_nil(seen.close, r.stderr)
        end)

        it("selects for after-hooks and answers like a name", function()
            local r = qemu.run {
                arch = arch, guest = "opener", args = { "/etc/passwd" },
                lua = [[
                    local lh = require "luahook"
                    lh.on("%file", function(sc)
                        if sc:string(2) == "/etc/passwd" then return -lh.errno.EACCES end
                    end)
                    lh.after("%desc", function(sc, ret)
                        if sc.name == "write" then print("after write", ret) end
                    end)
                ]],
            }
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("/etc/passwd errno=13\n", r.stdout)
            assert.are.equal("after write\t21\n", r.stderr)
        end)
    end)
end

-- Runs the fileio guest, whose first act is to create a file: if the file
-- is missing afterwards, the guest never ran.
local function run_refused(arch, source)
    local marker = qemu.tmppath()
    local script = qemu.script(source)
    local r = qemu.run { arch = arch, guest = "fileio", args = { marker }, script = script }
    os.remove(script)
    local f = io.open(marker)
    r.guest_ran = f ~= nil
    if f then f:close(); os.remove(marker) end
    r.script = script
    return r
end

for _, arch in ipairs({ "i386", "x86_64" }) do
    describe("an unknown class on " .. arch, function()
        local function assert_refused(r, message)
            assert.are_not.equal(0, r.status)
            assert.is_false(r.guest_ran)
            assert.are.equal("", r.stdout)
            assert.are.equal(1, #qemu.lines(r.stderr), "expected one line, got:\n" .. r.stderr)
            assert.matches("luahook: " .. r.script .. ":" .. message, r.stderr, 1, true)
        end

        it("stops QEMU before the guest with one line naming the known classes", function()
            local r = run_refused(arch, 'local lh = require "luahook"\n\nlh.on("%fle", function() end)\n')
            assert_refused(r, "3: on(): unknown syscall class '%fle' (known: %clock, %creds, %desc, %file, ")
            assert.matches("%network, %process, %signal, ", r.stderr, 1, true)
        end)

        it("is refused inside a list and by after()", function()
            local r = run_refused(arch, 'luahook.after({ "getpid", "%" }, function() end)\n')
            assert_refused(r, "1: after(): unknown syscall class '%' (known: %clock, ")
        end)
    end)
end
