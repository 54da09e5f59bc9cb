-- Guest structures as strace prints them: {tv_sec=1, tv_nsec=0},
-- {st_mode=S_IFREG|0644, st_size=12, ...}, socket addresses by family,
-- sigaction, epoll_event, ... Each decoder takes the decoder settings and
-- a guest address and returns the text, or nil when the memory cannot be
-- read (the caller then shows the address). Layouts come from
-- luahook._guest.types where it has them, else from guest words read here.
local bit = require "bit"
local ffi = require "ffi"
local context = require "luahook._core.context"
local int = require "luahook._guest.int"
local memory = require "luahook._guest.memory"
local types = require "luahook._guest.types"
local text = require "luahook.decode.text"
local values = require "luahook.decode.values"

local structs = {}

local WORD = context.word_size or 4
-- copies of guest memory are read through these (a pointer into a Lua
-- string would not keep the string alive while the loop allocates)
local WORDS = WORD == 8 and ffi.typeof("uint64_t[?]") or ffi.typeof("uint32_t[?]")
local INTS = ffi.typeof("int32_t[?]")
local dec, u32, i32 = values.dec, values.u32, values.i32
local host_order = int.host_order
local file_type = values.formatter("file_type")

--- `n` guest words at `addr`, as an array of integers; nil if unreadable.
---@param addr integer|ffi.cdata*
---@param n integer
---@return (integer|ffi.cdata*)[]?
function structs.words(addr, n)
    if n == 0 then
        return {}
    end
    local bytes = memory.read(addr, n * WORD)
    if not bytes then
        return nil
    end
    bytes = host_order(bytes, WORD)
    local p = WORDS(n)
    ffi.copy(p, bytes, n * WORD)
    local out = {}
    for i = 0, n - 1 do
        out[i + 1] = values.exact(p[i])
    end
    return out
end

-- A file mode as text (see structs.mode).
local function mode_text(mode)
    local kind = bit.band(mode, 0xf000)
    local name = ""
    if kind ~= 0 then
        name = file_type(kind)
        if name:sub(1, 2) ~= "S_" then
            return string.format("%#03o", mode)
        end
        name = name .. "|"
    end
    if bit.band(mode, 0xe00) ~= 0 then
        if bit.band(mode, 0x800) ~= 0 then name = name .. "S_ISUID|" end
        if bit.band(mode, 0x400) ~= 0 then name = name .. "S_ISGID|" end
        if bit.band(mode, 0x200) ~= 0 then name = name .. "S_ISVTX|" end
    end
    return name .. string.format("%#03o", bit.band(mode, 0x1ff))
end

-- the texts of the modes seen (a few recur: S_IFREG|0644, ...)
local mode_texts = {}

--- A file mode as strace prints it: the type by name, the set-user-ID,
--- set-group-ID and sticky bits by name, then the permissions in octal
--- (S_IFDIR|S_ISVTX|0777); `0` bits become "000". A type without a name
--- makes the whole mode octal.
---@param mode integer
---@return string
function structs.mode(mode)
    mode = u32(mode)
    local text = mode_texts[mode]
    if not text then
        text = mode_text(mode)
        mode_texts[mode] = text
    end
    return text
end

--- A kernel dev_t's major and minor numbers, as makedev(0x88, 0).
---@param dev integer
---@return string
function structs.makedev(dev)
    dev = u32(dev)
    local major = bit.band(bit.rshift(dev, 8), 0xfff)
    local minor = bit.bor(bit.band(dev, 0xff), bit.band(bit.rshift(dev, 12), 0xfff00))
    return string.format("makedev(%#x, %#x)", major, minor)
end
local makedev = structs.makedev

-- the fields strace's short stat shows: mode, then rdev for devices or size
local function stat_text(mode, rdev, size)
    local kind = bit.band(u32(mode), 0xf000)
    local middle
    if kind == 0x2000 or kind == 0x6000 then
        middle = "st_rdev=" .. makedev(rdev)
    else
        middle = "st_size=" .. dec(size)
    end
    return string.format("{st_mode=%s, %s, ...}", structs.mode(mode), middle)
end

--- struct stat / stat64 (`kind`) at `addr`.
function structs.stat(_, addr, kind)
    local st = memory.struct(addr, kind or "stat")
    if not st then return nil end
    return stat_text(st.st_mode, st.st_rdev, values.exact(st.st_size))
