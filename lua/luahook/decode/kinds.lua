-- The argument kinds the signature table (luahook.decode.signatures) is
-- written in. A kind is a table:
--   enter(self, a, i, p)       the text of an argument known at entry
--   exit(self, a, i, p, ret, s) the text of an out-argument, after a
--                              successful return (s: what enter gave)
--   on_failure                 exit runs after a failed return too
--   late_separator             as the first out-argument, the ", " before it
--                              belongs to the part of a line written when the
--                              call returns (strace's clone)
--   width                      registers it takes (default 1)
--   from_registers             enter reads the registers alone (no guest
--                              memory, no descriptor names): the same text
--                              at the call's return as at its entry
--   param                      how "kind:param" is read: "reg" (a register
--                              index), "formatter" (a luahook.decode.values
--                              formatter) or "name" (kept as a string)
--   several                    enter returns a list of strings, standing for
--                              several arguments: always this many (a number),
--                              or any number (true: never before an
--                              out-argument)
-- `self` is the decoder (settings and helpers: self:fd, self:str,
-- self:path, self:buf), `a` the argument registers, `i` this argument's
-- register. enter may return nil to end the argument list there (openat's
-- mode without O_CREAT).
-- An out-argument of a failed call shows its address.
local bit = require "bit"
local context = require "luahook._core.context"
local format = require "luahook._guest.format"
local iov = require "luahook.decode.iov"
local sigframe = require "luahook.decode.sigframe"
local sockaddr = require "luahook.decode.sockaddr"
local structs = require "luahook.decode.structs"
local text = require "luahook.decode.text"
local values = require "luahook.decode.values"

local u32, i32, dec, ptr = values.u32, values.i32, values.dec, values.ptr
local hex = format.hex
local WORD = context.word_size or 4

local kinds = {}

-- Integers ---------------------------------------------------------------

kinds.int = { enter = function(_, a, i) return tostring(i32(a[i])) end }
kinds.uint = { enter = function(_, a, i) return tostring(u32(a[i])) end }
kinds.long = { enter = function(_, a, i) return dec(values.long(a[i])) end }
kinds.ulong = { enter = function(_, a, i) return dec(a[i]) end }
-- hex as C's %#x: zero is "0"
kinds.hex = { enter = function(_, a, i) return a[i] == 0 and "0" or hex(a[i]) end }
kinds.ptr = { enter = function(_, a, i) return ptr(a[i]) end }
kinds.oct = { enter = function(_, a, i) return string.format("%#03o", u32(a[i])) end }
kinds.mode = { enter = function(_, a, i) return structs.mode(a[i]) end }
kinds.signal = { enter = function(_, a, i) return values.signal(a[i]) end }
-- the mask a sigreturn restores, from the frame at the stack pointer:
-- "sigframe:rt_sigreturn"
kinds.sigframe = { param = "name", enter = function(_, _, _, p) return sigframe.mask(p) end }
kinds.fd = { enter = function(self, a, i) return self:fd(i32(a[i])) end }
kinds.dirfd = {
    enter = function(self, a, i)
        local fd = i32(a[i])
        return fd == -100 and "AT_FDCWD" or self:fd(fd)
    end,
}
-- a flag set or enumeration by formatter name: "flags:open", "enum:whence"
kinds.flags = { param = "formatter", enter = function(_, a, i, p) return p(a[i]) end }
kinds.enum = kinds.flags

-- A 64-bit offset: one register on 64-bit guests, else a pair, low
-- word first (high first on big-endian mips, as its kernel reads it).
local function low_high(a, i, high_first)
    if WORD == 8 then
        return dec(values.long(a[i]))
    end
    local low, high = a[i], a[i + 1]
    if high_first then low, high = high, low end
    -- the high word signed: -60 must not round through 2^64 - 60
    return dec(i32(high) * 2 ^ 32 + low)
end
local HIGH_FIRST = context.big_endian
kinds.off64 = { width = WORD == 8 and 1 or 2, pair = WORD == 4,
                enter = function(_, a, i) return low_high(a, i, HIGH_FIRST) end }
-- preadv's pos_l, pos_h: two words, low first, on every architecture (the
-- high word is meaningless on 64-bit ones)
kinds.off_pair = { width = 2, enter = function(_, a, i) return low_high(a, i, false) end }
-- mmap's offset in hex, and mmap2's, which counts pages
kinds.map_offset = { enter = function(_, a, i) return a[i] == 0 and "0" or hex(a[i]) end }
kinds.page_offset = {
    enter = function(_, a, i) return a[i] == 0 and "0" or hex(a[i] * 4096) end,
}
-- _llseek(fd, high, low, result, whence): the offset from two registers
kinds.off_high_low = {
    width = 2,
    enter = function(_, a, i) return dec(i32(a[i]) * 2 ^ 32 + a[i + 1]) end,
}

