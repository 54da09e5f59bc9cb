/*
 * Makes thousands of syscalls with random arguments from a fixed seed,
 * garbage pointers included, and prints a digest of what they returned
 * (the errno, or success). A tracer that only reads must leave the digest
 * and the exit status unchanged.
 *
 * usage: fuzzcalls [COUNT [SEED [v]]]   (v: name each call on stderr first)
 *
 * It stays harmless by construction: descriptors come from its own set
 * (files in a fresh directory under /tmp, a pipe, a socket pair, an
 * eventfd, an epoll set; all non-blocking) or are invalid; the kernel only
 * writes into its arena (64 KiB followed by an inaccessible guard page) or
 * to garbage addresses checked to be unmapped; paths that create or remove
 * anything are names inside its directory; memory calls touch only its
 * playground mapping or mappings it just made; timeouts are zero. No exit,
 * kill, exec, fork, chdir, brk, munmap of its own memory, writes to fds
 * 0-2, limit changes or signal handlers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#define ARENA_SIZE (64 * 1024)
#define SRC_SIZE 4096           /* refilled with random bytes before each call */
#define FIRST_SPARE_FD 200      /* dup3 targets, checked free at start */
#define PLAYGROUND_PAGES 8      /* memory calls reach at most 7 pages into it */

#ifdef __i386__
#define SYS_MMAP SYS_mmap2
#define SYS_GETRLIMIT SYS_ugetrlimit
#define SYS_SELECT SYS__newselect
#else
#define SYS_MMAP SYS_mmap
#define SYS_GETRLIMIT SYS_getrlimit
#define SYS_SELECT SYS_select
#endif

static uint64_t state;
/*
 * The arena: src (its first SRC_SIZE bytes) and its last TAIL bytes are
 * refilled with random bytes before each call, so whatever the kernel reads
 * is the same in every run; the kernel's own writes land in the sink (the
 * rest) and are never read back as input.
 */
#define TAIL 64
static unsigned char *arena;
static unsigned char *guard;    /* PROT_NONE page right after the arena */
static unsigned char *playground;
static long page;
static int own_fds[8], n_own;
static int dir_fd, file_fd, epoll_fd;
static int spare_fds[4];
static unsigned long garbage[6];

static uint64_t rnd(void)
{
    state ^= state >> 12;
    state ^= state << 25;
    state ^= state >> 27;
    return state * 2685821657736338717ULL;
}

static long below(long n)
{
    return (long)(rnd() % (uint64_t)n);
}

static long raw(long r)
{
    return r == -1 ? -errno : r;
}

/*
 * Names inside the working directory: the only paths that may create,
 * change or remove anything (no "." or ".." - chmod("..") would change /tmp).
 */
static const char *const names[] = {
    "a", "b", "c", "d", "d/x", "d/y", "link", "", "/nonexistent/luahook",
};

static long name_ptr(void)
{
    switch (below(8)) {
    case 0: return 0;
    case 1: return (long)garbage[below(6)];
    default: return (long)names[below(sizeof names / sizeof names[0])];
    }
}

/* A path only looked at (stat, access, readlink): random bytes allowed. */
static long look_path(void)
{
    if (below(5) == 0) {
        unsigned char *p = arena + below(SRC_SIZE - 64);
        p[below(60)] = 0;
        return (long)p;
    }
    return name_ptr();
}

/* Where the kernel only writes: the sink, the arena's end, NULL or garbage. */
static long out_ptr(void)
{
    switch (below(8)) {
    case 0: return 0;
    case 1: return (long)garbage[below(6)];
    case 2: return (long)(guard - below(16));    /* runs into the guard page */
    case 3: return (long)arena + below(SRC_SIZE);
    default: return (long)(arena + SRC_SIZE + below(ARENA_SIZE - SRC_SIZE - TAIL));
    }
}

/* What the kernel reads (and may write): random bytes, NULL or garbage. */
static long in_ptr(void)
{
    switch (below(6)) {
    case 0: return 0;
    case 1: return (long)garbage[below(6)];
    case 2: return (long)(guard - below(16));
    default: return (long)arena + below(SRC_SIZE);
    }
}

/*
 * Input that QEMU itself reads past what it checks: msgsnd's text (only
 * its header is checked) and sendto's address (its first bytes are read
 * even when the length is 0, so not even garbage). NULL or bytes well
 * before the end of the arena.
 */
