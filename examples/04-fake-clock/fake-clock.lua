-- fake-clock.lua (lesson 4): makes a program believe it is another day
-- and, if asked, another machine. The kernel's real answers are rewritten
-- in the program's memory by after-hooks: the timespec of clock_gettime
-- (clock_gettime64 on i386), the timeval of gettimeofday, the machine
-- field of uname's structure. time(), whose answer is its return value,
-- is answered by an entry hook instead: an after-hook cannot change a result.
--
--   build/cmd/luahook -s examples/04-fake-clock/fake-clock.lua -a date=2030-01-07 build/examples/weekday
--
-- Options:
--   date=YYYY-MM-DD  the day it seems to be (default 2030-01-07), from noon
--                    UTC on: the fake clock runs at the real one's pace
--   machine=NAME     what uname says the machine is (default: the truth)
--   log=0            no line on luahook's output for each answer rewritten
local lh = require "luahook"
local options = require "luahook.options"

local opts = options.parse(lh.args, {
    date = { kind = "string", default = "2030-01-07" },
    machine = { kind = "string", default = "" },
    log = { kind = "flag", default = true },
})

-- Days from 1970-01-01 to a date of the Gregorian calendar.
local function days_since_epoch(y, m, d)
    if m <= 2 then y = y - 1 end
    local era = math.floor(y / 400)
    local year_of_era = y - era * 400
    local day_of_year = math.floor((153 * ((m + 9) % 12) + 2) / 5) + d - 1
    local day_of_era = year_of_era * 365 + math.floor(year_of_era / 4) - math.floor(year_of_era / 100) + day_of_year
    return era * 146097 + day_of_era - 719468
end

local y, m, d = opts.date:match("^(%d%d%d%d)%-(%d%d)%-(%d%d)$")
if not y or tonumber(m) < 1 or tonumber(m) > 12 or tonumber(d) < 1 or tonumber(d) > 31 then
    error("date=" .. opts.date .. ": expected a date as YYYY-MM-DD")
end
if #opts.machine > 64 then
    error("machine=" .. opts.machine .. ": at most 64 characters fit in uname's field")
end

-- What the fake clock is ahead of (or behind) the real one, in seconds.
local shift = days_since_epoch(tonumber(y), tonumber(m), tonumber(d)) * 86400 + 12 * 3600 - os.time()

local function log(call, real, fake)
    if opts.log then
        lh.printf("fake-clock: %s said %s, the program sees %s\n", call,
                  os.date("!%Y-%m-%d %H:%M:%S", real), os.date("!%Y-%m-%d %H:%M:%S", fake))
    end
end

-- Moves the seconds of the time structure (kind) at argument i.
local function move(sc, i, kind)
    local t = sc:struct(i, kind)
    if not t then
        return
    end
    local real = tonumber(t.tv_sec)
    t.tv_sec = real + shift
    assert(lh.mem.write(sc.args[i], t))
    log(sc.name, real, real + shift)
end

local WALL_CLOCKS = { [0] = true, [5] = true } -- CLOCK_REALTIME, CLOCK_REALTIME_COARSE

for call, kind in pairs({ clock_gettime = "timespec", clock_gettime64 = "timespec64" }) do
    if lh.nr(call) then
        lh.after(call, function(sc, ret)
            if ret == 0 and WALL_CLOCKS[sc.args[1]] then move(sc, 2, kind) end
        end)
    end
end

lh.after("gettimeofday", function(sc, ret)
    if ret == 0 and sc.args[1] ~= 0 then move(sc, 1, "timeval") end
end)

if lh.nr("time") then
    lh.on("time", function(sc)
        local real = os.time()
        if sc.args[1] ~= 0 then
            lh.mem.write_int(sc.args[1], "long", real + shift)
        end
        log("time", real, real + shift)
        return real + shift
    end)
end

if opts.machine ~= "" then
    lh.after("uname", function(sc, ret)
        if ret == 0 then
            -- struct utsname: sysname, nodename, release, version, machine; 65 bytes each
            assert(lh.mem.write(sc.args[1] + 4 * 65, opts.machine .. "\0"))
            if opts.log then lh.printf("fake-clock: uname now says the machine is %s\n", opts.machine) end
        end
    end)
end
