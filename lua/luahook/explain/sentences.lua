-- What syscalls do, in plain words, for scripts/explain.lua: one entry per
-- syscall name (i386's and x86_64's; socketcall's and ipc's sub-calls by
-- their own names), written as templates whose {placeholders} are filled
-- from the call's arguments and result by luahook.explain.fillers. The
-- prose is data, so adding or rewording an explanation never means code.
--
-- An entry:
--   does   what the program asks for, a verb phrase ("opens {path:1} ...")
--   ok     the kernel's answer when the call works
--   zero   the answer when the result is 0, if that means something else
--          (end of file, a timeout)
--   fail   the answer when it fails: a template, or a table by errno name
--          with an optional `default`; without one, `errors` below explains
--   by     a template whose text picks one of `cases` (an entry's fields
--          that differ for, say, each fcntl command); a case missing there
--          keeps the entry's own fields. Each text of `by` counts as a path
--          of its own for "explain the first time", cases or not
-- The sentence printed is does .. "; " .. answer, capitalised.
--
-- Placeholders: {name}, {name:P} or {name:P:Q:R}, where P is usually an
-- argument's position (1-based, as in the decoded line) or "ret", the
-- result. luahook.explain.fillers lists the names.
local E = {}

local FILE_FD = "the kernel answers with file descriptor {ret}, the lowest number not in use"
local DONE = "the kernel answers 0: done"

-- Shared shapes of entries --------------------------------------------

local function stat_of(target, buf, kind)
    return { does = "asks for the status (type, size, owner, permissions, times) of " .. target,
             ok = "the kernel fills in the structure: {stat:" .. buf .. ":" .. kind .. "}" }
end

local function clock_read(kind)
    return { does = "reads {clock:1}",
             ok = "the kernel writes {clocktime:1:2:" .. kind .. "} into the program's variable" }
end

local function sleep_on(kind)
    return {
        does = "asks to sleep on {clock:1} for {duration:3:" .. kind .. "}",
        by = "{flags:2:timer_flags}",
        cases = { TIMER_ABSTIME = { does = "asks to sleep until {clock:1} reads {duration:3:" .. kind .. "}" } },
        ok = "the kernel answers 0 once the time has come",
        fail = { EINTR = "a signal interrupted the sleep (EINTR) before the time came" },
    }
end

local function waiting(who, status, options)
    return { does = "waits for " .. who .. " to end{wnohang:" .. options .. "}",
             ok = "the kernel answers {ret}, the child that ended: {wstatus:" .. status .. "}",
             zero = "the kernel answers 0: no child has ended yet, and WNOHANG says not to wait" }
end

local function duplicate(flags)
    return {
        does = "makes file descriptor {int:2} refer to what {fd:1} refers to, closing {fd:2} first if it is open"
            .. (flags and "{cloexec:" .. flags .. "}" or ""),
        ok = "the kernel answers {ret}: from now on {int:2} and {int:1} are two names for one open file, "
            .. "sharing its position",
    }
end

local SOCKET = { does = "asks for a new {socktype:2} socket {family:1}", ok = FILE_FD }

local RECEIVE = { does = "waits for up to {ulong:3} bytes on {fd:1}",
                  ok = "the kernel answers {ret}: that many bytes arrived in the program's buffer",
                  zero = "the kernel answers 0: the other side has closed the connection" }
local SEND = { does = "sends {ulong:3} bytes on {fd:1}",
               ok = "the kernel answers {ret}, the number of bytes it took" }

local ACCEPT = { does = "waits for a connection to arrive on {fd:1}, a listening socket",
                 ok = "the kernel answers with a new file descriptor, {ret}, for this one connection; "
                     .. "{int:1} keeps listening" }

local SELECT = { does = "waits until one of the descriptors below {int:1} in its sets is ready to use",
                 ok = "the kernel answers {ret}: that many are ready, and the sets now hold only those",
                 zero = "the kernel answers 0: time ran out and none is ready" }

local POLL = { does = "waits until one of {ulong:2} descriptors is ready to use, {pollwait:3}",
               ok = "the kernel answers {ret}: that many are ready, each marked in its revents field",
               zero = "the kernel answers 0: time ran out and none is ready" }

