-- make bench: every workload under every configuration, interleaved run by
-- run so machine noise falls on all alike; prints medians, ratios to bare
-- QEMU and peak RSS. Never a pass/fail test: it reports.
-- usage: luajit bench/run.lua [RUNS]   (from the repository root)
-- BENCH_RUNS=N: runs (default 5); BENCH_INSTRUCTIONS=1: callgrind counts too.
local ffi = require "ffi"

ffi.cdef [[
    struct timespec { long tv_sec; long tv_nsec; };
    int clock_gettime(int clk, struct timespec *ts);
]]

local RUNS = tonumber(arg[1] or os.getenv("BENCH_RUNS") or "5")
local BUILD = "build"
local QEMU = BUILD .. "/qemu/bin/qemu-i386"
local QEMU_AARCH64 = BUILD .. "/qemu/bin/qemu-aarch64"
local PLUGIN = BUILD .. "/luahook.so"
local TMP = os.getenv("TMPDIR") or "/tmp"
local OUT = TMP .. "/luahook-bench.out"
local REC = TMP .. "/luahook-bench.rec"

local CONFIGS = {
    { name = "bare", args = "" },
    { name = "C floor plugin", args = "-plugin " .. BUILD .. "/bench/floor.so" },
    { name = "luahook, no hooks", args = "-plugin " .. PLUGIN .. ",script=bench/none.lua" },
    { name = "luahook, count all", args = "-plugin " .. PLUGIN .. ",script=bench/count.lua,out=" .. OUT },
    { name = "luahook, trace.lua", args = "-plugin " .. PLUGIN .. ",script=scripts/trace.lua,out=" .. OUT },
    { name = "luahook, record.lua", args = "-plugin " .. PLUGIN .. ",script=scripts/record.lua,out=" .. REC },
    { name = "qemu -strace", args = "-strace -D " .. OUT },
    -- parallel=1 (a Lua state per thread): on the threaded loop, and on the
    -- one-thread loop, where it must cost no more than the default
    { name = "luahook parallel=1, count all", only_on = { "getppid x 1M", "4 threads x 250k" },
      args = "-plugin " .. PLUGIN .. ",script=bench/count.lua,parallel=1,out=" .. OUT },
    { name = "luahook parallel=1, trace.lua", only_on = { "getppid x 1M", "4 threads x 250k" },
      args = "-plugin " .. PLUGIN .. ",script=scripts/trace.lua,parallel=1,out=" .. OUT },
}

-- i386 guests, and the getppid loop on aarch64 under the configurations
-- the other architectures' targets name (`only`)
local WORKLOADS = {
    { name = "getppid x 1M", guest = BUILD .. "/bench/getppid_loop 1000000" },
    { name = "files x 3000", guest = BUILD .. "/bench/files 3000 " .. TMP },
    { name = "4 threads x 250k", guest = BUILD .. "/bench/threads_loop 4 250000" },
    { name = "getppid x 1M, aarch64", qemu = QEMU_AARCH64,
      guest = BUILD .. "/bench/getppid_loop.aarch64 1000000",
      only = { bare = true, ["C floor plugin"] = true, ["luahook, no hooks"] = true,
               ["luahook, count all"] = true, ["luahook, trace.lua"] = true } },
}

-- Whether `workload` runs under `config`.
local function runs_under(workload, config)
    if config.only_on then
        local listed = false
        for _, name in ipairs(config.only_on) do listed = listed or name == workload.name end
        if not listed then return false end
    end
    return not workload.only or workload.only[config.name] ~= nil
end

-- Start-up: of bare QEMU, of luahook, and of luahook following one execve
-- (the guest execs the empty one: a second QEMU and luahook start).
local EMPTY = BUILD .. "/bench/empty"
local STARTUP = {
    { name = "bare", cmd = QEMU .. " " .. EMPTY },
    { name = "luahook, no hooks", cmd = QEMU .. " " .. CONFIGS[3].args .. " " .. EMPTY },
    { name = "luahook, no hooks, and one followed execve", cmd = QEMU .. " " .. CONFIGS[3].args
      .. " " .. BUILD .. "/bench/exec_once " .. EMPTY },
}

local function now()
    local ts = ffi.new("struct timespec")
    ffi.C.clock_gettime(1, ts)   -- CLOCK_MONOTONIC
    return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local function slurp(path)
    local f = io.open(path)
    if not f then return nil end
    local s = f:read("*a")
    f:close()
    return s
end

-- Runs one command; returns wall seconds and peak RSS in KiB.
local function measure(cmd)
    local rss_file = TMP .. "/luahook-bench.rss"
    local t0 = now()
    local ok = os.execute(string.format("/usr/bin/time -f %%M -o %s %s >/dev/null 2>&1", rss_file, cmd))
    local elapsed = now() - t0
    if ok ~= 0 and ok ~= true then
        error("benchmark command failed: " .. cmd)
    end
    return elapsed, tonumber((slurp(rss_file) or ""):match("(%d+)%s*$")) or 0
end

local function median(list)
    local t = {}
    for i, v in ipairs(list) do t[i] = v end
    table.sort(t)
    local n = #t
    return n % 2 == 1 and t[(n + 1) / 2] or (t[n / 2] + t[n / 2 + 1]) / 2
end