-- what the kinds above show at entry comes from the registers (fd and
-- dirfd's names, with y=1, do not: luahook.decode asks the decoder)
for _, name in ipairs({ "int", "uint", "long", "ulong", "hex", "ptr", "oct", "mode", "signal",
                        "fd", "dirfd", "flags", "off64", "off_pair", "map_offset",
                        "page_offset", "off_high_low" }) do
    kinds[name].from_registers = true
end

-- Strings and buffers ----------------------------------------------------

kinds.path = { enter = function(self, a, i) return self:path(a[i]) end }
kinds.str = { enter = function(self, a, i) return self:str(a[i]) end }
-- a buffer the call reads, its length in register p
kinds.ibuf = { param = "reg", enter = function(self, a, i, p) return self:buf(a[i], a[p]) end }
-- a buffer the call fills, as long as the result says
kinds.obuf = { exit = function(self, a, i, _, ret) return self:buf(a[i], ret) end }
kinds.obuf_hex = { exit = function(self, a, i, _, ret) return self:buf(a[i], ret, text.quote_hex) end }
-- a NUL-terminated string the call fills (getcwd)
kinds.ostr = { exit = function(self, a, i) return self:str(a[i]) end }

-- Structures -------------------------------------------------------------

-- A kind for a pointer to a structure that `decode(self, addr, extra)`
-- prints; `extra` is a constant, or with param = "reg" the value of the
-- register the signature names. `out` makes it an out-argument.
local function pointer_kind(decode, extra, out, param)
    local function show(self, a, i, p)
        local addr = a[i]
        if addr == 0 then
            return "NULL"
        end
        local e = extra
        if param == "reg" then e = a[p] end
        return decode(self, addr, e) or hex(addr)
    end
    if out then
        return { exit = show, param = param }
    end
    return { enter = show, param = param }
end

-- name = { decoder, extra, param }: each gives an in-kind NAME and an
-- out-kind oNAME
local STRUCTS = {
    stat = { structs.stat, "stat" },
    stat64 = { structs.stat, "stat64" },
    statx = { structs.statx },
    timespec = { structs.timespec, "timespec" },
    timespec64 = { structs.timespec, "timespec64" },
    timeval = { structs.timeval },
    timezone = { structs.timezone },
    itimerval = { structs.itimer, "itimerval" },
    itimerspec = { structs.itimer, "itimerspec" },
    utimens = { structs.time_pair, "timespec" },
    utimens64 = { structs.time_pair, "timespec64" },
    utimes = { structs.time_pair, "timeval" },
    utsname = { structs.utsname },
    rlimit = { structs.rlimit, "rlimit" },
    rlimit64 = { structs.rlimit, "rlimit64" },
    rusage = { structs.rusage },
    tms = { structs.tms },
    sysinfo = { structs.sysinfo },
    sigaction = { structs.sigaction, nil, "reg" },
    old_sigaction = { structs.old_sigaction },
    sigset = { structs.sigset, nil, "reg" },
    old_sigset = { structs.sigset, 4 },
    cpu_set = { structs.cpu_set, nil, "reg" },
    stack = { structs.stack },
    wstatus = { structs.wait_status },
    sockaddr = { function(_, addr, len) return sockaddr.text(addr, len) end, nil, "reg" },
    iovec = { iov.array, nil, "reg" },
    msghdr = { iov.msghdr },
    pollfd = { structs.pollfds, nil, "reg" },
    epoll_event = { function(self, addr)
        local items = structs.epoll_events(self, addr, 1)
        return items and items[1]
    end },
    sembuf = { structs.sembufs, nil, "reg" },
    fd_set = { structs.fd_set, nil, "reg" },
    statfs = { structs.statfs },
    termios = { structs.termios },
    winsize = { structs.winsize },
    siginfo = { structs.siginfo },
    argv = { structs.string_array },
    envp = { structs.env_count },
    fd_pair = { function(self, addr)
        local fds = structs.int_values(addr, 2)
        return fds and ("[" .. self:fd(fds[1]) .. ", " .. self:fd(fds[2]) .. "]")
    end },
}
for name, spec in pairs(STRUCTS) do
    kinds[name] = pointer_kind(spec[1], spec[2], false, spec[3])
    kinds["o" .. name] = pointer_kind(spec[1], spec[2], true, spec[3])
end

-- an int the call writes: [3]
kinds.oint = pointer_kind(structs.ints, 1, true)

-- Group ids: setgroups' list of as many as its first argument (register
-- p) says, getgroups' of as many as it returns; "16" for i386's old calls.
kinds.gids = { param = "reg", enter = function(self, a, i, p)
    return a[i] == 0 and "NULL" or (structs.groups(self, a[i], a[p], 4) or hex(a[i]))
end }
kinds.gids16 = { param = "reg", enter = function(self, a, i, p)
    return a[i] == 0 and "NULL" or (structs.groups(self, a[i], a[p], 2) or hex(a[i]))
end }
kinds.ogids = { exit = function(self, a, i, _, ret)
    return a[i] == 0 and "NULL" or (structs.groups(self, a[i], ret, 4) or hex(a[i]))
end }
kinds.ogids16 = { exit = function(self, a, i, _, ret)
    return a[i] == 0 and "NULL" or (structs.groups(self, a[i], ret, 2) or hex(a[i]))
end }
-- mincore's vector, a byte per page of the length in register p
kinds.omincore = { param = "reg", exit = function(self, a, i, p)
    return structs.mincore(self, a[i], a[p]) or ptr(a[i])
end }

