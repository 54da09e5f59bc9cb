-- A host syscall made in place of the guest's once luahook's lock is let go
-- (LH_ANSWER_HOST in core/contract.h). A hook that makes a call itself holds
-- the lock while it runs, and every other guest thread's hooked calls wait
-- for it: fine for a call that returns at once, a deadlock for one that
-- waits for another thread's hooked call (opening one end of a FIFO waits
-- for the other end to be opened). Such a call is handed to C instead, to
-- be made after the hook, outside the lock.
--
-- The hook sets the answer and declines: the runtime leaves an answer it
-- did not make alone. Every pointer argument must stay valid until the
-- call returns: whatever it points into is kept (hostcall.keep) until the
-- guest thread's next after-hook for that call (hostcall.release).
local ffi = require "ffi"
local context = require "luahook._core.context"

local hostcall = {}

-- The host's syscall numbers for the calls handed over.
local NUMBERS = {
    x64 = { openat = 257, connect = 42, sendto = 44, sendmsg = 46 },
    arm64 = { openat = 56, connect = 203, sendto = 206, sendmsg = 211 },
}
local numbers = NUMBERS[jit.arch]

--- Whether syscall `name` can be handed to C on this host.
---@param name string
---@return boolean
function hostcall.available(name)
    return numbers ~= nil and numbers[name] ~= nil
end

-- A syscall argument word: a number (negative ones too: AT_FDCWD), a
-- string (its bytes), or a cdata pointer, array or structure (its address).
local function word(v)
    if v == nil then return 0ULL end
    if type(v) == "number" then
        return ffi.cast("uint64_t", ffi.cast("int64_t", v))
    end
    return ffi.cast("uint64_t", ffi.cast("uintptr_t", ffi.cast("const void *", v)))
end

local kept = {} -- [tid] = { values, done } of the call in progress

--- Keeps `values` (a table of strings, cdata) alive until the guest thread
--- `tid`'s call has returned (hostcall.release), then calls `done`.
function hostcall.keep(tid, values, done)
    hostcall.release(tid) -- a call that never returned (the thread is making another)
    kept[tid] = { values = values, done = done }
end

--- The guest thread `tid`'s call has returned: what it pointed into may go.
function hostcall.release(tid)
    local k = kept[tid]
    if k then
        kept[tid] = nil
        k.done()
    end
end

--- Has C make host syscall `name` with arguments `...` (integers, cdata
--- pointers or strings) for the current event; the hook then declines.
---@param name string
function hostcall.answer(name, ...)
    local ev = context.event
    local args = { ... }
    ev.ret = numbers[name]
    for i = 0, 5 do
        ev.args[i] = word(args[i + 1])
    end
    ev.answer = context.core.answers.host
end

return hostcall
