-- The placeholders of luahook.explain.sentences: each name is a function
-- (ctx, p, q, r) returning the text that replaces {name:p:q:r}, from the
-- call being explained. ctx carries:
--   a       the call's arguments (a multiplexed call's own, 1-based)
--   ret     its result (nil for a call explained at entry)
--   call    the decoded argument texts (luahook.decode), for {arg:K}
--   fds     the luahook.explain.FdTable, as it was before the call
--   maps    the luahook.explain.MemMap, as it was before the call
-- A position p is an argument's index or "ret". Guest memory that cannot
-- be read shows as its address or "(unreadable)": a filler never raises
-- for the guest's data.
local bit = require "bit"
local ffi = require "ffi"
local context = require "luahook._core.context"
local errno = require "luahook._guest.errno"
local format = require "luahook._guest.format"
local hostpath = require "luahook.hostpath"
local memory = require "luahook._guest.memory"
local result = require "luahook.explain.result"
local structs = require "luahook.decode.structs"
local text = require "luahook.decode.text"
local values = require "luahook.decode.values"
local words = require "luahook.explain.sentences"

local band = bit.band
local i32, u32, dec = values.i32, values.u32, values.dec

local fillers = {}

--- The placeholders by name.
---@type table<string, fun(ctx: table, p: string?, q: string?, r: string?, s: string?): string>
local F = {}
fillers.placeholders = F

local WORD_RANGE = 2 ^ ((context.word_size or 4) * 8)
local AT_FDCWD = -100
local address = result.address

-- The value at position p.
local function value(ctx, p)
    if p == "ret" then
        return ctx.ret
    end
    return ctx.a[tonumber(p)]
end

local function hex(v)
    return format.hex(address(v))
end

--- A byte count for people: "4096 bytes (4 KiB)".
---@param n number|ffi.cdata*
---@return string
function fillers.bytes(n)
    n = tonumber(values.exact(n)) or 0
    if n == 1 then
        return "1 byte"
    elseif n < 1024 then
        return dec(n) .. " bytes"
    end
    local size, unit = n / 1024, "KiB"
    if size >= 1024 then size, unit = size / 1024, "MiB" end
    local short = (string.format(size < 10 and "%.1f" or "%.0f", size):gsub("%.0$", ""))
    return string.format("%s bytes (%s %s)", dec(n), short, unit)
end
local bytes = fillers.bytes

-- A string from the guest shown bare when it is plain text, quoted otherwise.
local function shown(s)
    if s ~= "" and not s:find("[%c\"\128-\255]") then
        return s
    end
    return text.quote(s)
end

-- The name formatter `name` gives value v, e.g. "F_GETFL".
local function named(name, v)
    return values.formatter(name)(v)
end

-- A placeholder that names the value at p with formatter `name`, then
-- says it in words from `phrases` (the name itself when it has none).
local function phrase(name, phrases, fallback)
    return function(ctx, p)
        local n = named(name, value(ctx, p))
        return phrases[n] or (fallback or "") .. n
    end
end

-- Numbers --------------------------------------------------------------

F.ret = function(ctx) return dec(ctx.ret) end
F.int = function(ctx, p) return tostring(i32(value(ctx, p))) end
F.uint = function(ctx, p) return tostring(u32(value(ctx, p))) end
F.long = function(ctx, p) return dec(values.long(value(ctx, p))) end
F.ulong = function(ctx, p) return dec(value(ctx, p)) end
F.oct = function(ctx, p) return string.format("%#o", u32(value(ctx, p))) end
F.addr = function(ctx, p) return hex(value(ctx, p)) end
F.size = function(ctx, p) return bytes(value(ctx, p)) end
F.flags = function(ctx, p, name) return named(name, value(ctx, p)) end
-- the decoded text of argument K, as the line above shows it
F.arg = function(ctx, k) return ctx.call[tonumber(k)] or "?" end

-- "null" when argument p is NULL, else "given": picks cases.
F.null = function(ctx, p) return value(ctx, p) == 0 and "null" or "given" end

-- The errno a failed call answered, with what it means.
F.errno = function(ctx)
    local e = errno.info(-ctx.ret)
    if not e then
        return tostring(ctx.ret)
    end
    return e.name .. " (" .. (words.errors[e.name] or e.message:lower()) .. ")"