local RLIMIT_GET = { does = "asks for its limit on {resource:1}",
                     ok = "the kernel answers 0 and fills in: {rlimit:2:rlimit:1}" }

local function id_of(what)
    return { does = "asks for " .. what, ok = "the kernel answers {ret}" }
end

local RENAME_AT = { does = "renames {atfile:1:2} to {atfile:3:4}, replacing the second if it exists",
                    ok = DONE }

local function mapping(offset)
    -- by: anonymous and file mappings, placed or not, are each explained once
    return { does = "asks for {size:2} of {source:4:5:" .. offset .. "}, {prot:3}, {where:1:4}",
             ok = "the kernel answers {addr:ret}, the address where it now is",
             by = "{mapkind:4}" }
end

-- The entries ----------------------------------------------------------

E.calls = {
    -- opening, reading, writing, closing
    openat = { does = "opens {atfile:1:2} {open:3}", ok = FILE_FD },
    open = { does = "opens {path:1} {open:2}", ok = FILE_FD },
    creat = { does = "creates {path:1} (emptying it if it exists) for writing, permissions {oct:2}", ok = FILE_FD },
    read = { does = "reads up to {ulong:3} bytes from {fd:1} into its buffer at {addr:2}",
             ok = "the kernel answers {ret}: that many bytes are now in the buffer",
             zero = "the kernel answers 0: end of file, nothing more to read",
             by = "{null:3}",
             cases = { null = { zero = "the kernel answers 0: nothing asked, nothing read" } } },
    write = { does = "writes {ulong:3} bytes from its memory at {addr:2} to {fd:1}",
              ok = "the kernel answers {ret}, the number of bytes it took",
              fail = { EPIPE = "the kernel answers EPIPE: nobody reads the other end any more "
                           .. "(and sends SIGPIPE, which ends the program unless handled)" } },
    pread64 = { does = "reads up to {ulong:3} bytes from {fd:1} at offset {arg:4}, leaving the file position alone",
                ok = "the kernel answers {ret}: that many bytes are now in the buffer",
                zero = "the kernel answers 0: there is nothing at that offset" },
    pwrite64 = { does = "writes {ulong:3} bytes to {fd:1} at offset {arg:4}, leaving the file position alone",
                 ok = "the kernel answers {ret}, the number of bytes it took" },
    readv = { does = "reads from {fd:1} into {int:3} separate buffers in one call",
              ok = "the kernel answers {ret}: that many bytes, filling the buffers in order",
              zero = "the kernel answers 0: end of file" },
    writev = { does = "writes {int:3} separate buffers to {fd:1} in one call ({arg:2})",
               ok = "the kernel answers {ret}, the bytes it took from them all" },
    close = { does = "closes {fd:1}", ok = "the kernel answers 0: the number is free again, and {sharers:1}" },
    close_range = { does = "closes every descriptor from {uint:1} to {uint:2}", ok = DONE },
    lseek = { does = "moves the read/write position of {fd:1} to {long:2} bytes {whence:3}",
              ok = "the kernel answers {ret}, the new position counted from the start",
              fail = { ESPIPE = "the kernel answers ESPIPE: a pipe, socket or terminal has no position to move" } },
    _llseek = { does = "moves the read/write position of {fd:1} to {arg:2} bytes {whence:5}",
                ok = "the kernel writes the new position, {arg:3}, into the program's variable",
                fail = { ESPIPE = "the kernel answers ESPIPE: a pipe, socket or terminal has no position to move" } },
    sendfile = { does = "asks the kernel to copy up to {ulong:4} bytes from {fd:2} to {fd:1} itself, "
                     .. "without passing them through the program",
                 ok = "the kernel answers {ret}, the bytes it copied" },
    sendfile64 = { does = "asks the kernel to copy up to {ulong:4} bytes from {fd:2} to {fd:1} itself, "
                       .. "without passing them through the program",
                   ok = "the kernel answers {ret}, the bytes it copied" },
    getdents64 = { does = "reads the entries of the directory behind {fd:1} into a buffer of {ulong:3} bytes",
                   ok = "the kernel answers {ret}: that many bytes of names and inode numbers",
                   zero = "the kernel answers 0: no more entries, the whole directory has been read" },
    fsync = { does = "asks that everything written to {fd:1} reach the disk", ok = "the kernel answers 0 once it has" },
    ftruncate = { does = "sets the size of the file behind {fd:1} to {long:2} bytes", ok = DONE },

    -- descriptors
    dup = { does = "asks for a second file descriptor referring to what {fd:1} refers to",
            ok = "the kernel answers {ret}, the lowest number not in use; both share one open file and its position" },
    dup2 = duplicate(nil),
    dup3 = duplicate(3),
    pipe = { does = "asks for a pipe, a one-way channel through the kernel",
             ok = "the kernel writes two descriptors into the program's array: {pair:1}; "
                 .. "bytes written into the second come out of the first" },
    pipe2 = { does = "asks for a pipe, a one-way channel through the kernel{cloexec:2}",
              ok = "the kernel writes two descriptors into the program's array: {pair:1}; "
                  .. "bytes written into the second come out of the first" },
    fcntl = {
        does = "applies {flags:2:fcntl_cmd} to {fd:1}",
        ok = "the kernel answers {ret}",
        by = "{flags:2:fcntl_cmd}",
        cases = {
            F_DUPFD = { does = "asks for a copy of {fd:1} numbered {int:3} or higher",
                        ok = "the kernel answers {ret}, the lowest free number from there" },
            F_DUPFD_CLOEXEC = { does = "asks for a copy of {fd:1} numbered {int:3} or higher, "
                                    .. "closed automatically if the program runs another one",
                                ok = "the kernel answers {ret}, the lowest free number from there" },
            F_GETFD = { does = "asks for the descriptor flags of {fd:1}",
                        ok = "the kernel answers {flags:ret:fd_flags}" },
            F_SETFD = { does = "sets the descriptor flags of {fd:1} to {flags:3:fd_flags} "
                            .. "(FD_CLOEXEC: close it when the program runs another one)",
                        ok = DONE },
            F_GETFL = { does = "asks how {fd:1} was opened (its status flags)",
                        ok = "the kernel answers {flags:ret:open}" },
            F_SETFL = { does = "changes the status flags of {fd:1} to {flags:3:open}", ok = DONE },
        },
    },
    ioctl = {
        does = "sends the device-specific request {flags:2:ioctl_request} to {fd:1}",
        ok = "the kernel answers {ret}",
        by = "{flags:2:ioctl_request}",
        cases = {
            TCGETS = { does = "asks for the terminal settings of {fd:1}, which is how the C library's "
                           .. "isatty() learns whether it is a terminal",
                       ok = "the kernel answers 0: it is a terminal",
                       fail = { ENOTTY = "the kernel answers ENOTTY: it is not a terminal" } },
            TIOCGWINSZ = { does = "asks for the size of the terminal window behind {fd:1}",
                           ok = "the kernel answers 0 and fills in its rows and columns",
                           fail = { ENOTTY = "the kernel answers ENOTTY: it is not a terminal" } },
            FIONREAD = { does = "asks how many bytes are waiting to be read on {fd:1}",
                         ok = "the kernel answers 0 and writes the count into the program's variable" },
        },
    },

    -- file status and names
    fstat = stat_of("what {fd:1} refers to", 2, "stat"),
    fstat64 = stat_of("what {fd:1} refers to", 2, "stat64"),
    stat = stat_of("{path:1}", 2, "stat"),
    stat64 = stat_of("{path:1}", 2, "stat64"),
    lstat = stat_of("{path:1} itself (a symbolic link is not followed)", 2, "stat"),
    lstat64 = stat_of("{path:1} itself (a symbolic link is not followed)", 2, "stat64"),
    newfstatat = stat_of("{atfile:1:2}", 3, "stat"),
    fstatat64 = stat_of("{atfile:1:2}", 3, "stat64"),
    statx = stat_of("{atfile:1:2}", 5, "statx"),
    access = { does = "checks whether {path:1} {access:2}", ok = "the kernel answers 0: yes" },
    faccessat = { does = "checks whether {atfile:1:2} {access:3}", ok = "the kernel answers 0: yes" },
    faccessat2 = { does = "checks whether {atfile:1:2} {access:3}", ok = "the kernel answers 0: yes" },
    getcwd = { does = "asks for the name of its current directory",
               ok = "the kernel writes {arg:1} into the program's buffer" },
    chdir = { does = "makes {path:1} its current directory, where relative paths start from now on", ok = DONE },
    fchdir = { does = "makes the directory behind {fd:1} its current directory", ok = DONE },
    mkdir = { does = "creates the directory {path:1}, permissions {oct:2} less the umask", ok = DONE },
    mkdirat = { does = "creates the directory {atfile:1:2}, permissions {oct:3} less the umask", ok = DONE },
    rmdir = { does = "removes the directory {path:1}, which must be empty", ok = DONE },
    unlink = { does = "removes the name {path:1} from its directory; the file itself goes when no name "
                   .. "and no open descriptor refers to it any more",
               ok = DONE },
    unlinkat = { does = "removes the name {atfile:1:2} ({flags:3:at})", ok = DONE },
    rename = { does = "renames {path:1} to {path:2}, replacing {path:2} if it exists", ok = DONE },
    renameat = RENAME_AT,
    renameat2 = RENAME_AT,
    link = { does = "gives the file {path:1} a second name, {path:2}", ok = DONE },
    symlink = { does = "creates the symbolic link {path:2}, which points to {path:1}", ok = DONE },
    readlink = { does = "asks what the symbolic link {path:1} points to",
                 ok = "the kernel writes {arg:2} ({ret} bytes, with no terminating NUL) into the program's buffer" },
    readlinkat = { does = "asks what the symbolic link {atfile:1:2} points to",
                   ok = "the kernel writes {arg:3} ({ret} bytes, with no terminating NUL) into the program's buffer" },
    chmod = { does = "sets the permissions of {path:1} to {oct:2}", ok = DONE },
    fchmod = { does = "sets the permissions of the file behind {fd:1} to {oct:2}", ok = DONE },
    umask = { does = "sets the permissions that new files will not get to {oct:1}",
              ok = "the kernel answers the previous mask, {oct:ret}" },

    -- memory
    mmap = mapping("6"),
    mmap2 = mapping("6:pages"),
    munmap = { does = "gives back {size:2} of memory at {addr:1} ({region:1})",
               ok = "the kernel answers 0: using those addresses now crashes the program" },
    mprotect = { does = "makes {size:2} of memory at {addr:1} ({region:1}) {prot:3}", ok = DONE },
    mremap = { does = "resizes the memory at {addr:1} from {size:2} to {size:3} ({region:1})",
               ok = "the kernel answers {addr:ret}, where it now is" },
    madvise = { does = "tells the kernel how it will use {size:2} of memory at {addr:1}: {arg:3}", ok = DONE },
    brk = {
        does = "asks to move the end of its heap (the program break) to {addr:1}",
        by = "{brkcase:1}",
        cases = {
            query = { does = "asks where its heap (the program break) ends now",
                      ok = "the kernel answers {addr:ret}; malloc grows the heap up from there" },
            grow = { does = "asks to move the end of its heap to {addr:1}, growing it by {brkdelta:1}",
                     ok = "the kernel answers {addr:ret}: the heap now ends there" },
            shrink = { does = "asks to move the end of its heap back to {addr:1}, shrinking it by {brkdelta:1}",
                       ok = "the kernel answers {addr:ret}: the heap now ends there" },
            refused = { does = "asks to move the end of its heap to {addr:1}",
                        ok = "the kernel answers {addr:ret}, the old end: it refused, which is how brk "
                            .. "says no (it has no error result)" },
        },
    },

    -- processes and threads
    execve = { does = "replaces this program by {path:1} with arguments {arg:2}, keeping the process id "
                   .. "and the open descriptors not marked close-on-exec",
               ok = "if it works the call never returns: the new program starts from scratch "
                   .. "(and luahook goes on with it, unless follow_exec=0)" },
    exit_group = { does = "ends the process, every thread of it, with exit status {int:1}",
                   ok = "the call never returns, and the parent can collect the status with wait4" },
    exit = { does = "ends this thread with exit status {int:1}",
             ok = "the call never returns, and the last thread to end ends the process" },
    clone = {
        does = "creates a new process, a copy of this one (what fork() does)",
        ok = "the kernel answers {ret}, the child's process id, in the parent; the child gets 0 "
            .. "from the same call and carries on from here",
        by = "{clonecase:1}",
        cases = {
            thread = { does = "creates a new thread, which shares this process's memory, descriptors "
                           .. "and signal handlers",
                       ok = "the kernel answers {ret}, the new thread's id" },
            vfork = { does = "creates a child process that borrows this one's memory, the parent "
                          .. "waiting until the child execs or exits (what vfork() does)",
                      ok = "the kernel answers {ret}, the child's process id, once the child has let go" },
        },
    },
    fork = { does = "creates a new process, a copy of this one",
             ok = "the kernel answers {ret}, the child's process id, in the parent; the child gets 0" },
    vfork = { does = "creates a child process that borrows this one's memory until it execs or exits",
              ok = "the kernel answers {ret}, the child's process id, once the child has let go" },
    clone3 = { does = "creates a new process or thread as the structure at {addr:1} describes",
               ok = "the kernel answers {ret}, the new one's id" },
    wait4 = waiting("{waitpid:1}", 2, 3),
    waitpid = waiting("{waitpid:1}", 2, 3),
    kill = { does = "sends {signal:2} to {killpid:1}", ok = "the kernel answers 0: it is on its way" },
    tgkill = { does = "sends {signal:3} to thread {int:2} of process {int:1}",
               ok = "the kernel answers 0: it is on its way" },
    tkill = { does = "sends {signal:2} to thread {int:1}", ok = "the kernel answers 0: it is on its way" },
    getpid = id_of("its process id"),
    getppid = id_of("the process id of its parent, the process that started it"),
    gettid = id_of("the id of the thread making the call"),
    getuid = id_of("its real user id, the user who started it"),
    getuid32 = id_of("its real user id, the user who started it"),
    geteuid = id_of("its effective user id, the one permission checks use"),
    geteuid32 = id_of("its effective user id, the one permission checks use"),
    getgid = id_of("its real group id"),
    getgid32 = id_of("its real group id"),
    getegid = id_of("its effective group id, the one permission checks use"),
    getegid32 = id_of("its effective group id, the one permission checks use"),
    getpgrp = id_of("its process group, the set of processes a terminal's Ctrl-C reaches together"),
    setsid = { does = "starts a new session, leaving its terminal behind",
               ok = "the kernel answers {ret}, the new session's id" },
    sched_yield = { does = "gives up the processor so another thread can run", ok = DONE },
    set_tid_address = { does = "tells the kernel where this thread keeps its own id ({addr:1}), so the "
                            .. "kernel can clear it and wake waiters when the thread ends",
                        ok = "the kernel answers {ret}, the thread id" },
    set_robust_list = { does = "registers the list of locks this thread holds ({addr:1}), so the kernel "
                            .. "can release them if the thread dies",
                        ok = DONE,
                        fail = { ENOSYS = "the kernel answers ENOSYS: QEMU does not implement this call, "
                                     .. "and the C library carries on without it" } },
    rseq = { does = "registers a restartable-sequences area of {ulong:2} bytes at {addr:1}, which the kernel "
                 .. "keeps up to date with the processor this thread runs on",
             ok = DONE,
             fail = { ENOSYS = "the kernel answers ENOSYS: QEMU does not implement this call, "
                          .. "and the C library carries on without it" } },
    arch_prctl = {
        does = "makes the architecture-specific request {flags:1:arch_prctl} with {addr:2}",
        ok = DONE,
        by = "{flags:1:arch_prctl}",
        cases = {
            ARCH_SET_FS = { does = "points the FS segment register at {addr:2}: this thread's thread-local "
                                .. "storage (where errno lives, among others)",
                            ok = DONE },
            ARCH_GET_FS = { does = "asks where the FS segment register points",
                            ok = "the kernel answers 0 and writes the address into the program's variable" },
        },
    },
    set_thread_area = { does = "installs a segment for this thread's thread-local storage (where errno "
                            .. "lives, among others), described at {addr:1}, which i386 code reaches through "
                            .. "the GS register",
                        ok = "the kernel answers 0 and writes the segment number it chose into the description" },
    prlimit64 = {
        does = "sets the limit on {resource:2} to {rlimit:3:rlimit64:2}",
        ok = DONE,
        by = "{null:3}",
        cases = { null = { does = "asks for its limit on {resource:2}",
                           ok = "the kernel answers 0 and fills in: {rlimit:4:rlimit64:2}" } },
    },
    ugetrlimit = RLIMIT_GET,
    getrlimit = RLIMIT_GET,
    setrlimit = { does = "sets its limit on {resource:1} to {rlimit:2:rlimit:1}", ok = DONE },
    uname = { does = "asks which system it runs on",
              ok = "the kernel fills in the utsname structure: {uts:1}" },
    sysinfo = { does = "asks for figures about the whole system (uptime, memory, number of processes)",
                ok = "the kernel fills them in: {arg:1}" },
    getrandom = { does = "asks for {ulong:2} random bytes{grnd:3}",
                  ok = "the kernel writes {ret} of them into the program's buffer" },
    futex = { does = "waits or wakes on the futex (a lock word in memory that threads share) at {addr:1}: {arg:2}",
              ok = "the kernel answers {ret}",
              fail = { EAGAIN = "the kernel answers EAGAIN: the word had already changed, so there is "
                           .. "nothing to wait for" } },

    -- signals
    rt_sigaction = {
        does = "sets what happens when {signal:1} arrives: {handler:2}",
        ok = DONE,
        by = "{null:2}",
        cases = { null = { does = "asks what happens now when {signal:1} arrives",
                           ok = "the kernel answers 0 and fills in the current action: {handler:3}" } },
    },
    rt_sigprocmask = {
        does = "{how:1} {arg:2}",
        ok = "the kernel answers 0; blocked signals wait until they are unblocked",
        by = "{null:2}",
        cases = { null = { does = "asks which signals are blocked",
                           ok = "the kernel answers 0 and writes the set: {arg:3}" } },
    },
    sigaltstack = { does = "sets up a separate stack for signal handlers, so they can run even when "
                        .. "the normal stack is full",
                    ok = DONE },
    pause = { does = "sleeps until a signal arrives", ok = "the kernel answers {ret}" },
    alarm = { does = "asks for SIGALRM in {uint:1} seconds",
              ok = "the kernel answers {ret}, the seconds that were left on the previous alarm" },

    -- time
    clock_gettime = clock_read("timespec"),
    clock_gettime64 = clock_read("timespec64"),
    clock_getres = { does = "asks how fine {clock:1} is",
                     ok = "the kernel writes {duration:2:timespec} into the program's variable" },
    clock_getres_time64 = { does = "asks how fine {clock:1} is",
                            ok = "the kernel writes {duration:2:timespec64} into the program's variable" },
    gettimeofday = { does = "reads the wall clock, to the microsecond",
                     ok = "the kernel writes {walltime:1:timeval} into the program's variable" },
    time = { does = "asks for the current time in whole seconds",
             ok = "the kernel answers {ret}: {date:ret}" },
    nanosleep = { does = "asks to sleep for {duration:1:timespec}",
                  ok = "the kernel answers 0 once the time has passed",
                  fail = { EINTR = "a signal interrupted the sleep (EINTR); the time left is in the second argument" } },
    clock_nanosleep = sleep_on("timespec"),
    clock_nanosleep_time64 = sleep_on("timespec64"),

    -- sockets and waiting for descriptors
    socket = SOCKET,
    socketpair = { does = "asks for a pair of connected {socktype:2} sockets {family:1}",
                   ok = "the kernel writes the two descriptors into the program's array: {arg:4}; "
                       .. "what goes into one comes out of the other" },
    connect = { does = "connects {fd:1} to {arg:2}",
                ok = "the kernel answers 0: connected",
                fail = { ECONNREFUSED = "the kernel answers ECONNREFUSED: nobody listens at that address",
                         ENOENT = "the kernel answers ENOENT: no socket file has that name" } },
    bind = { does = "gives {fd:1} the address {arg:2}", ok = DONE,
             fail = { EADDRINUSE = "the kernel answers EADDRINUSE: another socket has that address already" } },
    listen = { does = "makes {fd:1} wait for connections, up to {int:2} of them queued", ok = DONE },
    accept = ACCEPT,
    accept4 = ACCEPT,
    sendto = SEND,
    send = SEND,
    recvfrom = RECEIVE,
    recv = RECEIVE,
    sendmsg = { does = "sends a message on {fd:1}", ok = "the kernel answers {ret}, the bytes it took" },
    recvmsg = { does = "waits for a message on {fd:1}",
                ok = "the kernel answers {ret}: that many bytes arrived",
                zero = "the kernel answers 0: the other side has closed the connection" },
    shutdown = { does = "shuts down {flags:2:shutdown_how} of the connection on {fd:1}", ok = DONE },
    poll = POLL,
    ppoll = { does = "waits until one of {ulong:2} descriptors is ready to use",
              ok = POLL.ok, zero = POLL.zero },
    select = SELECT,
    _newselect = SELECT,
    pselect6 = SELECT,
}

