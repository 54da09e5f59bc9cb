/*
 * Makes one kind of syscalls, chosen by its argument, so that
 * spec/strace_spec.lua can compare trace.lua's lines with strace's for the
 * same calls run natively: files, dirs, links, perms, pipes, fork,
 * signals, caught (signals delivered to handlers), crash (a death by
 * SIGSEGV), sockets, time, memory, pty, proc, exec, events. Works in the
 * current directory (a fresh one the spec makes). Calls a vDSO would
 * answer natively are made with syscall() so that strace sees them too.
 * Exits 0 when every step behaved as expected, else says what did not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sched.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/sysinfo.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <sys/times.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

/* the first step that did not go as expected, and its errno */
static const char *first_failure;
static int first_errno;

static void check(int ok, const char *what)
{
    if (!ok && !first_failure) {
        first_failure = what;
        first_errno = errno;
    }
}

static void files(void)
{
    struct timespec times[2];
    struct stat st;
    char buf[64];
    int fd, fd2;

    fd = open("f.txt", O_RDWR | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0640);
    check(fd >= 0, "open");
    check(write(fd, "some text\n", 10) == 10, "write");
    check(lseek(fd, 2, SEEK_SET) == 2, "lseek");
    check(read(fd, buf, 4) == 4, "read");
    check(pread(fd, buf, 3, 5) == 3, "pread");
    check(ftruncate(fd, 6) == 0, "ftruncate");
    check(fdatasync(fd) == 0, "fdatasync");
    check(fstat(fd, &st) == 0, "fstat");
    fd2 = dup3(fd, 9, O_CLOEXEC);
    check(fd2 == 9, "dup3");
    check(fcntl(fd, F_SETFL, O_NONBLOCK | O_APPEND) == 0, "F_SETFL");
    check(fcntl(fd, F_GETFL) >= 0, "F_GETFL");
    check(fcntl(fd, F_DUPFD_CLOEXEC, 20) == 20, "F_DUPFD_CLOEXEC");
    check(flock(fd, LOCK_EX | LOCK_NB) == 0, "flock");
    check(fallocate(fd, FALLOC_FL_KEEP_SIZE, 0, 4096) == 0 || errno == EOPNOTSUPP, "fallocate");
    check(posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL) == 0, "fadvise");
    close(20);
    close(9);
    close(fd);
    /* the special times, then two real ones */
    times[0].tv_sec = 0;
    times[0].tv_nsec = UTIME_NOW;
    times[1].tv_sec = 0;
    times[1].tv_nsec = UTIME_OMIT;
    check(utimensat(AT_FDCWD, "f.txt", times, 0) == 0, "utimensat special");
    times[0].tv_nsec = UTIME_NOW;
    times[1].tv_nsec = UTIME_NOW;
    check(utimensat(AT_FDCWD, "f.txt", times, AT_SYMLINK_NOFOLLOW) == 0, "utimensat now");
    times[0].tv_sec = 1000000000;
    times[0].tv_nsec = 5;
    times[1].tv_sec = 1234567890;
    times[1].tv_nsec = 0;
    check(utimensat(AT_FDCWD, "f.txt", times, 0) == 0, "utimensat");
    check(utimensat(AT_FDCWD, "f.txt", NULL, 0) == 0, "utimensat NULL");
    check(access("f.txt", R_OK | W_OK) == 0, "access");
    check(faccessat(AT_FDCWD, "f.txt", X_OK, AT_EACCESS) == -1, "faccessat");
    check(rename("f.txt", "g.txt") == 0, "rename");
    check(renameat2(AT_FDCWD, "g.txt", AT_FDCWD, "h.txt", RENAME_NOREPLACE) == 0, "renameat2");
    check(truncate("h.txt", 3) == 0, "truncate");
    check(stat("h.txt", &st) == 0, "stat");
    check(lstat("missing", &st) == -1, "lstat");
    check(open("missing", O_RDONLY) == -1, "open missing");
    check(creat("c.txt", 0600) >= 0, "creat");
    check(unlink("c.txt") == 0, "unlink");
    fd = open(".", O_RDONLY | O_TMPFILE, 0600);
    if (fd >= 0) {
        close(fd);
    }
    fd = open("h.txt", O_WRONLY | O_SYNC | O_TRUNC | O_NOFOLLOW);
    check(fd >= 0, "open O_SYNC");
    close(fd);
    sync();
}

