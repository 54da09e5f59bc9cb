-- Signal names and numbers of Linux on x86 (i386 and x86_64 share them,
-- and so does the host): the numbers of host signals, which QEMU delivers
-- to any guest as its own (SIGUSR1 is 10 here, 16 on a mips guest).
local signals = {}

-- the decoders' table of the signals 1..31, by number
local NAMES = require("luahook.decode.consts_proc").signal_names
local BY_NAME = { SIGIOT = 6, SIGPOLL = 29, SIGCLD = 17 }
for number, name in ipairs(NAMES) do BY_NAME[name] = number end

--- The number of signal `text`: a name with or without "SIG" ("SIGUSR1",
--- "USR1") or a number 1..31. Nil and a message for anything else.
--- Real-time signals are left out: QEMU renumbers them for the guest.
---@param text string
---@return integer? number
---@return string? error
function signals.number(text)
    local n = tonumber(text)
    if n then
        if n ~= math.floor(n) or n < 1 or n > #NAMES then
            return nil, string.format("signal number %s is out of range (1..%d)", text, #NAMES)
        end
        return n
    end
    local upper = text:upper()
    n = BY_NAME[upper] or BY_NAME["SIG" .. upper]
    if not n then
        return nil, string.format("unknown signal '%s'", text)
    end
    return n
end

return signals