end

local statx_mask = values.formatter("statx_mask")
local statx_attributes = values.formatter("statx_attributes")

--- struct statx at `addr`.
function structs.statx(_, addr)
    local st = memory.struct(addr, "statx")
    if not st then return nil end
    local kind = bit.band(st.stx_mode, 0xf000)
    local middle
    if kind == 0x2000 or kind == 0x6000 then
        middle = string.format("stx_rdev_major=%d, stx_rdev_minor=%d",
                               st.stx_rdev_major, st.stx_rdev_minor)
    else
        middle = "stx_size=" .. dec(values.exact(st.stx_size))
    end
    return string.format("{stx_mask=%s, stx_attributes=%s, stx_mode=%s, %s, ...}",
                         statx_mask(st.stx_mask), statx_attributes(values.exact(st.stx_attributes)),
                         structs.mode(st.stx_mode), middle)
end

-- "{a=1, b=2}" from a struct value and a list of { field, formatter }
local function fields(value, list)
    local parts = {}
    for i, f in ipairs(list) do
        parts[i] = f[1] .. "=" .. f[2](values.exact(value[f[1]]))
    end
    return "{" .. table.concat(parts, ", ") .. "}"
end

local TIMESPEC = { { "tv_sec", dec }, { "tv_nsec", dec } }
local TIMEVAL = { { "tv_sec", dec }, { "tv_usec", dec } }

--- struct timespec (or timespec64 with `kind`) at `addr`.
function structs.timespec(_, addr, kind)
    local ts = memory.struct(addr, kind or "timespec")
    return ts and fields(ts, TIMESPEC)
end

--- struct timeval at `addr`.
function structs.timeval(_, addr)
    local tv = memory.struct(addr, "timeval")
    return tv and fields(tv, TIMEVAL)
end

--- struct timezone at `addr`.
function structs.timezone(_, addr)
    local tz = memory.struct(addr, "timezone")
    return tz and fields(tz, { { "tz_minuteswest", dec }, { "tz_dsttime", dec } })
end

--- struct itimerval, or itimerspec with `kind` = "itimerspec", at `addr`.
function structs.itimer(_, addr, kind)
    local it = memory.struct(addr, kind or "itimerval")
    if not it then return nil end
    local inner = kind == "itimerspec" and TIMESPEC or TIMEVAL
    return string.format("{it_interval=%s, it_value=%s}", fields(it.it_interval, inner),
                         fields(it.it_value, inner))
end

--- A time in seconds (and nanoseconds) as the comment strace adds after
--- the times a call sets: "2009-02-13T23:31:30+0000", in local time, with
--- the fraction only when there is one (`digits` of it: 9 for
--- nanoseconds, 6 for microseconds); nil for a time the C library cannot
--- convert.
---@param sec integer
---@param frac integer
---@param digits integer
---@return string?
function structs.iso_time(sec, frac, digits)
    sec, frac = tonumber(sec), tonumber(frac)
    if not sec or sec ~= sec or sec < -2 ^ 40 or sec > 2 ^ 40 then return nil end
    local ok, date = pcall(os.date, "%Y-%m-%dT%H:%M:%S", sec)
    if not ok or not date then return nil end
    if frac and frac ~= 0 then
        date = date .. string.format(".%0" .. digits .. "d", frac)
    end
    return date .. os.date("%z", sec)
end

local UTIME_NOW, UTIME_OMIT = 0x3fffffff, 0x3ffffffe

-- One timespec of utimensat, or timeval of utimes, that `value` holds:
-- UTIME_NOW and UTIME_OMIT by name, else the time and its date.
local function set_time(value, kind)
    local sec, frac = values.exact(value.tv_sec), nil
    if kind == "timeval" then
        frac = values.exact(value.tv_usec)
        local text = fields(value, TIMEVAL)
        local date = structs.iso_time(sec, frac, 6)
        return date and (text .. " /* " .. date .. " */") or text
    end
    frac = values.exact(value.tv_nsec)
    if frac == UTIME_NOW then
        return "UTIME_NOW"
    elseif frac == UTIME_OMIT then
        return "UTIME_OMIT"
    end
    local text = fields(value, TIMESPEC)
    local date = structs.iso_time(sec, frac, 9)
    return date and (text .. " /* " .. date .. " */") or text