static long qemu_in_ptr(void)
{
    return below(3) == 0 ? 0 : (long)arena + below(SRC_SIZE - 128);
}

/*
 * A socklen_t the kernel reads and updates. Its value stays small: QEMU
 * allocates that many bytes on its own stack (do_recvfrom, do_getsockname).
 */
static long len_ptr(void)
{
    static const int lens[] = { 0, 2, 16, 28, 110, 128, -1 };
    int *p = (int *)(arena + 4 * below(SRC_SIZE / 4));
    if (below(5) == 0) {
        return below(2) ? 0 : (long)garbage[below(6)];
    }
    *p = lens[below(7)];
    return (long)p;
}

static long length(void)
{
    static const long sizes[] = { 0, 1, 7, 64, 4096, 65536, -1, 0x7fffffff };
    return below(3) == 0 ? below(300) : sizes[below(8)];
}

static long fd(void)
{
    static const long invalid[] = { -1, -100, 1000000, 0x7fffffff };
    return below(5) == 0 ? invalid[below(4)] : own_fds[below(n_own)];
}

static long bits(void)
{
    switch (below(4)) {
    case 0: return 0;
    case 1: return (long)(rnd() & 0xff);
    case 2: return (long)(uint32_t)rnd();
    default: return 1L << below(31);
    }
}

/* A timespec or timeval of zero or of an invalid value, never a real wait. */
static long zero_time(void)
{
    long *t = (long *)(arena + 8 * below(SRC_SIZE / 8 - 2));
    switch (below(4)) {
    case 0: return (long)garbage[below(6)];
    case 1: t[0] = 0; t[1] = 2000000000; return (long)t;    /* EINVAL */
    case 2: t[0] = -1; t[1] = 0; return (long)t;            /* EINVAL */
    default: t[0] = 0; t[1] = 0; return (long)t;
    }
}

static long any(void)
{
    switch (below(4)) {
    case 0: return bits();
    case 1: return length();
    case 2: return out_ptr();
    default: return fd();
    }
}

static void close_if_fd(long r)
{
    if (r >= 0 && r != 0x7fffffff) {
        close((int)r);
    }
}

static void unmap_if_mapped(long r, long len)
{
    if (r < 0 && r > -4096) {
        return;
    }
    munmap((void *)r, (size_t)len);
}

/* Closes the two descriptors a successful pipe2/socketpair wrote at p. */
static void close_pair(long r, long p)
{
    if (r == 0 && p >= (long)arena && p + 8 <= (long)guard) {
        int pair[2];
        memcpy(pair, (void *)p, sizeof pair);
        close(pair[0]);
        close(pair[1]);
    }
}

/* An iovec array with random pointers and lengths, in the src area. */
static long iovecs(int n, int output)
{
    struct { long base, len; } *v = (void *)(arena + 16 * below(SRC_SIZE / 16 - n - 1));
    for (int i = 0; i < n; i++) {
        v[i].base = output ? out_ptr() : in_ptr();
        v[i].len = below(3) == 0 ? length() : below(100);
    }
    return (long)v;
}

/* pollfds over own descriptors only (a random one could be the tracer's). */
static long pollfds(int n)
{
    struct { int fd; short events, revents; } *p = (void *)(arena + 8 * below(SRC_SIZE / 8 - n - 1));
    for (int i = 0; i < n; i++) {
        p[i].fd = (int)fd();
        p[i].events = (short)rnd();
    }
    return (long)p;
}

