-- What a syscall reads from guest memory and every byte it writes there,
-- for recording and replaying: its plan says which arguments are plain
-- values (a replay compares them), which point to what the call reads
-- (compared by content: paths, strings, buffers, socket addresses), and
-- where it writes (regions computed from the arguments, the result and
-- memory, in an order where each region's place is known once the ones
-- before it are written).
--
-- The knowledge comes from the decoder's signature table
-- (luahook.decode.signatures): each argument kind there has one role here
-- (ROLE), so the ~300 signatures need no second list. The table shows
-- some pointers a call writes through as plain addresses, as strace
-- prints them; WRITES completes those calls.
local bit = require "bit"
local context = require "luahook._core.context"
local dmux = require "luahook.decode.subcalls"
local format = require "luahook.recording.format"
local iov = require "luahook.decode.iov"
local kinds = require "luahook.decode.kinds"
local memory = require "luahook._guest.memory"
local signatures = require "luahook.decode.signatures"
local sockaddr = require "luahook.decode.sockaddr"
local structs = require "luahook.decode.structs"
local syscalls = require "luahook.syscalls"
local types = require "luahook._guest.types"
local values = require "luahook.decode.values"

local extents = {}

local ARCH = context.arch
local NOTHING = {}              -- what most calls read or write; shared, never written
local WORD = context.word_size
local u32 = values.u32
local PATH_MAX = 4096

-- Sizes of the structures the calls write; luahook._guest.types has most.
local SIZES = {
    tms = 4 * WORD,
    sysinfo = WORD == 8 and 112 or 64,
    siginfo = 128,
    statfs = WORD == 8 and 120 or 64,
    termios = 36,                       -- the kernel's struct termios
    winsize = 8,
    stack = 3 * WORD,
    old_sigaction = 4 * WORD,
    mq_attr = 8 * WORD,
    sigaction = 3 * WORD + 8,           -- handler, flags, restorer, 64-bit mask
    old_sigset = 4,
    wstatus = 4,
    fd_pair = 8,
    int = 4,
}

local function size_of(name)
    return SIZES[name] or assert(types.sizeof(name))
end

