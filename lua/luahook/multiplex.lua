-- The sub-calls behind i386's multiplexers: socketcall(call, args) packs
-- every socket operation into one syscall (args points to an array of
-- 4-byte words), ipc(call, ...) every System V IPC operation. Policies that
-- judge socket() or connect() must see through them, or a guest would
-- choose the multiplexer to get past them. Numbers from linux/net.h and
-- linux/ipc.h.
local memory = require "luahook._guest.memory"
local syscalls = require "luahook.syscalls"

local multiplex = {}

-- socketcall: sub-call number -> { syscall name with the same arguments,
-- number of argument words }. send and recv are sendto and recvfrom
-- without the address.
local SOCKETCALL = {
    { "socket", 3 }, { "bind", 3 }, { "connect", 3 }, { "listen", 2 },
    { "accept", 3 }, { "getsockname", 3 }, { "getpeername", 3 },
    { "socketpair", 4 }, { "sendto", 4 }, { "recvfrom", 4 },
    { "sendto", 6 }, { "recvfrom", 6 }, { "shutdown", 2 },
    { "setsockopt", 5 }, { "getsockopt", 5 }, { "sendmsg", 3 },
    { "recvmsg", 3 }, { "accept4", 4 }, { "recvmmsg", 5 }, { "sendmmsg", 4 },
}

-- ipc: the low 16 bits of the call number (the high ones are a version).
local IPC = {
    [1] = "semop", [2] = "semget", [3] = "semctl", [4] = "semtimedop",
    [11] = "msgsnd", [12] = "msgrcv", [13] = "msgget", [14] = "msgctl",
    [21] = "shmat", [22] = "shmdt", [23] = "shmget", [24] = "shmctl",
}

local SOCKETCALL_NR = syscalls.number("socketcall")
local IPC_NR = syscalls.number("ipc")

--- Whether syscall number `nr` is a multiplexer on this guest.
---@param nr integer
---@return boolean
function multiplex.is_multiplexer(nr)
    return nr == SOCKETCALL_NR or nr == IPC_NR
end

--- The names of this guest's multiplexers (none on x86_64).
---@return string[]
function multiplex.names()
    local list = {}
    if SOCKETCALL_NR then list[#list + 1] = "socketcall" end
    if IPC_NR then list[#list + 1] = "ipc" end
    return list
end

--- What multiplexed call `sc` really is: the sub-call's syscall name and
--- its arguments as the direct syscall would take them (for ipc, the
--- arguments are left as they are: nil). Nil for an unknown sub-call
--- number; the name and nil, message when socketcall's argument array
--- cannot be read.
---@param sc luahook.Syscall
---@return string? name
---@return table? args
---@return string? error
function multiplex.unpack(sc)
    if sc.nr == IPC_NR then
        return IPC[sc.args[1] % 65536]
    end
    local entry = SOCKETCALL[sc.args[1]]
    if not entry then
        return nil
    end
    local args = {}
    for i = 1, entry[2] do
        local word, err = memory.int(sc.args[2] + 4 * (i - 1), "u32")
        if not word then
            return entry[1], nil, err
        end
        args[i] = word
    end
    -- arguments the sub-call has no word for read as 0 (NULL)
    for i = entry[2] + 1, 6 do args[i] = 0 end
    return entry[1], args
end

return multiplex