/* The calls. Each returns the raw result; fds and mappings they make are undone. */
static long one_call(int which)
{
    long r, p, len;

    switch (which) {
    case 0: return raw(syscall(SYS_read, fd(), out_ptr(), length()));
    case 1: return raw(syscall(SYS_write, fd(), in_ptr(), length()));
    case 2: return raw(syscall(SYS_pread64, fd(), out_ptr(), length(), below(4096), 0));
    case 3: return raw(syscall(SYS_readv, fd(), iovecs(3, 1), below(5) - 1));
    case 4: return raw(syscall(SYS_writev, fd(), iovecs(3, 0), below(5) - 1));
    case 5:
        r = raw(syscall(SYS_openat, below(3) ? AT_FDCWD : fd(), name_ptr(),
                        bits() & ~(long)O_ASYNC, 0600));
        close_if_fd(r);
        return r;
    case 6: return raw(syscall(SYS_close, below(2) ? -1 : 1000000));
    case 7:
        r = raw(syscall(SYS_dup, fd()));
        close_if_fd(r);
        return r;
    case 8:
        r = raw(syscall(SYS_dup3, fd(), spare_fds[below(4)], below(2) ? O_CLOEXEC : bits()));
        close_if_fd(r);
        return r;
    case 9: {
        static const long cmds[] = { F_GETFD, F_SETFD, F_GETFL, F_GETLK, F_SETLK,
                                     F_DUPFD_CLOEXEC, F_GETPIPE_SZ, 0x7777 };
        long cmd = cmds[below(8)];
        long arg = cmd == F_GETLK || cmd == F_SETLK ? in_ptr() : bits();
        r = raw(syscall(SYS_fcntl, fd(), cmd, arg));
        if (cmd == F_DUPFD_CLOEXEC) {
            close_if_fd(r);
        }
        return r;
    }
    case 10: return raw(syscall(SYS_lseek, fd(), below(2) ? below(100) : (long)rnd(), below(6)));
#ifdef SYS_stat
    case 11: return raw(syscall(SYS_stat, look_path(), out_ptr()));
    case 12: return raw(syscall(SYS_lstat, look_path(), out_ptr()));
    case 13: return raw(syscall(SYS_fstat, fd(), out_ptr()));
#else
    case 11: case 12: case 13: return raw(syscall(SYS_getpid));
#endif
#ifdef SYS_newfstatat
    case 14: return raw(syscall(SYS_newfstatat, AT_FDCWD, look_path(), out_ptr(), bits() & 0x1900));
#else
    case 14: return raw(syscall(SYS_fstatat64, AT_FDCWD, look_path(), out_ptr(), bits() & 0x1900));
#endif
    case 15: return raw(syscall(SYS_statx, below(2) ? AT_FDCWD : fd(), look_path(), bits() & 0x7900,
                                bits(), out_ptr()));
    case 16: return raw(syscall(SYS_access, look_path(), below(8)));
    case 17: return raw(syscall(SYS_readlink, look_path(), out_ptr(), length()));
    case 18: return raw(syscall(SYS_getcwd, out_ptr(), length()));
    case 19: return raw(syscall(SYS_mkdir, name_ptr(), 0700));
    case 20: return raw(syscall(SYS_rmdir, name_ptr()));
    case 21: return raw(syscall(SYS_unlink, name_ptr()));
    case 22: return raw(syscall(SYS_rename, name_ptr(), name_ptr()));
    case 23: return raw(syscall(SYS_symlink, name_ptr(), name_ptr()));
    case 24: return raw(syscall(SYS_chmod, name_ptr(), 0600 | below(0100)));
    case 25: return raw(syscall(SYS_umask, bits() & 0777));
    case 26: return raw(syscall(SYS_uname, out_ptr()));
    case 27: return raw(syscall(SYS_getrandom, out_ptr(), length(), below(2) ? 0 : bits() & ~2L));
    case 28: return raw(syscall(SYS_clock_gettime, below(14) - 2, out_ptr()));
    case 29: return raw(syscall(SYS_clock_getres, below(14) - 2, out_ptr()));
    case 30: return raw(syscall(SYS_gettimeofday, out_ptr(), out_ptr()));
    case 31: return raw(syscall(SYS_nanosleep, zero_time(), out_ptr()));
    case 32: return raw(syscall(SYS_poll, pollfds(3), below(4), 0));
    case 33:
        len = length() & 0xfffff;
        r = raw(syscall(SYS_MMAP, below(2) ? 0 : (long)garbage[below(6)], len,
                        bits() & 7, (bits() | MAP_PRIVATE) & ~(long)(MAP_FIXED | MAP_FIXED_NOREPLACE),
                        below(2) ? -1 : fd(), 0));
        unmap_if_mapped(r, len);
        return r;
    case 34: return raw(syscall(SYS_mprotect, (long)playground + page * below(4) + below(2) * 3,
                                page * below(5), bits() & 7));
    case 35: {
        static const long advice[] = { MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
                                       MADV_WILLNEED, MADV_DONTNEED, 77777 };
        return raw(syscall(SYS_madvise, (long)playground + page * below(4), page * below(5),
                           advice[below(6)]));
    }
    case 36: return raw(syscall(SYS_msync, (long)playground + below(2) * page + below(3),
                                page * below(5), bits() & 7));
    case 37: return raw(syscall(SYS_mincore, (long)playground + below(3), page * below(5), out_ptr()));
    case 38:
        p = out_ptr();
        r = raw(syscall(SYS_pipe2, p, below(2) ? O_CLOEXEC : bits()));
        close_pair(r, p);
        return r;
    case 39:
        r = raw(syscall(SYS_eventfd2, bits(), below(2) ? EFD_NONBLOCK : bits()));
        close_if_fd(r);
        return r;
    case 40:
        r = raw(syscall(SYS_epoll_create1, below(2) ? 0 : bits()));
        close_if_fd(r);
        return r;
    case 41: return raw(syscall(SYS_epoll_ctl, below(3) ? epoll_fd : fd(), below(5), fd(), in_ptr()));
    case 42: return raw(syscall(SYS_epoll_wait, below(3) ? epoll_fd : fd(), out_ptr(), below(8) - 1, 0));
    case 43: {
        static const long families[] = { AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, 0, 99 };
        r = raw(syscall(SYS_socket, families[below(6)], bits() & 0x80fff, below(300)));
        close_if_fd(r);
        return r;
    }
    case 44:
        p = out_ptr();
        r = raw(syscall(SYS_socketpair, AF_UNIX, below(6), below(2), p));
        close_pair(r, p);
        return r;
    case 45: return raw(syscall(SYS_getsockname, fd(), out_ptr(), len_ptr()));
    case 46: return raw(syscall(SYS_getsockopt, fd(), below(3) ? 1 : below(300), below(60),
                                out_ptr(), len_ptr()));
    case 47: return raw(syscall(SYS_sendto, fd(), in_ptr(), length(),
                                bits() | MSG_DONTWAIT | MSG_NOSIGNAL, qemu_in_ptr(), below(40)));
    case 48: return raw(syscall(SYS_recvfrom, fd(), out_ptr(), length(),
                                (bits() | MSG_DONTWAIT) & ~(long)MSG_ERRQUEUE, out_ptr(), len_ptr()));
    case 49: return raw(syscall(SYS_rt_sigprocmask, below(4), in_ptr(), out_ptr(), below(3) ? 8 : length()));
    case 50: return raw(syscall(SYS_rt_sigaction, below(70), below(2) ? 0 : (long)garbage[below(6)],
                                out_ptr(), below(3) ? 8 : length()));
    case 51: return raw(syscall(SYS_rt_sigpending, out_ptr(), below(3) ? 8 : length()));
    case 52: return raw(syscall(SYS_sigaltstack, below(2) ? 0 : (long)garbage[below(6)], out_ptr()));
    case 53: return raw(syscall(SYS_GETRLIMIT, below(20) - 2, out_ptr()));
    case 54: return raw(syscall(SYS_prlimit64, 0, below(20) - 2, below(2) ? 0 : (long)garbage[below(6)],
                                out_ptr()));
    case 55: return raw(syscall(SYS_getrusage, below(4) - 2, out_ptr()));
    case 56: return raw(syscall(SYS_times, out_ptr()));
    case 57: return raw(syscall(SYS_sysinfo, out_ptr()));
    case 58: return raw(syscall(SYS_wait4, below(3) - 1, out_ptr(), WNOHANG | (bits() & 0xe), out_ptr()));
    case 59: return raw(syscall(SYS_getdents64, below(2) ? dir_fd : fd(), out_ptr(), length()));
    case 60: return raw(syscall(SYS_ftruncate, file_fd, below(2) ? below(8192) : -below(10)));
    case 61: return raw(syscall(SYS_fsync, fd()));
    case 62: return raw(syscall(SYS_flock, fd(), bits() | LOCK_NB));
    case 63: {
        static const long gets[] = { 2, 3, 16, 21, 39, 0x7777 };    /* PR_GET_*, and junk */
        return raw(syscall(SYS_prctl, gets[below(6)], out_ptr(), 0, 0, 0));
    }
    case 64: return raw(syscall(SYS_futex, in_ptr(), below(2) ? 1 : 99, below(4), 0, 0, 0));
    case 65: return raw(syscall(SYS_futex, in_ptr(), 0, (long)rnd(), zero_time(), 0, 0));
    case 66: return raw(syscall(SYS_ioctl, below(2) ? file_fd : fd(), below(2) ? 0x5401 : 0x541b, out_ptr()));
    case 67: return raw(syscall(SYS_sched_getaffinity, 0, length(), out_ptr()));
    case 68: return raw(syscall(SYS_getpriority, below(4), 0));
    case 69: return raw(syscall(SYS_rt_sigtimedwait, in_ptr(), out_ptr(), zero_time(), 8));
    case 70: return raw(syscall(SYS_clock_nanosleep, below(3), below(2), zero_time(), out_ptr()));
    case 71: return raw(syscall(SYS_utimensat, AT_FDCWD, name_ptr(), in_ptr(), bits() & 0x100));
    case 72: return raw(syscall(SYS_faccessat, AT_FDCWD, look_path(), below(8), 0));
    case 73: return raw(syscall(SYS_getsid, below(2) ? 0 : any()));
    case 74: return raw(syscall(SYS_sendfile, fd(), fd(), in_ptr(), below(2) ? below(100) : length()));
    case 75: return raw(syscall(SYS_SELECT, below(20), in_ptr(), in_ptr(), in_ptr(), zero_time()));
    case 76: return raw(syscall(SYS_getitimer, below(4), out_ptr()));
    case 77: return raw(syscall(below(2) ? SYS_getppid : SYS_gettid));
#ifdef __i386__
    case 78: {
        /* socketcall with an argument array of random words, and bad calls */
        static const long calls[] = { 1, 6, 7, 8, 15, 0, 21, 99 };
        long call = calls[below(8)];
        long *args = (long *)(arena + 4 * below(SRC_SIZE / 4 - 8));
        for (int i = 0; i < 6; i++) {
            args[i] = any();
        }
        switch (call) {
        case 1: args[0] = AF_UNIX; args[1] = bits() & 0x80fff; args[2] = below(3); break;
        case 6: case 7: args[0] = fd(); args[2] = len_ptr(); break;
        case 8: args[0] = AF_UNIX; args[3] = out_ptr(); break;
        case 15: args[0] = fd(); args[4] = len_ptr(); break;
        }
        r = raw(syscall(SYS_socketcall, call, below(6) ? (long)args : in_ptr()));
        if (call == 1) {
            close_if_fd(r);
        }
        if (call == 8) {
            close_pair(r, args[3]);
        }
        return r;
    }
    case 79: {
        /* ipc on identifier -1 only: a real one could belong to anyone */
        static const long calls[] = { 1, 3, 11, 12, 14, 22, 24, 0, 99 };
        long call = calls[below(9)];
        if (call == 22) {
            return raw(syscall(SYS_ipc, call, 0, 0, 0, (long)garbage[below(6)] | 1, 0));
        }
        /* second (a size for msgsnd) stays small: QEMU copies that many bytes unchecked */
        return raw(syscall(SYS_ipc, call | (below(2) << 16), -1, below(64), (long)IPC_NOWAIT | bits(),
                           qemu_in_ptr(), any()));
    }
    case 80: {
        /* the old mmap: its arguments in memory, never MAP_FIXED */
        long *args = (long *)(arena + 4 * below(SRC_SIZE / 4 - 8));
        args[0] = 0;
        args[1] = length() & 0xffffff;
        args[2] = bits() & 7;
        args[3] = (bits() | MAP_PRIVATE) & ~(long)(MAP_FIXED | MAP_FIXED_NOREPLACE);
        args[4] = -1;
        args[5] = 0;
        r = raw(syscall(SYS_mmap, below(6) ? (long)args : in_ptr()));
        unmap_if_mapped(r, args[1]);
        return r;
    }
    case 81: return raw(syscall(SYS__llseek, fd(), below(2) ? 0 : bits(), below(100), out_ptr(), below(5)));
#else
    case 78: case 79: case 80: return raw(syscall(SYS_getpid)) > 0;
    case 81: return raw(syscall(SYS_semctl, -1, 0, bits() & 0xff, in_ptr()));
#endif
    }
    return 0;
}
#define CALL_KINDS 82