E.calls.fcntl64 = E.calls.fcntl

--- Calls another architecture makes differently, by architecture: mips'
--- set_thread_area takes the thread pointer itself.
local MIPS_CALLS = {
    set_thread_area = { does = "sets this thread's thread-local storage pointer (where errno lives, "
                            .. "among others) to {addr:1}, which mips code reads through the ULR register",
                        ok = DONE },
}
E.calls_by_arch = { mips = MIPS_CALLS, mipsel = MIPS_CALLS }

-- Words the placeholders use ---------------------------------------------

--- What an errno means when a call fails with it (the C library's own
--- message, lower-cased, for the others).
E.errors = {
    EPERM = "the operation is not permitted",
    ENOENT = "there is no such file or directory",
    ESRCH = "there is no such process",
    EINTR = "a signal interrupted the call",
    EIO = "the device reported an input/output error",
    EBADF = "that file descriptor is not open (or not open for this)",
    ECHILD = "there is no child process to wait for",
    EAGAIN = "nothing is available yet; the call would have to wait",
    ENOMEM = "there is not enough memory for it",
    EACCES = "permission denied",
    EFAULT = "an address it was given is not memory the program may use",
    EEXIST = "it exists already",
    ENOTDIR = "a part of the path is not a directory",
    EISDIR = "it is a directory",
    EINVAL = "an argument is not valid",
    EMFILE = "the program has too many open files",
    ENOTTY = "it is not a terminal",
    ENOSPC = "the disk is full",
    ESPIPE = "a pipe, socket or terminal has no position to move",
    EPIPE = "nobody reads the other end any more",
    ERANGE = "the result does not fit in the space given",
    ENAMETOOLONG = "the name is too long",
    ENOSYS = "the kernel (here QEMU, which plays the kernel's part) does not implement this call",
    ENOTEMPTY = "the directory is not empty",
    ELOOP = "there are too many symbolic links on the way",
    ENOTSOCK = "that descriptor is not a socket",
    EADDRINUSE = "that address is in use",
    ECONNREFUSED = "nobody listens at that address",
    ETIMEDOUT = "time ran out",
    EXDEV = "the two names are on different file systems",
}

