-- A siginfo_t in guest memory as strace prints it: the signal, its si_code
-- by name (the signal's own codes when positive, else the generic SI_*),
-- then the fields the code says are there. The layout: three ints, then a
-- union at the next word boundary (16 on x86_64, 12 on i386).
local ffi = require "ffi"
local context = require "luahook._core.context"
local errno = require "luahook._guest.errno"
local memory = require "luahook._guest.memory"
local values = require "luahook.decode.values"

local siginfo = {}

local WORD = context.word_size or 4
local UNION = WORD == 8 and 16 or 12
local SIZE = 128
local CLOCK_TICKS = 100 -- USER_HZ: the unit of si_utime and si_stime

-- Codes any signal may carry (zero and negative: sent by a process).
local GENERIC = { [0] = "SI_USER", [0x80] = "SI_KERNEL", [-1] = "SI_QUEUE", [-2] = "SI_TIMER",
                  [-3] = "SI_MESGQ", [-4] = "SI_ASYNCIO", [-5] = "SI_SIGIO", [-6] = "SI_TKILL",
                  [-7] = "SI_DETHREAD", [-60] = "SI_ASYNCNL" }

-- Each signal's own positive codes, and which fields follow them.
local SIGNALS = {
    [4] = { fields = "fault", codes = { "ILL_ILLOPC", "ILL_ILLOPN", "ILL_ILLADR", "ILL_ILLTRP",
                                        "ILL_PRVOPC", "ILL_PRVREG", "ILL_COPROC", "ILL_BADSTK",
                                        "ILL_BADIADDR" } },
    [5] = { fields = "fault", codes = { "TRAP_BRKPT", "TRAP_TRACE", "TRAP_BRANCH", "TRAP_HWBKPT",
                                        "TRAP_UNK", "TRAP_PERF" } },
    [7] = { fields = "fault", codes = { "BUS_ADRALN", "BUS_ADRERR", "BUS_OBJERR",
                                        "BUS_MCEERR_AR", "BUS_MCEERR_AO" } },
    [8] = { fields = "fault", codes = { "FPE_INTDIV", "FPE_INTOVF", "FPE_FLTDIV", "FPE_FLTOVF",
                                        "FPE_FLTUND", "FPE_FLTRES", "FPE_FLTINV", "FPE_FLTSUB",
                                        [14] = "FPE_FLTUNK", [15] = "FPE_CONDTRAP" } },
    [11] = { fields = "fault", codes = { "SEGV_MAPERR", "SEGV_ACCERR", "SEGV_BNDERR",
                                         "SEGV_PKUERR", "SEGV_ACCADI", "SEGV_ADIDERR",
                                         "SEGV_ADIPERR", "SEGV_MTEAERR", "SEGV_MTESERR",
                                         "SEGV_CPERR" } },
    [17] = { fields = "child", codes = { "CLD_EXITED", "CLD_KILLED", "CLD_DUMPED", "CLD_TRAPPED",
                                         "CLD_STOPPED", "CLD_CONTINUED" } },
    [29] = { fields = "poll", codes = { "POLL_IN", "POLL_OUT", "POLL_MSG", "POLL_ERR", "POLL_PRI",
                                        "POLL_HUP" } },
    [31] = { fields = "none", codes = { "SYS_SECCOMP", "SYS_USER_DISPATCH" } },
}

local INTS = ffi.typeof("const int32_t *")
local WORDS = ffi.typeof(WORD == 8 and "const int64_t *" or "const int32_t *")

-- A CPU time in clock ticks, with seconds in a comment when not zero.
local function ticks(v)
    if v == 0 then return "0" end
    return string.format("%d /* %d.%02d s */", v, math.floor(v / CLOCK_TICKS), v % CLOCK_TICKS)
end

-- Readers of the union: an int at byte `at` of it, a word at `at`.
local function reader(bytes)
    local int = function(at) return tonumber(ffi.cast(INTS, bytes:sub(UNION + at + 1))[0]) end
    local word = function(at) return tonumber(ffi.cast(WORDS, bytes:sub(UNION + at + 1))[0]) end
    return int, word
end

-- The fields of each kind of union member, appended to `parts`.
local FIELDS = {
    sender = function(parts, int)
        parts[#parts + 1] = "si_pid=" .. int(0)
        parts[#parts + 1] = "si_uid=" .. int(4) % 2 ^ 32
    end,
    value = function(parts, int, word)
        parts[#parts + 1] = "si_int=" .. int(8)
        parts[#parts + 1] = "si_ptr=" .. values.ptr(word(8) % 2 ^ (WORD * 8))
    end,
    child = function(parts, int, word, code)
        parts[#parts + 1] = "si_pid=" .. int(0)
        parts[#parts + 1] = "si_uid=" .. int(4) % 2 ^ 32
        parts[#parts + 1] = "si_status=" .. (code == 1 and tostring(int(8)) or values.signal(int(8)))
        parts[#parts + 1] = "si_utime=" .. ticks(word(WORD == 8 and 16 or 12))
        parts[#parts + 1] = "si_stime=" .. ticks(word(WORD == 8 and 24 or 16))
    end,
    fault = function(parts, _, word)
        parts[#parts + 1] = "si_addr=" .. values.ptr(word(0) % 2 ^ (WORD * 8))
    end,
    poll = function(parts, int, word)
        parts[#parts + 1] = "si_band=" .. word(0)
        parts[#parts + 1] = "si_fd=" .. int(WORD)
    end,
    none = function() end,
}

-- si_code by name: the signal's own when positive (but SI_KERNEL), else generic.
local function code_name(own, code)
    local name = (code > 0 and code ~= 0x80 and own and own.codes[code]) or GENERIC[code]
    return name or tostring(code)
end

--- The siginfo at `addr` as strace prints it ("{si_signo=SIGCHLD,
--- si_code=CLD_EXITED, si_pid=42, ...}"), "{}" when it holds no signal,
--- or nil when it cannot be read.
---@param addr integer
---@return string?
function siginfo.text(addr)
    local bytes = memory.read(addr, SIZE)
    if not bytes then return nil end
    local head = ffi.cast(INTS, bytes)
    local signo, err, code = head[0], head[1], head[2]
    if signo == 0 then return "{}" end
    local own = SIGNALS[signo]
    local parts = { "{si_signo=" .. values.signal(signo), "si_code=" .. code_name(own, code) }
    if err ~= 0 then
        local known = errno.info(err)
        parts[#parts + 1] = "si_errno=" .. (known and known.name or tostring(err))
    end
    local int, word = reader(bytes)
    if code == -2 then
        parts[#parts + 1] = string.format("si_timerid=%#x", int(0) % 2 ^ 32)
        parts[#parts + 1] = "si_overrun=" .. int(4)
        FIELDS.value(parts, int, word)
    elseif code <= 0 then
        FIELDS.sender(parts, int)
        if code == -1 or code == -3 then FIELDS.value(parts, int, word) end
    elseif own then
        FIELDS[own.fields](parts, int, word, code)
    end
    return table.concat(parts, ", ") .. "}"
end

return siginfo