-- Out-arguments whose size comes from the result.
-- getdents' entries, counted; param: "getdents" or "getdents64"
kinds.odirents = {
    param = "name",
    exit = function(_, a, i, p, ret) return structs.dirents(nil, a[i], ret, p) or hex(a[i]) end,
}
-- (replaces the generated out-kind: the size is the result)
kinds.ocpu_set = {
    exit = function(self, a, i, _, ret) return structs.cpu_set(self, a[i], ret) or hex(a[i]) end,
}
kinds.oiovec = {
    param = "reg",
    exit = function(self, a, i, p, ret) return iov.array(self, a[i], a[p], ret) or hex(a[i]) end,
}
kinds.omsghdr = {
    exit = function(self, a, i, _, ret) return iov.msghdr(self, a[i], ret) or hex(a[i]) end,
}
kinds.oepoll_event = {
    exit = function(self, a, i, _, ret) return structs.epoll_array(self, a[i], ret) or hex(a[i]) end,
}
-- _llseek's 64-bit result
kinds.oloff = {
    exit = function(_, a, i)
        local w = structs.words(a[i], 8 / WORD)
        if not w then return hex(a[i]) end
        local v = WORD == 8 and values.long(w[1]) or (w[1] + w[2] * 2 ^ 32)
        return "[" .. dec(v) .. "]"
    end,
}