--- Signals: { what it means, what happens by default }.
E.signals = {
    SIGHUP = { "the terminal hung up", "end the process" },
    SIGINT = { "an interrupt from the keyboard (Ctrl-C)", "end the process" },
    SIGQUIT = { "a quit from the keyboard (Ctrl-\\)", "end the process with a core dump" },
    SIGILL = { "an illegal instruction", "end the process with a core dump" },
    SIGTRAP = { "a breakpoint trap", "end the process with a core dump" },
    SIGABRT = { "abort() was called", "end the process with a core dump" },
    SIGBUS = { "a bad memory access (bus error)", "end the process with a core dump" },
    SIGFPE = { "an arithmetic error, such as a division by zero", "end the process with a core dump" },
    SIGKILL = { "kill, which cannot be caught", "end the process" },
    SIGUSR1 = { "a signal for the program's own use", "end the process" },
    SIGSEGV = { "an invalid memory access (segmentation fault)", "end the process with a core dump" },
    SIGUSR2 = { "a signal for the program's own use", "end the process" },
    SIGPIPE = { "a write to a pipe nobody reads", "end the process" },
    SIGALRM = { "an alarm clock going off", "end the process" },
    SIGTERM = { "a polite request to end", "end the process" },
    SIGCHLD = { "a child process ended or stopped", "ignore it" },
    SIGCONT = { "continue if stopped", "continue the process" },
    SIGSTOP = { "stop, which cannot be caught", "stop the process" },
    SIGTSTP = { "a stop from the keyboard (Ctrl-Z)", "stop the process" },
    SIGTTIN = { "a background read from the terminal", "stop the process" },
    SIGTTOU = { "a background write to the terminal", "stop the process" },
    SIGURG = { "urgent data on a socket", "ignore it" },
    SIGWINCH = { "the terminal window changed size", "ignore it" },
    SIGIO = { "input or output is possible", "end the process" },
    SIGSYS = { "a bad system call", "end the process with a core dump" },
    SIGXCPU = { "the CPU time limit was exceeded", "end the process with a core dump" },
    SIGXFSZ = { "the file size limit was exceeded", "end the process with a core dump" },
    SIGVTALRM = { "a virtual alarm clock going off", "end the process" },
    SIGPROF = { "a profiling timer going off", "end the process" },
}

