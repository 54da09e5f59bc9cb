-- Syscall names and numbers of the guest architecture (tables generated from
-- the kernel's UAPI headers at build time), and the resolution of what a
-- hook asks for: a name, a number, a list of them, or "*".
local arch = require "luahook._guest.arch"
local classes = require "luahook._guest.classes"
local context = require "luahook._core.context"

local syscalls = {}

local by_nr = arch.data().syscalls
local by_name = {}
for nr, name in pairs(by_nr) do
    by_name[name] = nr
end

--- The name of syscall `nr`, or "syscall_NR" when the architecture has none.
---@param nr integer
---@return string
function syscalls.name(nr)
    return by_nr[nr] or ("syscall_" .. nr)
end

--- The number of the syscall called `name`, or nil.
---@param name string
---@return integer?
function syscalls.number(name)
    return by_name[name]
end

--- The numbers of the architecture's syscalls, in order.
---@return integer[]
function syscalls.numbers()
    local list = {}
    for nr in pairs(by_nr) do list[#list + 1] = nr end
    table.sort(list)
    return list
end

-- Edit distance, for "did you mean" hints on misspelt names.
local function distance(a, b)
    local prev = {}
    for j = 0, #b do prev[j] = j end
    for i = 1, #a do
        local cur = { [0] = i }
        for j = 1, #b do
            local cost = a:byte(i) == b:byte(j) and 0 or 1
            cur[j] = math.min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
        end
        prev = cur
    end
    return prev[#b]
end

local function unknown_name(name)
    local best, best_d = nil, 3
    for candidate in pairs(by_name) do
        local d = distance(name, candidate)
        if d < best_d or (d == best_d and best and candidate < best) then
            best, best_d = candidate, d
        end
    end
    local msg = string.format("unknown syscall '%s' for %s", name, context.arch)
    if best then
        msg = msg .. string.format(" (did you mean '%s'?)", best)
    end
    return msg
end

-- Adds the members of class `name` ("%file") the guest architecture has.
local function add_class(set, name)
    local members = classes.members(name)
    if not members then
        return nil, string.format("unknown syscall class '%s' (known: %s)",
                                  name, table.concat(classes.names(), ", "))
    end
    for _, member in ipairs(members) do
        if by_name[member] then set[by_name[member]] = true end
    end
    return set
end

-- Adds the numbers `what` names to `set`; returns nil, message on error.
local function add_selection(set, what)
    local t = type(what)
    if t == "string" then
        if what == "*" then
            set.all = true
        elseif what:sub(1, 1) == "%" then
            local ok, err = add_class(set, what)
            if not ok then return nil, err end
        elseif by_name[what] then
            set[by_name[what]] = true
        else
            return nil, unknown_name(what)
        end
    elseif t == "number" then
        -- QEMU takes the number as a C int: the guest's register cut to 32
        -- bits, so 2^32-1 is the -1 QEMU reports
        if what ~= math.floor(what) or what < -2 ^ 31 or what >= 2 ^ 32 then
            return nil, string.format("syscall number %s is out of range (-2^31..2^32-1)",
                                      tostring(what))
        end
        set[what >= 2 ^ 31 and what - 2 ^ 32 or what] = true
    elseif t == "table" then
        if #what == 0 then
            return nil, "empty list of syscalls"
        end
        for _, item in ipairs(what) do
            if type(item) == "table" then
                return nil, "nested lists of syscalls are not allowed"
            end
            local ok, err = add_selection(set, item)
            if not ok then return nil, err end
        end
    else
        return nil, "expected a syscall name, number, list of them or \"*\", got " .. t
    end
    return set
end

--- A selector from text such as "openat+read+%file+5": the list syntax of
--- plugin arguments, whose commas belong to QEMU.
---@param text string
---@return (string|integer)[]
function syscalls.split(text)
    local list = {}
    for item in text:gmatch("[^+]+") do
        list[#list + 1] = tonumber(item) or item
    end
    return list
end

--- Resolves a hook selector into a set { [nr] = true } (set.all for "*");
--- a class such as "%file" gives those of its members the guest arch has.
---@return table? set
---@return string? error
function syscalls.select(what)
    return add_selection({}, what)
end

return syscalls