/* Whether the page at addr is mapped (msync fails with ENOMEM if not). */
static int mapped(unsigned long addr)
{
    return syscall(SYS_msync, addr & ~(unsigned long)(page - 1), page, MS_ASYNC) == 0;
}

static void setup(const char *dir)
{
    static const unsigned long candidates[] = {
        0x1000, 0xdead0000, 0x7ff000, 0x12345678, 0xfffff000UL, 0x3000,
        0x5000, 0xbad00000, 0x6000,
    };
    int sv[2], p[2], n = 0;

    page = sysconf(_SC_PAGESIZE);
    arena = mmap(NULL, ARENA_SIZE + page, PROT_READ | PROT_WRITE,
                 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    playground = mmap(NULL, PLAYGROUND_PAGES * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (arena == MAP_FAILED || playground == MAP_FAILED) {
        perror("mmap");
        exit(1);
    }
    guard = arena + ARENA_SIZE;
    mprotect(guard, page, PROT_NONE);
    for (size_t i = 0; i < sizeof candidates / sizeof candidates[0] && n < 6; i++) {
        if (!mapped(candidates[i])) {
            garbage[n++] = candidates[i] + (i & 3);
        }
    }
    while (n < 6) {
        garbage[n++] = (unsigned long)guard + 1;
    }
    for (int i = 0; i < 4; i++) {
        spare_fds[i] = FIRST_SPARE_FD + i;
        if (fcntl(spare_fds[i], F_GETFD) != -1) {
            fprintf(stderr, "fd %d is taken\n", spare_fds[i]);
            exit(1);
        }
    }
    signal(SIGPIPE, SIG_IGN);
    if (mkdir(dir, 0700) != 0 || chdir(dir) != 0) {
        perror(dir);
        exit(1);
    }
    mkdir("d", 0700);
    dir_fd = open(".", O_RDONLY | O_DIRECTORY);
    file_fd = open("a", O_RDWR | O_CREAT, 0600);
    write(file_fd, "some bytes in a file\n", 21);
    if (pipe2(p, O_NONBLOCK) != 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv) != 0) {
        perror("pipe");
        exit(1);
    }
    epoll_fd = (int)syscall(SYS_epoll_create1, 0);
    own_fds[n_own++] = dir_fd;
    own_fds[n_own++] = file_fd;
    own_fds[n_own++] = p[0];
    own_fds[n_own++] = p[1];
    own_fds[n_own++] = sv[0];
    own_fds[n_own++] = sv[1];
    own_fds[n_own++] = (int)syscall(SYS_eventfd2, 0, EFD_NONBLOCK);
    own_fds[n_own++] = epoll_fd;
}

static int make_open(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)ftw;
    if (type == FTW_D || type == FTW_DNR) {
        chmod(path, 0700);
    }
    return 0;
}