static void dirs(void)
{
    char buf[256];
    int fd;

    check(mkdir("d1", 0755) == 0, "mkdir");
    check(mkdirat(AT_FDCWD, "d1/d2", 0700) == 0, "mkdirat");
    check(mkdir("d1", 0755) == -1, "mkdir again");
    fd = open("d1", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    check(fd >= 0, "open dir");
    check(syscall(SYS_getdents64, fd, buf, sizeof buf) > 0, "getdents64");
    check(fchdir(fd) == 0, "fchdir");
    check(getcwd(buf, sizeof buf) != NULL, "getcwd");
    check(chdir("..") == 0, "chdir");
    check(rmdir("d1") == -1, "rmdir not empty");
    check(unlinkat(fd, "d2", AT_REMOVEDIR) == 0, "unlinkat dir");
    close(fd);
    check(rmdir("d1") == 0, "rmdir");
    check(syscall(SYS_getcwd, buf, 2) == -1, "getcwd short");
}

static void links(void)
{
    char buf[64];
    struct stat st;
    int fd;

    fd = open("target", O_WRONLY | O_CREAT, 0644);
    check(fd >= 0, "open");
    close(fd);
    check(symlink("target", "sym") == 0, "symlink");
    check(symlinkat("/nonexistent/x", AT_FDCWD, "dangling") == 0, "symlinkat");
    check(link("target", "hard") == 0, "link");
    check(linkat(AT_FDCWD, "sym", AT_FDCWD, "hard2", AT_SYMLINK_FOLLOW) == 0, "linkat");
    check(readlink("sym", buf, sizeof buf) == 6, "readlink");
    check(readlinkat(AT_FDCWD, "dangling", buf, 4) == 4, "readlinkat short");
    check(readlink("target", buf, sizeof buf) == -1, "readlink not a link");
    check(lstat("sym", &st) == 0, "lstat");
    check(stat("dangling", &st) == -1, "stat dangling");
    check(fstatat(AT_FDCWD, "dangling", &st, AT_SYMLINK_NOFOLLOW) == 0, "fstatat");
    check(unlink("sym") == 0, "unlink");
}

static void perms(void)
{
    gid_t groups[64];
    struct stat st;
    int fd, n;

    check(umask(027) == 022 || 1, "umask");
    fd = open("p", O_WRONLY | O_CREAT, 0777);
    check(fd >= 0, "open");
    check(fchmod(fd, 04755) == 0, "fchmod setuid");
    check(fstat(fd, &st) == 0, "fstat");
    check(fchown(fd, getuid(), getgid()) == 0, "fchown");
    close(fd);
    check(chmod("p", 02711) == 0, "chmod setgid");
    check(stat("p", &st) == 0, "stat");
    check(chmod("p", 07777) == 0, "chmod all");
    check(stat("p", &st) == 0, "stat");
    check(mkdir("sticky", 0777) == 0, "mkdir");
    check(chmod("sticky", 01777) == 0, "chmod sticky");
    check(stat("sticky", &st) == 0, "stat sticky");
    check(fchmodat(AT_FDCWD, "p", 0, 0) == 0, "fchmodat");
    check(stat("p", &st) == 0, "stat");
    check(chown("p", -1, -1) == 0, "chown");
    check(lchown("p", getuid(), -1) == 0, "lchown");
    check(fchownat(AT_FDCWD, "p", -1, getgid(), AT_SYMLINK_NOFOLLOW) == 0, "fchownat");
    check(mknod("fifo", S_IFIFO | 0640, 0) == 0, "mknod");
    check(stat("fifo", &st) == 0, "stat fifo");
    check(stat("/dev/null", &st) == 0, "stat /dev/null");
    n = getgroups(0, NULL);
    check(getgroups(64, groups) == n, "getgroups");
    check(syscall(SYS_getuid) >= 0 && syscall(SYS_geteuid) >= 0, "uids");
    check(syscall(SYS_getgid) >= 0 && syscall(SYS_getegid) >= 0, "gids");
    check(setgroups(n, groups) == 0 || errno == EPERM, "setgroups");
    check(access("p", F_OK) == 0, "access");
}

static void pipes(void)
{
    int p[2], q[2];
    char buf[16];
    struct pollfd pfd[2];
    fd_set set;
    struct timeval tv = { 0, 0 };

    check(pipe(p) == 0, "pipe");
    check(pipe2(q, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
    check(write(p[1], "ping", 4) == 4, "write");
    pfd[0].fd = p[0];
    pfd[0].events = POLLIN | POLLPRI;
    pfd[1].fd = q[0];
    pfd[1].events = POLLIN;
    check(poll(pfd, 2, 0) == 1, "poll");
    FD_ZERO(&set);
    FD_SET(p[0], &set);
    FD_SET(q[0], &set);
    check(select(q[0] + 1, &set, NULL, NULL, &tv) == 1, "select");
    check(read(p[0], buf, sizeof buf) == 4, "read");
    check(read(q[0], buf, 1) == -1, "read empty");
    check(fcntl(p[0], F_GETPIPE_SZ) > 0, "F_GETPIPE_SZ");
    check(dup2(p[0], 10) == 10, "dup2");
    close(p[1]);
    check(read(p[0], buf, sizeof buf) == 0, "read eof");
    close(p[0]);
    close(10);
    close(q[0]);
    close(q[1]);
    check(write(q[1], "x", 1) == -1, "write closed");
}

static void fork_wait(void)
{
    int status;
    pid_t child;
    siginfo_t info;
    struct rusage ru;

    fflush(stdout);
    child = fork();
    if (child == 0) {
        _exit(7);
    }
    check(wait4(child, &status, 0, NULL) == child, "wait4");
    child = fork();
    if (child == 0) {
        syscall(SYS_getppid);
        _exit(0);
    }
    check(waitid(P_PID, child, &info, WEXITED) == 0, "waitid");
    child = fork();
    if (child == 0) {
        raise(SIGKILL);
        _exit(1);
    }
    check(wait4(child, &status, 0, &ru) == child, "wait4 killed");
    check(wait4(-1, &status, WNOHANG, NULL) == -1, "wait4 none");
    check(waitpid(-1, NULL, WNOHANG | WUNTRACED) == -1, "waitpid none");
}

static volatile sig_atomic_t got;

static void on_signal(int sig)
{
    got = sig;
}

static void signals(void)
{
    struct sigaction sa, old;
    sigset_t set, oldset;
    stack_t ss, oss;
    static char stack[65536];

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGTERM);
    sa.sa_flags = SA_RESTART | SA_ONSTACK;
    check(sigaction(SIGUSR1, &sa, &old) == 0, "sigaction");
    sa.sa_flags = SA_SIGINFO | SA_NODEFER | SA_RESETHAND;
    check(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction 2");
    sa.sa_handler = SIG_IGN;
    sa.sa_flags = 0;
    check(sigaction(SIGPIPE, &sa, NULL) == 0, "sigaction ignore");
    check(sigaction(SIGKILL, &sa, NULL) == -1, "sigaction kill");
    ss.ss_sp = stack;
    ss.ss_size = sizeof stack;
    ss.ss_flags = 0;
    check(sigaltstack(&ss, &oss) == 0, "sigaltstack");
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGCHLD);
    check(sigprocmask(SIG_BLOCK, &set, &oldset) == 0, "sigprocmask");
    check(sigpending(&set) == 0, "sigpending");
    check(sigprocmask(SIG_SETMASK, &oldset, NULL) == 0, "sigprocmask restore");
    check(kill(getpid(), 0) == 0, "kill 0");
    check(kill(999999, SIGTERM) == -1, "kill none");
    check(alarm(100) == 0, "alarm");
    check(alarm(0) > 0, "alarm off");
}

static void on_info(int sig, siginfo_t *info, void *uc)
{
    (void)info;
    (void)uc;
    got = sig;
}

/*
 * Forks a child that says it runs (on a pipe) and ends as `end` says,
 * killed with SIGALRM first if `kill_it` (not SIGTERM: that one also
 * interrupts a luahook hook the child may be running); its SIGCHLD is
 * taken once it is reaped, so that it comes at the same place natively
 * and under QEMU.
 */
static void child_ends(void (*end)(int), int kill_it, const char *what)
{
    sigset_t chld;
    int status, p[2];
    char byte;
    pid_t child;

    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    check(sigprocmask(SIG_BLOCK, &chld, NULL) == 0, "block SIGCHLD");
    check(pipe(p) == 0, "pipe");
    fflush(stdout);
    child = fork();
    if (child == 0) {
        end(p[1]);
    }
    check(read(p[0], &byte, 1) == 1, what);
    if (kill_it) {
        check(kill(child, SIGALRM) == 0, "kill child");
    }
    check(waitpid(child, &status, 0) == child, what);
    close(p[0]);
    close(p[1]);
    check(sigprocmask(SIG_UNBLOCK, &chld, NULL) == 0, "unblock SIGCHLD");
}

static void exit_three(int fd)
{
    write(fd, "x", 1);
    _exit(3);
}

static void wait_for_kill(int fd)
{
    write(fd, "x", 1);
    for (;;) {
        pause();
    }
}

static sigjmp_buf after_fault;

static void on_fault(int sig, siginfo_t *info, void *uc)
{
    (void)info;
    (void)uc;
    siglongjmp(after_fault, sig);
}

/*
 * Signals that reach handlers: with SA_SIGINFO (the siginfo shown) and
 * without, and a fault's SIGSEGV that the handler jumps out of.
 */
static void caught(void)
{
    struct sigaction sa;
    union sigval value = { .sival_int = 42 };
    volatile uintptr_t nowhere = 0;  /* volatile: the compiler must not see it is 0 */

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_info;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    check(sigaction(SIGUSR1, &sa, NULL) == 0, "sigaction USR1");
    check(sigaction(SIGUSR2, &sa, NULL) == 0, "sigaction USR2");
    check(sigaction(SIGCHLD, &sa, NULL) == 0, "sigaction CHLD");
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    check(sigaction(SIGHUP, &sa, NULL) == 0, "sigaction HUP");
    on_info(SIGUSR1, NULL, NULL);   /* a handler the program calls: no signal */
    check(kill(getpid(), SIGUSR1) == 0 && got == SIGUSR1, "kill USR1");
    check(syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), SIGUSR2) == 0 && got == SIGUSR2,
          "tgkill USR2");
    got = 0;
    check(sigqueue(getpid(), SIGUSR1, value) == 0 && got == SIGUSR1, "sigqueue");
    check(kill(getpid(), SIGHUP) == 0 && got == SIGHUP, "kill HUP");
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO;
    check(sigaction(SIGSEGV, &sa, NULL) == 0, "sigaction SEGV");
    if (sigsetjmp(after_fault, 1) == 0) {
        *(volatile int *)nowhere = 1;
        check(0, "no fault");
    }
    child_ends(exit_three, 0, "child exits");
    check(got == SIGCHLD, "SIGCHLD after exit");
    got = 0;
    child_ends(wait_for_kill, 1, "child killed");
    check(got == SIGCHLD, "SIGCHLD after kill");
}