--- Clocks by name.
E.clocks = {
    CLOCK_REALTIME = "the wall clock (CLOCK_REALTIME, the date and time)",
    CLOCK_REALTIME_COARSE = "the wall clock, cheaply and to the last tick (CLOCK_REALTIME_COARSE)",
    CLOCK_MONOTONIC = "the monotonic clock (CLOCK_MONOTONIC: time since boot, never set back)",
    CLOCK_MONOTONIC_COARSE = "the monotonic clock, cheaply and to the last tick (CLOCK_MONOTONIC_COARSE)",
    CLOCK_MONOTONIC_RAW = "the raw monotonic clock (CLOCK_MONOTONIC_RAW)",
    CLOCK_BOOTTIME = "the time since boot, suspended time included (CLOCK_BOOTTIME)",
    CLOCK_PROCESS_CPUTIME_ID = "the processor time this process has used (CLOCK_PROCESS_CPUTIME_ID)",
    CLOCK_THREAD_CPUTIME_ID = "the processor time this thread has used (CLOCK_THREAD_CPUTIME_ID)",
    CLOCK_TAI = "international atomic time (CLOCK_TAI)",
}

--- Clocks whose readings are dates (seconds since 1970).
E.wall_clocks = { CLOCK_REALTIME = true, CLOCK_REALTIME_COARSE = true, CLOCK_TAI = true }

