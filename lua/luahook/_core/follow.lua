-- Following execve (docs/internals.md, "Following exec"). An execve or
-- execveat that no hook answered is decided here instead of by QEMU: the
-- kernel's checks, done on the host (core/binfmt.c), give the guest the
-- error an exec would get; a program that would run ends this image (exit
-- hooks with "exec") and QEMU is replaced by the QEMU for the new
-- program's architecture, which loads this plugin with the same arguments.
local context = require "luahook._core.context"
local hooks = require "luahook._core.hooks"
local syscalls = require "luahook.syscalls"

local follow = {}

local core = context.core
local execveat_nr = syscalls.number("execveat")
local JUDGED = {} -- the key of the strings a hook judged, on the exec's sc
local end_image    -- the runtime's end_for_exec, given at start

--- Has the follower run exec call `sc` from `strings` rather than from
--- guest memory: { path, argv, envp, dirfd, flags } as a hook copied and
--- judged them (the sandbox), so that another thread rewriting the guest's
--- copies meanwhile changes nothing. Cleared with the call.
---@param sc luahook.Syscall
---@param strings { path: string, argv: string[], envp: string[], dirfd: integer, flags: integer }
function follow.judged(sc, strings)
    sc[JUDGED] = strings
end

-- What exec call `sc` would run: { path, arch, argv }, or nil, errno, why.
local function resolve(sc)
    -- loaded only now: a program that never execs pays nothing for them
    local values = require "luahook.decode.values"
    local sysroot = require("luahook._core.qemu_options").sysroot()
    local given = sc[JUDGED]
    if given then
        return core.exec_resolve(given.path, given.argv, given.envp,
                                 sc.nr == execveat_nr and given.dirfd or nil, given.flags, sysroot)
    end
    -- addresses as plain numbers: a bad one from 2^53 up stays unreadable
    local a = sc.args
    local address = tonumber
    if sc.nr == execveat_nr then
        return core.exec_resolve(address(a[2]), address(a[3]), address(a[4]), values.i32(a[1]),
                                 values.i32(a[5]), sysroot)
    end
    return core.exec_resolve(address(a[1]), address(a[2]), address(a[3]), nil, 0, sysroot)
end

-- The follower: runs after every other entry hook, so a hook that answers
-- the exec (a sandbox's denial) keeps it from being followed. Errors are
-- host errno values, which i386 and x86_64 share.
local function follow_exec(sc)
    if core.stopping() then
        -- an earlier hook stopped QEMU (onerror=abort): it stops once this
        -- event is done, before the call would run, and its exit hooks say "exit"
        return nil
    end
    local program, err, why = resolve(sc)
    if not program then
        if why then
            local line = string.format("luahook: %s fails with ENOEXEC: %s\n", sc.name, why)
            context.calls.write(line, #line)
        end
        return -err
    end
    end_image(sc, program)
    -- an exit hook that stopped QEMU (os.exit, onerror=abort) has
    -- exec_start do nothing: QEMU stops once this event is done
    return -core.exec_start(context.inherited)
end

--- Starts following: called at boot unless follow_exec=0, with the
--- runtime's end_for_exec(sc, program), which runs the exit hooks.
---@param end_for_exec fun(sc: luahook.Syscall, program: table)
function follow.start(end_for_exec)
    end_image = end_for_exec
    local names = {}
    for _, name in ipairs({ "execve", "execveat" }) do
        if syscalls.number(name) then names[#names + 1] = name end
    end
    hooks.add("entry", syscalls.select(names), follow_exec, "luahook (following exec)", "last")
end

return follow