static int remove_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st, (void)type, (void)ftw;
    return remove(path);
}

/* Removes the directory and whatever the calls left in it. */
static void cleanup(const char *dir)
{
    if (chdir("/") != 0 || nftw(dir, make_open, 16, FTW_PHYS) != 0
        || nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        printf("could not remove %s\n", dir);
    }
}

int main(int argc, char **argv)
{
    long count = argc > 1 ? atol(argv[1]) : 5000;
    char dir[64];
    uint64_t digest = 14695981039346656037ULL;
    long failures = 0;
    int verbose = argc > 3;

    state = argc > 2 ? strtoull(argv[2], NULL, 0) : 0x6c7561686f6f6bULL;
    snprintf(dir, sizeof dir, "/tmp/luahook-fuzz-%d", (int)getpid());
    setup(dir);
    for (long i = 0; i < count; i++) {
        for (int k = 0; k < SRC_SIZE; k += 8) {
            uint64_t v = rnd();
            memcpy(arena + k, &v, 8);
        }
        for (int k = 0; k < TAIL; k += 8) {
            uint64_t v = rnd();
            memcpy(guard - TAIL + k, &v, 8);
        }
        int which = (int)below(CALL_KINDS);
        if (verbose) {
            fprintf(stderr, "%ld: call %d\n", i, which);
        }
        long r = one_call(which);
        long outcome = r < 0 && r > -4096 ? r : 0;
        failures += outcome != 0;
        digest = (digest ^ (uint64_t)(which * 4096 - outcome)) * 1099511628211ULL;
    }
    cleanup(dir);
    printf("calls=%ld failures=%ld digest=%016llx\n", count, failures, (unsigned long long)digest);
    return 0;
}
