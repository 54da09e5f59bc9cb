-- sandbox.lua: allows or denies the guest's syscalls by a policy file:
-- by syscall name or class, by the path a call reaches (for every syscall
-- that takes a path), and by the address family of new sockets.
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/sandbox.lua,policy=examples/sandbox-policy.lua ./prog
--
-- A denied call does not run: the guest gets -1 with errno EPERM (EACCES
-- for a path; both configurable), and luahook's output gets a line such as
--   sandbox: denied openat("/etc/shadow")
-- Paths are judged where the kernel will find them: relative ones from the
-- guest's cwd or the call's directory fd, "." and ".." and every symlink
-- resolved on the host. The policy format and the limits (a successful
-- execve leaves the sandbox; threads can race the checks) are in
-- docs/scripts.md.
local bit = require "bit"
local lh = require "luahook"
local context = require "luahook.context"
local hostpath = require "luahook.hostpath"
local int = require "luahook.int"
local multiplex = require "luahook.multiplex"
local options = require "luahook.options"
local paths = require "luahook.paths"
local policies = require "luahook.policy"

local opts = options.parse(lh.args, { policy = { kind = "string" } })
if not opts.policy then
    error("missing option policy=FILE: a Lua file that returns the policy table (docs/scripts.md)")
end
local policy, load_err = policies.load(opts.policy)
if not policy then
    error(load_err)
end

local AT_FDCWD = -100
local AF_UNIX = 1
local SUN_PATH_MAX = 108
local PATH_MAX = 4096
local MMSGHDR_SIZE = context.word_size == 8 and 64 or 32
local UIO_MAXIOV = 1024 -- the most messages sendmmsg takes

-- Calls that change what paths mean (chroot, a new root or mount tree) or
-- reach files without a path: no path check can judge them, so a policy
-- with a paths section denies them.
local UNCHECKABLE = {
    chroot = true, pivot_root = true, open_by_handle_at = true,
    fsopen = true, fsconfig = true, fsmount = true, fspick = true,
    open_tree = true, move_mount = true, mount_setattr = true,
    io_uring_setup = true,
}

-- Socket calls whose address argument can name a file (an AF_UNIX path):
-- the argument holding the sockaddr, and whether the kernel follows a
-- symlink there (bind creates the socket file, so it does not).
local SOCKADDR_ARGS = {
    bind = { arg = 2, len = 3, follow = false },
    connect = { arg = 2, len = 3, follow = true },
    sendto = { arg = 5, len = 6, follow = true },
}

local errno = lh.errno

local function log(what)
    if policy.log then
        lh.printf("sandbox: denied %s\n", what)
    end
end

local function quoted(text)
    return (string.format("%q", text):gsub("\\\n", "\\n"))
end

-- An int argument (a directory fd, an address family) as the kernel
-- reads it: the low 32 bits, signed.
local function int_arg(v)
    if type(v) == "cdata" then
        v = tonumber(bit.band(v, 0xffffffff))
    end
    return int.signed(v % 4294967296, 32)
end

-- The canonical directory a relative path starts from: the cwd, or the
-- directory fd in argument `at`. Nil, and what the kernel would answer,
-- when there is none: the fd is not open, or the cwd was removed.
local function start_dir(args, at)
    if at == nil or int_arg(args[at]) == AT_FDCWD then
        local cwd = hostpath.cwd()
        if not cwd then return nil, "ENOENT", "the working directory is gone" end
        return cwd
    end
    local dir = hostpath.fd(int_arg(args[at]))
    if not dir or dir:sub(1, 1) ~= "/" then
        return nil, "EBADF", "the directory fd is not an open directory"
    end
    return dir
end

-- /proc/PID/mem is QEMU's own memory: writing it would rewrite luahook.
local function is_process_memory(path)
    return path:match("^/proc/[^/]+/mem$") or path:match("^/proc/[^/]+/task/[^/]+/mem$")
end

-- Judges one resolved path: nil when allowed, else -errno (logged).
local function judge_path(name, text, resolved)
    if policy:path(resolved) == "allow" and not is_process_memory(resolved) then
        return nil
    end
    if resolved == text then
        log(string.format("%s(%s)", name, quoted(text)))
    else
        log(string.format("%s(%s) -> %s", name, quoted(text), resolved))
    end
    return -policy.path_errno
end