end

--- The two times utimensat (`kind` "timespec" or "timespec64") or utimes
--- (`kind` "timeval") sets, at `addr`.
function structs.time_pair(_, addr, kind)
    local size = types.sizeof(kind)
    local a, b = memory.struct(addr, kind), memory.struct(addr + size, kind)
    return a and b and ("[" .. set_time(a, kind) .. ", " .. set_time(b, kind) .. "]")
end

-- a fixed-size char array field up to its NUL, quoted
local function cstring(field, size)
    local s = ffi.string(field, size)
    return text.quote((s:match("^[^%z]*")))
end

--- struct utsname at `addr`.
function structs.utsname(_, addr)
    local u = memory.struct(addr, "utsname")
    if not u then return nil end
    return string.format("{sysname=%s, nodename=%s, ...}", cstring(u.sysname, 65),
                         cstring(u.nodename, 65))
end

local U64_MAX = 0xffffffffffffffffULL

--- struct rlimit (`kind` "rlimit", word-sized) or rlimit64 at `addr`:
--- infinity by name, multiples of 1024 as strace writes them (8192*1024).
function structs.rlimit(_, addr, kind)
    kind = kind or "rlimit"
    local r = memory.struct(addr, kind)
    if not r then return nil end
    local wide = kind == "rlimit64" or WORD == 8
    local infinity = wide and U64_MAX or 2 ^ 32 - 1
    local function show(v)
        v = values.exact(v)
        if v == infinity then
            return wide and "RLIM64_INFINITY" or "RLIM_INFINITY"
        elseif type(v) == "number" and v > 1024 and v % 1024 == 0 then
            return dec(v / 1024) .. "*1024"
        end
        return dec(v)
    end
    return string.format("{rlim_cur=%s, rlim_max=%s}", show(r.rlim_cur), show(r.rlim_max))
end

--- struct rusage at `addr` (the times, then "...").
function structs.rusage(_, addr)
    local r = memory.struct(addr, "rusage")
    if not r then return nil end
    return string.format("{ru_utime=%s, ru_stime=%s, ...}", fields(r.ru_utime, TIMEVAL),
                         fields(r.ru_stime, TIMEVAL))
end

--- struct tms (four clock_t words) at `addr`.
function structs.tms(_, addr)
    local w = structs.words(addr, 4)
    if not w then return nil end
    return string.format("{tms_utime=%s, tms_stime=%s, tms_cutime=%s, tms_cstime=%s}",
                         dec(w[1]), dec(w[2]), dec(w[3]), dec(w[4]))
end

local SYSINFO_FIELDS = { "totalram", "freeram", "sharedram", "bufferram", "totalswap",
                         "freeswap" }

