-- The host's monotonic clock and sleeping, for scripts that time syscalls
-- or delay them. linux-user runs the guest in this very process, so a
-- sleep here holds up the guest thread making the call (and, as it holds
-- luahook's lock, other threads' hooked syscalls too).
local ffi = require "ffi"

-- Own names for the C symbols (asm labels), so these declarations never
-- clash with another module declaring the same functions with other types.
ffi.cdef [[
struct lh_clock_timespec { long tv_sec; long tv_nsec; };
int lh_clock_gettime(int clock, struct lh_clock_timespec *ts) __asm__("clock_gettime");
int lh_clock_nanosleep(int clock, int flags, const struct lh_clock_timespec *request,
                       struct lh_clock_timespec *remain) __asm__("clock_nanosleep");
]]

local CLOCK_MONOTONIC = 1
local TIMER_ABSTIME = 1

local clock = {}

local now_ts = ffi.new("struct lh_clock_timespec")

--- Seconds on the monotonic clock, as a number (nanosecond resolution).
---@return number
function clock.now()
    ffi.C.lh_clock_gettime(CLOCK_MONOTONIC, now_ts)
    return tonumber(now_ts.tv_sec) + tonumber(now_ts.tv_nsec) * 1e-9
end

--- Sleeps `usecs` microseconds. Sleeping until an absolute deadline makes
--- a sleep interrupted by a signal simply resume, never come out short.
---@param usecs number
function clock.sleep_us(usecs)
    if usecs <= 0 then
        return
    end
    local deadline = ffi.new("struct lh_clock_timespec")
    ffi.C.lh_clock_gettime(CLOCK_MONOTONIC, deadline)
    local nsec = tonumber(deadline.tv_nsec) + (usecs % 1e6) * 1e3
    deadline.tv_sec = deadline.tv_sec + math.floor(usecs / 1e6) + math.floor(nsec / 1e9)
    deadline.tv_nsec = nsec % 1e9
    -- clock_nanosleep returns the error number; EINTR (4): sleep on
    while ffi.C.lh_clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, deadline, nil) == 4 do end
end

return clock
