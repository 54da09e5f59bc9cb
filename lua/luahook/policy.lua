-- Sandbox policies (scripts/sandbox.lua): a Lua file that returns a table,
-- run in an empty environment (it can compute, not reach the outside), then
-- checked key by key, so a misspelt key or a bad entry is one error naming
-- it instead of a rule silently missing. The checked policy answers three
-- questions: may this syscall run, may this object be reached, may a socket
-- of this address family be made. The format is in docs/scripts.md.
--
-- Objects are judged by their name and by what they are: each path entry
-- that exists is also known by its device and inode (read when the policy
-- loads, and again whenever an object is judged under that name), so that
-- another name for it (a hard link, a bind mount, a renamed directory
-- above it) leads to the same verdict. The directories above a denied
-- entry are known the same way, so that none of them is moved.
local arch = require "luahook._guest.arch"
local classes = require "luahook._guest.classes"
local host = require "luahook._host.host"
local hostpath = require "luahook.hostpath"
local options = require "luahook.options"
local pin = require "luahook._host.pin"
local syscalls = require "luahook.syscalls"

local policy = {}

-- Address families by name, from the decoders' table (number -> name),
-- with the aliases Linux also defines.
local FAMILY_NAMES = require("luahook.decode.consts_net").family.enum
local FAMILIES = { AF_LOCAL = 1, AF_ROUTE = 16 }
for number, name in pairs(FAMILY_NAMES) do FAMILIES[name] = number end

--- The name of address family `number` ("AF_INET"), or the number as text.
---@param number integer
---@return string
function policy.family_name(number)
    return FAMILY_NAMES[number] or tostring(number)
end

-- Syscall names of any architecture, so one policy serves every guest.
local KNOWN_NAMES = {}
for _, name_of_arch in ipairs(arch.names) do
    for _, name in pairs(arch.data(name_of_arch).syscalls) do
        KNOWN_NAMES[name] = true
    end
end

local function sorted_keys(t)
    local keys = {}
    for k in pairs(t) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    return keys
end

-- Checks that table `t` has only the keys in `known`.
local function check_keys(t, where, known)
    for key in pairs(t) do
        if known[key] == nil then
            error(string.format("%sunknown key '%s' (known: %s)", where, tostring(key),
                                table.concat(sorted_keys(known), ", ")), 0)
        end
    end
end

-- Item checkers: the canonical forms of a list entry (one, or two for a
-- path that is a symlink), or raise naming it.
local function syscall_item(item, where)
    if type(item) ~= "string" then
        error(where .. "expected a syscall name or class, got " .. type(item), 0)
    end
    if item:sub(1, 1) == "%" then
        if not classes.members(item) then
            local _, err = syscalls.select(item)
            error(where .. err, 0)
        end
    elseif not KNOWN_NAMES[item] then
        local _, err = syscalls.select(item)
        error(where .. err, 0)
    end
    return item
end

local function path_item(item, where)
    if type(item) ~= "string" or item:sub(1, 1) ~= "/" then
        error(string.format("%sexpected an absolute path, got %s", where,
                            type(item) == "string" and ("'" .. item .. "'") or type(item)), 0)
    end
    local canonical, err = hostpath.resolve(item, "/", true)
    if not canonical then
        error(string.format("%s'%s': %s", where, item, err), 0)
    end
    -- a prefix that is a symlink stands for the link too (lstat, unlink)
    local link = hostpath.resolve(item, "/", false)
    return canonical, link ~= canonical and link or nil
end

local function family_item(item, where)
    local number = type(item) == "number" and item or FAMILIES[item]
    if type(number) ~= "number" or number ~= math.floor(number) or number < 0 or number > 255 then
        error(string.format("%sunknown address family %s (use a name such as AF_INET, or a number)",
                            where, tostring(item)), 0)
    end
    return number
end

local VERDICTS = { allow = true, deny = true }