--- struct sysinfo at `addr`, every field. Its members are words but for
--- procs (16 bits, padded to a word) and mem_unit (32 bits).
function structs.sysinfo(_, addr)
    local w = structs.words(addr, 14)
    if not w then return nil end
    local parts = { "{uptime=" .. dec(values.long(w[1])),
                    string.format("loads=[%s, %s, %s]", dec(w[2]), dec(w[3]), dec(w[4])) }
    for i, name in ipairs(SYSINFO_FIELDS) do
        parts[#parts + 1] = name .. "=" .. dec(w[4 + i])
    end
    parts[#parts + 1] = "procs=" .. u32(w[11]) % 65536
    parts[#parts + 1] = "totalhigh=" .. dec(w[12])
    parts[#parts + 1] = "freehigh=" .. dec(w[13])
    parts[#parts + 1] = "mem_unit=" .. u32(w[14]) .. "}"
    return table.concat(parts, ", ")
end

local fs_magic, statfs_flags = values.formatter("fs_magic"), values.formatter("statfs_flags")
local ST_VALID = 0x20

--- struct statfs at `addr` (words, the fsid two ints). f_flags shows
--- only when the kernel marks it valid.
function structs.statfs(_, addr)
    local fsid_words = WORD == 8 and 1 or 2
    local w = structs.words(addr, 10 + fsid_words)
    local fsid = w and structs.int_values(addr + 7 * WORD, 2)
    if not fsid then return nil end
    local parts = { "{f_type=" .. fs_magic(w[1]) }
    for i, name in ipairs({ "f_bsize", "f_blocks", "f_bfree", "f_bavail", "f_files", "f_ffree" }) do
        parts[#parts + 1] = name .. "=" .. dec(w[i + 1])
    end
    parts[#parts + 1] = string.format("f_fsid={val=[%s, %s]}", fsid[1] == 0 and "0" or
        string.format("%#x", fsid[1] % 2 ^ 32), fsid[2] == 0 and "0" or string.format("%#x", fsid[2] % 2 ^ 32))
    local rest = 8 + fsid_words
    parts[#parts + 1] = "f_namelen=" .. dec(w[rest])
    parts[#parts + 1] = "f_frsize=" .. dec(w[rest + 1])
    if bit.band(u32(w[rest + 2]), ST_VALID) ~= 0 then
        parts[#parts + 1] = "f_flags=" .. statfs_flags(w[rest + 2])
    end
    return table.concat(parts, ", ") .. "}"
end

local iflag, oflag = values.formatter("termios_iflag"), values.formatter("termios_oflag")
local cflag, lflag = values.formatter("termios_cflag"), values.formatter("termios_lflag")

--- The kernel's struct termios at `addr` (TCGETS and TCSETS*): its four
--- flag words, then "...".
function structs.termios(_, addr)
    local f = structs.int_values(addr, 4)
    return f and string.format("{c_iflag=%s, c_oflag=%s, c_cflag=%s, c_lflag=%s, ...}",
                               iflag(f[1]), oflag(f[2]), cflag(f[3]), lflag(f[4]))
end

--- struct winsize at `addr`.
function structs.winsize(_, addr)
    local bytes = memory.read(addr, 8)
    if not bytes then return nil end
    local v = ffi.cast("const uint16_t *", host_order(bytes, 2))
    return string.format("{ws_row=%d, ws_col=%d, ws_xpixel=%d, ws_ypixel=%d}", v[0], v[1], v[2], v[3])
end

--- The siginfo_t waitid fills at `addr`: a child's SIGCHLD, spelt out.
function structs.siginfo(_, addr)
    return require("luahook.decode.siginfo").text(addr)
end

--- `count` group ids of `size` bytes (2 for i386's old calls, else 4) at
--- `addr`, cut after strsize of them.
function structs.groups(self, addr, count, size)
    count = math.max(i32(count), 0)
    local shown = math.min(count, self.strsize)
    local bytes = shown == 0 and "" or memory.read(addr, shown * size)
    if not bytes then return nil end
    local ids = ffi.cast(size == 2 and "const uint16_t *" or "const uint32_t *",
                         host_order(bytes, size))
    local items = {}
    for i = 0, shown - 1 do items[i + 1] = tostring(ids[i]) end
    return structs.list(items, count > shown)
end

--- The bytes mincore writes for `len` bytes of pages at `addr`.
function structs.mincore(self, addr, len)
    local pages = math.ceil(u32(len) / 4096)
    local shown = math.min(pages, self.strsize)
    local bytes = shown == 0 and "" or memory.read(addr, shown)
    if not bytes then return nil end
    local items = {}
    for i = 1, shown do items[i] = tostring(bytes:byte(i)) end
    return structs.list(items, pages > shown)
end

local sa_flags = values.formatter("sa_flags")
local sa_handler = values.formatter("sa_handler")
local SA_RESTORER = 0x04000000

local function sigaction_text(handler, mask, flags, restorer)
    local parts = { "sa_handler=" .. sa_handler(handler), "sa_mask=" .. mask,
                    "sa_flags=" .. sa_flags(flags) }
    if bit.band(u32(flags), SA_RESTORER) ~= 0 then
        parts[4] = "sa_restorer=" .. values.ptr(restorer)
    end
    return "{" .. table.concat(parts, ", ") .. "}"
end

--- The kernel's struct sigaction of rt_sigaction at `addr` (handler, flags,
--- restorer, then a mask of `setsize` bytes).
function structs.sigaction(_, addr, setsize)
    setsize = math.min(tonumber(setsize) or 8, 128)
    local w = structs.words(addr, 3)
    local mask = w and memory.read(addr + 3 * WORD, setsize)
    if not mask then return nil end
    return sigaction_text(w[1], values.sigset(mask), w[2], w[3])
end

--- i386's old struct sigaction (sigaction syscall): handler, a one-word
--- mask, flags, restorer.
function structs.old_sigaction(_, addr)
    local w = structs.words(addr, 4)
    if not w then return nil end
    local mask = ffi.string(ffi.new("uint32_t[1]", w[2]), 4)
    return sigaction_text(w[1], values.sigset(mask), w[3], w[4])
end

--- A signal set of `size` bytes (at most 128) at `addr`.
function structs.sigset(_, addr, size)
    size = math.min(tonumber(size) or 8, 128)
    local bytes = memory.read(addr, size)
    return bytes and values.sigset(bytes)
end

local ss_flags = values.formatter("ss_flags")

--- stack_t (sigaltstack) at `addr`.
function structs.stack(_, addr)
    local w = structs.words(addr, 3)
    if not w then return nil end
    return string.format("{ss_sp=%s, ss_flags=%s, ss_size=%s}", values.ptr(w[1]),
                         ss_flags(w[2]), dec(w[3]))
end

local poll_events = values.formatter("poll_events")

--- A list as strace prints arrays, "[a, b]", with "..." when it was cut
--- (after strsize elements, as strace cuts them at -s).
---@param items string[]
---@param cut boolean
---@return string
function structs.list(items, cut)
    if cut then
        items[#items + 1] = "..."
    end
    return "[" .. table.concat(items, ", ") .. "]"
end
local array = structs.list

local POLLFD = ffi.typeof("struct { int32_t fd; int16_t events; int16_t revents; }")
local SEMBUF = ffi.typeof("struct { uint16_t num; int16_t op; int16_t flg; }")

-- The first strsize of `n` structures of ctype `ct` at `addr`: a copy of
-- them, how many to show and how many there are; nil if unreadable.
local function array_at(self, addr, n, ct)
    n = u32(n)
    local shown = math.min(n, self.strsize)
    local size = ffi.sizeof(ct) * shown
    local bytes = size == 0 and "" or memory.read(addr, size)
    if not bytes then return nil end
    local copy = ffi.new(ffi.typeof("$[?]", ct), shown)
    ffi.copy(copy, bytes, size)
    return copy, shown, n
end

--- `n` pollfds at `addr`; with `revents`, only those with events back.
function structs.pollfds(self, addr, n, revents)
    local p, shown, total = array_at(self, addr, n, POLLFD)
    if not p then return nil end
    local items = {}
    for i = 0, shown - 1 do
        local fd = self:fd(p[i].fd)
        if not revents then
            items[#items + 1] = string.format("{fd=%s, events=%s}", fd, poll_events(p[i].events % 65536))
        elseif p[i].revents ~= 0 then
            items[#items + 1] = string.format("{fd=%s, revents=%s}", fd, poll_events(p[i].revents % 65536))
        end
    end
    return array(items, total > shown)
end

local epoll_events = values.formatter("epoll_events")

--- `n` epoll_events at `addr` (n = 1 for epoll_ctl's).
function structs.epoll_events(self, addr, n)
    local size = types.sizeof("epoll_event")
    n = math.max(i32(n), 0)
    local shown = math.min(n, self.strsize)
    local items = {}
    for i = 0, shown - 1 do
        local ev = memory.struct(addr + i * size, "epoll_event")
        if not ev then return nil end
        local data = ev.data
        items[#items + 1] = string.format("{events=%s, data={u32=%d, u64=%s}}",
            epoll_events(ev.events), tonumber(bit.band(data, 0xffffffff)) % 2 ^ 32, dec(values.exact(data)))
    end
    return items, n > shown
end

--- An epoll_event array as text.
function structs.epoll_array(self, addr, n)
    local items, cut = structs.epoll_events(self, addr, n)
    return items and array(items, cut)
end

--- The descriptors set in an fd_set of `nfds` bits at `addr`: [3 4].
function structs.fd_set(self, addr, nfds)
    nfds = i32(nfds)
    if nfds <= 0 then
        return "[]"
    end
    nfds = math.min(nfds, 1024 * 8)
    local bytes = memory.read(addr, math.ceil(nfds / 8 / WORD) * WORD)
    if not bytes then return nil end
    bytes = host_order(bytes, WORD)    -- a bit array of longs
    local set = {}
    for fd = 0, nfds - 1 do
        local b = bytes:byte(math.floor(fd / 8) + 1)
        if bit.band(b, bit.lshift(1, fd % 8)) ~= 0 then
            set[#set + 1] = self:fd(fd)
        end
        if #set > self.strsize then break end
    end
    return "[" .. table.concat(set, " ") .. "]"
end

--- A CPU set of `size` bytes at `addr`: [0 1].
function structs.cpu_set(_, addr, size)
    size = math.min(u32(size), 1024)
    local bytes = memory.read(addr, size)
    if not bytes then return nil end
    bytes = host_order(bytes, WORD)    -- a bit array of longs
    local cpus = {}
    for i = 0, size * 8 - 1 do
        if bit.band(bytes:byte(math.floor(i / 8) + 1), bit.lshift(1, i % 8)) ~= 0 then
            cpus[#cpus + 1] = tostring(i)
        end
    end
    return "[" .. table.concat(cpus, " ") .. "]"
end

--- `n` C ints at `addr`, as an array of numbers; nil if unreadable.
---@return integer[]?
function structs.int_values(addr, n)
    local bytes = memory.read(addr, 4 * n)
    if not bytes then return nil end
    local p = INTS(n)
    ffi.copy(p, host_order(bytes, 4), 4 * n)
    local items = {}
    for i = 0, n - 1 do items[i + 1] = p[i] end
    return items
end

--- `n` C ints at `addr`: [3, 4].
function structs.ints(_, addr, n)
    local items = structs.int_values(addr, n)
    return items and ("[" .. table.concat(items, ", ") .. "]")
end

--- A wait status at `addr`, as strace spells it out.
function structs.wait_status(_, addr)
    local bytes = memory.read(addr, 4)
    if not bytes then return nil end
    local s = ffi.cast("const int32_t *", host_order(bytes, 4))[0]
    local low, high = bit.band(s, 0x7f), bit.band(bit.rshift(s, 8), 0xff)
    local what
    if low == 0 then
        what = string.format("WIFEXITED(s) && WEXITSTATUS(s) == %d", high)
    elseif low == 0x7f then
        what = string.format("WIFSTOPPED(s) && WSTOPSIG(s) == %s", values.signal(high))
    else
        what = string.format("WIFSIGNALED(s) && WTERMSIG(s) == %s%s", values.signal(low),
                             bit.band(s, 0x80) ~= 0 and " && WCOREDUMP(s)" or "")
    end
    return "[{" .. what .. "}]"
end

--- `n` sembufs at `addr`.
function structs.sembufs(self, addr, n)
    local p, shown, total = array_at(self, addr, n, SEMBUF)
    if not p then return nil end
    local items = {}
    for i = 0, shown - 1 do
        items[i + 1] = string.format("{sem_num=%d, sem_op=%d, sem_flg=%d}", p[i].num, p[i].op, p[i].flg)
    end
    return array(items, total > shown)
end

--- A NULL-terminated array of string pointers (execve's argv) at `addr`.
function structs.string_array(self, addr)
    local items = {}
    for i = 0, self.strsize do
        local w = structs.words(addr + i * WORD, 1)
        if not w then return nil end
        if w[1] == 0 then
            return array(items, false)
        end
        if i == self.strsize then break end
        items[#items + 1] = self:str(w[1])
    end
    return array(items, true)
end

--- execve's envp: the address and the number of entries.
function structs.env_count(_, addr)
    for n = 0, 65536 do
        local w = structs.words(addr + n * WORD, 1)
        if not w then return nil end
        if w[1] == 0 then
            return string.format("%s /* %d var%s */", values.ptr(addr), n, n == 1 and "" or "s")
        end
    end
    return nil
end

--- Counts the directory entries in `len` bytes of getdents (`kind`
--- "getdents": word-sized inode and offset) or getdents64 output.
function structs.dirents(_, addr, len, kind)
    local bytes = memory.read(addr, len)
    if not bytes then return nil end
    local reclen_at = kind == "getdents64" and 16 or 2 * WORD
    local n, pos = 0, 0
    while pos + reclen_at + 2 <= len do
        local reclen = ffi.cast("const uint16_t *",
                                host_order(bytes:sub(pos + reclen_at + 1, pos + reclen_at + 2), 2))[0]
        if reclen == 0 then break end
        n, pos = n + 1, pos + reclen
    end
    return string.format("%s /* %d entries */", values.ptr(addr), n)
end

return structs