end

-- Descriptors and paths ------------------------------------------------

F.fd = function(ctx, p) return ctx.fds:describe(i32(value(ctx, p))) end

-- What closing the descriptor at p does to the open file behind it.
F.sharers = function(ctx, p)
    local fd = i32(value(ctx, p))
    local others = ctx.fds:sharing(fd)
    if #others == 0 then
        local r = ctx.fds:get(fd)
        local elsewhere = r and r.open_file.elsewhere
        if elsewhere then
            return "the open file stays open as long as " .. elsewhere .. " a descriptor for it"
        end
        return "no descriptor refers to the open file any more, so it is released"
    end
    local names = table.concat(others, " and ")
    return (#others == 1 and "file descriptor " or "file descriptors ") .. names
        .. " still refer" .. (#others == 1 and "s" or "") .. " to the open file, so it stays open"
end

-- A path as the kernel will read it: relative ones say where they start.
local function path_from(ctx, dirfd, addr)
    local s = memory.string(addr)
    if not s then
        return "the unreadable address " .. hex(addr)
    end
    if s == "" then
        return "what " .. ctx.fds:describe(dirfd) .. " refers to"
    elseif s:sub(1, 1) == "/" then
        return shown(s)
    elseif dirfd == AT_FDCWD then
        return shown(s) .. " (in the current directory, " .. (hostpath.cwd() or "?") .. ")"
    end
    return shown(s) .. " (in the directory " .. ctx.fds:describe(dirfd) .. ")"
end

F.path = function(ctx, p) return path_from(ctx, AT_FDCWD, value(ctx, p)) end
F.atfile = function(ctx, d, p) return path_from(ctx, i32(value(ctx, d)), value(ctx, p)) end

local O_ACCMODE, O_CREAT, O_EXCL, O_TRUNC, O_APPEND = 3, 0x40, 0x80, 0x200, 0x400
local O_NONBLOCK, O_DIRECTORY, O_NOFOLLOW, O_CLOEXEC = 0x800, 0x10000, 0x20000, 0x80000
local ACCESS_MODES = { [0] = "for reading", "for writing", "for reading and writing" }

-- open's flags at p (and the mode at p + 1 with O_CREAT) in words.
F.open = function(ctx, p)
    local flags = u32(value(ctx, p))
    local parts = { ACCESS_MODES[band(flags, O_ACCMODE)] or "with access mode 3" }
    if band(flags, O_CREAT) ~= 0 then
        local mode = u32(ctx.a[tonumber(p) + 1] or 0)
        parts[#parts + 1] = string.format("creating it if it does not exist (permissions %#o less the umask)",
                                          mode)
        if band(flags, O_EXCL) ~= 0 then parts[#parts + 1] = "failing if it exists" end
    end
    if band(flags, O_TRUNC) ~= 0 then parts[#parts + 1] = "emptying it first" end
    if band(flags, O_APPEND) ~= 0 then parts[#parts + 1] = "every write going to its end" end
    if band(flags, O_DIRECTORY) ~= 0 then parts[#parts + 1] = "which must be a directory" end
    if band(flags, O_NOFOLLOW) ~= 0 then parts[#parts + 1] = "not following a symbolic link" end
    if band(flags, O_NONBLOCK) ~= 0 then parts[#parts + 1] = "never waiting" end
    if band(flags, O_CLOEXEC) ~= 0 then
        parts[#parts + 1] = "to be closed if the program runs another one (O_CLOEXEC)"
    end
    return table.concat(parts, ", ")
end

-- dup3's and pipe2's flags: only O_CLOEXEC is worth a word.
F.cloexec = function(ctx, p)
    if band(u32(value(ctx, p)), O_CLOEXEC) ~= 0 then
        return ", to be closed if the program runs another one (O_CLOEXEC)"
    end
    return ""
end

-- pipe's two descriptors, written at p.
F.pair = function(ctx, p)
    local fds = structs.int_values(value(ctx, p), 2)
    if not fds then
        return "(unreadable)"
    end
    return string.format("%s for reading and %s for writing", fds[1], fds[2])
end

local ACCESS = { { 4, "readable" }, { 2, "writable" }, { 1, "executable" } }

-- access's mode at p: what is checked, for the program's user.
F.access = function(ctx, p)
    local mode, parts = u32(value(ctx, p)), {}
    for _, m in ipairs(ACCESS) do
        if band(mode, m[1]) ~= 0 then parts[#parts + 1] = m[2] end
    end
    if #parts == 0 then
        return "exists"
    end
    return "exists and is " .. table.concat(parts, " and ") .. " for its user"
end

F.whence = phrase("whence", words.whence)

local FILE_TYPES = {
    [0x8000] = "a regular file", [0x4000] = "a directory",
    [0x6000] = "a block device",
    [0x1000] = "a pipe", [0xc000] = "a socket", [0xa000] = "a symbolic link",
}

-- The type, size and permissions in a stat, stat64 or statx structure at p.
F.stat = function(ctx, p, kind)
    local st = memory.struct(value(ctx, p), kind)
    if not st then
        return "(unreadable)"
    end
    local mode = tonumber(kind == "statx" and st.stx_mode or st.st_mode)
    local size = values.exact(kind == "statx" and st.stx_size or st.st_size)
    local file_type = band(mode, 0xf000)
    local what = FILE_TYPES[file_type] or "a file of an unknown type"
    if file_type == 0x8000 or file_type == 0x4000 then
        what = what .. " of " .. bytes(size)
    elseif file_type == 0x2000 then
        -- the device number tells a terminal from the rest: 136..143 are pseudo-terminals
        local major, minor
        if kind == "statx" then
            major, minor = st.stx_rdev_major, st.stx_rdev_minor
        else
            local rdev = tonumber(values.exact(st.st_rdev)) % 2 ^ 32
            major, minor = band(bit.rshift(rdev, 8), 0xfff), band(rdev, 0xff) + band(bit.rshift(rdev, 12), 0xfff00)
        end
        what = string.format("a character device, number %d:%d (136 to 143 are pseudo-terminals, "
                             .. "1:3 is /dev/null)", major, minor)
    end
    return string.format("%s, permissions %04o", what, band(mode, 0xfff))
end

-- Memory -------------------------------------------------------------

local PROT_READ, PROT_WRITE, PROT_EXEC = 1, 2, 4
local MAP_SHARED, MAP_FIXED, MAP_ANONYMOUS = 1, 0x10, 0x20

-- mmap's and mprotect's protection at p in words.
F.prot = function(ctx, p)
    local prot = u32(value(ctx, p))
    local can = {}
    if band(prot, PROT_READ) ~= 0 then can[#can + 1] = "readable" end
    if band(prot, PROT_WRITE) ~= 0 then can[#can + 1] = "writable" end
    if band(prot, PROT_EXEC) ~= 0 then can[#can + 1] = "executable" end
    if #can == 0 then
        return "inaccessible (any use crashes the program: a guard area)"
    elseif #can == 1 and can[1] == "readable" then
        return "read-only"
    end
    return table.concat(can, " and ")
end

-- What a mapping holds: flags at f, descriptor at d, offset at o ("pages":
-- mmap2's offset counts 4096-byte pages).
F.source = function(ctx, f, d, o, unit)
    local flags = u32(value(ctx, f))
    if band(flags, MAP_ANONYMOUS) ~= 0 then
        return band(flags, MAP_SHARED) ~= 0 and "new zero-filled memory, shared with child processes"
            or "new zero-filled memory"
    end
    local offset = values.exact(value(ctx, o))
    if unit == "pages" then offset = offset * 4096 end
    local fd = i32(value(ctx, d))
    local r = ctx.fds:get(fd)
    local file = r and r.path and (r.path .. " (file descriptor " .. fd .. ")")
        or ("what " .. ctx.fds:describe(fd) .. " refers to")
    return string.format("%s from offset %s, %s", file, dec(offset),
                         band(flags, MAP_SHARED) ~= 0 and "shared (writes reach the file)"
                             or "private (writes stay in this process)")
end

-- mmap's kind from the flags at f: "anonymous" or "file", "-fixed" when placed.
F.mapkind = function(ctx, f)
    local flags = u32(value(ctx, f))
    return (band(flags, MAP_ANONYMOUS) ~= 0 and "anonymous" or "file")
        .. (band(flags, MAP_FIXED) ~= 0 and "-fixed" or "")
end

-- Where a mapping goes: the address hint at p, flags at f.
F.where = function(ctx, p, f)
    local addr = value(ctx, p)
    if band(u32(value(ctx, f)), MAP_FIXED) ~= 0 then
        return "exactly at " .. hex(addr) .. " (MAP_FIXED: replacing what is there)"
    elseif addr == 0 then
        return "wherever the kernel likes"
    end
    return "near " .. hex(addr) .. " if the kernel can"
end

-- Which known memory holds the address at p.
F.region = function(ctx, p)
    local addr = address(value(ctx, p))
    local r = ctx.maps:region_at(addr)
    if r then
        return r.file and ("part of the mapping of " .. r.file .. " made by " .. r.by)
            or ("part of the anonymous memory made by " .. r.by)
    elseif ctx.maps:in_heap(addr) then
        return "part of the heap"
    end
    return "memory the program had before its first syscall: its own image, its stack or the dynamic loader"
end

-- brk: which case a call is, from its argument and result.
F.brkcase = function(ctx, p)
    local want, got = address(value(ctx, p)), address(ctx.ret)
    if want == 0 then
        return "query"
    elseif got ~= want then
        return "refused"
    elseif ctx.maps.heap_end and want < ctx.maps.heap_end then
        return "shrink"
    end
    return "grow"
end

F.brkdelta = function(ctx, p)
    local before = ctx.maps.heap_end
    if not before then
        return "an amount unknown here"
    end
    return bytes(math.abs(address(value(ctx, p)) - before))
end

-- Processes ------------------------------------------------------------

local CLONE_VM, CLONE_VFORK, CLONE_THREAD = 0x100, 0x4000, 0x10000

-- clone: "thread", "vfork" or "process", from the flags at p.
F.clonecase = function(ctx, p)
    local flags = u32(value(ctx, p))
    if band(flags, CLONE_THREAD) ~= 0 then
        return "thread"
    elseif band(flags, CLONE_VFORK) ~= 0 and band(flags, CLONE_VM) ~= 0 then
        return "vfork"
    end
    return "process"
end

-- wait4's pid argument at p.
F.waitpid = function(ctx, p)
    local pid = i32(value(ctx, p))
    if pid == -1 then
        return "any of its children"
    elseif pid == 0 then
        return "any child in its process group"
    elseif pid < -1 then
        return "any child in process group " .. -pid
    end
    return "its child " .. pid
end

F.wnohang = function(ctx, p)
    return band(u32(value(ctx, p)), 1) ~= 0 and " (WNOHANG: without waiting, just checking)" or ""
end

-- The wait status written at p.
F.wstatus = function(ctx, p)
    local s = memory.int(value(ctx, p), "i32")
    if not s then
        return "its status was not asked for"
    end
    local low, high = band(s, 0x7f), band(bit.rshift(s, 8), 0xff)
    if low == 0 then
        return "it exited with status " .. high
    elseif low == 0x7f then
        return "it was stopped by " .. values.signal(high)
    end
    return "it was killed by " .. values.signal(low)
end

-- kill's pid argument at p.
F.killpid = function(ctx, p)
    local pid = i32(value(ctx, p))
    if pid == 0 then
        return "every process in its process group"
    elseif pid == -1 then
        return "every process it may signal"
    elseif pid < -1 then
        return "process group " .. -pid
    end
    return "process " .. pid
end

F.signal = function(ctx, p)
    local name = values.signal(value(ctx, p))
    local w = words.signals[name]
    return w and (name .. " (" .. w[1] .. ")") or name
end

-- The handler in a struct sigaction at p, for the signal in argument 1.
F.handler = function(ctx, p)
    local handler = memory.int(value(ctx, p), "ulong")
    if not handler then
        return "(unreadable)"
    elseif handler == 0 then
        local w = words.signals[values.signal(ctx.a[1])]
        return "the default action" .. (w and (", " .. w[2]) or "")
    elseif handler == 1 then
        return "ignore it"
    end
    return "run the program's handler function at " .. hex(handler)
end

F.how = phrase("sigprocmask_how", words.sigprocmask_how)

F.resource = phrase("rlimit_resource", words.resources)

-- Limits counted in bytes; the others count things or seconds.
local BYTE_LIMITS = { RLIMIT_FSIZE = true, RLIMIT_DATA = true, RLIMIT_STACK = true, RLIMIT_CORE = true,
                      RLIMIT_RSS = true, RLIMIT_MEMLOCK = true, RLIMIT_AS = true, RLIMIT_MSGQUEUE = true }

-- A struct rlimit (or rlimit64) at p in words, for the resource at res.
F.rlimit = function(ctx, p, kind, res)
    local r = memory.struct(value(ctx, p), kind)
    if not r then
        return "(unreadable)"
    end
    local infinity = (kind == "rlimit64" or WORD_RANGE > 2 ^ 32) and 0xffffffffffffffffULL or 2 ^ 32 - 1
    local function limit(v)
        v = values.exact(v)
        if v == infinity then
            return "unlimited"
        elseif BYTE_LIMITS[named("rlimit_resource", value(ctx, res))] then
            return bytes(v)
        end
        return dec(v)
    end
    return string.format("soft limit %s, hard limit %s", limit(r.rlim_cur), limit(r.rlim_max))
end

-- The struct utsname at p in words.
F.uts = function(ctx, p)
    local u = memory.struct(value(ctx, p), "utsname")
    if not u then
        return "(unreadable)"
    end
    local function field(name)
        return (ffi.string(u[name], 65):match("^[^%z]*"))
    end
    return string.format("%s, release %s, machine %s, host name %s", field("sysname"), field("release"),
                         field("machine"), field("nodename"))
end

F.grnd = function(ctx, p)
    local flags = u32(value(ctx, p))
    if band(flags, 1) ~= 0 then
        return ", without waiting if the kernel's pool is not ready (GRND_NONBLOCK)"
    end
    return ""
end

-- Time -------------------------------------------------------------------

-- "2026-11-25 18:24:00 UTC" for seconds since 1970.
local function date(seconds)
    return os.date("!%Y-%m-%d %H:%M:%S UTC", seconds)
end

F.date = function(ctx, p) return date(tonumber(values.exact(value(ctx, p)))) end

F.clock = phrase("clock_id", words.clocks, "clock ")

-- Seconds and the fraction from a timespec or timeval (kind) at addr.
local function seconds_at(addr, kind)
    local t = memory.struct(addr, kind)
    if not t then
        return nil
    end
    local sec = tonumber(values.exact(t.tv_sec))
    if kind == "timeval" then
        return sec, string.format("%06d", tonumber(t.tv_usec))
    end
    return sec, string.format("%09d", tonumber(t.tv_nsec))
end

-- A wall-clock reading at p: the date, then the seconds since 1970.
local function wall_time(addr, kind)
    local sec, frac = seconds_at(addr, kind)
    if not sec then
        return "(unreadable)"
    end
    return string.format("%s (%d.%s seconds since 1970)", date(sec), sec, frac)
end

F.walltime = function(ctx, p, kind) return wall_time(value(ctx, p), kind) end

-- A clock's reading at p: a date for wall clocks, seconds for the others.
F.clocktime = function(ctx, c, p, kind)
    if words.wall_clocks[named("clock_id", value(ctx, c))] then
        return wall_time(value(ctx, p), kind)
    end
    local sec, frac = seconds_at(value(ctx, p), kind)
    return sec and string.format("%d.%s seconds", sec, frac) or "(unreadable)"
end

-- A timespec at p as a length of time.
F.duration = function(ctx, p, kind)
    local sec, frac = seconds_at(value(ctx, p), kind)
    if not sec then
        return "(unreadable)"
    end
    local s = (string.format("%d.%s", sec, frac):gsub("0+$", ""):gsub("%.$", ""))
    return s .. (s == "1" and " second" or " seconds")
end

F.pollwait = function(ctx, p)
    local ms = i32(value(ctx, p))
    if ms < 0 then
        return "for as long as it takes"
    elseif ms == 0 then
        return "without waiting"
    end
    return "for at most " .. ms .. " ms"
end

-- Sockets ----------------------------------------------------------------

F.family = phrase("family", words.families, "of family ")

F.socktype = function(ctx, p)
    local name = named("socket_type", band(u32(value(ctx, p)), 0xf))
    return words.socket_types[name] or name
end

return fillers