/* A few calls, then a write to address 0: the guest dies of SIGSEGV. */
static void crash(void)
{
    volatile uintptr_t nowhere = 0;  /* volatile: the compiler must not see it is 0 */

    for (int i = 0; i < 10; i++) {
        syscall(SYS_getppid);
    }
    *(volatile int *)nowhere = 1;
}

static void sockets(void)
{
    struct sockaddr_in addr;
    struct sockaddr_un un;
    socklen_t len = sizeof addr;
    int server, client, conn, one = 1, sv[2], u, value;
    char buf[32];
    struct iovec iov = { buf, sizeof buf };
    struct msghdr msg;

    server = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    check(server >= 0, "socket");
    check(setsockopt(server, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "setsockopt");
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(bind(server, (struct sockaddr *)&addr, sizeof addr) == 0, "bind");
    check(listen(server, 4) == 0, "listen");
    check(getsockname(server, (struct sockaddr *)&addr, &len) == 0, "getsockname");
    client = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    check(setsockopt(client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0, "TCP_NODELAY");
    check(connect(client, (struct sockaddr *)&addr, sizeof addr) == 0, "connect");
    len = sizeof addr;
    conn = accept4(server, (struct sockaddr *)&addr, &len, SOCK_CLOEXEC);
    check(conn >= 0, "accept4");
    check(send(client, "hello", 5, MSG_NOSIGNAL) == 5, "send");
    check(recv(conn, buf, sizeof buf, 0) == 5, "recv");
    check(sendto(conn, "back", 4, 0, NULL, 0) == 4, "sendto");
    check(recvfrom(client, buf, sizeof buf, MSG_DONTWAIT, NULL, NULL) == 4, "recvfrom");
    len = sizeof value;
    check(getsockopt(client, SOL_SOCKET, SO_ERROR, &value, &len) == 0, "getsockopt");
    len = 2; /* too short: the address is cut to its family */
    check(getpeername(client, (struct sockaddr *)&addr, &len) == 0, "getpeername short");
    len = sizeof addr;
    check(getpeername(client, (struct sockaddr *)&addr, &len) == 0, "getpeername");
    check(shutdown(client, SHUT_WR) == 0, "shutdown");
    close(conn);
    close(client);
    close(server);

    check(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv) == 0, "socketpair");
    memset(&msg, 0, sizeof msg);
    iov.iov_base = "datagram";
    iov.iov_len = 8;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    check(sendmsg(sv[0], &msg, 0) == 8, "sendmsg");
    iov.iov_base = buf;
    iov.iov_len = sizeof buf;
    check(recvmsg(sv[1], &msg, 0) == 8, "recvmsg");
    close(sv[0]);
    close(sv[1]);

    u = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&un, 0, sizeof un);
    un.sun_family = AF_UNIX;
    strcpy(un.sun_path, "sock");
    check(bind(u, (struct sockaddr *)&un, sizeof un) == 0, "bind unix");
    check(connect(socket(AF_UNIX, SOCK_STREAM, 0), (struct sockaddr *)&un, sizeof un) == -1,
          "connect refused");
    u = socket(AF_INET6, SOCK_DGRAM, 0);
    check(u >= 0 || errno == EAFNOSUPPORT, "socket inet6");
    check(socket(AF_PACKET, SOCK_RAW, 0) == -1 || 1, "socket packet");
}

