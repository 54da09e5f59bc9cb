-- scripts/trace.lua against QEMU's own -strace, in the same run.
local qemu = require "helpers.qemu"

-- QEMU's -strace lines: "PID name(args) = ret", ret decimal, 0x-hex, or
-- "-1 errno=N (message)"; exit_group has no result. Reduced to "name result".
local function parse_strace(text)
    local calls = {}
    for line in text:gmatch("[^\n]+") do
        local name, rest = line:match("^%d+ ([%w_]+)%((.*)$")
        if name then
            local ret = rest:match("%) = (.-)$")
            local result
            if ret == nil then
                result = "?"
            elseif ret:match("^%-1 errno=") then
                result = "error: " .. ret:match("%((.*)%)$")
            else
                -- some calls append decoded out-parameters: "0 ({...})"
                result = tostring(tonumber(ret:match("^%S+")))
            end
            calls[#calls + 1] = name .. " " .. result
        end
    end
    return calls
end

-- trace.lua's lines: "name(0x.., ...) = ret", ret decimal or
-- "-1 ENAME (message)", "= ?" for calls that never return.
local function parse_trace(text)
    local calls = {}
    for line in text:gmatch("[^\n]+") do
        local name, ret = line:match("^([%w_]+)%(.-%) = (.*)$")
        assert(name, "not a trace line: " .. line)
        local result = ret
        if ret:match("^%-1 E") then
            result = "error: " .. ret:match("%((.*)%)$")
        end
        calls[#calls + 1] = name .. " " .. result
    end
    return calls
end

describe("trace.lua", function()
    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("agrees with qemu -strace call for call on " .. arch, function()
            local log = qemu.tmppath()
            local r = qemu.run { arch = arch, guest = "results", strace = log,
                                 script = "scripts/trace.lua" }
            local f = assert(io.open(log))
            local strace = f:read("*a")
            f:close()
            os.remove(log)
            assert.are.equal(0, r.status)
            local expected, got = parse_strace(strace), parse_trace(r.stderr)
            assert.is_true(#expected > 10)
            assert.are.same(expected, got)
        end)
    end

    it("decodes failures as strace does", function()
        local r = qemu.run { guest = "results", script = "scripts/trace.lua" }
        assert.matches("\nopenat%(0xffffff9c, 0x%x+, 0x0, 0x0, [^)]*%) = %-1 ENOENT %(No such file or directory%)\n", r.stderr)
        assert.matches("\nclose%(0xffffffff, [^)]*%) = %-1 EBADF %(Bad file descriptor%)\n", r.stderr)
        assert.matches("\nexit_group%(0x0, [^)]*%) = %?\n$", r.stderr)
    end)

    it("leaves the guest's output alone", function()
        local bare = qemu.run { guest = "results", plugin = false }
        local r = qemu.run { guest = "results", script = "scripts/trace.lua" }
        assert.are.equal(bare.stdout:gsub("%d+", "N"), r.stdout:gsub("%d+", "N"))
    end)
end)