-- samples[w][c] = { times = {}, rss = {} }
local samples = {}
for w = 1, #WORKLOADS do
    samples[w] = {}
    for c = 1, #CONFIGS do samples[w][c] = { times = {}, rss = {} } end
end
local startup = {}
for s = 1, #STARTUP do startup[s] = {} end

io.stderr:write(string.format("luahook bench: %d runs of %d workloads x %d configurations\n",
                              RUNS, #WORKLOADS, #CONFIGS))
for run = 1, RUNS do
    for w, workload in ipairs(WORKLOADS) do
        -- each run starts at another configuration: the first after a
        -- change of workload ran measurably slower, whichever it was
        for k = 0, #CONFIGS - 1 do
            local c = (k + run - 1) % #CONFIGS + 1
            local config = CONFIGS[c]
            if runs_under(workload, config) then
                local t, rss = measure((workload.qemu or QEMU) .. " " .. config.args .. " " .. workload.guest)
                table.insert(samples[w][c].times, t)
                table.insert(samples[w][c].rss, rss)
            end
        end
    end
    for _ = 1, 5 do     -- start-up is short: more samples
        for s, start in ipairs(STARTUP) do
            table.insert(startup[s], (measure(start.cmd)))
        end
    end
    io.stderr:write(string.format("  run %d/%d done\n", run, RUNS))
end
os.remove(OUT)
os.remove(REC)

print(string.format("Medians of %d interleaved runs; ratio = median / median of bare QEMU.", RUNS))
print("")
print("| workload | configuration | median s | ratio | peak RSS MiB | extra RSS MiB |")
print("| --- | --- | ---: | ---: | ---: | ---: |")
for w, workload in ipairs(WORKLOADS) do
    local bare_t = median(samples[w][1].times)
    local bare_rss = median(samples[w][1].rss)
    for c, config in ipairs(CONFIGS) do
        if runs_under(workload, config) then
            local s = samples[w][c]
            local t, rss = median(s.times), median(s.rss)
            print(string.format("| %s | %s | %.3f | %.2f | %.1f | %+.1f |", workload.name, config.name,
                                t, t / bare_t, rss / 1024, (rss - bare_rss) / 1024))
        end
    end
end
-- record.lua's cost beside trace.lua's (the target: at most 1.5 times)
local function config_named(name)
    for c, config in ipairs(CONFIGS) do
        if config.name == name then return c end
    end
end
local bare_c, trace_c, record_c = 1, config_named("luahook, trace.lua"), config_named("luahook, record.lua")
print("")
print("| workload | record.lua's time over bare / trace.lua's |")
print("| --- | ---: |")
for w, workload in ipairs(WORKLOADS) do
    if runs_under(workload, CONFIGS[record_c]) then
        local bare = median(samples[w][bare_c].times)
        print(string.format("| %s | %.2f |", workload.name,
                            (median(samples[w][record_c].times) - bare)
                            / (median(samples[w][trace_c].times) - bare)))
    end
end
print("")
print("| start-up (a guest that exits at once) | median ms | extra ms |")
print("| --- | ---: | ---: |")
local base = median(startup[1])
for s, start in ipairs(STARTUP) do
    local m = median(startup[s])
    print(string.format("| %s | %.1f | %+.1f |", start.name, m * 1000, (m - base) * 1000))
end
print("")
print(string.format("A followed execve adds %.1f ms: the last line less the one before it.",
                    (median(startup[3]) - median(startup[2])) * 1000))

-- BENCH_INSTRUCTIONS=1 adds instructions per syscall on the getppid loop,
-- counted by callgrind: no noise at all, so small differences show. The
-- difference between a 200 000- and a 100 000-call run leaves start-up out.
if os.getenv("BENCH_INSTRUCTIONS") == "1" then
    local found = os.execute("command -v valgrind >/dev/null")
    if found ~= 0 and found ~= true then
        print("\n(instructions: valgrind is not installed; apt-get install valgrind)")
        return
    end
    local function count(qemu, loop, args, calls)
        local out = TMP .. "/luahook-bench.callgrind"
        local p = io.popen(string.format(
            "valgrind --tool=callgrind --callgrind-out-file=%s %s %s %s %d 2>&1 >/dev/null",
            out, qemu, args, loop, calls))
        local text = p:read("*a")
        p:close()
        os.remove(out)
        local total = text:match("Collected : (%d+)")
        if not total then error("callgrind failed: " .. text) end
        return tonumber(total)
    end
    io.stderr:write("luahook bench: instructions per syscall (callgrind)\n")
    print("")
    print("| getppid loop, callgrind | instructions per syscall | ratio |")
    print("| --- | ---: | ---: |")
    for _, w in ipairs({ WORKLOADS[1], WORKLOADS[4] }) do
        local qemu, loop = w.qemu or QEMU, w.guest:match("^(%S+)")
        local bare
        for _, config in ipairs(CONFIGS) do
            if runs_under(w, config) then
                local per_call = (count(qemu, loop, config.args, 200000)
                                  - count(qemu, loop, config.args, 100000)) / 100000
                bare = bare or per_call
                print(string.format("| %s%s | %.0f | %.2f |", config.name, w.qemu and ", aarch64" or "",
                                    per_call, per_call / bare))
            end
        end
    end
    os.remove(OUT)
    os.remove(REC)
end
