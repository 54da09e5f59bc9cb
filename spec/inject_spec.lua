-- scripts/inject.lua on the `calls` guest, which prints what each of its
-- calls returned ("getppid 2 = -2" for -ENOENT), the signals it received
-- and the time its calls took.
local qemu = require "helpers.qemu"

local function run(inject, args, opts)
    opts = opts or {}
    local plugin_args = { "inject=" .. inject }
    if opts.log then plugin_args[#plugin_args + 1] = "log=1" end
    return qemu.run { arch = opts.arch, guest = "calls", args = args,
                      script = "scripts/inject.lua", plugin_args = plugin_args }
end

-- { [call] = { results in call order } } from the guest's output.
local function results(stdout)
    local t = {}
    for name, value in stdout:gmatch("(%a+) %d+ = (%-?%d+)\n") do
        t[name] = t[name] or {}
        table.insert(t[name], tonumber(value))
    end
    return t
end

-- Which of the results are `value`, as a list of call numbers.
local function calls_with(list, value)
    local picked = {}
    for i, v in ipairs(list) do
        if v == value then picked[#picked + 1] = i end
    end
    return picked
end

local ENOENT, EACCES, EBADF = 2, 13, 9

describe("inject.lua", function()
    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("fails every call of the set with an errno given by name on " .. arch, function()
            local r = run("getppid:error=ENOENT", { "getppid", "3" }, { arch = arch })
            assert.are.equal(0, r.status)
            assert.are.same({ -ENOENT, -ENOENT, -ENOENT }, results(r.stdout).getppid)
        end)
    end

    it("takes an errno by number", function()
        local r = run("getppid:error=13", { "getppid", "2" })
        assert.are.same({ -EACCES, -EACCES }, results(r.stdout).getppid)
    end)

    it("makes a call return retval= without running it", function()
        -- close(-1) fails with EBADF when it runs
        local r = run("close:retval=42", { "badclose", "2" })
        assert.are.same({ 42, 42 }, results(r.stdout).badclose)
    end)

    it("leaves the other syscalls alone", function()
        local r = run("close:retval=42", { "getppid", "2", "badclose", "1" })
        local got = results(r.stdout)
        assert.is_true(got.getppid[1] > 0)
        assert.are.same(got.getppid[1], got.getppid[2])
    end)

    it("injects only into the Nth call with when=N", function()
        local r = run("getppid:error=ENOENT:when=3", { "getppid", "6" })
        assert.are.same({ 3 }, calls_with(results(r.stdout).getppid, -ENOENT))
    end)

    it("injects into the Nth call and later with when=N+", function()
        local r = run("getppid:error=ENOENT:when=4+", { "getppid", "6" })
        assert.are.same({ 4, 5, 6 }, calls_with(results(r.stdout).getppid, -ENOENT))
    end)

    it("injects into every STEP-th call from the Nth with when=N+STEP", function()
        local r = run("getppid:error=ENOENT:when=2+3", { "getppid", "9" })
        assert.are.same({ 2, 5, 8 }, calls_with(results(r.stdout).getppid, -ENOENT))
    end)

    it("injects into calls N to M with when=N..M", function()
        local r = run("getppid:error=ENOENT:when=2..4", { "getppid", "6" })
        assert.are.same({ 2, 3, 4 }, calls_with(results(r.stdout).getppid, -ENOENT))
    end)

    it("counts the calls of a set together, whatever the member", function()
        -- the 3rd call of getppid+close is the second getppid
        local r = run("getppid+close:retval=7:when=3", { "getppid", "1", "badclose", "1",
                                                         "getppid", "1", "badclose", "1" })
        assert.matches("^getppid 1 = %d+\nbadclose 1 = %-9\ngetppid 1 = 7\nbadclose 1 = %-9\n", r.stdout)
    end)

    it("takes strace's commas in a set, written ,, in a plugin argument", function()
        local r = run("getppid,,close:retval=7", { "getppid", "1", "badclose", "1" })
        assert.are.same({ { 7 }, { 7 } }, { results(r.stdout).getppid, results(r.stdout).badclose })
    end)

    it("selects a set by class", function()
        local r = run("%file:error=EACCES", { "open", "1", "getppid", "1" })
        local got = results(r.stdout)
        assert.are.same({ -EACCES }, got.open)
        assert.is_true(got.getppid[1] > 0)
    end)

    it("applies several rules separated by ';', each counting its own calls", function()
        local r = run("getppid:error=ENOENT:when=2;close:retval=5;getppid:retval=1:when=3",
                      { "getppid", "3", "badclose", "1" })
        local got = results(r.stdout)
        assert.are.same({ -ENOENT, 1 }, { got.getppid[2], got.getppid[3] })
        assert.are_not.equal(1, got.getppid[1])
        assert.are.same({ 5 }, got.badclose)
    end)

    it("lets the first rule that fires decide the result", function()
        local r = run("getppid:error=ENOENT;getppid:retval=1", { "getppid", "2" })
        assert.are.same({ -ENOENT, -ENOENT }, results(r.stdout).getppid)
    end)

    it("delays the call on entry with delay_enter, letting it run", function()
        local r = run("getppid:delay_enter=30000", { "getppid", "4" })
        local got = results(r.stdout).getppid
        assert.is_true(got[1] > 0)
        local elapsed = tonumber(r.stdout:match("elapsed_us=(%d+)"))
        assert.is_true(elapsed >= 4 * 30000, r.stdout)
    end)

    it("delays the return with delay_exit, after an injected error too", function()
        local r = run("close:error=ENOENT:delay_exit=30000:when=1..3", { "badclose", "4" })
        assert.are.same({ -ENOENT, -ENOENT, -ENOENT, -EBADF }, results(r.stdout).badclose)
        local elapsed = tonumber(r.stdout:match("elapsed_us=(%d+)"))
        assert.is_true(elapsed >= 3 * 30000, r.stdout)
    end)

    it("delivers a signal to the calling thread with signal=", function()
        local r = run("getppid:signal=SIGUSR1:when=2+;close:signal=12", { "getppid", "4", "badclose", "1" })
        assert.are.equal(0, r.status)
        assert.matches("usr1=3 usr2=1 ", r.stdout, 1, true)
        assert.are.equal(4, #results(r.stdout).getppid)
    end)

    it("logs each injection with log=1", function()
        local r = run("getppid:error=ENOENT:when=2", { "getppid", "3" }, { log = true })
        assert.are.equal("inject: getppid = -1 ENOENT (No such file or directory) (INJECTED)\n",
                         r.stderr)
    end)

    -- A bad spec: one line, and the guest never runs.
    local function refused(inject, message)
        it("refuses " .. inject, function()
            local r = run(inject, { "getppid", "1" })
            assert.are_not.equal(0, r.status)
            assert.are.equal("", r.stdout)
            assert.are.equal(1, #qemu.lines(r.stderr), r.stderr)
            assert.matches("^luahook: scripts/inject.lua:%d+: ", r.stderr)
            assert.matches(message, r.stderr, 1, true)
        end)
    end
    refused("getppid:error=ENOEN", "inject rule 'getppid:error=ENOEN': error=ENOEN: unknown errno name 'ENOEN'")
    refused("getppid:error=0", "error=0: errno number 0 is out of range (1..4095)")
    refused("opnat:error=ENOENT", "unknown syscall 'opnat' for i386 (did you mean 'openat'?)")
    refused("%fil:error=ENOENT", "unknown syscall class '%fil'")
    refused("getppid:error=1:when=0", "when=0: expected N, N+, N+STEP, N..M or N..M+STEP")
    refused("getppid:error=1:when=3..2", "when=3..2: expected")
    refused("getppid:error=1:when=2+x", "when=2+x: expected")
    refused("getppid:retval=x", "retval=x: expected an integer")
    refused("getppid:delay_enter=-5", "delay_enter=-5: expected microseconds")
    refused("getppid:signal=SIGFOO", "signal=SIGFOO: unknown signal 'SIGFOO'")
    refused("getppid:error=1:retval=1", "error= and retval= exclude each other")
    refused("getppid:error=1:error=2", "error= is given twice")
    refused("getppid:eror=1", "unknown action 'eror=1' (known: delay_enter, delay_exit, error, retval, signal, when)")
    refused("getppid:when=2", "nothing to inject")
    refused("getppid:error=1;", "inject rule '': empty")
end)
