-- parallel=1: a Lua state per guest thread, what the states share
-- (lh.shared, the merge at exit), and the scripts, the REPL and --watch in
-- that mode, through the reference QEMU on real threaded guests.
local qemu = require "helpers.qemu"
local command = require "helpers.command"

local PARALLEL = { "parallel=1" }

-- A threaded guest under parallel=1 with the script `lua`.
local function run_parallel(opts)
    opts.plugin_args = opts.plugin_args or {}
    table.insert(opts.plugin_args, 1, "parallel=1")
    return qemu.run(opts)
end

describe("parallel=1", function()
    for _, arch in ipairs(qemu.arch_names()) do
        it("counts 8 threads x 20 000 calls exactly through lh.shared on " .. arch, function()
            local r = run_parallel {
                arch = arch, guest = "threads", args = { "8", "20000" },
                lua = [[
                    local lh = require "luahook"
                    lh.on("getppid", function() lh.shared.add("getppid") end)
                    lh.on_done(function() print("counted", lh.shared.get("getppid")) end)
                ]],
            }
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("counted\t160000\n", r.stderr)
        end)
    end

    it("makes a thread's state at a return when its hooks are after-hooks only, and counts exactly", function()
        -- no entry reaches Lua: each thread's first event is a return
        local r = run_parallel {
            guest = "threads", args = { "8", "20000" },
            lua = [[
                local lh = require "luahook"
                local n = 0
                lh.after("getppid", function(sc, ret)
                    if sc.name == "getppid" and ret > 0 then n = n + 1 end
                end)
                lh.on_exit(function() lh.shared.add("getppid", n) end)
                lh.on_done(function()
                    print("counted", lh.shared.get("getppid"), "entries", lh.stats().entries)
                end)
            ]],
        }
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("counted\t160000\tentries\t0\n", r.stderr)
    end)

    it("runs the script in a state of each thread's own, ended with the thread", function()
        -- each state counts in a plain local: only a state per thread sees exactly 20 000
        local r = run_parallel {
            guest = "threads", args = { "4", "20000" },
            lua = [[
                local lh = require "luahook"
                local n, tid = 0, nil
                lh.on("getppid", function(sc) n = n + 1; tid = sc.tid end)
                lh.on_exit(function(how)
                    if how == "thread" and tid then lh.shared.map("calls"):set(tid, n) end
                end)
                lh.on_done(function(how)
                    local rows = {}
                    for t, calls in pairs(lh.shared.map("calls"):snapshot()) do
                        rows[#rows + 1] = t .. " " .. calls
                    end
                    table.sort(rows)
                    print(how, lh.shared.thread_state, table.concat(rows, ","))
                end)
            ]],
        }
        assert.are.equal(0, r.status, r.stderr)
        local tids = {}
        for tid in r.stdout:gmatch("tid (%d+)\n") do tids[#tids + 1] = tid .. " 20000" end
        table.sort(tids)
        assert.are.equal(4, #tids)
        assert.are.equal("exit\tfalse\t" .. table.concat(tids, ",") .. "\n", r.stderr)
    end)

    it("keeps the default mode's one state without it", function()
        local r = qemu.run {
            guest = "threads", args = { "4", "1000" },
            lua = [[
                local lh = require "luahook"
                local n = 0
                lh.on("getppid", function() n = n + 1 end)
                lh.on_exit(function(how) print(how, n, lh.shared.parallel) end)
            ]],
        }
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("exit\t4000\tfalse\n", r.stderr)
    end)

    it("merges at exit: count.lua prints one table with every thread's calls, leaving no file", function()
        -- count.lua's merge file is made by os.tmpname, as /tmp/lua_XXXXXX
        local function temp_files()
            local set = {}
            for name in qemu.sh("ls /tmp"):gmatch("[^\n]+") do
                if name:match("^lua_") then set[name] = true end
            end
            return set
        end
        local before = temp_files()
        local r = run_parallel {
            guest = "threads", args = { "4", "5000" }, script = "scripts/count.lua",
            plugin_args = { "sort=name" },
        }
        assert.are.equal(0, r.status, r.stderr)
        local _, totals = r.stderr:gsub("\n[^\n]* total\n", "")
        assert.are.equal(1, totals, r.stderr)
        assert.matches("\n[%d. ]+ 20000 +getppid\n", r.stderr)
        assert.matches("\n[%d. ]+ 4 +exit\n", r.stderr)
        local left = {}
        for name in pairs(temp_files()) do
            -- (the listing's own capture file is gone once it is read;
            -- renaming to itself tests that without opening a FIFO)
            local still = os.rename("/tmp/" .. name, "/tmp/" .. name)
            if still and not before[name] then left[#left + 1] = name end
        end
        assert.are.same({}, left)
    end)

    it("starts and ends a state for thousands of threads without keeping them", function()
        local r = run_parallel {
            guest = "churn", args = { "2000" },
            lua = [[
                local lh = require "luahook"
                local rss = {}
                lh.on("getppid", function() end)
                lh.on("getpid", function()
                    local f = io.open("/proc/self/statm")
                    rss[#rss + 1] = tonumber(f:read("*a"):match("^%d+ (%d+)")) * 4
                    f:close()
                end)
                lh.on_exit(function(how)
                    if how == "thread" then lh.shared.add("ended") end
                end)
                lh.on_done(function()
                    print(lh.shared.get("ended"), rss[1], rss[2])
                end)
            ]],
        }
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("started 2000 threads\n", r.stdout)
        local ended, early, late = r.stderr:match("^(%d+)\t(%d+)\t(%d+)\n$")
        assert.is_not_nil(ended, r.stderr)
        assert.are.equal("2000", ended)
        -- 1 600 more states: a kept one costs hundreds of KiB, so megabytes
        assert.is_true(tonumber(late) - tonumber(early) < 4096,
                       "resident KiB grew from " .. early .. " to " .. late)
    end)

    it("reports a hook's error once, in its state, while the others go on", function()
        local r = run_parallel {
            guest = "threads", args = { "4", "1000" },
            lua = [[
                local lh = require "luahook"
                lh.on("getppid", function()
                    if lh.shared.add("calls") == 1500 then error("boom") end
                    lh.shared.add("went on")
                end)
                lh.on_done(function() print("went on", lh.shared.get("went on")) end)
            ]],
        }
        assert.are.equal(0, r.status, r.stderr)
        local _, reports = r.stderr:gsub("luahook: hook registered at [^\n]* failed on getppid: [^\n]*boom", "")
        assert.are.equal(1, reports, r.stderr)
        assert.matches("\nwent on\t3999\n$", r.stderr)
    end)

    it("lets a thread whose state fails to start share the main one, saying so", function()
        local r = run_parallel {
            guest = "threads", args = { "2", "1000" },
            lua = [[
                local lh = require "luahook"
                if lh.shared.thread_state then error("not in a thread", 0) end
                local n = 0
                lh.on("getppid", function() n = n + 1 end)
                lh.on_done(function() print("main counted", n) end)
            ]],
        }
        assert.are.equal(0, r.status, r.stderr)
        local _, said = r.stderr:gsub("luahook: parallel=1: thread %d+ shares the main Lua state: not in a thread\n", "")
        assert.are.equal(2, said, r.stderr)
        assert.matches("\nmain counted\t2000\n$", r.stderr)
    end)

    it("lets inject.lua count the calls of every thread together", function()
        local r = run_parallel {
            guest = "threads", args = { "4", "5" }, script = "scripts/inject.lua",
            plugin_args = { "inject=getppid:error=EPERM:when=3+5", "log=1" },
        }
        assert.are.equal(0, r.status, r.stderr)
        local _, injected = r.stderr:gsub("inject: getppid = %-1 EPERM %(Operation not permitted%) %(INJECTED%)\n", "")
        assert.are.equal(4, injected, r.stderr)   -- calls 3, 8, 13 and 18 of 20
    end)

    it("writes trace.lua's lines whole, each thread's calls under its own pid, in the order of returns", function()
        local r = run_parallel {
            guest = "threads", args = { "4", "300" }, script = "scripts/trace.lua",
        }
        assert.are.equal(0, r.status, r.stderr)
        local per_tid, main = {}, nil
        for line in r.stderr:gmatch("[^\n]+") do
            local tid, rest = line:match("^%[pid (%d+)%] (.*)$")
            assert.is_nil((rest or line):find("[pid ", 1, true), line)   -- no line inside another
            if not tid then
                -- the main thread's lines before its first clone
                assert.matches("^[%w_]+%(.*%) = .+$", line)
            else
                -- a whole call, or the two halves strace writes when another line comes between
                assert.is_truthy(rest:match("^[%w_]+%(.*%) = .+$") or rest:match("^[%w_]+%(.* <unfinished %.%.%.>$")
                               or rest:match("^<%.%.%. [%w_]+ resumed>.*%) = .+$")
                               or rest:match("^%+%+%+ exited with 0 %+%+%+$"), line)
                if rest:match("^getppid%(%) = ") or rest:match("^<%.%.%. getppid resumed>%) = ") then
                    per_tid[tid] = (per_tid[tid] or 0) + 1
                end
                main = main or (rest:match("^exit_group") and tid)
            end
        end
        local threads = 0
        for tid, n in pairs(per_tid) do
            threads = threads + 1
            assert.are.equal(300, n, "thread " .. tid)
        end
        assert.are.equal(4, threads)
        -- a call that cannot block is written whole at its return
        assert.is_nil(r.stderr:find("getppid( <unfinished", 1, true))
        assert.matches("%[pid %d+%] %+%+%+ exited with 0 %+%+%+\n$", r.stderr)
    end)

    -- Checks trace.lua's output as strace's rules for lines of several
    -- threads and processes have it: a line left " <unfinished ...>" is
    -- followed by another thread's line or a signal's, and its thread's
    -- next call line is its "<... NAME resumed>" (unless a signal came:
    -- a call its handler's calls interrupted starts anew); no other line
    -- starts that way. Returns the lines without their "[pid N] ", and how
    -- many were left unfinished.
    local function strace_lines(text)
        local lines, open, last_open, unfinished = {}, {}, nil, 0
        for line in text:gmatch("[^\n]+") do
            local tid, rest = line:match("^%[pid (%d+)%] (.*)$")
            tid, rest = tid or "main", rest or line
            local signal = rest:match("^%-%-%- SIG%w+ ")
            assert.is_true(last_open == nil or last_open ~= tid or signal ~= nil, line)
            last_open = nil
            local name = rest:match("^<%.%.%. ([%w_]+) resumed>")
            if signal then
                open[tid] = nil
            elseif name then
                assert.are.equal(name, open[tid], line)
                open[tid] = nil
            else
                assert.is_nil(open[tid], line)
                if rest:match(" <unfinished %.%.%.>$") then
                    open[tid], last_open = rest:match("^([%w_]+)%("), tid
                    unfinished = unfinished + 1
                else
                    assert.is_truthy(rest:match("^[%w_]+%(.*%) = .+$")
                                     or rest:match("^%+%+%+ exited with %d+ %+%+%+$"), line)
                end
            end
            lines[#lines + 1] = rest
        end
        assert.is_nil(next(open))
        return lines, unfinished
    end

    -- The threads take turns under a mutex, so their numbered calls return
    -- in the order of the numbers, while futex calls, opened at entry,
    -- come between: every thread's texts wait in a ring of its own and are
    -- merged by their stamps (core/ordered.c).
    for _, arch in ipairs({ "i386", "x86_64", "aarch64" }) do
        it("puts trace.lua's lines of threads taking turns in the order of their returns on " .. arch, function()
            local threads, rounds = 4, 3000
            local r = run_parallel {
                arch = arch, guest = "turns", args = { tostring(threads), tostring(rounds) },
                script = "scripts/trace.lua",
            }
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal(threads * rounds .. " calls\n", r.stdout)
            local lines, unfinished = strace_lines(r.stderr)
            local numbers = {}
            for _, line in ipairs(lines) do
                local number = line:match("^read%(%-(%d+), ") or line:match("^close%(%-(%d+)%)")
                if number then numbers[#numbers + 1] = tonumber(number) end
            end
            assert.are.equal(threads * rounds, #numbers)
            for i, number in ipairs(numbers) do
                if number ~= i then
                    error(("call %d shows %d: %s"):format(i, number, r.stderr:sub(1, 4000)))
                end
            end
            assert.is_true(unfinished > 0, "no thread's line was left open")
        end)
    end

    it("writes a signal handler's calls whole while the call they interrupt waits", function()
        local r = run_parallel { guest = "restart", script = "scripts/trace.lua" }
        assert.are.equal(0, r.status, r.stderr)
        strace_lines(r.stderr)
        assert.is_nil(r.stderr:find("getppid resumed", 1, true), r.stderr)
        assert.matches("\n%[pid %d+%] getppid%(%) = %d+\n", r.stderr)
    end)

    it("writes a forked child's first call whole: the line its fork opened is its parent's", function()
        local r = run_parallel { guest = "forker", script = "scripts/trace.lua" }
        assert.are.equal(0, r.status, r.stderr)
        strace_lines(r.stderr)
        assert.matches("\n%[pid %d+%] set_robust_list%(0x%x+, 12%) = %-1 ENOSYS", r.stderr)
    end)

    it("ends the line of the clone that starts a thread before that thread writes", function()
        -- short threads write while their clone's line is still open
        for _ = 1, 6 do
            local r = run_parallel { guest = "threads", args = { "3", "2" }, script = "scripts/trace.lua" }
            assert.are.equal(0, r.status, r.stderr)
            for line in r.stderr:gmatch("[^\n]+") do
                assert.is_nil(line:find(".%[pid "), line)
                if line:match("clone%(") then
                    assert.is_truthy(line:match("%) = %d+$") or line:match(" <unfinished %.%.%.>$"), line)
                end
            end
        end
    end)

    it("gives a forked child one state, and runs its merge there too", function()
        local r = run_parallel {
            guest = "forker",
            lua = [[
                local lh = require "luahook"
                lh.on_done(function(how) print("done", how, lh.pid()) end)
            ]],
        }
        assert.are.equal(0, r.status, r.stderr)
        local pids = {}
        for pid in r.stderr:gmatch("done\texit\t(%d+)\n") do pids[#pids + 1] = pid end
        assert.are.equal(2, #pids, r.stderr)
        assert.are_not.equal(pids[1], pids[2])
    end)

    it("says which argument is wrong, before the guest runs", function()
        for _, case in ipairs({
            { { "parallel=2" }, "", "^luahook: parallel=2: expected parallel=1 or parallel=0\n$" },
            { { "parallel=1", "hook_timeout=100" }, "",
              "^luahook: hook_timeout=100 cannot be used with parallel=1: [^\n]+\n$" },
        }) do
            local r = qemu.run { guest = "getpid", lua = case[2], plugin_args = case[1] }
            assert.are_not.equal(0, r.status)
            assert.are.equal("", r.stdout)
            assert.matches(case[3], r.stderr)
        end
        -- scripts that need one state to see every thread's calls
        for _, script in ipairs({ "record", "replay", "sandbox", "explain" }) do
            local r = qemu.run { guest = "getpid", script = "scripts/" .. script .. ".lua",
                                 plugin_args = PARALLEL }
            assert.are_not.equal(0, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("^luahook: " .. script .. "%.lua does not run with parallel=1: [^\n]+\n$", r.stderr)
        end
    end)
end)

describe("luahook --parallel", function()
    local luahook = command.luahook

    it("passes parallel=1 to the plugin", function()
        local r = command.run({ luahook, "-n", "--parallel", "-s", "count", qemu.guest("getpid") })
        assert.are.equal(0, r.status, r.stderr)
        assert.matches("/luahook%.so,script=[^ ]*count%.lua,parallel=1 ", r.stdout)
    end)

    it("reloads an edited --watch script in every thread's state, saying so once", function()
        local script = qemu.tmppath() .. ".lua"
        qemu.write_file(script, "luahook.on('getppid', function(sc) print('v1', sc.tid) end)\n")
        local job = command.start({ luahook, "--parallel", "--watch", "-s", script,
                                    qemu.guest("ticker"), "150", "10", "3" })
        os.execute("sleep 0.8")
        command.write(script, "luahook.on('getppid', function(sc) print('v2', sc.tid) end)\n")
        local r = command.finish(job)
        os.remove(script)
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("ticked 450 times\n", r.stdout)
        local _, said = r.stderr:gsub("luahook: reloaded [^\n]*\n", "")
        assert.are.equal(1, said, r.stderr)
        local v1, v2 = {}, {}
        for v, tid in r.stderr:gmatch("(v%d)\t(%d+)\n") do
            (v == "v1" and v1 or v2)[tid] = true
            if v == "v1" then assert.is_nil(v2[tid], "thread " .. tid .. " went back to v1") end
        end
        local threads = 0
        for tid in pairs(v1) do
            threads = threads + 1
            assert.is_true(v2[tid], "thread " .. tid .. " never ran v2")
        end
        assert.are.equal(3, threads)
    end)
end)