-- A { default = "allow"|"deny", allow = {...}, deny = {...} } section:
-- returns default, { [canonical item] = verdict }.
local function section(t, name, item_check)
    if type(t) ~= "table" then
        error(string.format("%s: expected a table { default = ..., allow = {...}, deny = {...} }, got %s",
                            name, type(t)), 0)
    end
    check_keys(t, name .. ": ", { default = true, allow = true, deny = true })
    local default = t.default or "allow"
    if not VERDICTS[default] then
        error(string.format("%s.default: expected \"allow\" or \"deny\", got %s", name, tostring(default)), 0)
    end
    local verdicts = {}
    for _, verdict in ipairs({ "allow", "deny" }) do
        local list = t[verdict] or {}
        if type(list) ~= "table" then
            error(string.format("%s.%s: expected a list, got %s", name, verdict, type(list)), 0)
        end
        for i, item in ipairs(list) do
            local where = string.format("%s.%s[%d]: ", name, verdict, i)
            for _, key in ipairs({ item_check(item, where) }) do
                if verdicts[key] and verdicts[key] ~= verdict then
                    error(string.format("%s'%s' is both allowed and denied", where, tostring(item)), 0)
                end
                verdicts[key] = verdict
            end
        end
        for key in pairs(list) do
            if type(key) ~= "number" or key > #list then
                error(string.format("%s.%s: expected a list, found the key '%s'", name, verdict,
                                    tostring(key)), 0)
            end
        end
    end
    return default, verdicts
end

---@class luahook.Policy
---@field errno integer what a denied syscall or socket returns (positive errno)
---@field path_errno integer what a denied path returns
---@field log boolean a line on luahook's output per denial
---@field has_paths boolean the policy has a paths section
---@field has_network boolean the policy has a network section
---@field syscall_default "allow"|"deny" the verdict for syscalls the policy does not list
local Policy = {}
Policy.__index = Policy

--- "allow" or "deny" for syscall `name`: a name listed beats a class
--- listed; between classes deny wins; else the default.
---@param name string
---@return "allow"|"deny"
function Policy:syscall(name)
    local cached = self.syscall_cache[name]
    if cached then return cached end
    local verdict = self.names[name]
    if not verdict then
        verdict = self.class_deny[name] and "deny" or self.class_allow[name] and "allow"
            or self.syscall_default
    end
    self.syscall_cache[name] = verdict
    return verdict
end

--- Whether the policy names syscall `name` itself (not through a class).
---@param name string
---@return boolean
function Policy:names_syscall(name)
    return self.names[name] ~= nil
end

--- "allow" or "deny" for canonical path `path`: the longest listed prefix
--- decides; none: the default.
---@param path string
---@return "allow"|"deny"
function Policy:path(path)
    local best, verdict = -1, self.path_default
    for prefix, v in pairs(self.prefixes) do
        if #prefix > best and hostpath.within(path, prefix) then
            best, verdict = #prefix, v
        end
    end
    return verdict
end

-- Names of objects outside the file tree (pipe:[7], socket:[8],
-- anon_inode:[eventfd]): judged by what they are only.
local function outside_tree(name)
    return name:match("^[%w_]+:%[") ~= nil or name:match("^anon_inode:") ~= nil
end

-- The identity of the object at absolute `path` itself (a symlink too),
-- and its mode.
local function identity_of(path)
    local key, mode = pin.identity(host.AT_FDCWD, path, false)
    return key, mode
end

-- Records that identity `key` is (a name of) an entry with `verdict`;
-- between two entries that are one object, deny wins.
local function remember(self, key, verdict)
    if self.ids[key] ~= "deny" then
        self.ids[key] = verdict
    end
end

--- How many names under denied directories are looked at for hard links.
policy.LINK_SCAN_LIMIT = 100000

-- Records the files under denied directory `dir` that have another name
-- (a hard link made before the run, maybe outside `dir`): they are denied
-- by what they are. Returns what is left of `budget`.
local function learn_links(self, dir, budget)
    for _, e in ipairs(host.entries(dir) or {}) do
        if budget <= 0 then return budget end
        budget = budget - 1
        local path = (dir == "/" and "" or dir) .. "/" .. e.name
        local key, mode, nlink = pin.identity(host.AT_FDCWD, path, false)
        if self:path(path) == "allow" then
            -- an allowed place inside: its files are allowed, what it denies is an entry too
            key = nil
        end
        if key and host.is_dir(mode) then
            budget = learn_links(self, path, budget)
        elseif key and nlink > 1 then
            remember(self, key, "deny")
        end
    end
    return budget
end

-- Reads the identities of the entries, of the directories above the
-- denied ones, and of the files with another name below them.
local function learn_entries(self)
    local budget = policy.LINK_SCAN_LIMIT
    for path, verdict in pairs(self.prefixes) do
        local key, mode = identity_of(path)
        if key then remember(self, key, verdict) end
        if verdict == "deny" and key and host.is_dir(mode) and budget > 0 then
            budget = learn_links(self, path, budget)
            if budget <= 0 then self.link_scan_cut = path end
        end
        if verdict == "deny" then
            local dir = path:match("^(.*)/[^/]*$")
            while dir do
                local name = dir == "" and "/" or dir
                self.guarded_names[name] = true
                local k = identity_of(name)
                if k then self.guarded[k] = true end
                dir = dir ~= "" and dir:match("^(.*)/[^/]*$") or nil
            end
        end
    end