static void time_calls(void)
{
    struct timespec ts = { 0, 1000 }, res;
    struct itimerval it = { { 0, 0 }, { 100, 0 } }, old;
    struct itimerspec its = { { 0, 0 }, { 50, 0 } };
    struct tms t;
    int fd;

    check(syscall(SYS_clock_getres, CLOCK_MONOTONIC, &res) == 0, "clock_getres");
    check(syscall(SYS_clock_getres, CLOCK_REALTIME_COARSE, &res) == 0, "clock_getres coarse");
    check(syscall(SYS_clock_gettime, CLOCK_BOOTTIME, &res) == 0, "clock_gettime");
    check(syscall(SYS_clock_gettime, 99, &res) == -1, "clock_gettime bad");
    check(nanosleep(&ts, NULL) == 0, "nanosleep");
    check(clock_nanosleep(CLOCK_REALTIME, 0, &ts, NULL) == 0, "clock_nanosleep");
    check(setitimer(ITIMER_REAL, &it, &old) == 0, "setitimer");
    it.it_value.tv_sec = 0;
    check(setitimer(ITIMER_REAL, &it, NULL) == 0, "setitimer off");
    check(getitimer(ITIMER_VIRTUAL, &old) == 0, "getitimer");
    fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    check(fd >= 0, "timerfd_create");
    check(timerfd_settime(fd, 0, &its, NULL) == 0, "timerfd_settime");
    close(fd);
    check(times(&t) != (clock_t)-1 || 1, "times");
}