-- Resolves and judges path text `text` from directory `base`. `follow`
-- nil (openat2's flags unreadable) judges both ways. Returns -errno when
-- denied, else nil and the resolved path.
local function check_text(name, text, base, follow, root)
    local resolved, err
    for _, f in ipairs(follow == nil and { true, false } or { follow }) do
        resolved, err = hostpath.resolve(text, base, f, root)
        if not resolved then
            log(string.format("%s(%s): %s", name, quoted(text), err))
            return -errno.ELOOP
        end
        local denied = judge_path(name, text, resolved)
        if denied then return denied end
    end
    return nil, resolved
end

-- Where path `text` of `spec` starts: its base directory and the root
-- ".." cannot leave (nil: "/"), or nil, an errno name and why not.
-- `resolved` holds the call's paths resolved so far.
local function starting_point(spec, args, text, resolved)
    if spec.target_of then
        -- a new symlink's target is relative to the link's directory
        local dir = resolved[spec.target_of]:match("^(.*)/[^/]*$")
        return dir ~= "" and dir or "/"
    end
    -- the kernel ignores the directory of an absolute path, unless it is
    -- the root (openat2's RESOLVE_IN_ROOT)
    local in_root = spec.in_root and spec.in_root(args)
    if text:sub(1, 1) == "/" and not in_root then
        return "/"
    end
    local base, code, why = start_dir(args, spec.at)
    if not base then
        return nil, code, why
    end
    return base, in_root and base or nil
end

-- Checks the path arguments of a call: nil when all are allowed, else the
-- result to fail it with.
local function check_paths(name, args, specs)
    local resolved = {}
    for i, spec in ipairs(specs) do
        local addr = args[spec.arg]
        if (spec.only == nil or spec.only(args)) and not (addr == 0 and spec.null_ok) then
            -- what the kernel could not read, it would refuse too
            local text, cut = lh.mem.string(addr, PATH_MAX)
            if not text then return -errno.EFAULT end
            if cut then return -errno.ENAMETOOLONG end
            if not (text == "" and spec.empty and spec.empty(args)) then
                local base, root, why = starting_point(spec, args, text, resolved)
                if not base then
                    local code = root -- on failure, the errno name
                    log(string.format("%s(%s): %s", name, quoted(text), why))
                    return -errno[code]
                end
                -- a new symlink's target is judged as the link will lead
                local follow = spec.target_of and true or paths.follows(spec, args)
                local denied
                denied, resolved[i] = check_text(name, text, base, follow, root)
                if denied then return denied end
            end
        end
    end
    return nil
end

-- Checks the AF_UNIX path in the sockaddr at `addr` (`len` bytes), if any.
local function check_sockaddr(name, addr, len, follow)
    if addr == 0 or len <= 2 then
        return nil -- no address, or an unnamed socket
    end
    local family = lh.mem.int(addr, "u16")
    if family ~= AF_UNIX then
        return nil
    end
    local raw = lh.mem.read(addr + 2, math.min(len - 2, SUN_PATH_MAX))
    if not raw then return -errno.EFAULT end
    if raw:byte(1) == 0 then
        return nil -- an abstract socket name: not a file
    end
    local base, code = start_dir({}, nil)
    if not base then return -errno[code] end
    return (check_text(name, raw:match("^[^%z]*"), base, follow))
end

-- sendmsg and sendmmsg carry the address in a struct msghdr: msg_name
-- (a pointer) first, then msg_namelen.
local function check_msghdr(name, msg)
    local addr = lh.mem.int(msg, "ptr")
    local len = lh.mem.int(msg + context.word_size, "u32")
    if not addr or not len then return -errno.EFAULT end
    return check_sockaddr(name, addr, len, true)
end

local function check_socket_address(name, args)
    local where = SOCKADDR_ARGS[name]
    if where then
        return check_sockaddr(name, args[where.arg], tonumber(args[where.len]) or 0, where.follow)
    elseif name == "sendmsg" then
        return check_msghdr(name, args[2])
    elseif name == "sendmmsg" then
        for i = 0, math.min(tonumber(args[3]) or 0, UIO_MAXIOV) - 1 do
            local denied = check_msghdr(name, args[2] + i * MMSGHDR_SIZE)
            if denied then return denied end
        end
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
        local family = int_arg(args[1])
        if policy:family(family) == "deny" then
            log(string.format("%s(%s)%s", name, policies.family_name(family),
                              label ~= name and label:sub(#name + 1) or ""))
            return -policy.errno
        end
    end
    if policy.has_paths then
        if UNCHECKABLE[name] then
            log(label .. " (a paths policy cannot judge it)")
            return -policy.errno
        end
        local specs = paths.of(name)
        local denied = specs and check_paths(name, args, specs) or nil
        if denied then return denied end
        return check_socket_address(name, args)
    end
end

-- Syscalls this luahook has no name for are newer than its tables: what
-- they do cannot be checked, so they are denied.
local unnamed = {}
for nr = 0, context.nr_max - 1 do
    if not lh.nr(lh.name(nr)) then unnamed[#unnamed + 1] = nr end
end
lh.on(unnamed, function(sc)
    log(sc.name .. " (unknown to luahook, so it cannot be checked)")
    return -policy.errno
end)

-- Hook only what the policy can refuse; everything else runs untouched.
local function watched_names()
    if policy.syscall_default == "deny" then
        return "*"
    end
    local list = {}
    local function watch(names)
        for _, name in ipairs(names) do
            if lh.nr(name) then list[#list + 1] = name end
        end
    end
    for nr = 0, context.nr_max - 1 do
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
        watch({ "bind", "connect", "sendto", "sendmsg", "sendmmsg" })
    end
    return list
end

local watched = watched_names()
if watched == "*" or #watched > 0 then
    lh.on(watched, check)
end