-- In and out: a socklen_t the caller sets and the call updates, [16] or
-- [110 => 35] when it changed.
kinds.socklen = {
    enter = function(self, a, i)
        return a[i] == 0 and "NULL" or (structs.ints(self, a[i], 1) or hex(a[i]))
    end,
    exit = function(self, a, i, _, _, before)
        local after = a[i] ~= 0 and structs.ints(self, a[i], 1)
        if not after or after == before then
            return before
        end
        return before:sub(1, -2) .. " => " .. after:sub(2)
    end,
}
-- An address whose length the call writes to the socklen_t in register p:
-- no more of it than the buffer held (the length at entry, which the
-- socklen argument after it shows) is read.
kinds.osockaddr = {
    param = "reg",
    exit = function(_, a, i, p, _, _, call, k)
        if a[i] == 0 then return "NULL" end
        local len = a[p] ~= 0 and structs.words(a[p], 1)
        local n = len and bit.band(len[1], 0xffffffff)
        local room = tonumber((call[k + 1] or ""):match("^%[(%d+)"))
        if n and room and room < n then n = room end
        return (n and sockaddr.text(a[i], n)) or hex(a[i])
    end,
}

-- Arguments that depend on another -----------------------------------------

local open_flags = values.formatter("open")
-- openat's mode exists only with O_CREAT or O_TMPFILE (flags in register p)
local O_CREAT, O_TMPFILE = values.constant("O_CREAT", 0x40), values.constant("O_TMPFILE", 0x410000)
kinds.open_mode = {
    param = "reg",
    enter = function(_, a, i, p)
        local flags = u32(a[p])
        if bit.band(flags, O_CREAT) ~= 0 or bit.band(flags, O_TMPFILE) == O_TMPFILE then
            return string.format("%#03o", u32(a[i]))
        end
    end,
}

local ip_protocol, netlink_protocol = values.formatter("ip_protocol"), values.formatter("netlink_protocol")
local ethernet_protocol = values.formatter("ethernet_protocol")
-- socket's protocol, named by the family in register p (AF_PACKET's is
-- in network byte order)
kinds.protocol = {
    param = "reg",
    enter = function(_, a, i, p)
        local family = u32(a[p])
        if family == 2 or family == 10 then
            return ip_protocol(a[i])
        elseif family == 16 then
            return netlink_protocol(a[i])
        elseif family == 17 then
            local v = u32(a[i]) % 65536
            return "htons(" .. ethernet_protocol(bit.rshift(v, 8) + bit.band(v, 0xff) * 256) .. ")"
        end
        return tostring(i32(a[i]))
    end,
}

-- mknod's device number exists only for character and block devices
-- (the mode in register p)
kinds.mknod_dev = {
    param = "reg",
    enter = function(_, a, i, p)
        local kind = bit.band(u32(a[p]), 0xf000)
        if kind == 0x2000 or kind == 0x6000 then
            return structs.makedev(a[i])
        end
    end,
}

local ioctl_request = values.formatter("ioctl_request")
kinds.ioctl_request = { enter = function(_, a, i) return ioctl_request(a[i]) end }

-- ioctl's argument by request (register p): what it points to, read at
-- entry or, for what the call writes, at return.
local IOCTL_IN = {
    [0x5402] = structs.termios, [0x5403] = structs.termios, [0x5404] = structs.termios,
    [0x5414] = structs.winsize, [0x5410] = "int", [0x5421] = "int", [0x5452] = "int",
    [0x40045431] = "int",
}
local IOCTL_OUT = {
    [0x5401] = structs.termios, [0x5413] = structs.winsize, [0x540f] = "int",
    [0x541b] = "int", [0x5411] = "int", [0x5429] = "int", [0x80045430] = "int",
    [0x80045439] = "int",
}
-- what a request writes, for luahook.recording.extents
kinds.ioctl_writes = IOCTL_OUT
local IOCTL_NONE = { [0x5450] = true, [0x5451] = true, [0x5422] = true }
local IOCTL_DECIMAL = { [0x540e] = true, [0x540b] = true, [0x5409] = true, [0x540a] = true,
                        [0x40049409] = true }