static void memory(void)
{
    char *p, *q;
    unsigned char vec[4];

    p = mmap(NULL, 16384, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(p != MAP_FAILED, "mmap");
    check(mprotect(p, 4096, PROT_READ) == 0, "mprotect");
    check(mprotect(p, 4096, PROT_NONE) == 0, "mprotect none");
    check(madvise(p, 8192, MADV_DONTNEED) == 0, "madvise");
    check(mincore(p, 16384, vec) == 0, "mincore");
    check(msync(p, 4096, MS_ASYNC | MS_INVALIDATE) == 0, "msync");
    check(mlock(p + 8192, 4096) == 0 || errno == EPERM || errno == ENOMEM, "mlock");
    check(munlock(p + 8192, 4096) == 0, "munlock");
    check(munmap(p, 16384) == 0, "munmap");
    p = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    q = mremap(p, 8192, 32768, MREMAP_MAYMOVE);
    check(q != MAP_FAILED, "mremap");
    check(munmap(q, 32768) == 0, "munmap");
    p = mmap(NULL, 4096, PROT_READ | PROT_EXEC, MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE,
             -1, 0);
    check(p != MAP_FAILED, "mmap shared");
    check(munmap(p, 4096) == 0, "munmap shared");
    check(mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, 99, 0) == MAP_FAILED, "mmap bad fd");
    check(sbrk(0) != (void *)-1, "sbrk");
    check(brk(sbrk(0)) == 0, "brk");
}

