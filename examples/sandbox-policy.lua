-- A policy for scripts/sandbox.lua (the format is in docs/scripts.md): the
-- program may read the system's files and write under /tmp, but not read
-- secrets, start other programs or reach the network beyond local sockets.
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/sandbox.lua,policy=examples/sandbox-policy.lua build/examples/hello
--
-- The file runs in an empty environment: plain Lua, no library functions.
return {
    syscalls = {
        default = "allow",
        -- no other programs: exec'd, they would stay in the sandbox, but
        -- their #! interpreter and loader are not judged (docs/scripts.md)
        deny = { "execve", "execveat", "ptrace", "%ipc", "mount", "umount2" },
    },
    paths = {
        default = "deny",
        allow = { "/tmp", "/usr", "/lib", "/etc", "/proc", "/dev/null", "/dev/zero",
                  "/dev/urandom" },
        -- the longest matching prefix wins, so these beat "/etc"; the ones
        -- ending in "-" are the backups passwd and friends leave
        deny = { "/etc/shadow", "/etc/shadow-", "/etc/gshadow", "/etc/gshadow-", "/etc/ssh",
                 "/etc/sudoers", "/etc/sudoers.d" },
    },
    network = {
        default = "deny",
        allow = { "AF_UNIX" },
    },
    errno = "EPERM",       -- what denied syscalls and sockets return
    path_errno = "EACCES", -- what denied paths return
    log = true,            -- "sandbox: denied ..." on luahook's output
}
