-- scripts/count.lua on guests whose syscalls are known: the `calls` guest
-- makes exactly the calls its arguments ask for.
local qemu = require "helpers.qemu"

local SLEEP_SECONDS = 0.05 -- one "sleep" call of the calls guest

-- The summaries in luahook's output: a list of { rows = { [name] = row },
-- order = { names in printed order }, total = row, title = line before it }.
local function parse(text)
    local tables, current, last_line = {}, nil, nil
    for line in text:gmatch("[^\n]+") do
        if line:match("^%% time") then
            current = { rows = {}, order = {}, title = last_line }
            tables[#tables + 1] = current
        elseif current then
            local share, seconds, per_call, calls, errors, name =
                line:match("^%s*([%d.]+)%s+([%d.]+)%s+(%d+)%s+(%d+)%s+(%d*)%s*(%S+)$")
            if share then
                local row = { share = tonumber(share), seconds = tonumber(seconds),
                              per_call = tonumber(per_call), calls = tonumber(calls),
                              errors = tonumber(errors) or 0, name = name }
                if name == "total" then
                    current.total = row
                    current = nil
                else
                    current.rows[name] = row
                    current.order[#current.order + 1] = row
                end
            end
        end
        last_line = line
    end
    return tables
end

-- The histogram of `name`: { { low = N, count = N }, ... } in printed order.
local function histogram(text, name)
    local section = text:match("\n" .. name .. ": latency in microseconds\n(.-)\n\n")
        or text:match("\n" .. name .. ": latency in microseconds\n(.*)$")
    if not section then return nil end
    local buckets = {}
    for low, count in section:gmatch("%[(%d+), %d+%)%s+(%d+) |") do
        buckets[#buckets + 1] = { low = tonumber(low), count = tonumber(count) }
    end
    return buckets
end

local function run(arch, args, plugin_args)
    return qemu.run { arch = arch, guest = "calls", args = args,
                      script = "scripts/count.lua", plugin_args = plugin_args }
end

describe("count.lua", function()
    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("counts each syscall the guest makes, and its errors, on " .. arch, function()
            local r = run(arch, { "getppid", "7", "badclose", "3", "sleep", "2" })
            assert.are.equal(0, r.status)
            local t = parse(r.stderr)
            assert.are.equal(1, #t, r.stderr)
            local rows = t[1].rows
            assert.are.same({ 7, 0 }, { rows.getppid.calls, rows.getppid.errors })
            assert.are.same({ 3, 3 }, { rows.close.calls, rows.close.errors })
            assert.are.same({ 2, 0 }, { rows.nanosleep.calls, rows.nanosleep.errors })
            assert.are.same({ 1, 0 }, { rows.exit_group.calls, rows.exit_group.errors })
            local calls, errors = 0, 0
            for _, row in pairs(rows) do
                calls, errors = calls + row.calls, errors + row.errors
            end
            assert.are.same({ calls, errors }, { t[1].total.calls, t[1].total.errors })
        end)
    end

    it("counts the getpid the results guest makes and its failing openat and close", function()
        local r = qemu.run { guest = "results", script = "scripts/count.lua" }
        local rows = parse(r.stderr)[1].rows
        assert.are.same({ 1, 0 }, { rows.getpid.calls, rows.getpid.errors })
        assert.are.same({ 1, 1 }, { rows.openat.calls, rows.openat.errors })
        assert.are.same({ 1, 1 }, { rows.close.calls, rows.close.errors })
    end)

    it("times a call from its entry to its return", function()
        local r = run("i386", { "sleep", "2", "getppid", "3" })
        local t = parse(r.stderr)[1]
        local sleep = t.rows.nanosleep
        assert.is_true(sleep.seconds >= 2 * SLEEP_SECONDS, r.stderr)
        assert.is_true(sleep.per_call >= SLEEP_SECONDS * 1e6, r.stderr)
        assert.is_true(t.total.seconds >= sleep.seconds)
    end)

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("times a call QEMU restarts after a signal handler from its first entry, on " .. arch, function()
            -- read waits 600 ms for its byte while SIGALRM (SA_RESTART) interrupts it every 150 ms
            local r = qemu.run { arch = arch, guest = "restart", script = "scripts/count.lua" }
            assert.are.equal(0, r.status)
            assert.matches("^read 1 after [1-9]%d* alarms\n$", r.stdout)
            local read = parse(r.stderr)[1].rows.read
            assert.are.equal(1, read.calls)
            assert.is_true(read.seconds >= 0.4, r.stderr)
        end)
    end

    local function column_order(sort, key, descending)
        it("sorts by " .. sort, function()
            local r = run("i386", { "getppid", "5", "badclose", "2", "sleep", "1" },
                          sort ~= "time" and { "sort=" .. sort } or nil)
            local order = parse(r.stderr)[1].order
            assert.is_true(#order > 5)
            for i = 2, #order do
                local a, b = order[i - 1][key], order[i][key]
                if descending then
                    assert.is_true(a >= b, r.stderr)
                else
                    assert.is_true(a <= b, r.stderr)
                end
            end
        end)
    end
    column_order("time", "seconds", true)
    column_order("calls", "calls", true)
    column_order("errors", "errors", true)
    column_order("name", "name", false)

    for _, option in ipairs({ "histogram=1", "latency=1" }) do
        it("adds a latency histogram per syscall with " .. option, function()
            local r = run("i386", { "getppid", "7", "sleep", "2" }, { option })
            assert.are.equal(0, r.status)
            local getppid, sleep = histogram(r.stderr, "getppid"), histogram(r.stderr, "nanosleep")
            local n = 0
            for _, b in ipairs(getppid) do n = n + b.count end
            assert.are.equal(7, n)
            n = 0
            for _, b in ipairs(sleep) do
                n = n + b.count
                -- 50 ms is in [32768, 65536) microseconds or, on a slow day, later
                if b.count > 0 then assert.is_true(b.low >= 32768, r.stderr) end
            end
            assert.are.equal(2, n)
        end)
    end

    it("has no histogram unless asked", function()
        local r = run("i386", { "getppid", "1" })
        assert.is_nil(r.stderr:match("latency in microseconds"))
    end)

    it("measures each thread's calls on their own", function()
        local r = run("i386", { "-t", "4", "sleep", "2" })
        assert.are.equal(0, r.status)
        local sleep = parse(r.stderr)[1].rows.nanosleep
        assert.are.equal(8, sleep.calls)
        assert.is_true(sleep.seconds >= 8 * SLEEP_SECONDS, r.stderr)
    end)

    it("prints one summary of the whole process tree, the forked child's calls counted once", function()
        local r = qemu.run { guest = "forker", script = "scripts/count.lua" }
        assert.are.equal(0, r.status)
        local t = parse(r.stderr)
        assert.are.equal(1, #t, r.stderr)
        -- 1 before the fork, 3 in the child, 2 in the parent after it
        assert.are.equal(6, t[1].rows.getppid.calls)
        assert.are.equal(1, t[1].rows.clone.calls)
        assert.are.equal(2, t[1].rows.exit_group.calls)
    end)

    -- A bad option: one line, and the guest never runs.
    local function refused(option, message)
        it("stops before the guest runs on " .. option, function()
            local r = run("i386", { "getppid", "1" }, { option })
            assert.are_not.equal(0, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("^luahook: scripts/count.lua:%d+: " .. message .. "\n$", r.stderr)
        end)
    end
    refused("sort=size", "sort=size: expected one of time, calls, errors, name")
    refused("sotr=calls", "unknown option 'sotr' %(known: histogram, latency, sort%)")
    refused("histogram=maybe", "histogram=maybe: expected 1 or 0 %(yes/no, on/off, true/false%)")
end)