static void pty(void)
{
    struct termios tio;
    struct winsize ws = { 24, 80, 0, 0 };
    int master, slave, n, unlock = 0;
    char name[64];

    master = open("/dev/ptmx", O_RDWR | O_NOCTTY);
    check(master >= 0, "open ptmx");
    check(ioctl(master, TIOCSPTLCK, &unlock) == 0, "TIOCSPTLCK");
    check(ioctl(master, TIOCGPTN, &n) == 0, "TIOCGPTN");
    snprintf(name, sizeof name, "/dev/pts/%d", n);
    slave = open(name, O_RDWR | O_NOCTTY);
    check(slave >= 0, "open slave");
    check(ioctl(slave, TCGETS, &tio) == 0, "TCGETS");
    tio.c_lflag &= ~ECHO;
    check(ioctl(slave, TCSETS, &tio) == 0, "TCSETS");
    check(ioctl(slave, TIOCSWINSZ, &ws) == 0, "TIOCSWINSZ");
    check(ioctl(slave, TIOCGWINSZ, &ws) == 0, "TIOCGWINSZ");
    check(write(slave, "out\n", 4) == 4, "write slave");
    /* the line reaches the master side a moment later, from a kernel worker */
    struct pollfd ready = { master, POLLIN, 0 };
    check(poll(&ready, 1, 10000) == 1, "poll master");
    check(ioctl(master, FIONREAD, &n) == 0, "FIONREAD");
    ioctl(master, TIOCGPGRP, &n);
    check(isatty(slave) == 1, "isatty");
    check(ioctl(0, TCGETS, &tio) == -1, "TCGETS not a tty");
    close(slave);
    close(master);
}