-- Outputs are gathered in a writer w: w.list is the flat list addr, len,
-- addr, len, ...; when replaying, w.recorded holds the recorded bytes of
-- each region, so that a length the call stores in memory (a socklen_t, a
-- msghdr's) is read from what it stored, not from what is there before.
local function add(w, addr, len)
    if addr ~= 0 and len > 0 then
        local list = w.list
        list[#list + 1] = addr
        list[#list + 1] = len
    end
end

local function little_endian(bytes, offset, size)
    local v = 0
    for k = size, 1, -1 do v = v * 256 + bytes:byte(offset + k) end
    return v
end

-- The unsigned integer of `size` bytes (4 or the word) the call stored at
-- `addr`; 0 if it cannot be read.
local function peek(w, addr, size)
    if w.recorded then
        local list = w.list
        for k = 1, #list, 2 do
            local offset = addr - list[k]
            if offset >= 0 and offset + size <= list[k + 1] then
                return little_endian(w.recorded[(k + 1) / 2], offset, size)
            end
        end
    end
    local bytes = memory.read(addr, size)
    return bytes and little_endian(bytes, 0, size) or 0
end

-- `total` bytes scattered over the `count` iovecs at `addr`, as a read fills them.
local function scatter(w, addr, count, total)
    local v = structs.words(addr, 2 * math.min(u32(count), 1024))
    if not v then return end
    for i = 1, #v, 2 do
        if total <= 0 then break end
        local n = math.min(tonumber(v[i + 1]) or 0, total)
        add(w, v[i], n)
        total = total - n
    end
end

local MSG = iov.MSGHDR

-- Output kinds: fn(w, a, i, p, ret) adds the regions argument i writes
-- (p: the kind's parameter, a register index where it has one).
local OUT = {}

for _, name in ipairs({ "stat", "stat64", "statx", "timespec", "timespec64", "timeval",
                        "timezone", "itimerval", "itimerspec", "rlimit", "rlimit64", "rusage",
                        "utsname", "tms", "sysinfo", "siginfo", "statfs", "stack",
                        "old_sigaction", "old_sigset", "wstatus", "fd_pair", "int" }) do
    local size = size_of(name)
    OUT["o" .. name] = function(w, a, i) add(w, a[i], size) end
end
OUT.osigaction = function(w, a, i) add(w, a[i], size_of("sigaction")) end
OUT.osigset = function(w, a, i, p) add(w, a[i], math.min(u32(a[p]), 128)) end

local function result_bytes(w, a, i, _, ret) add(w, a[i], ret) end
OUT.obuf, OUT.obuf_hex, OUT.ostr, OUT.odirents, OUT.ocpu_set = result_bytes, result_bytes,
    result_bytes, result_bytes, result_bytes
OUT.ogids = function(w, a, i, _, ret) add(w, a[i], 4 * ret) end
OUT.ogids16 = function(w, a, i, _, ret) add(w, a[i], 2 * ret) end
OUT.oepoll_event = function(w, a, i, _, ret) add(w, a[i], ret * size_of("epoll_event")) end
OUT.oloff = function(w, a, i) add(w, a[i], 8) end
OUT.omincore = function(w, a, i, p) add(w, a[i], math.ceil(u32(a[p]) / 4096)) end
OUT.oiovec = function(w, a, i, p, ret) scatter(w, a[i], a[p], ret) end
-- a socklen_t the call updates (plans put it before what it measures)
OUT.socklen = function(w, a, i) add(w, a[i], 4) end
-- as many bytes as the call stored at the socklen_t in register p
OUT.osockaddr = function(w, a, i, p)
    if a[p] ~= 0 then add(w, a[i], peek(w, a[p], 4)) end
end
OUT.osockopt_value = OUT.osockaddr
-- recvmsg: the header's three fields the call sets, then the address,
-- the control data and the data, as long as those fields and the result say
OUT.omsghdr = function(w, a, i, _, ret)
    local m = a[i]
    local h = structs.words(m, MSG.size / WORD)
    if not h then return end
    add(w, m + MSG.namelen, 4)
    add(w, m + MSG.controllen, WORD)
    add(w, m + MSG.flags, 4)
    add(w, h[MSG.name / WORD + 1], peek(w, m + MSG.namelen, 4))
    add(w, h[MSG.control / WORD + 1], peek(w, m + MSG.controllen, WORD))
    scatter(w, h[MSG.iov / WORD + 1], h[MSG.iovlen / WORD + 1], ret)
end
-- ioctl: the requests the decoder knows to write, else those whose number
-- says they write (_IOC_READ) and how much
local IOCTL_SIZE = { [structs.termios] = SIZES.termios, [structs.winsize] = SIZES.winsize,
                     int = 4 }
OUT.ioctl_arg = function(w, a, i, p)
    local request = u32(a[p])
    local known = kinds.ioctl_writes[request]
    if known then
        add(w, a[i], IOCTL_SIZE[known])
    elseif bit.band(bit.rshift(request, 30), 2) ~= 0 then
        add(w, a[i], bit.band(bit.rshift(request, 16), 0x3fff))
    end
end
local PR_GET_PDEATHSIG, PR_GET_NAME = 2, 16
OUT.prctl_arg = function(w, a, i, p)
    local option = u32(a[p])
    if option == PR_GET_NAME then
        add(w, a[i], 16)
    elseif option == PR_GET_PDEATHSIG then
        add(w, a[i], 4)
    end
end

-- Input kinds: fn(list, a, i, p) adds what argument i points to, as
-- addr, len, how: how is "string" (len: the most to read), "bytes"
-- (compared), "sockaddr" (compared as decoded: bytes past a Unix socket's
-- path or an IPv4 address are whatever the program's buffer held) or
-- "shown" (kept only to show the call: holds addresses).
local IN = {}
local function add_in(list, addr, len, how)
    if addr ~= 0 then
        list[#list + 1] = addr
        list[#list + 1] = len
        list[#list + 1] = how
    end
end
local function gather(list, addr, count)
    count = math.min(u32(count), 1024)
    add_in(list, addr, 2 * WORD * count, "shown")
    local w = structs.words(addr, 2 * count)
    if not w then return end
    for k = 1, #w, 2 do add_in(list, w[k], tonumber(w[k + 1]) or 0, "bytes") end
end
IN.path = function(list, a, i) add_in(list, a[i], PATH_MAX, "string") end
IN.str = IN.path
IN.ibuf = function(list, a, i, p) add_in(list, a[i], a[p], "bytes") end
IN.sockopt_value = IN.ibuf
IN.sockaddr = function(list, a, i, p) add_in(list, a[i], a[p], "sockaddr") end
IN.socklen = function(list, a, i) add_in(list, a[i], 4, "bytes") end
IN.iovec = function(list, a, i, p) gather(list, a[i], a[p]) end
IN.msghdr = function(list, a, i)
    local m = a[i]
    add_in(list, m, MSG.size, "shown")
    local h = structs.words(m, MSG.size / WORD)
    if not h then return end
    local namelen = memory.int(m + MSG.namelen, "u32")
    add_in(list, h[MSG.name / WORD + 1], namelen or 0, "sockaddr")
    gather(list, h[MSG.iov / WORD + 1], h[MSG.iovlen / WORD + 1])
end

-- What each kind is: a value compared as it is ("value"), an argument not
-- compared ("skip": an address, or a pointer to something the call only
-- reads and a replay need not check), or an input or output above. Kinds
-- in several tables do several things (socklen is read and written).
local VALUES = { "int", "uint", "long", "ulong", "oct", "mode", "signal", "fd", "dirfd", "flags",
                 "enum", "off64", "off_pair", "map_offset", "page_offset", "off_high_low",
                 "open_mode", "protocol", "mknod_dev", "ioctl_request", "sockopt", "futex_op",
                 "personality" }
local SKIPPED = { "ptr", "hex", "fd_set", "timespec", "timespec64", "timeval", "timezone",
                  "itimerval", "itimerspec", "utimes", "utimens", "utimens64", "rlimit",
                  "rlimit64", "sigset", "old_sigset", "sigaction", "old_sigaction", "stack",
                  "sembuf", "pollfd", "epoll_event", "cpu_set", "gids", "gids16", "argv",
                  "envp", "mremap_addr", "fcntl_arg", "futex_rest", "prctl_rest", "clone", "clone_tids",
                  "ioctl_arg", "prctl_arg", "socklen", "sigframe", "siginfo" }
local ROLE = {}
for _, k in ipairs(VALUES) do ROLE[k] = "value" end
for _, k in ipairs(SKIPPED) do ROLE[k] = "skip" end
for k in pairs(IN) do ROLE[k] = "skip" end
for k in pairs(OUT) do ROLE[k] = ROLE[k] or "skip" end

-- Calls whose signatures show a pointer they write through as an address
-- (strace prints them so), and select's and poll's sets, which the call
-- reads and then rewrites: name = fn(w, a, ret), after the signature's.
local function fds_bytes(nfds)
    return math.ceil(math.max(values.i32(nfds), 0) / (8 * WORD)) * WORD
end
local function select_writes(timeout_type)
    return function(w, a)
        for r = 2, 4 do add(w, a[r], fds_bytes(a[1])) end
        if timeout_type then add(w, a[5], size_of(timeout_type)) end
    end
end
local function poll_writes(timeout_type)
    return function(w, a)
        add(w, a[1], u32(a[2]) * size_of("pollfd"))
        if timeout_type then add(w, a[3], size_of(timeout_type)) end
    end
end
local WRITES = {
    time = function(w, a) add(w, a[1], WORD) end,
    statfs64 = function(w, a) add(w, a[3], u32(a[2])) end,
    sendfile = function(w, a) add(w, a[3], WORD) end,
    sendfile64 = function(w, a) add(w, a[3], 8) end,
    splice = function(w, a) add(w, a[2], 8); add(w, a[4], 8) end,
    timer_create = function(w, a) add(w, a[3], 4) end,
    listxattr = function(w, a, ret) add(w, a[2], ret) end,
    mq_timedreceive = function(w, a) add(w, a[4], 4) end,
    mq_getsetattr = function(w, a) add(w, a[3], size_of("mq_attr")) end,
    rt_sigtimedwait = function(w, a) add(w, a[2], size_of("siginfo")) end,
    msgrcv = function(w, a, ret) add(w, a[2], WORD + ret) end,
    get_robust_list = function(w, a) add(w, a[2], WORD); add(w, a[3], WORD) end,
    capget = function(w, a)
        -- version 1 has one 32-bit set of each kind, later versions two
        add(w, a[2], peek(w, a[1], 4) == 0x19980330 and 12 or 24)
    end,
    select = select_writes("timeval"),
    pselect6 = select_writes("timespec"),
    pselect6_time64 = select_writes("timespec64"),
    poll = poll_writes(),
    ppoll = poll_writes("timespec"),
    ppoll_time64 = poll_writes("timespec64"),
}
WRITES.fstatfs64, WRITES.copy_file_range = WRITES.statfs64, WRITES.splice
WRITES.llistxattr, WRITES.flistxattr = WRITES.listxattr, WRITES.listxattr
WRITES.rt_sigtimedwait_time64, WRITES._newselect = WRITES.rt_sigtimedwait, WRITES.select

-- Plans ----------------------------------------------------------------------

local function signature(name)
    return signatures.by_arch[ARCH][name] or signatures.common[name]
end

-- Steps of one signature: { kind, reg, p } per argument.
local function compile(name, sig)
    local plan = { name = name, values = {}, inputs = {}, outputs = {} }
    local reg = 1
    for _, spec in ipairs(sig) do
        local kind_name, param = spec:match("^([%w_]+):?(.*)$")
        local role = ROLE[kind_name]
        if not role then
            error(string.format("extents: signature of %s: kind '%s' has no role", name, kind_name))
        end
        local p = tonumber(param)
        if role == "value" then
            plan.values[#plan.values + 1] = reg
        end
        if kind_name == "clone" then
            plan.values[#plan.values + 1] = reg          -- the flags; the rest are addresses
        end
        if IN[kind_name] then
            plan.inputs[#plan.inputs + 1] = { IN[kind_name], reg, p }
        end
        if OUT[kind_name] then
            -- a socklen_t goes first: the address before it reads its new value
            table.insert(plan.outputs, kind_name == "socklen" and 1 or #plan.outputs + 1,
                         { OUT[kind_name], reg, p })
        end
        reg = reg + (kinds[kind_name].width or 1)
    end
    plan.writes = WRITES[name]
    return plan
end

local plans = {}
local plain_by_nr = context.by_nr()     -- plans of calls that are neither multiplexed nor indirect

-- The plan of call `name` (a syscall or a multiplexed sub-call): without a
-- signature, every register is a value and nothing is known to be written.
local function plan_named(name)
    local plan = plans[name]
    if not plan then
        local sig = signature(name)
        if not sig then
            plan = { name = name, raw = true, values = { 1, 2, 3, 4, 5, 6 }, inputs = {},
                     outputs = {} }
        elseif sig.indirect then
            plan = compile(name, signatures.common[name])
            plan.indirect = sig.indirect
        else
            plan = compile(name, sig)
        end
        plans[name] = plan
    end
    return plan
end

--- The plan of syscall `nr` with registers `regs`, and the arguments it
--- applies to: i386's socketcall and ipc give their sub-call's, old mmap
--- and select the words their one argument points to. The arguments are
--- `regs` itself for other calls; nil when they cannot be read.
---@param nr integer
---@param regs table
---@return table plan
---@return table? args
function extents.plan(nr, regs)
    local plain = plain_by_nr[nr]
    if plain then return plain, regs end
    local name = syscalls.name(nr)
    if name == "socketcall" or name == "ipc" then
        local sub, args = dmux[name](regs)
        if sub then return plan_named(sub), args end
    end
    local plan = plan_named(name)
    if plan.indirect then
        return plan, structs.words(regs[1], plan.indirect)
    end
    plain_by_nr[nr] = plan
    return plan, regs
end

-- The regions `plan` reads with arguments `a`: a flat list of addr, len,
-- how ("string", "bytes", "sockaddr" or "shown").
local function inputs_of(plan, a)
    local list = {}
    for _, step in ipairs(plan.inputs) do step[1](list, a, step[2], step[3]) end
    return list
end

--- The regions a successful call of `plan` with arguments `a` and result
--- `ret` wrote, as a flat list addr, len, addr, len, ... Lengths the call
--- stores in memory are read from memory, or, when replaying, from
--- `recorded`, the bytes recorded for each region in order.
---@param recorded? string[]
---@return table
function extents.outputs(plan, a, ret, recorded)
    if not plan.outputs[1] and not plan.writes then return NOTHING end
    local w = { list = {}, recorded = recorded }
    ret = tonumber(ret) or 0
    for _, step in ipairs(plan.outputs) do step[1](w, a, step[2], step[3], ret) end
    if plan.writes then plan.writes(w, a, ret) end
    return w.list
end

-- Bytes of a compared input kept in a recording, to show the call; its
-- hash covers up to HASHED bytes.
local KEEP, HASHED = 256, 1024 * 1024
local UNREADABLE = 0xffffffff

--- What a call of `plan` with arguments `a` reads, now: a list of regions
--- { role = "i" (compared) or "s" (kept to show the call), addr, len,
--- hash, bytes (what is kept) }. A region that cannot be read has len
--- 0xffffffff.
---@return table[]
function extents.capture(plan, a)
    if not plan.inputs[1] then return NOTHING end
    local regions = {}
    local list = inputs_of(plan, a)
    for k = 1, #list, 3 do
        local addr, len, how = list[k], tonumber(list[k + 1]) or 0, list[k + 2]
        local bytes
        if how == "string" then
            bytes = memory.string(addr, len)
            len = bytes and #bytes
        else
            bytes = memory.read(addr, math.min(len, HASHED))
        end
        local region = { role = how == "shown" and "s" or "i", addr = addr, len = len,
                         hash = 0, bytes = "" }
        if not bytes then
            region.len = UNREADABLE
        else
            if how == "sockaddr" then
                region.hash = format.hash(sockaddr.text(addr, len) or "")
            elseif how ~= "shown" then
                region.hash = format.hash(bytes)
            end
            region.bytes = (how == "string" or #bytes <= KEEP) and bytes or bytes:sub(1, KEEP)
        end
        regions[#regions + 1] = region
    end
    return regions
end

--- Compiles the plan of every syscall with a signature on this guest;
--- raises on a kind without a role. Returns how many it compiled.
---@return integer
function extents.check()
    local n = 0
    for nr = 0, context.nr_max - 1 do
        local name = syscalls.name(nr)
        if signature(name) then
            plan_named(name)
            n = n + 1
        end
    end
    return n
end

return extents
