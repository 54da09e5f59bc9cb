-- i386's multiplexers as the calls strace shows them. luahook.multiplex
-- names the sub-call and unpacks socketcall's argument array; this adds
-- what a decoder needs besides: strace's names for socketcall's send and
-- recv, and which of ipc's registers (1 = call, 2 = first, 3 = second,
-- 4 = third, 5 = ptr, 6 = fifth) are the sub-call's arguments, in its order.
local shared = require "luahook.multiplex"
local structs = require "luahook.decode.structs"
local syscalls = require "luahook.syscalls"
local values = require "luahook.decode.values"

local multiplex = {}

local SOCKETCALL_NAMES = { [9] = "send", [10] = "recv" }
local SOCKETCALL_CALLS, IPC_CALLS = 20, 24

local IPC_ARGS = {
    semop = { 2, 5, 3 },
    semget = { 2, 3, 4 },
    semctl = { 2, 3, 4, 5 },
    semtimedop = { 2, 5, 3, 6 },
    msgsnd = { 2, 5, 3, 4 },
    msgrcv = { 2, 5, 3, 6, 4 },
    msgget = { 2, 3 },
    msgctl = { 2, 3, 5 },
    shmat = { 2, 5, 3 },
    shmdt = { 5 },
    shmget = { 2, 3, 4 },
    shmctl = { 2, 3, 5 },
}

local SOCKETCALL_NR, IPC_NR = syscalls.number("socketcall"), syscalls.number("ipc")

--- The sub-call of socketcall(call, args): its name and argument words;
--- nil when the call number is unknown or the array unreadable.
---@param a table socketcall's registers
---@return string? name
---@return table? args
function multiplex.socketcall(a)
    local call = values.u32(a[1])
    local name, args = shared.unpack({ nr = SOCKETCALL_NR, args = a })
    if not args then return nil end
    return SOCKETCALL_NAMES[call] or name, args
end

--- The sub-call of ipc(call, first, second, third, ptr, fifth): its name,
--- its arguments, and a result kind when it differs from the sub-call's.
--- Version 0 of msgrcv passes its buffer and type in a two-word block.
---@param a table ipc's registers
---@return string? name
---@return table? args
---@return string? ret
function multiplex.ipc(a)
    local name = shared.unpack({ nr = IPC_NR, args = { values.u32(a[1]) } })
    if not name then return nil end
    local args = {}
    for i, reg in ipairs(IPC_ARGS[name]) do
        args[i] = a[reg]
    end
    if name == "msgrcv" and values.u32(a[1]) < 65536 then
        local kludge = structs.words(a[5], 2)
        if not kludge then return nil end
        args[2], args[4] = kludge[1], kludge[2]
    end
    -- ipc's shmat stores the address at `third` and returns 0
    return name, args, name == "shmat" and "int" or nil
end

--- The sub-call names of `multiplexer` ("socketcall" or "ipc") on this
--- guest, sorted; empty where it does not exist.
---@param multiplexer string
---@return string[]
function multiplex.names(multiplexer)
    local nr = multiplexer == "ipc" and IPC_NR or SOCKETCALL_NR
    local seen, list = {}, {}
    if not nr then return list end
    for call = 1, multiplexer == "ipc" and IPC_CALLS or SOCKETCALL_CALLS do
        -- an unreadable array (address 0) still tells the name
        local name = shared.unpack({ nr = nr, args = { call, 0 } })
        name = multiplexer == "socketcall" and SOCKETCALL_NAMES[call] or name
        if name and not seen[name] then
            seen[name] = true
            list[#list + 1] = name
        end
    end
    table.sort(list)
    return list
end

return multiplex
