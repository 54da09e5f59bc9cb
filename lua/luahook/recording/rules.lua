-- The rules of recording and replaying, by call (docs/scripts.md, "What is
-- replayed and what runs"). A replay answers from the recording a call
-- whose only effect is what it returns to the guest; a call that changes
-- the guest's own process (its memory map, threads, signal handling,
-- thread registers) or the descriptors it was started with runs for real,
-- its result checked against the recorded one. Recording minds the calls
-- that may wait (the file is written before them), output to those
-- descriptors (one call at a time) and files a replay will not have (a
-- mapping's, a copy's bytes are kept).
local bit = require "bit"
local context = require "luahook._core.context"
local host = require "luahook.recording.host"
local values = require "luahook.decode.values"

local rules = {}
local values_i32 = values.i32

local function set(names)
    local t = {}
    for _, name in ipairs(names) do t[name] = true end
    return t
end

-- Run for real in the recorded order: each waits until the calls recorded
-- before it are done, and the next waits for it.
local IN_ORDER = set {
    "brk", "mmap", "mmap2", "munmap", "mprotect", "pkey_mprotect", "mremap", "madvise",
    "mlock", "munlock", "mlock2", "mlockall", "munlockall", "msync", "remap_file_pages",
    "clone", "clone3", "fork", "vfork",
    "set_tid_address", "set_robust_list", "rseq", "arch_prctl", "set_thread_area",
    "get_thread_area",
    "rt_sigaction", "sigaction", "signal", "rt_sigprocmask", "sigprocmask", "sigaltstack",
}
-- Run for real as soon as the thread makes them: they wait for other
-- threads or processes (which must be free to go on meanwhile); they end
-- in the recorded order.
local AT_ONCE = set { "futex", "futex_time64", "wait4", "waitpid", "waitid" }
-- Run for real and never return: the thread or process ends, or a signal
-- handler returns.
local FINAL = set { "exit", "exit_group", "rt_sigreturn", "sigreturn" }
local EXEC = set { "execve", "execveat" }

-- Output to the descriptors the program started with (the terminal, a
-- pipe) runs for real, so a replay shows it; input is replayed.
local WRITES = set { "write", "writev", "pwrite64", "pwritev", "pwritev2" }
-- New descriptors: dup2 and dup3 to a chosen number run for real when
-- their source is real; dup and F_DUPFD (whose number depends on what is
-- open) are answered, and the replay makes the same number itself.
local DUP_TO = set { "dup2", "dup3" }
local F_DUPFD, F_DUPFD_CLOEXEC = 0, 1030
local SIGNALS = set { "kill", "tkill", "tgkill" }
-- Copies the kernel makes from one descriptor to another: the registers of
-- the descriptor written, the one read and the variable holding the offset
-- read from (and its size). To a descriptor the program started with, the
-- replay writes the recorded bytes itself, in turn: the one read from is
-- not there.
local COPIES = {
    copy_file_range = { out = 3, from = 1, offset = 2, size = 8 },
    sendfile = { out = 1, from = 2, offset = 3, size = context.word_size },
    sendfile64 = { out = 1, from = 2, offset = 3, size = 8 },
}

-- How results of calls run for real are checked.
local ADDRESS = set { "mmap", "mmap2", "mremap" }   -- they differ between hosts
local IDS = set { "clone", "clone3", "fork", "vfork", "set_tid_address", "wait4", "waitpid",
                  "waitid" }
local MAKES_TASK = set { "clone", "clone3", "fork", "vfork" }
local UNCHECKED = set { "futex", "futex_time64" }   -- 0 or EAGAIN: a matter of timing

--- What to do with recorded call `name` (a sub-call's name for i386's
--- multiplexers) with arguments `a`: "answer", "in_order", "at_once",
--- "final", "answer_mirror" (answered, and the replay repeats its effect
--- on the real process: a dup of a real descriptor, a signal to a thread
--- of this process) or "answer_output" (a copy to a real descriptor:
--- answered, the replay writing what it copied). `real(fd)` says whether descriptor fd is one
--- the program started with (or a copy of one); `returned`: an exec
--- returned when recorded (it failed).
---@return string
function rules.action(name, a, real, returned)
    if IN_ORDER[name] then
        return "in_order"
    elseif AT_ONCE[name] then
        return "at_once"
    elseif FINAL[name] then
        return "final"
    elseif EXEC[name] then
        return returned and "answer" or "final"
    elseif COPIES[name] and real(a[COPIES[name].out]) then
        return "answer_output"
    elseif WRITES[name] or name == "close" or DUP_TO[name] then
        return real(a[1]) and "in_order" or "answer"
    elseif name == "dup" or ((name == "fcntl" or name == "fcntl64")
                             and (a[2] == F_DUPFD or a[2] == F_DUPFD_CLOEXEC)) then
        return real(a[1]) and "answer_mirror" or "answer"
    elseif SIGNALS[name] then
        return "answer_mirror"
    end
    return "answer"
end

--- Whether recording must make call `name` with arguments `a` alone, in
--- the order the calls begin: output to a descriptor the program started
--- with, whose order a replay repeats for real and which, made by several
--- threads at once, would otherwise end in an order the recording cannot
--- see.
---@return boolean
function rules.serialized(name, a, real)
    return (WRITES[name] == true and real(a[1])) or rules.copy_out(name, a, real) ~= nil
