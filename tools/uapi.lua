-- What the table generators take from the kernel's UAPI macros (read by
-- tools/cdefs.lua): the syscall table, errno and signal numbers, and the
-- flag and option constants that differ between architectures; and how
-- each is written as Lua source.
local uapi = {}

-- __NR_ macros that are bases or counts, not syscalls (mips' __NR_Linux,
-- arm's __NR_SYSCALL_BASE, asm-generic's __NR_syscalls, ...).
local not_syscalls = {
    Linux = true, Linux_syscalls = true, SYSCALL_BASE = true, OABI_SYSCALL_BASE = true,
    SYSCALL_MASK = true, syscalls = true, arch_specific_syscall = true,
}

--- Syscall number -> name, and name -> number of the names defined as
--- another syscall's name (arm's sync_file_range2 is arm_sync_file_range).
--- Raises an error when two names share a number otherwise.
---@return table<integer, string> by_nr, integer count, table<string, integer> aliases
function uapi.syscalls(defs, source)
    local by_nr, aliases, count = {}, {}, 0
    for _, macro in ipairs(defs:names("^__NR_[%w_]+$")) do
        local name = macro:sub(6)
        local nr = defs:value(macro)
        if not_syscalls[name] or not nr then
            -- a base, a count, or no value
        elseif defs:is_alias(macro) and defs:body(macro):match("^__NR_") then
            aliases[name] = nr
        else
            assert(not by_nr[nr], source .. ": number " .. nr .. " defined twice ("
                   .. tostring(by_nr[nr]) .. ", " .. name .. ")")
            by_nr[nr] = name
            count = count + 1
        end
    end
    return by_nr, count, aliases
end

-- { name, number } for each macro matching `pattern` that has a value, by
-- number; at one number, names defined as numbers (alphabetically) before
-- names defined as another name, so the first is the canonical one.
local function numbered(defs, pattern, skip)
    local list = {}
    for _, name in ipairs(defs:names(pattern)) do
        local v = defs:value(name)
        if v and not (skip and skip[name]) then
            list[#list + 1] = { name, v, defs:is_alias(name) }
        end
    end
    table.sort(list, function(a, b)
        if a[2] ~= b[2] then return a[2] < b[2] end
        if a[3] ~= b[3] then return not a[3] end
        return a[1] < b[1]
    end)
    for i, e in ipairs(list) do list[i] = { e[1], e[2] } end
    return list
end

--- { name, number } of every errno name (EPERM, ...).
function uapi.errno(defs)
    return numbered(defs, "^E[%u%d]+$")
end

-- Signal-related names that are limits, not signals.
local signal_limits = { SIGSTKSZ = true, SIGRTMIN = true, SIGRTMAX = true }

--- { name, number } of every signal name (SIGHUP, ...).
function uapi.signals(defs)
    return numbered(defs, "^SIG[%u%d]+$", signal_limits)
end

-- The constants kept, by name prefix (or whole name), with the headers
-- they come from: the ones whose values differ between architectures, and
-- their neighbours so each set is whole.
uapi.constant_patterns = {
    "^O_", "^__O_", "^FASYNC$", "^F_", "^FD_", "^AT_", "^LOCK_", -- asm/fcntl.h, linux/fcntl.h
    "^PROT_", "^MAP_", "^MADV_", "^MCL_", "^MS_", "^MREMAP_",  -- asm/mman.h, linux/mman.h
    "^SA_", "^SIG_", "^SS_", "^MINSIGSTKSZ$", "^SIGSTKSZ$",    -- asm/signal.h
    "^SIGRTMIN$", "^SIGRTMAX$", "^_NSIG$",
    "^SOL_SOCKET$", "^SO_", "^SCM_", "^SIOC",                  -- asm/socket.h, asm/sockios.h
    "^POLL",                                                   -- asm/poll.h
    "^RLIMIT_", "^RLIM_INFINITY$",                             -- asm/resource.h
    "^TC", "^TIOC", "^FIO",                                    -- asm/ioctls.h
}

--- name -> value of every constant matching uapi.constant_patterns that
--- has a value (those defined with sizeof or casts have none).
function uapi.constants(defs)
    local values = {}
    for _, pattern in ipairs(uapi.constant_patterns) do
        for _, name in ipairs(defs:names(pattern)) do
            values[name] = defs:value(name)
        end
    end
    return values
end

--- Lua source lines "[NR] = "name"," for a syscall table, by number.
function uapi.syscall_lines(by_nr, indent)
    local nrs, lines = {}, {}
    for nr in pairs(by_nr) do nrs[#nrs + 1] = nr end
    table.sort(nrs)
    for _, nr in ipairs(nrs) do
        lines[#lines + 1] = string.format("%s[%d] = %q,", indent, nr, by_nr[nr])
    end
    return lines
end

--- Lua source lines "{ "NAME", N }," for a numbered list.
function uapi.numbered_lines(list, indent)
    local lines = {}
    for _, e in ipairs(list) do
        lines[#lines + 1] = string.format("%s{ %q, %d },", indent, e[1], e[2])
    end
    return lines
end

-- A value as Lua source: a number, or LuaJIT's 64-bit literal (123ULL)
-- beyond 2^53.
local function literal(v)
    return type(v) == "number" and string.format("%d", v) or tostring(v)
end

--- Lua source lines "NAME = N," for a name -> value table, by name.
function uapi.value_lines(values, indent)
    local names, lines = {}, {}
    for name in pairs(values) do names[#names + 1] = name end
    table.sort(names)
    for _, name in ipairs(names) do
        lines[#lines + 1] = string.format("%s%s = %s,", indent, name, literal(values[name]))
    end
    return lines
end

return uapi