local function ioctl_pointee(self, decode, addr)
    if addr == 0 then return "NULL" end
    if decode == "int" then
        return structs.ints(self, addr, 1) or hex(addr)
    end
    return decode(self, addr) or hex(addr)
end

kinds.ioctl_arg = {
    param = "reg",
    enter = function(self, a, i, p)
        local request = u32(a[p])
        if IOCTL_NONE[request] then
            return nil
        elseif IOCTL_OUT[request] then
            return false
        elseif IOCTL_IN[request] then
            return ioctl_pointee(self, IOCTL_IN[request], a[i])
        elseif IOCTL_DECIMAL[request] then
            return tostring(i32(a[i]))
        end
        return a[i] == 0 and "0" or hex(a[i])
    end,
    exit = function(self, a, i, p, _, before)
        local decode = IOCTL_OUT[u32(a[p])]
        if not decode then return before end
        return ioctl_pointee(self, decode, a[i])
    end,
}

local OPTIONS_BY_LEVEL = {
    [0] = values.formatter("ip_option"), [values.constant("SOL_SOCKET", 1)] = values.formatter("so_option"),
    [6] = values.formatter("tcp_option"), [41] = values.formatter("ipv6_option"),
}
-- a socket option's name, named by the level in register p
kinds.sockopt = {
    param = "reg",
    enter = function(_, a, i, p)
        local names = OPTIONS_BY_LEVEL[u32(a[p])]
        return names and names(a[i]) or tostring(i32(a[i]))
    end,
}
-- setsockopt's value: an int when optlen (register p) is 4, else bytes
kinds.sockopt_value = {
    param = "reg",
    enter = function(self, a, i, p)
        if u32(a[p]) == 4 and a[i] ~= 0 then
            return structs.ints(self, a[i], 1) or hex(a[i])
        end
        return self:buf(a[i], a[p])
    end,
}
-- getsockopt's value: its length is in the socklen_t at register p
kinds.osockopt_value = {
    param = "reg",
    exit = function(self, a, i, p)
        local len = a[p] ~= 0 and structs.words(a[p], 1)
        local n = len and bit.band(len[1], 0xffffffff) or 0
        if n == 4 then
            return structs.ints(self, a[i], 1) or hex(a[i])
        end
        return self:buf(a[i], n)
    end,
}

local fcntl_args = {
    [1] = false, [3] = false, [9] = false, [11] = false, [1025] = false, [1032] = false,
    [1034] = false,                                 -- F_GET*: no argument
    [2] = values.formatter("fd_flags"),             -- F_SETFD
    [4] = open_flags,                               -- F_SETFL
    [10] = values.signal,                           -- F_SETSIG
    [5] = ptr, [6] = ptr, [7] = ptr, [12] = ptr, [13] = ptr, [14] = ptr,
    [15] = ptr, [16] = ptr, [36] = ptr, [37] = ptr, [38] = ptr,
}
-- fcntl's third argument, by the command in register p
kinds.fcntl_arg = {
    param = "reg",
    enter = function(self, a, i, p)
        local cmd = u32(a[p])
        local show = fcntl_args[cmd]
        if show == false then
            return nil
        elseif show then
            return show(a[i])
        elseif cmd == 0 or cmd == 1030 then
            return self:fd(i32(a[i]))
        end
        return tostring(i32(a[i]))
    end,
}

