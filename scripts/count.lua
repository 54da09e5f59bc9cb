-- count.lua: a summary of the guest's syscalls at exit, like `strace -c -f`:
-- calls, errors and time spent per syscall, sorted by time, for the whole
-- process tree (forked children and the programs execs start), and every
-- thread's Lua state with parallel=1.
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/count.lua[,sort=calls][,histogram=1] ./prog
--
-- Options (docs/scripts.md): sort=time|calls|errors|name; histogram=1 (or
-- latency=1) adds a log2 histogram of each syscall's latency.
-- The time of a call runs from its entry to its return on the monotonic
-- clock: what the guest waited, QEMU's own work and the hooks' included.
local ffi = require "ffi"
local lh = require "luahook"
local clock = require "luahook.clock"
local options = require "luahook.options"

local opts = options.parse(lh.args, {
    sort = { kind = "choice", choices = { "time", "calls", "errors", "name" }, default = "time" },
    histogram = { kind = "flag", default = false },
    latency = { kind = "flag", default = false },
})
local with_histogram = opts.histogram or opts.latency

local ERROR_MIN = -4095 -- results -4095..-1 are errors, as the kernel returns them

local stats    -- [name] = { name, calls, errors, seconds, buckets = { [b] = n } }
local pid = lh.pid()

local function reset()
    stats = {}
end
reset()

local function entry_for(name)
    local s = stats[name]
    if not s then
        s = { name = name, calls = 0, errors = 0, seconds = 0, buckets = {} }
        stats[name] = s
    end
    return s
end

-- Bucket 0 holds [0, 1) microseconds, bucket b >= 1 holds [2^(b-1), 2^b).
local function bucket_of(usecs)
    if usecs < 1 then
        return 0
    end
    local _, exponent = math.frexp(usecs)
    return exponent
end

-- `seconds` is nil for a call that never returns: counted, but not timed.
local function record(name, seconds, failed)
    local s = entry_for(name)
    s.calls = s.calls + 1
    if failed then
        s.errors = s.errors + 1
    end
    if seconds and with_histogram then
        local b = bucket_of(seconds * 1e6)
        s.buckets[b] = (s.buckets[b] or 0) + 1
    end
    s.seconds = s.seconds + (seconds or 0)
end