end

--- For a copy (copy_file_range, sendfile) to a descriptor the program
--- started with: { from = register of the descriptor read, offset =
--- register of its offset variable (0 when it reads at the file
--- position), size = that variable's size }; nil otherwise.
function rules.copy_out(name, a, real)
    local copy = COPIES[name]
    if copy and real(a[copy.out]) then return copy end
end

-- Calls that can wait for a long time, or for good: a recording is on its
-- file before the program makes one.
local WAITS = set {
    "read", "readv", "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64", "accept",
    "accept4", "connect", "poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6",
    "pselect6_time64", "epoll_wait", "epoll_pwait", "futex", "futex_time64", "wait4",
    "waitpid", "waitid", "nanosleep", "clock_nanosleep", "clock_nanosleep_time64", "pause",
    "rt_sigsuspend", "sigsuspend", "rt_sigtimedwait", "rt_sigtimedwait_time64", "msgrcv",
    "semop", "semtimedop", "flock", "mq_timedreceive", "socketcall", "ipc",
}

--- What recording must mind about call `name`, so that a recorder can
--- look it up once per name: { waits (it can wait for long: a read, a
--- futex wait, a sleep, ...), output (it may write to a descriptor the
--- program started with: rules.serialized, rules.copy_out), maps (it may
--- map a file: rules.mapped_file), descriptors (it may close or copy
--- one: Descriptors:update) }.
---@param name string
---@return table
function rules.minding(name)
    return {
        waits = WAITS[name] == true,
        output = WRITES[name] == true or COPIES[name] ~= nil,
        maps = name == "mmap" or name == "mmap2",
        descriptors = name == "close" or name == "dup" or DUP_TO[name] == true
                      or name == "fcntl" or name == "fcntl64",
    }
end

--- Whether `name` is an exec (execve, execveat).
---@param name string
---@return boolean
function rules.is_exec(name)
    return EXEC[name] == true
end

--- Whether `name` makes a thread or a process.
---@param name string
---@return boolean
function rules.makes_task(name)
    return MAKES_TASK[name] == true
end

--- Whether a result is a failure (-4095..-1).
---@param ret integer|ffi.cdata*
---@return boolean
function rules.failed(ret)
    return type(ret) == "number" and ret < 0 and ret > -4096
end
local failed = rules.failed

local MAP_ANONYMOUS, PAGE = 0x20, 4096

--- For a call that maps a file (mmap, mmap2 without MAP_ANONYMOUS): its
--- descriptor, the offset in the file and the length; nil otherwise. A
--- replay makes the file from the recorded bytes, as it has no files.
---@return integer? fd
---@return number? offset
---@return number? len
function rules.mapped_file(name, a)
    if (name ~= "mmap" and name ~= "mmap2") or bit.band(a[4], MAP_ANONYMOUS) ~= 0 then
        return nil
    end
    local fd = values_i32(a[5])
    if fd < 0 then return nil end
    return fd, name == "mmap2" and a[6] * PAGE or tonumber(a[6]), tonumber(a[2])
end

-- Descriptors ---------------------------------------------------------------

---@class luahook.RealDescriptors
local Descriptors = {}
Descriptors.__index = Descriptors

--- The descriptors the program started with (those of 0, 1 and 2 that are
--- open now), which it keeps, closes or copies; `.real(fd)` says whether fd
--- is one of them. In a program a followed exec started, `carried` lists
--- them as the process had them (Descriptors:carry), those the exec
--- closed left out.
---@param carried? string
---@return luahook.RealDescriptors
function rules.descriptors(carried)
    local self = setmetatable({ fds = {} }, Descriptors)
    for fd in (carried or "0,1,2"):gmatch("%d+") do
        fd = tonumber(fd)
        if host.is_open(fd) then self.fds[fd] = true end
    end
    self.real = function(fd) return self.fds[tonumber(fd)] == true end
    return self
end

--- The descriptors as rules.descriptors takes them back: "0,1,5".
---@return string
function Descriptors:carry()
    local list = {}
    for fd in pairs(self.fds) do list[#list + 1] = fd end
    table.sort(list)
    return table.concat(list, ",")
end

--- Follows call `name` with arguments `a` and result `ret`: a descriptor
--- closed, or made a copy of one that is real or not.
function Descriptors:update(name, a, ret)
    if failed(ret) then return end
    if name == "close" then
        self.fds[tonumber(a[1])] = nil
    elseif DUP_TO[name] or name == "dup" or ((name == "fcntl" or name == "fcntl64")
                                             and (a[2] == F_DUPFD or a[2] == F_DUPFD_CLOEXEC)) then
        self.fds[tonumber(ret)] = self.real(a[1]) or nil
    end
end

--- Whether result `live` of call `name`, run for real, matches `recorded`;
--- `ids(recorded_id)` gives the live id of a recorded thread or process id.
---@return boolean
function rules.same_result(name, live, recorded, ids)
    if UNCHECKED[name] or name == "brk" then
        return true    -- brk answers the break wherever it ends, failed or not
    elseif failed(live) or failed(recorded) then
        return live == recorded
    elseif ADDRESS[name] then
        return true
    elseif IDS[name] then
        return live == recorded or ids(recorded) == live or MAKES_TASK[name]
    end
    return live == recorded
end

return rules