local futex_cmd = values.formatter("futex_cmd")
local FUTEX_PRIVATE, FUTEX_CLOCK_REALTIME = 128, 256
-- futex's operation: FUTEX_WAIT_PRIVATE, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME
kinds.futex_op = {
    enter = function(_, a, i)
        local op = u32(a[i])
        local cmd = bit.band(op, 0x7f)
        local s = futex_cmd(cmd)
        if bit.band(op, FUTEX_PRIVATE) ~= 0 then s = s .. "_PRIVATE" end
        if bit.band(op, FUTEX_CLOCK_REALTIME) ~= 0 then s = s .. "|FUTEX_CLOCK_REALTIME" end
        local rest = bit.band(op, bit.bnot(0x7f + FUTEX_PRIVATE + FUTEX_CLOCK_REALTIME))
        if rest ~= 0 then s = s .. string.format("|%#x", rest % 2 ^ 32) end
        return s
    end,
}
local FUTEX_TIMED = { [0] = true, [6] = true, [9] = true, [11] = true, [13] = true }
local FUTEX_REQUEUES = { [3] = true, [4] = true, [5] = true, [12] = true }
-- futex's arguments after val (timeout or val2, uaddr2, val3), as far as
-- the operation in register 2 uses them; param: the timeout's type
-- ("timespec", or "timespec64" for futex_time64)
kinds.futex_rest = {
    width = 3,
    several = true,
    param = "name",
    enter = function(self, a, i, p)
        local cmd = bit.band(u32(a[2]), 0x7f)
        if FUTEX_TIMED[cmd] then
            local t = a[i] == 0 and "NULL" or (structs.timespec(self, a[i], p) or hex(a[i]))
            if cmd == 9 then
                return { t, string.format("%#x", u32(a[i + 2])) }
            end
            return { t }
        elseif FUTEX_REQUEUES[cmd] then
            local parts = { tostring(u32(a[i])), ptr(a[i + 1]) }
            if cmd ~= 3 then parts[3] = string.format("%#x", u32(a[i + 2])) end
            return parts
        elseif cmd == 10 then
            return { "NULL", "NULL", string.format("%#x", u32(a[i + 2])) }
        end
        return {}
    end,
}

-- mremap's new address exists only with MREMAP_FIXED (flags in register p)
kinds.mremap_addr = {
    param = "reg",
    enter = function(_, a, i, p)
        if bit.band(u32(a[p]), 0x2) ~= 0 then
            return ptr(a[i])
        end
    end,
}

local dumpable, capability = values.formatter("prctl_dumpable"), values.formatter("capability")
local PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_SET_DUMPABLE = 1, 2, 4
local PR_SET_NAME, PR_GET_NAME = 15, 16
local PR_CAPBSET_READ, PR_CAPBSET_DROP = 23, 24
local PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS = 38, 39
-- prctl options that answer in their result and take no arguments
local PRCTL_NO_ARGS = { [3] = true, [7] = true, [13] = true, [21] = true, [27] = true,
                        [30] = true, [34] = true, [42] = true }
-- options that take one argument
local PRCTL_ONE_ARG = {}
for _, option in ipairs({ 1, 2, 4, 5, 6, 8, 9, 10, 11, 12, 14, 15, 16, 19, 20, 23, 24, 25,
                          26, 28, 29, 36, 37 }) do
    PRCTL_ONE_ARG[option] = true
end
-- options whose argument is a plain number
local PRCTL_NUMBER = { [8] = true, [29] = true, [36] = true, [41] = true }