-- Calls that never return are counted at entry, with no time.
local no_return = {}
for _, name in ipairs({ "exit", "exit_group", "sigreturn", "rt_sigreturn" }) do
    if lh.nr(name) then no_return[#no_return + 1] = name end
end
lh.on(no_return, function(sc)
    record(sc.name, nil, false)
end)

-- A forked child starts its own summary: it inherited the parent's counts.
local forks = {}
for _, name in ipairs({ "fork", "vfork", "clone", "clone3" }) do
    if lh.nr(name) then forks[lh.nr(name)] = true end
end

-- A call QEMU restarts after a signal handler is timed from its first entry.
lh.on("*", function(sc)
    if not sc.restarted then
        sc.t0 = clock.now()
    end
end)

lh.after("*", function(sc, ret)
    local seconds = clock.now() - sc.t0
    if forks[sc.nr] and lh.pid() ~= pid then
        pid = lh.pid()
        reset()
        return
    end
    record(sc.name, seconds, type(ret) == "number" and ret < 0 and ret >= ERROR_MIN)
end)

local ORDER = {
    time = function(a, b) return a.seconds > b.seconds end,
    calls = function(a, b) return a.calls > b.calls end,
    errors = function(a, b) return a.errors > b.errors end,
    name = function() return false end,
}

local function sorted_rows()
    local rows = {}
    for _, s in pairs(stats) do rows[#rows + 1] = s end
    local first = ORDER[opts.sort]
    table.sort(rows, function(a, b)
        if first(a, b) then return true end
        if first(b, a) then return false end
        return a.name < b.name
    end)
    return rows
end

local RULE = "------ ----------- ----------- --------- --------- ----------------\n"

local function print_row(s, total_seconds, name)
    local share = total_seconds > 0 and 100 * s.seconds / total_seconds or 0
    local per_call = s.calls > 0 and math.floor(s.seconds * 1e6 / s.calls) or 0
    lh.printf("%6.2f %11.6f %11d %9d %9s %s\n", share, s.seconds, per_call, s.calls,
              s.errors > 0 and tostring(s.errors) or "", name)
end

local function bucket_label(b)
    if b == 0 then
        return "[0, 1)"
    end
    return string.format("[%d, %d)", 2 ^ (b - 1), 2 ^ b)
end

local BAR_WIDTH = 40

local function print_histogram(s)
    local low, high, most = math.huge, -1, 0
    for b, n in pairs(s.buckets) do
        low, high, most = math.min(low, b), math.max(high, b), math.max(most, n)
    end
    if high < 0 then
        return
    end
    lh.printf("\n%s: latency in microseconds\n", s.name)
    for b = low, high do
        local n = s.buckets[b] or 0
        lh.printf("  %-20s %9d |%-" .. BAR_WIDTH .. "s|\n", bucket_label(b), n,
                  string.rep("@", math.ceil(n * BAR_WIDTH / most)))
    end
end

-- The process tree ------------------------------------------------------

-- Every process image but the first process's last one adds its counts to
-- a file the first process made, as it ends (an exit, or a followed exec:
-- the first process may exec too); the first process adds them to its own
-- at its exit and prints the sum. lh.inherited carries the first process's
-- id and the file across execs; a forked child has them already.
-- With parallel=1 every thread's Lua state is one more image of this kind:
-- it finds the file in lh.shared, where its process's first state put it.
local TREE = "count.tree"
local tree = lh.inherited[TREE] or lh.shared.get(TREE)
local root_pid, tree_file = (tree or ""):match("^(%d+) (.+)$")
root_pid = tonumber(root_pid)
if not root_pid then
    root_pid, tree_file = pid, os.tmpname()
    lh.inherited[TREE] = root_pid .. " " .. tree_file
end
lh.shared.set(TREE, root_pid .. " " .. tree_file)

ffi.cdef [[
int lh_count_open(const char *path, int flags) __asm__("open");
long lh_count_write(int fd, const char *buf, size_t len) __asm__("write");
int lh_count_close(int fd) __asm__("close");
]]
local O_WRONLY, O_APPEND = 1, 0x400   -- the host's (x86_64) values

local function row_line(s)
    local buckets = {}
    for b, n in pairs(s.buckets) do buckets[#buckets + 1] = b .. ":" .. n end
    return string.format("%s %d %d %.9f %s\n", s.name, s.calls, s.errors, s.seconds,
                         table.concat(buckets, ","))
end

-- Adds this image's counts to the file in one write, which O_APPEND keeps
-- whole beside other processes' (never creating it: after the first
-- process has printed, nobody reads it).
local function deposit()
    local lines = {}
    for _, s in pairs(stats) do lines[#lines + 1] = row_line(s) end
    local text = table.concat(lines)
    local fd = ffi.C.lh_count_open(tree_file, O_WRONLY + O_APPEND)
    if fd >= 0 then
        ffi.C.lh_count_write(fd, text, #text)
        ffi.C.lh_count_close(fd)
    end
end

-- Adds the other images' counts to this one's, and removes the file.
local function gather()
    local f = io.open(tree_file, "rb")
    if not f then return end
    for line in f:lines() do
        local name, calls, errors, seconds, buckets = line:match("^(%S+) (%d+) (%d+) (%S+) (%S*)$")
        if name then
            local s = entry_for(name)
            s.calls, s.errors = s.calls + tonumber(calls), s.errors + tonumber(errors)
            s.seconds = s.seconds + tonumber(seconds)
            for b, n in buckets:gmatch("(%d+):(%d+)") do
                b = tonumber(b)
                s.buckets[b] = (s.buckets[b] or 0) + tonumber(n)
            end
        end
    end
    f:close()
    os.remove(tree_file)
end

lh.on_exit(function(how, sc)
    if how == "exec" then
        record(sc.name, nil, false) -- it never returns: counted, not timed
    end
    -- "thread": a thread's state (parallel=1), ended before the one that
    -- ends the process gathers
    if how ~= "exit" or lh.pid() ~= root_pid then
        deposit()
        return
    end
    gather()
    local rows = sorted_rows()
    local total = { calls = 0, errors = 0, seconds = 0 }
    for _, s in ipairs(rows) do
        total.calls = total.calls + s.calls
        total.errors = total.errors + s.errors
        total.seconds = total.seconds + s.seconds
    end
    lh.printf("%% time     seconds  usecs/call     calls    errors syscall\n")
    lh.out(RULE)
    for _, s in ipairs(rows) do
        print_row(s, total.seconds, s.name)
    end
    lh.out(RULE)
    print_row(total, total.seconds, "total")
    if with_histogram then
        for _, s in ipairs(rows) do
            print_histogram(s)
        end
    end
end)
