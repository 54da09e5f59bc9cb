-- Syscall classes for hook selectors, with the meaning of strace's
-- `-e trace=%CLASS`: lh.on("%file", fn) selects every syscall of the class.
-- Each class is a plain list of syscall NAMES covering both guest
-- architectures (i386 names such as stat64, mmap2, socketcall, and x86_64
-- names such as newfstatat); a name the guest architecture lacks is skipped
-- when a selector is resolved (luahook.syscalls), so the lists need no
-- per-arch split. The lists are written by hand; spec/classes_spec.lua checks
-- that every name exists in the build's i386 or x86_64 syscall table.

local classes = {}

local CLASSES = {
    -- Takes a file name (a path) as an argument.
    ["%file"] = {
        "open", "creat", "openat", "openat2",
        "stat", "lstat", "oldstat", "oldlstat", "stat64", "lstat64",
        "newfstatat", "fstatat64", "statx",
        "statfs", "statfs64",
        "access", "faccessat", "faccessat2",
        "execve", "execveat", "uselib",
        "truncate", "truncate64",
        "getcwd", "chdir", "chroot", "pivot_root",
        "mkdir", "mkdirat", "rmdir", "mknod", "mknodat",
        "rename", "renameat", "renameat2",
        "link", "linkat", "unlink", "unlinkat",
        "symlink", "symlinkat", "readlink", "readlinkat",
        "chmod", "fchmodat",
        "chown", "lchown", "chown32", "lchown32", "fchownat",
        "utime", "utimes", "futimesat", "utimensat", "utimensat_time64",
        "setxattr", "lsetxattr", "getxattr", "lgetxattr",
        "listxattr", "llistxattr", "removexattr", "lremovexattr",
        "mount", "umount", "umount2", "swapon", "swapoff", "acct", "quotactl",
        "inotify_add_watch", "fanotify_mark", "name_to_handle_at",
        "open_tree", "move_mount", "fspick", "fsconfig", "mount_setattr",
    },

    -- Takes, returns or works on a file descriptor (close_range too, which
    -- strace 6.1 leaves out).
    ["%desc"] = {
        "read", "write", "open", "creat", "close", "close_range",
        "openat", "openat2", "open_by_handle_at", "name_to_handle_at",
        "lseek", "_llseek",
        "pread64", "pwrite64", "readv", "writev",
        "preadv", "pwritev", "preadv2", "pwritev2",
        "pipe", "pipe2", "dup", "dup2", "dup3",
        "fcntl", "fcntl64", "ioctl", "flock",
        "fsync", "fdatasync", "syncfs", "sync_file_range",
        "ftruncate", "ftruncate64", "fallocate",
        "fadvise64", "fadvise64_64", "readahead",
        "fstat", "oldfstat", "fstat64", "newfstatat", "fstatat64", "statx",
        "fstatfs", "fstatfs64",
        "fchmod", "fchmodat", "fchown", "fchown32", "fchownat", "fchdir",
        "faccessat", "faccessat2",
        "mkdirat", "mknodat", "unlinkat", "renameat", "renameat2",
        "linkat", "symlinkat", "readlinkat", "futimesat",
        "utimensat", "utimensat_time64", "execveat",
        "getdents", "getdents64", "readdir",
        "fsetxattr", "fgetxattr", "flistxattr", "fremovexattr",
        "select", "_newselect", "pselect6", "pselect6_time64",
        "poll", "ppoll", "ppoll_time64",
        "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait",
        "epoll_pwait", "epoll_pwait2",
        "sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range",
        "mmap", "mmap2",
        "eventfd", "eventfd2", "signalfd", "signalfd4",
        "timerfd_create", "timerfd_settime", "timerfd_gettime",
        "timerfd_settime64", "timerfd_gettime64",
        "inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch",
        "fanotify_init", "fanotify_mark",
        "mq_open", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr",
        "mq_timedsend_time64", "mq_timedreceive_time64",
        "memfd_create", "memfd_secret", "userfaultfd", "perf_event_open", "bpf",
        "io_uring_setup", "io_uring_enter", "io_uring_register",
        "pidfd_open", "pidfd_getfd", "pidfd_send_signal",
        "process_madvise", "process_mrelease",
        "fsopen", "fsconfig", "fsmount", "fspick", "open_tree", "move_mount",
        "mount_setattr", "quotactl_fd",
        "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
        "setns", "finit_module", "kexec_file_load",
    },

    -- Sockets; on i386 also the socketcall multiplexer (strace decodes it
    -- into its sub-calls, a hook cannot: it sees socketcall itself).
    ["%network"] = {
        "socketcall",
        "socket", "socketpair", "bind", "connect", "listen",
        "accept", "accept4", "shutdown",
        "getsockname", "getpeername", "getsockopt", "setsockopt",
        "sendto", "sendmsg", "sendmmsg",
        "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64",
        "sendfile", "sendfile64", "getpmsg", "putpmsg",
    },

    -- Process lifecycle: creation, exec, termination, waiting, killing.
    ["%process"] = {
        "fork", "vfork", "clone", "clone3",
        "execve", "execveat",
        "exit", "exit_group",
        "wait4", "waitpid", "waitid",
        "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
        "pidfd_send_signal",
    },

    -- Signals: handlers, masks, waiting for and sending signals.
    ["%signal"] = {
        "signal", "sigaction", "rt_sigaction",
        "sigprocmask", "rt_sigprocmask", "sgetmask", "ssetmask",
        "sigpending", "rt_sigpending", "sigsuspend", "rt_sigsuspend",
        "sigreturn", "rt_sigreturn", "sigaltstack", "pause",
        "rt_sigtimedwait", "rt_sigtimedwait_time64",
        "kill", "tkill", "tgkill", "rt_sigqueueinfo", "rt_tgsigqueueinfo",
        "pidfd_send_signal", "signalfd", "signalfd4", "io_uring_enter",
    },

    -- Memory mappings: the break, mmap and friends, locking, NUMA policy.
    ["%memory"] = {
        "brk", "break", "mmap", "mmap2", "munmap", "mremap", "remap_file_pages",
        "mprotect", "pkey_mprotect", "msync", "mincore", "madvise",
        "mlock", "mlock2", "munlock", "mlockall", "munlockall",
        "mbind", "get_mempolicy", "set_mempolicy", "set_mempolicy_home_node",
        "migrate_pages", "move_pages",
        "shmat", "shmdt", "io_setup", "io_destroy", "io_uring_register",
    },

    -- System V IPC; on i386 also the ipc multiplexer.
    ["%ipc"] = {
        "ipc",
        "msgget", "msgsnd", "msgrcv", "msgctl",
        "semget", "semop", "semtimedop", "semtimedop_time64", "semctl",
        "shmget", "shmat", "shmdt", "shmctl",
    },

    -- Reading or changing user and group ids and capabilities.
    ["%creds"] = {
        "getuid", "geteuid", "getgid", "getegid",
        "getuid32", "geteuid32", "getgid32", "getegid32",
        "setuid", "setgid", "setuid32", "setgid32",
        "setreuid", "setregid", "setreuid32", "setregid32",
        "getresuid", "getresgid", "getresuid32", "getresgid32",
        "setresuid", "setresgid", "setresuid32", "setresgid32",
        "setfsuid", "setfsgid", "setfsuid32", "setfsgid32",
        "getgroups", "setgroups", "getgroups32", "setgroups32",
        "capget", "capset", "prctl",
    },

    -- Reading or changing system clocks (i386's stime too, which strace 6.1
    -- leaves out).
    ["%clock"] = {
        "time", "stime", "gettimeofday", "settimeofday", "adjtimex",
        "clock_gettime", "clock_settime", "clock_getres", "clock_adjtime",
        "clock_gettime64", "clock_settime64", "clock_getres_time64",
        "clock_adjtime64",
    },

    -- File status, by variant (as strace's %stat, %lstat, %fstat, %%stat).
    ["%stat"] = { "stat", "oldstat", "stat64" },
    ["%lstat"] = { "lstat", "oldlstat", "lstat64" },
    ["%fstat"] = { "fstat", "oldfstat", "fstat64", "newfstatat", "fstatat64", "statx" },
    ["%%stat"] = {
        "stat", "oldstat", "stat64", "lstat", "oldlstat", "lstat64",
        "fstat", "oldfstat", "fstat64", "newfstatat", "fstatat64", "statx",
    },

    -- File system status (as strace's %statfs, %fstatfs, %%statfs).
    ["%statfs"] = { "statfs", "statfs64" },
    ["%fstatfs"] = { "fstatfs", "fstatfs64" },
    ["%%statfs"] = { "statfs", "statfs64", "fstatfs", "fstatfs64", "ustat" },
}

-- Other spellings strace accepts.
local ALIASES = {
    ["%net"] = "%network",
}

--- The syscall names in class `name` ("%file", "%network", ...), for both
--- architectures, or nil for an unknown class. The list is a fresh copy.
---@param name string
---@return string[]?
function classes.members(name)
    local list = CLASSES[ALIASES[name] or name]
    if not list then
        return nil
    end
    local copy = {}
    for i, member in ipairs(list) do
        copy[i] = member
    end
    return copy
end

--- The class names ("%clock", "%creds", "%desc", ...), sorted by the word
--- after the percent signs ("%stat" before "%%stat"). Aliases are left out.
---@return string[]
function classes.names()
    local names = {}
    for name in pairs(CLASSES) do
        names[#names + 1] = name
    end
    table.sort(names, function(a, b)
        local wa, wb = a:gsub("^%%+", ""), b:gsub("^%%+", "")
        if wa ~= wb then
            return wa < wb
        end
        return #a < #b
    end)
    return names
end

return classes
