-- Compares scripts/trace.lua's lines with QEMU's own -strace log of the
-- same run, call for call. The two formats differ on purpose in places;
-- every normalisation and every skipped argument below says why (README,
-- "Scripts: trace.lua", lists the same differences for users).
local compare = {}

--- The text of the log at `path` (QEMU's -D file, strace's -o), which is removed.
function compare.take_log(path)
    local f = assert(io.open(path))
    local text = f:read("*a")
    f:close()
    os.remove(path)
    return text
end

-- Lines ---------------------------------------------------------------------

-- Splits an argument list at its top-level commas. Strings may hold commas
-- and brackets; QEMU prints strings raw, so one of its strings ends only at
-- a quote followed by one of , ) } ] . or the end.
local function split_args(s, raw_strings)
    local args, depth, start, i, n = {}, 0, 1, 1, #s
    while i <= n do
        local c = s:sub(i, i)
        if c == '"' then
            i = i + 1
            while i <= n do
                local d = s:sub(i, i)
                if d == "\\" and not raw_strings then
                    i = i + 1
                elseif d == '"' and (not raw_strings or i == n or s:sub(i + 1, i + 1):match("[,)}%].]")) then
                    break
                end
                i = i + 1
            end
        elseif c == "{" or c == "[" or c == "(" then
            depth = depth + 1
        elseif c == "}" or c == "]" or c == ")" then
            depth = depth - 1
        elseif c == "," and depth == 0 then
            args[#args + 1] = s:sub(start, i - 1)
            start = i + 1
        end
        i = i + 1
    end
    args[#args + 1] = s:sub(start)
    -- QEMU leaves a trailing comma in some calls: rmdir("sub",)
    while #args > 0 and args[#args]:match("^%s*$") do args[#args] = nil end
    for k, a in ipairs(args) do args[k] = a:match("^%s*(.-)%s*$") end
    return args
end

-- "name(args) = result": the argument text ends at the last ") = ".
local function call_parts(line)
    local name, rest = line:match("^([%w_]+)%((.*)$")
    if not name then return nil end
    local args, result = rest:match("^(.*)%) = (.*)$")
    if not args then
        args, result = rest:match("^(.*)%)$"), nil
    end
    return name, args, result
end

-- ipc's call numbers (linux/ipc.h), for QEMU's undecoded ipc(N,...) lines
local IPC_NAMES = { [1] = "semop", [2] = "semget", [3] = "semctl", [4] = "semtimedop",
                    [11] = "msgsnd", [12] = "msgrcv", [13] = "msgget", [14] = "msgctl",
                    [21] = "shmat", [22] = "shmdt", [23] = "shmget", [24] = "shmctl" }

--- QEMU's -D log as a list of { name, args, result }. sigreturn lines are
--- dropped: QEMU logs the registers, trace.lua the frame (parse_trace
--- drops them too).
function compare.parse_qemu(text)
    local calls = {}
    for line in text:gmatch("[^\n]+") do
        local body = line:match("^%d+ (.*)$")
        local name, args, result
        if body then name, args, result = call_parts(body) end
        if name and not name:match("sigreturn$") then
            -- socketcall's sub-calls come out in capitals (SOCKET)
            name = name:lower()
            local list = split_args(args, true)
            if name == "ipc" then
                name = IPC_NAMES[tonumber(list[1]) % 65536] or "ipc"
                list.undecoded = true
            end
            calls[#calls + 1] = { name = name, args = list, result = result, line = line }
        end
    end
    return calls
end

--- trace.lua's lines as a list of { name, args, result }; "+++" and
--- "---" lines (exits, deaths and signals) and sigreturn calls are left
--- out. Every other line must be a call.
function compare.parse_trace(text)
    local calls = {}
    for line in text:gmatch("[^\n]+") do
        local other = line:match("^%+%+%+") or line:match("^%-%-%-") or line:match("^[%w_]*sigreturn%(")
        if not other then
            local name, args, result = call_parts(line)
            assert(name and result, "not a trace line: " .. line)
            calls[#calls + 1] = { name = name, args = split_args(args, false),
                                  result = result, line = line }
        end
    end
    return calls
end

-- Values ----------------------------------------------------------------------

-- The numeric values of the symbols trace.lua may print where QEMU prints
-- a number (from the kernel's UAPI headers, x86).
local SYMBOLS = {
    AT_FDCWD = -100, AT_SYMLINK_NOFOLLOW = 0x100, AT_NO_AUTOMOUNT = 0x800,
    AT_EMPTY_PATH = 0x1000, AT_STATX_SYNC_AS_STAT = 0, STATX_BASIC_STATS = 0x7ff,
    O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0x40, O_TRUNC = 0x200,
    O_NONBLOCK = 0x800, O_CLOEXEC = 0x80000, FD_CLOEXEC = 1,
    EFD_CLOEXEC = 0x80000, EPOLL_CLOEXEC = 0x80000, EPOLL_CTL_ADD = 1,
    F_OK = 0, R_OK = 4, W_OK = 2, SEEK_SET = 0, MADV_DONTNEED = 4, MREMAP_MAYMOVE = 1,
    PROT_READ = 1, PROT_WRITE = 2, MAP_PRIVATE = 2, MAP_ANONYMOUS = 0x20,
    AF_UNIX = 1, AF_INET = 2, SOCK_STREAM = 1, SOCK_DGRAM = 2, SOCK_CLOEXEC = 0x80000,
    SOL_SOCKET = 1, SO_REUSEADDR = 2, SHUT_WR = 1, IPPROTO_IP = 0, IPPROTO_TCP = 6,
    WNOHANG = 1, GRND_NONBLOCK = 1, IPC_PRIVATE = 0, IPC_CREAT = 0x200, IPC_RMID = 0,
    RLIMIT_STACK = 3, RLIMIT_NOFILE = 7, RUSAGE_SELF = 0, CLOCK_REALTIME = 0,
    CLOCK_MONOTONIC = 1, SIG_BLOCK = 0, SIG_SETMASK = 2, SIGUSR1 = 10,
}

-- A number in C syntax (decimal, 0x hex, 0 octal), QEMU's NULL spellings
-- included; nil for anything else.
local function number(s)
    if s == "NULL" or s == "(nil)" or s == "(null)" then return 0 end
    local sign, body = s:match("^(%-?)(.+)$")
    local v
    if body:match("^0x%x+$") then
        v = tonumber(body:sub(3), 16)
    elseif body:match("^0[0-7]+$") then
        v = tonumber(body, 8)
    elseif body:match("^%d+$") then
        v = tonumber(body)
    end
    return v and (sign == "-" and -v or v)
end

-- A flag set or symbol as a number, through SYMBOLS; nil if any part is unknown.
local function symbol_value(s)
    local total = 0
    for token in s:gmatch("[^|]+") do
        local v = SYMBOLS[token] or number(token)
        if not v then return nil end
        total = total + v
    end
    return total
end

-- Our strings unescaped, to compare with QEMU's raw ones.
local function unescape(s)
    local named = { n = "\n", t = "\t", r = "\r", v = "\v", f = "\f", ['"'] = '"', ["\\"] = "\\" }
    return (s:gsub("\\([0-7][0-7]?[0-7]?)", function(o) return string.char(tonumber(o, 8)) end)
             :gsub("\\(.)", named))
end

-- The spellings that differ without a difference in value: QEMU writes
-- PF_ for socket domains, sin_family/sun_family for sa_family, signals in
-- sets with their SIG prefix, and puts spaces inside timespecs.
local function normalise(s)
    s = s:gsub("%s+", ""):gsub("%f[%w_]PF_", "AF_"):gsub("%f[%w_]s%w*_family=", "sa_family=")
    s = s:gsub("%b[]", function(set) return (set:gsub("SIG(%u)", "%1")) end)
    return s
end

local function kind(s)
    if number(s) then return "number" end
    local c = s:sub(1, 1)
    if c == '"' then return "string" end
    if c == "{" then return "struct" end
    if c == "[" then return "array" end
    if s:match("^[%u_][%w_|]*$") or s:match("^[%u_][%w_]*|") then return "symbol" end
    return "other"
end

-- Whether QEMU's `q` and our `o` say the same; "skip" when QEMU shows an
-- address where trace.lua shows what is there.
local function same(q, o)
    local kq, ko = kind(q), kind(o)
    if kq == "number" and (ko == "string" or ko == "struct" or ko == "array") then
        return "skip"
    end
    if kq == "number" and ko == "number" then
        -- QEMU prints some x86_64 pointers with a 32-bit format (read's
        -- buffer): only their low 32 bits can be compared
        local qv, ov = number(q), number(o)
        return qv == ov or (ov >= 2 ^ 32 and qv == ov % 2 ^ 32)
    end
    if kq == "number" and ko == "symbol" then return symbol_value(o) == number(q) end
    if kq == "symbol" and ko == "number" then return symbol_value(q) == number(o) end
    if kq == "string" and ko == "string" then
        local qs = q:match('^"(.*)"') or ""
        local os_ = unescape(o:match('^"(.*)"') or "")
        if o:match('%.%.%.$') then return qs:sub(1, #os_) == os_ end
        return qs == os_
    end
    if kq == "symbol" and ko == "symbol" then
        local set = {}
        -- QEMU leaves out IPC_64, the layout flag glibc adds to IPC commands
        for t in normalise(o):gmatch("[^|]+") do
            if t ~= "IPC_64" then set[t] = true end
        end
        for t in normalise(q):gmatch("[^|]+") do
            if not set[t] then return false end
            set[t] = nil
        end
        return next(set) == nil
    end
    return normalise(q) == normalise(o)
end

-- Results: QEMU writes "-1 errno=2 (message)", we "-1 ENOENT (message)";
-- both may add a parenthesised explanation after the value. `errno`, if
-- given, is the guest's name -> number table, and the numbers must agree.
local function same_result(q, o, errno)
    if q == nil then return o == "?" end
    local qnum, qmsg = q:match("^%-1 errno=(%d+) %((.*)%)$")
    local oname, omsg = o:match("^%-1 (E%w+) %((.*)%)$")
    if qmsg or omsg then
        return qmsg == omsg and (not errno or errno[oname] == tonumber(qnum))
    end
    local qv, ov = number(q:match("^%S+")), number(o:match("^%S+"))
    return qv ~= nil and qv == ov
end

--- Compares the two call lists. `options.undecoded`: names QEMU prints as
--- raw registers (only name and result are compared); `options.skip`:
--- { name = { [index] = true } } arguments QEMU shows in a way that cannot
--- be compared; `options.merge`: { name = index } where QEMU shows a 64-bit
--- value as two words (high, low) and trace.lua as one number;
--- `options.drop`: { name = index } an argument QEMU leaves out;
--- `options.qemu_extra`: { name = index } an argument QEMU adds;
--- `options.errno`: the guest's errno numbers by name, to check results by.
--- Returns a list of mismatch messages and counts of what was compared.
function compare.calls(qemu_calls, trace_calls, options)
    local problems, stats = {}, { calls = 0, args = 0 }
    local function problem(i, fmt, ...)
        problems[#problems + 1] = string.format("call %d: " .. fmt, i, ...)
    end
    if #qemu_calls ~= #trace_calls then
        problem(0, "%d calls in QEMU's log, %d in trace.lua's", #qemu_calls, #trace_calls)
    end
    for i = 1, math.min(#qemu_calls, #trace_calls) do
        local q, o = qemu_calls[i], trace_calls[i]
        if q.name ~= o.name then
            problem(i, "QEMU %s / trace.lua %s", q.line, o.line)
            break
        end
        stats.calls = stats.calls + 1
        if not same_result(q.result, o.result, options.errno) then
            problem(i, "result: QEMU %s / trace.lua %s", q.line, o.line)
        end
        local qargs, oargs = q.args, o.args
        local dropped = options.drop[q.name]
        if dropped and #oargs == #qargs + 1 then
            oargs = { unpack(oargs) }
            table.remove(oargs, dropped)
        end
        local extra = (options.qemu_extra or {})[q.name]
        if extra and #qargs == #oargs + 1 then
            qargs = { unpack(qargs) }
            table.remove(qargs, extra)
        end
        local at = options.merge[q.name]
        if at and #qargs == #oargs + 1 then
            qargs = { unpack(qargs) }
            local hi, lo = number(qargs[at]), number(qargs[at + 1])
            table.remove(qargs, at + 1)
            if hi >= 2 ^ 31 then hi = hi - 2 ^ 32 end    -- a negative offset
            qargs[at] = string.format("%d", hi * 2 ^ 32 + lo)
        end
        if not (q.args.undecoded or options.undecoded[q.name]) then
            if #qargs ~= #oargs then
                problem(i, "argument count: QEMU %s / trace.lua %s", q.line, o.line)
            else
                local skip = options.skip[q.name] or {}
                for k = 1, #qargs do
                    if not skip[k] then
                        local verdict = same(qargs[k], oargs[k])
                        if verdict == false then
                            problem(i, "argument %d: QEMU %s / trace.lua %s", k, q.line, o.line)
                        elseif verdict == true then
                            stats.args = stats.args + 1
                        end
                    end
                end
            end
        end
    end
    return problems, stats
end

return compare