end

--- "allow" or "deny" for an object the kernel calls `name` (nil when
--- unknown), whose identity and those of the directories above it are
--- `keys` (nearest first; luahook._host.pin.chain), or for a name alone when
--- `keys` is nil. Denied when its name is (the longest prefix decides), or
--- when the nearest entry met among `keys` is a denied one. An object
--- judged under an entry's name teaches the policy its identity.
---@param name string?
---@param keys string[]?
---@return "allow"|"deny"
function Policy:verdict(name, keys)
    local verdict
    if not name then
        verdict = "allow"
    elseif name:sub(1, 1) == "/" then
        verdict = self:path(name)
    elseif outside_tree(name) then
        verdict = "allow"
    else
        verdict = self.path_default
    end
    if not keys then
        return verdict
    end
    local entry = name and self.prefixes[name]
    if entry then
        remember(self, keys[1], entry)
        if entry == "deny" then
            for i = 2, #keys do self.guarded[keys[i]] = true end
        end
    end
    for _, key in ipairs(keys) do
        local v = self.ids[key]
        if v then
            if v == "deny" then verdict = "deny" end
            break
        end
    end
    return verdict
end

--- Whether the directory named `name`, with identity `key`, holds a denied
--- entry (by name, or by what it is): moving it would move the entry.
---@param name string?
---@param key string?
---@return boolean
function Policy:guards(name, key)
    return (key ~= nil and self.guarded[key] == true)
        or (name ~= nil and self.guarded_names[name] == true)
end

--- "allow" or "deny" for a socket of address family `number`.
---@param number integer
---@return "allow"|"deny"
function Policy:family(number)
    return self.families[number] or self.family_default
end

local function errno_key(t, key, default)
    if t[key] == nil then
        return default
    end
    local number, err = options.errno(tostring(t[key]))
    if not number then
        error(key .. ": " .. err, 0)
    end
    return number
end

local function compile(t)
    if type(t) ~= "table" then
        error("the file must return a table, e.g. return { paths = { deny = { \"/etc\" } } }, got "
              .. type(t), 0)
    end
    check_keys(t, "", { syscalls = true, paths = true, network = true, errno = true,
                        path_errno = true, log = true })
    local p = setmetatable({ syscall_cache = {}, names = {}, class_allow = {}, class_deny = {},
                             prefixes = {}, families = {}, ids = {}, guarded = {},
                             guarded_names = {} }, Policy)
    p.errno = errno_key(t, "errno", 1)            -- EPERM
    p.path_errno = errno_key(t, "path_errno", 13) -- EACCES
    if t.log ~= nil and type(t.log) ~= "boolean" then
        error("log: expected true or false, got " .. type(t.log), 0)
    end
    p.log = t.log ~= false
    p.syscall_default = "allow"
    if t.syscalls ~= nil then
        local verdicts
        p.syscall_default, verdicts = section(t.syscalls, "syscalls", syscall_item)
        for item, verdict in pairs(verdicts) do
            if item:sub(1, 1) == "%" then
                local into = verdict == "deny" and p.class_deny or p.class_allow
                for _, member in ipairs(classes.members(item)) do into[member] = true end
            else
                p.names[item] = verdict
            end
        end
    end
    p.has_paths = t.paths ~= nil
    p.path_default = "allow"
    if p.has_paths then
        p.path_default, p.prefixes = section(t.paths, "paths", path_item)
        learn_entries(p)
    end
    p.has_network = t.network ~= nil
    p.family_default = "allow"
    if p.has_network then
        p.family_default, p.families = section(t.network, "network", family_item)
    end
    return p
end

--- Loads and checks the policy file `path`. Nil and one line naming the
--- file and the bad key when it is missing, fails to run or is wrong.
---@param path string
---@return luahook.Policy? policy
---@return string? error
function policy.load(path)
    local chunk, err = loadfile(path, "t", {})
    if not chunk then
        return nil, "policy file " .. err
    end
    local ok, result = pcall(chunk)
    if not ok then
        return nil, "policy file " .. tostring(result)
    end
    local compiled
    ok, compiled = pcall(compile, result)
    if not ok then
        return nil, string.format("policy file %s: %s", path, tostring(compiled))
    end
    return compiled
end

return policy