--- Resource limits by name.
E.resources = {
    RLIMIT_CPU = "processor time (RLIMIT_CPU)",
    RLIMIT_FSIZE = "the size of files it writes (RLIMIT_FSIZE)",
    RLIMIT_DATA = "the size of its data and heap (RLIMIT_DATA)",
    RLIMIT_STACK = "the size of its stack (RLIMIT_STACK)",
    RLIMIT_CORE = "the size of core dumps (RLIMIT_CORE)",
    RLIMIT_NPROC = "the number of processes its user may have (RLIMIT_NPROC)",
    RLIMIT_NOFILE = "the number of files it may have open (RLIMIT_NOFILE)",
    RLIMIT_AS = "the size of its address space (RLIMIT_AS)",
    RLIMIT_MEMLOCK = "the memory it may lock (RLIMIT_MEMLOCK)",
}

--- Socket address families by name.
E.families = {
    AF_UNIX = "for talking to programs on this machine (AF_UNIX)",
    AF_INET = "for IPv4 networking (AF_INET)",
    AF_INET6 = "for IPv6 networking (AF_INET6)",
    AF_NETLINK = "for talking to the kernel itself (AF_NETLINK)",
    AF_PACKET = "for raw network packets (AF_PACKET)",
}

--- Socket types by name.
E.socket_types = {
    SOCK_STREAM = "stream (a reliable two-way byte stream)",
    SOCK_DGRAM = "datagram (separate messages)",
    SOCK_RAW = "raw",
    SOCK_SEQPACKET = "sequenced-packet (reliable separate messages)",
}

--- lseek's whence by name.
E.whence = {
    SEEK_SET = "from the start",
    SEEK_CUR = "from the current position",
    SEEK_END = "from the end",
    SEEK_DATA = "to the next data from there",
    SEEK_HOLE = "to the next hole from there",
}

--- rt_sigprocmask's how by name.
E.sigprocmask_how = {
    SIG_BLOCK = "blocks (holds back until unblocked) the signals",
    SIG_UNBLOCK = "unblocks the signals",
    SIG_SETMASK = "sets the blocked signals to exactly",
}

return E
