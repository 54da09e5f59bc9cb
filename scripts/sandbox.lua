-- sandbox.lua: allows or denies the guest's syscalls by a policy file:
-- by syscall name or class, by the path a call reaches (for every syscall
-- that takes a path), and by the address family of new sockets.
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/sandbox.lua,policy=examples/sandbox-policy.lua ./prog
--
-- A denied call does not run: the guest gets -1 with errno EPERM (EACCES
-- for a path; both configurable), and luahook's output gets a line such as
--   sandbox: denied openat("/etc/shadow")
-- Every call that takes a path is made by the sandbox itself, from its own
-- copy of the path: the object the kernel reaches is pinned, judged by its
-- name and by what it is (device and inode), and the call then acts on
-- that pinned object, so no other thread can change what is reached after
-- the judgement (an exec luahook follows is made by its follower, from the
-- sandbox's copy: the new program runs under the same policy). The policy
-- format, what is guaranteed and the limits (with follow_exec=0 a
-- successful execve leaves the sandbox) are in docs/scripts.md.
local lh = require "luahook"
local hostpath = require "luahook.hostpath"
local multiplex = require "luahook.multiplex"
local options = require "luahook.options"
local paths = require "luahook.paths"
local policies = require "luahook.policy"
local hostcall = require "luahook.hostcall"
local call = require "luahook.sandbox.call"
local fdguard = require "luahook.sandbox.fdguard"
local files = require "luahook.sandbox.files"
local sockets = require "luahook.sandbox.sockets"

lh.shared.single_state("its guarantees rest on one Lua state seeing every thread's calls (descriptors changing under a judged call)")
local opts = options.parse(lh.args, { policy = { kind = "string" } })
if not opts.policy then
    error("missing option policy=FILE: a Lua file that returns the policy table (docs/scripts.md)")
end
local policy, load_err = policies.load(opts.policy)
if not policy then
    error(load_err)
end
if policy.link_scan_cut then
    lh.printf("sandbox: looked for files with other names in the first %d names under the denied"
              .. " directories only (it stopped in %s)\n", policies.LINK_SCAN_LIMIT, policy.link_scan_cut)
end

-- Calls that change what paths mean (chroot, a new root or mount tree),
-- reach files without a path, or hand a file to the kernel for good
-- (swapon, acct): no path check can judge them, so a policy with a paths
-- section denies them. acct with no file only stops accounting.
local UNCHECKABLE = {
    chroot = true, pivot_root = true, open_by_handle_at = true,
    fsopen = true, fsconfig = true, fsmount = true, fspick = true,
    open_tree = true, move_mount = true, mount_setattr = true,
    io_uring_setup = true, mount = true, umount = true, umount2 = true,
    swapon = true, swapoff = true,
    acct = function(args) return args[1] ~= 0 end,
}

-- Path-taking calls the reference QEMU does not implement: it answers
-- ENOSYS without reading the path, and so does the sandbox (a QEMU that
-- learnt one would otherwise read a path the sandbox could not judge).
local NOT_IN_QEMU = {
    oldstat = true, oldlstat = true, uselib = true, quotactl = true, fanotify_mark = true,
    fchmodat2 = true, setxattrat = true, getxattrat = true, listxattrat = true,
    removexattrat = true,
}

-- Every path-taking call has a way through: made by the sandbox, denied,
-- or answered as QEMU answers it. Checked once, at load.
for _, name in ipairs(paths.names()) do
    if not (files[name] or sockets[name] or UNCHECKABLE[name] or NOT_IN_QEMU[name]) then
        error("sandbox.lua: no way to judge " .. name .. "'s path")
    end
end

local errno = lh.errno

local function log(what)
    if policy.log then
        lh.printf("sandbox: denied %s\n", what)
    end
end

local function quoted(text)
    return (string.format("%q", text):gsub("\\\n", "\\n"))
end

-- /proc/PID/mem is QEMU's own memory: writing it would rewrite luahook.
local function is_process_memory(name)
    return name:match("^/proc/[^/]+/mem$") or name:match("^/proc/[^/]+/task/[^/]+/mem$")
end

-- The policy's side of a call the sandbox makes (luahook.sandbox.call).
local judge = {}

--- "allow" or "deny" for an object named `name` with identities `keys`.
function judge.verdict(name, keys)
    if name and is_process_memory(name) then
        return "deny"
    end
    return policy:verdict(name, keys)
end

--- Logs the denial of path `text` of call `name` (which leads to
--- `resolved`; `why` not) and gives the result.
function judge.deny(name, text, resolved, why)
    local line = string.format("%s(%s)", name, quoted(text))
    if resolved and resolved ~= text then
        line = line .. " -> " .. resolved
    end
    if why then
        line = line .. ": " .. why
    end
    log(line)
    return -policy.path_errno
end

function judge.guards(name, key)
    return policy:guards(name, key)
end

--- A new symlink's target `link`, made in directory `dir`, judged as the
--- link will lead: nil when allowed, else the result.
function judge.check_target(c, link, dir)
    local resolved = hostpath.resolve(link, dir or "/", true)
    if resolved and judge.verdict(resolved) == "deny" then
        return judge.deny(c.name, link, resolved)
    end
    return nil
end

-- The syscall a call really makes: a multiplexer's sub-call, unless the
-- policy names the multiplexer itself. Returns name, args, the label to
-- log it under, or nil and -errno when socketcall's arguments are unreadable.
local function effective_call(sc)
    if not multiplex.is_multiplexer(sc.nr) or policy:names_syscall(sc.name) then
        return sc.name, sc.args, sc.name
    end
    local sub, args = multiplex.unpack(sc)
    if not sub then
        return sc.name, sc.args, sc.name
    end
    if not args and sc.name == "socketcall" then
        return nil, -errno.EFAULT
    end
    return sub, args or sc.args, sub .. " via " .. sc.name
end

-- Calls no policy should refuse: a guest that cannot exit loops forever.
local ALWAYS_ALLOWED = {
    exit = true, exit_group = true, sigreturn = true, rt_sigreturn = true,
    restart_syscall = true,
}

-- Makes path-taking call `name` itself: its result, or nil to let QEMU
-- run it (it then reads no path the sandbox has not judged).
local function make(sc, name, args)
    local exec = files[name] or sockets[name]
    if not exec then return nil end
    local c = call.new(judge, name, args, sc)
    local ok, result = pcall(exec, c)
    if not ok then
        -- a fault of the sandbox's own must not let the call through unjudged
        lh.printf("sandbox: denied %s: the sandbox failed on it: %s\n", name, tostring(result))
        result = -policy.errno
    end
    result = c:done(result)
    if result == call.HANDED_OVER then
        return nil -- C makes it (luahook.hostcall)
    end
    return result
end

local function check(sc)
    local name, args, label = effective_call(sc)
    if not name then
        return args
    end
    if ALWAYS_ALLOWED[name] then
        return nil
    end
    if policy:syscall(name) == "deny" then
        log(label)
        return -policy.errno
    end
    if policy.has_network and (name == "socket" or name == "socketpair") then
        local family = call.int32(args[1])
        if policy:family(family) == "deny" then
            log(string.format("%s(%s)%s", name, policies.family_name(family),
                              label ~= name and label:sub(#name + 1) or ""))
            return -policy.errno
        end
    end
    if policy.has_paths then
        local uncheckable = UNCHECKABLE[name]
        if uncheckable == true or (uncheckable and uncheckable(args)) then
            log(label .. " (a paths policy cannot judge it)")
            return -policy.errno
        end
        if NOT_IN_QEMU[name] then
            return -errno.ENOSYS
        end
    end
    if sc.name == "socketcall" and name ~= sc.name then
        -- its arguments lie in guest memory, where another thread can
        -- change them: have the guest make the direct call instead
        local redirected = sockets.redirect(sc, name, args, policy)
        if redirected == false then
            log(label .. " (the sandbox cannot make it the direct call on " .. lh.arch .. ")")
            return -policy.errno
        end
        if redirected then return redirected end
    end
    if policy.has_paths then
        return make(sc, name, args)
    end
end

-- Syscalls this luahook has no name for are newer than its tables: what
-- they do cannot be checked, so they are denied.
local unnamed = {}
for nr = 0, lh.nr_max - 1 do
    if not lh.nr(lh.name(nr)) then unnamed[#unnamed + 1] = nr end
end
lh.on(unnamed, function(sc)
    log(sc.name .. " (unknown to luahook, so it cannot be checked)")
    return -policy.errno
end)

local function available(names)
    local list = {}
    for _, name in ipairs(names) do
        if lh.nr(name) then list[#list + 1] = name end
    end
    return list
end

-- Hook only what the policy can refuse; everything else runs untouched.
local function watched_names()
    if policy.syscall_default == "deny" then
        return "*"
    end
    local list = {}
    local function watch(names)
        for _, name in ipairs(available(names)) do list[#list + 1] = name end
    end
    for nr = 0, lh.nr_max - 1 do
        local name = lh.name(nr)
        if lh.nr(name) and policy:syscall(name) == "deny" then list[#list + 1] = name end
    end
    watch(multiplex.names())
    if policy.has_network then
        watch({ "socket", "socketpair" })
    end
    if policy.has_paths then
        watch(paths.names())
        for name in pairs(UNCHECKABLE) do watch({ name }) end
        watch(sockets.NAMES)
    end
    return list
end

-- A fault of the sandbox's own fails closed: the call is refused (the
-- failure is reported once, as every hook's is).
local watched = watched_names()
if watched == "*" or #watched > 0 then
    lh.on(watched, check, { on_error = -policy.errno })
end

-- A call the sandbox had made through a socketcall's direct form gives
-- the guest its registers back once it returns.
if lh.nr("socketcall") then
    lh.after(available(sockets.DIRECT), sockets.restore)
end

if policy.has_paths then
    -- descriptor changes, counted while they run (luahook.sandbox.fdguard),
    -- and held back while a socket call QEMU runs relies on its descriptor
    lh.on(available(fdguard.NAMES), function(sc)
        if sockets.holds(sc) then return lh.AGAIN end
        fdguard.enter(sc)
    end, { on_error = -policy.errno })
    lh.after(available(fdguard.NAMES), fdguard.leave)
    lh.after(available(sockets.NAMES), sockets.release)
    -- the calls that may be handed to C keep their buffers and pins until they return
    lh.after(available({ "open", "openat", "openat2", "creat", "connect", "sendto", "sendmsg" }),
             function(sc) hostcall.release(sc.tid) end)
end