-- prctl's second argument, by the option in register p: a name, a
-- signal, a capability, a number, or for options that write (PR_GET_NAME,
-- PR_GET_PDEATHSIG) what they wrote; nothing for the PR_GET_* options
-- that answer in their result.
kinds.prctl_arg = {
    param = "reg",
    enter = function(self, a, i, p)
        local option = u32(a[p])
        if PRCTL_NO_ARGS[option] then
            return nil
        elseif option == PR_SET_NAME then
            return self:str(a[i])
        elseif option == PR_GET_NAME or option == PR_GET_PDEATHSIG then
            return false
        elseif option == PR_SET_PDEATHSIG then
            return values.signal(a[i])
        elseif option == PR_SET_DUMPABLE then
            return dumpable(a[i])
        elseif option == PR_CAPBSET_READ or option == PR_CAPBSET_DROP then
            return capability(a[i])
        elseif PRCTL_NUMBER[option] or option == PR_SET_NO_NEW_PRIVS or option == PR_GET_NO_NEW_PRIVS then
            return dec(a[i])
        end
        return kinds.hex.enter(nil, a, i)
    end,
    exit = function(self, a, i, p, _, before)
        local option = u32(a[p])
        if option == PR_GET_NAME then
            return self:str(a[i])
        elseif option == PR_GET_PDEATHSIG then
            local v = a[i] ~= 0 and structs.int_values(a[i], 1)
            return v and ("[" .. values.signal(v[1]) .. "]") or ptr(a[i])
        end
        return before
    end,
}
-- prctl's last three arguments: in decimal for the options strace shows
-- so, none for options of one argument, else in hex
kinds.prctl_rest = {
    width = 3,
    several = true,
    param = "reg",
    enter = function(_, a, i, p)
        local option = u32(a[p])
        if option == PR_SET_NO_NEW_PRIVS or option == PR_GET_NO_NEW_PRIVS then
            return { dec(a[i]), dec(a[i + 1]), dec(a[i + 2]) }
        elseif PRCTL_ONE_ARG[option] then
            return {}
        end
        local h = kinds.hex.enter
        return { h(nil, a, i), h(nil, a, i + 1), h(nil, a, i + 2) }
    end,
}

local personality = values.formatter("personality")
-- personality's argument: 0xffffffff asks without changing
kinds.personality = {
    enter = function(_, a, i)
        local v = u32(a[i])
        return v == 0xffffffff and "0xffffffff" or personality(v)
    end,
}

local clone_flags = values.formatter("clone")
local CLONE_SETTLS, CLONE_PARENT_SETTID = 0x80000, 0x100000
local CLONE_CHILD_TIDS = 0x200000 + 0x1000000
-- clone's stack and flags, named as strace names them
kinds.clone = {
    width = 2,
    several = 2,
    enter = function(_, a, i)
        return { "child_stack=" .. ptr(a[i + 1]), "flags=" .. clone_flags(u32(a[i])) }
    end,
}
-- clone's thread ids and TLS, which the flags in register p ask for,
-- shown (as strace does) once the call returns: the id the kernel wrote
-- for the parent, then the TLS, then where the child's id goes. Register
-- order differs: x86_64 (parent_tid, child_tid, tls), i386 (parent_tid,
-- tls, child_tid).
kinds.clone_tids = {
    width = 3,
    param = "reg",
    on_failure = true,
    late_separator = true,
    enter = function(_, a, _, p)
        if bit.band(u32(a[p]), CLONE_PARENT_SETTID + CLONE_CHILD_TIDS + CLONE_SETTLS) == 0 then
            return nil
        end
        return false
    end,
    exit = function(self, a, i, p, ret)
        local flags = u32(a[p])
        local child_tid, tls = a[i + 1], a[i + 2]
        if WORD == 4 then child_tid, tls = tls, child_tid end
        local parts = {}
        if bit.band(flags, CLONE_PARENT_SETTID) ~= 0 then
            local written = not (type(ret) == "number" and ret < 0) and a[i] ~= 0
            local tid = written and structs.ints(self, a[i], 1)
            parts[#parts + 1] = "parent_tid=" .. (tid or ptr(a[i]))
        end
        if bit.band(flags, CLONE_SETTLS) ~= 0 then
            parts[#parts + 1] = "tls=" .. ptr(tls)
        end
        if bit.band(flags, CLONE_CHILD_TIDS) ~= 0 then
            parts[#parts + 1] = "child_tidptr=" .. ptr(child_tid)
        end
        return table.concat(parts, ", ")
    end,
}

return kinds