static void proc(void)
{
    char name[16];
    struct sysinfo si;
    struct utsname u;
    struct rlimit rl;
    cpu_set_t cpus;

    check(prctl(PR_SET_NAME, "refcalls-name") == 0, "PR_SET_NAME");
    check(prctl(PR_GET_NAME, name) == 0, "PR_GET_NAME");
    check(prctl(PR_GET_DUMPABLE) >= 0, "PR_GET_DUMPABLE");
    check(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0, "PR_SET_NO_NEW_PRIVS");
    check(sysinfo(&si) == 0, "sysinfo");
    check(uname(&u) == 0, "uname");
    check(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
    check(setrlimit(RLIMIT_CORE, &rl) == 0 || 1, "setrlimit");
    check(getpriority(PRIO_PROCESS, 0) >= -20, "getpriority");
    check(sched_getaffinity(0, sizeof cpus, &cpus) == 0, "sched_getaffinity");
    check(sched_yield() == 0, "sched_yield");
    check(syscall(SYS_getpid) > 0 && syscall(SYS_gettid) > 0, "ids");
    check(syscall(SYS_getpgrp) >= 0 && syscall(SYS_getsid, 0) >= 0, "groups");
    check(syscall(SYS_personality, 0xffffffff) >= 0, "personality");
}

static void exec_calls(void)
{
    char *argv[] = { "x", "y", NULL };
    char *envp[] = { "A=1", NULL };

    check(execve("/nonexistent", argv, envp) == -1, "execve nonexistent");
    check(execve(".", argv, envp) == -1, "execve directory");
    check(execveat(AT_FDCWD, "", argv, envp, AT_EMPTY_PATH) == -1, "execveat empty");
    fflush(stdout);
    execve("/bin/true", argv, envp);
    check(0, "execve /bin/true");
}

static void events(void)
{
    struct epoll_event ev = { EPOLLIN | EPOLLET, { .u64 = 42 } }, out[2];
    sigset_t set;
    uint64_t one = 1;
    int ep, efd, in, sfd;

    ep = epoll_create1(EPOLL_CLOEXEC);
    efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    check(ep >= 0 && efd >= 0, "epoll_create1, eventfd");
    check(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0, "epoll_ctl");
    check(write(efd, &one, 8) == 8, "write eventfd");
    check(epoll_wait(ep, out, 2, 0) == 1, "epoll_wait");
    check(epoll_ctl(ep, EPOLL_CTL_DEL, efd, NULL) == 0, "epoll_ctl del");
    in = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
    check(in >= 0, "inotify_init1");
    check(inotify_add_watch(in, ".", IN_CREATE | IN_DELETE) >= 0, "inotify_add_watch");
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    check(sfd >= 0, "signalfd");
    check(memfd_create("mem", MFD_CLOEXEC | MFD_ALLOW_SEALING) >= 0, "memfd_create");
}

static const struct {
    const char *name;
    void (*run)(void);
} modes[] = {
    { "files", files }, { "dirs", dirs }, { "links", links }, { "perms", perms },
    { "pipes", pipes }, { "fork", fork_wait }, { "signals", signals }, { "caught", caught },
    { "crash", crash },
    { "sockets", sockets }, { "time", time_calls }, { "memory", memory }, { "pty", pty },
    { "proc", proc }, { "exec", exec_calls }, { "events", events },
};

int main(int argc, char **argv)
{
    for (size_t i = 0; argc == 2 && i < sizeof modes / sizeof modes[0]; i++) {
        if (strcmp(argv[1], modes[i].name) == 0) {
            modes[i].run();
            if (first_failure) {
                printf("unexpected: %s (errno %d)\n", first_failure, first_errno);
                return 1;
            }
            printf("done\n");
            return 0;
        }
    }
    fprintf(stderr, "usage: refcalls files|dirs|links|perms|pipes|fork|signals|caught|crash|sockets|"
                    "time|memory|pty|proc|exec|events\n");
    return 2;
}
