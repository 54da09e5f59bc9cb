/*
 * Makes the file, descriptor, memory, socket, signal, time and IPC calls a
 * C program commonly makes, with known arguments, so the trace specs can
 * compare decoded lines with QEMU's -strace. Works in a fresh directory
 * under /tmp and removes it. Sockets stay on AF_UNIX and 127.0.0.1.
 * On i386 it also calls the socketcall and ipc multiplexers directly.
 * Prints "done" and exits 0 when every step behaved as expected.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/select.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what)
{
    if (!ok) {
        printf("unexpected: %s (errno %d)\n", what, errno);
        failures++;
    }
}

static volatile sig_atomic_t got_signal;

static void on_usr1(int sig)
{
    got_signal = sig;
}

/* quotes, escapes, a control byte, a high byte, and more than 32 bytes */
static const char text[] = "hello\n\tworld \"quoted\" \\ \001\377 and a long tail of text";

static void files(const char *dir)
{
    char path[256], other[256], buf[64];
    struct stat st;
    struct iovec iov[2];
    int fd;

    check(mkdir(dir, 0755) == 0, "mkdir");
    check(chdir(dir) == 0, "chdir");
    check(getcwd(buf, sizeof buf) != NULL, "getcwd");
    snprintf(path, sizeof path, "%s/data.txt", dir);
    snprintf(other, sizeof other, "%s/moved.txt", dir);

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    check(fd >= 0, "open");
    check(write(fd, text, sizeof text - 1) == sizeof text - 1, "write");
    iov[0].iov_base = "vec1";
    iov[0].iov_len = 4;
    iov[1].iov_base = "vec2\n";
    iov[1].iov_len = 5;
    check(writev(fd, iov, 2) == 9, "writev");
    check(pwrite(fd, "P", 1, 3) == 1, "pwrite");
    check(fsync(fd) == 0, "fsync");
    check(fchmod(fd, 0600) == 0, "fchmod");
    check(close(fd) == 0, "close");

    fd = openat(AT_FDCWD, "data.txt", O_RDONLY);
    check(fd >= 0, "openat");
    check(read(fd, buf, 10) == 10, "read");
    check(lseek(fd, 2, SEEK_SET) == 2, "lseek");
    check(pread(fd, buf, 4, 0) == 4, "pread");
    iov[0].iov_base = buf;
    iov[0].iov_len = 3;
    iov[1].iov_base = buf + 8;
    iov[1].iov_len = 5;
    check(readv(fd, iov, 2) == 8, "readv");
    check(fstat(fd, &st) == 0 && st.st_size == sizeof text - 1 + 9, "fstat");
    check((fcntl(fd, F_GETFL) & O_ACCMODE) == O_RDONLY, "fcntl F_GETFL");
    check(fcntl(fd, F_SETFD, FD_CLOEXEC) == 0, "fcntl F_SETFD");
    check(fcntl(fd, F_GETFD) == FD_CLOEXEC, "fcntl F_GETFD");
    int fd2 = fcntl(fd, F_DUPFD_CLOEXEC, 10);
    check(fd2 >= 10, "fcntl F_DUPFD_CLOEXEC");
    check(close(fd2) == 0, "close dup");
    check(close(fd) == 0, "close");

    check(stat(path, &st) == 0, "stat");
    check(lstat("data.txt", &st) == 0, "lstat");
    check(stat("/nonexistent/luahook", &st) == -1 && errno == ENOENT, "stat ENOENT");
    check(access(path, R_OK | W_OK) == 0, "access");
    check(faccessat(AT_FDCWD, "data.txt", F_OK, 0) == 0, "faccessat");
    check(chmod(path, 0644) == 0, "chmod");
    check(truncate(path, 20) == 0, "truncate");
    check(rename(path, other) == 0, "rename");
    check(link(other, path) == 0, "link");
    check(symlink("moved.txt", "sym") == 0, "symlink");
    check(readlink("sym", buf, sizeof buf) == 9, "readlink");
    check(unlink("sym") == 0, "unlink");
    check(unlink(path) == 0, "unlink");
    check(unlinkat(AT_FDCWD, "moved.txt", 0) == 0, "unlinkat");
    check(mkdirat(AT_FDCWD, "sub", 0700) == 0, "mkdirat");
    check(rmdir("sub") == 0, "rmdir");
    check(umask(022) >= 0, "umask");
    check(open("/nonexistent/luahook", O_RDONLY) == -1 && errno == ENOENT, "open ENOENT");
    check(chdir("/") == 0, "chdir /");
    check(rmdir(dir) == 0, "rmdir dir");
}

static void descriptors(void)
{
    int p[2], q[2];
    char c;
    struct pollfd pfd;
    fd_set rd;
    struct timeval tv = { 0, 0 };

    check(pipe(p) == 0, "pipe");
    check(pipe2(q, O_CLOEXEC | O_NONBLOCK) == 0, "pipe2");
    check(write(p[1], "x", 1) == 1, "write pipe");
    pfd.fd = p[0];
    pfd.events = POLLIN;
    check(poll(&pfd, 1, 0) == 1, "poll");
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    check(select(p[0] + 1, &rd, NULL, NULL, &tv) == 1, "select");
    check(read(p[0], &c, 1) == 1, "read pipe");
    check(read(q[0], &c, 1) == -1 && errno == EAGAIN, "read EAGAIN");
    int d = dup(p[0]);
    check(d >= 0, "dup");
    check(dup2(d, 20) == 20, "dup2");
    check(dup3(20, 21, O_CLOEXEC) == 21, "dup3");
    check(close(20) == 0 && close(21) == 0 && close(d) == 0, "close dups");
    check(close(-1) == -1 && errno == EBADF, "close EBADF");

    int efd = eventfd(3, EFD_CLOEXEC);
    check(efd >= 0, "eventfd");
    int ep = epoll_create1(EPOLL_CLOEXEC);
    check(ep >= 0, "epoll_create1");
    struct epoll_event ev = { .events = EPOLLIN, .data.u64 = 7 };
    check(epoll_ctl(ep, EPOLL_CTL_ADD, efd, &ev) == 0, "epoll_ctl");
    check(epoll_wait(ep, &ev, 1, 0) == 1, "epoll_wait");
    check(close(ep) == 0 && close(efd) == 0, "close epoll");
    check(close(p[0]) == 0 && close(p[1]) == 0 && close(q[0]) == 0 && close(q[1]) == 0,
          "close pipes");
}

static void memory(void)
{
    long page = sysconf(_SC_PAGESIZE);
    char *m = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

    check(m != MAP_FAILED, "mmap");
    m[0] = 1;
    check(mprotect(m, page, PROT_READ) == 0, "mprotect");
    check(madvise(m + page, page, MADV_DONTNEED) == 0, "madvise");
    check(munmap(m, 4 * page) == 0, "munmap");
    m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    check(m != MAP_FAILED, "mmap");
    char *r = mremap(m, page, 4 * page, MREMAP_MAYMOVE);
    check(r != MAP_FAILED, "mremap");
    check(munmap(r, 4 * page) == 0, "munmap");
    check(mmap(NULL, page, PROT_READ, MAP_PRIVATE, -1, 0) == MAP_FAILED && errno == EBADF,
          "mmap EBADF");
    check(sbrk(0) != NULL, "brk");
}

static void sockets(const char *dir)
{
    int sv[2];
    char buf[32];
    struct sockaddr_un un = { .sun_family = AF_UNIX };
    struct sockaddr_in in = { .sin_family = AF_INET };
    socklen_t len;
    int one = 1;

    check(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    check(send(sv[0], "ping", 4, 0) == 4, "send");
    check(recv(sv[1], buf, sizeof buf, 0) == 4, "recv");
    check(shutdown(sv[0], SHUT_WR) == 0, "shutdown");
    check(close(sv[0]) == 0 && close(sv[1]) == 0, "close socketpair");

    int u = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    check(u >= 0, "socket unix");
    snprintf(un.sun_path, sizeof un.sun_path, "%s.sock", dir);
    check(bind(u, (struct sockaddr *)&un, sizeof un) == 0, "bind unix");
    len = sizeof un;
    check(getsockname(u, (struct sockaddr *)&un, &len) == 0, "getsockname unix");
    check(sendto(u, "dgram", 5, 0, (struct sockaddr *)&un, sizeof un) == 5, "sendto");
    check(recvfrom(u, buf, sizeof buf, 0, NULL, NULL) == 5, "recvfrom");
    check(close(u) == 0 && unlink(un.sun_path) == 0, "close unix");

    int t = socket(AF_INET, SOCK_STREAM, 0);
    check(t >= 0, "socket inet");
    check(setsockopt(t, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == 0, "setsockopt");
    in.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    check(bind(t, (struct sockaddr *)&in, sizeof in) == 0, "bind inet");
    len = sizeof in;
    check(getsockname(t, (struct sockaddr *)&in, &len) == 0, "getsockname inet");
    check(listen(t, 4) == 0, "listen");
    int c = socket(AF_INET, SOCK_STREAM, IPPROTO_TCP);
    check(connect(c, (struct sockaddr *)&in, sizeof in) == 0, "connect");
    int a = accept(t, NULL, NULL);
    check(a >= 0, "accept");
    check(close(a) == 0 && close(c) == 0 && close(t) == 0, "close inet");
}

#ifdef __i386__
/* The i386 multiplexers, called directly (glibc may use either). */
static void multiplexers(void)
{
    long args[4] = { AF_UNIX, SOCK_STREAM, 0, 0 };
    int sv[2];
    long fd = syscall(SYS_socketcall, 1 /* SYS_SOCKET */, args);

    check(fd >= 0, "socketcall socket");
    check(close(fd) == 0, "close socketcall fd");
    args[3] = (long)sv;
    check(syscall(SYS_socketcall, 8 /* SYS_SOCKETPAIR */, args) == 0, "socketcall socketpair");
    check(close(sv[0]) == 0 && close(sv[1]) == 0, "close socketcall pair");
    long id = syscall(SYS_ipc, 2 /* SEMGET */, IPC_PRIVATE, 1, IPC_CREAT | 0600, 0, 0);
    check(id >= 0, "ipc semget");
    check(syscall(SYS_ipc, 3 /* SEMCTL */, id, 0, IPC_RMID, &args[0], 0) == 0, "ipc semctl");
}
#endif

static void sysv_ipc(void)
{
    int sem = semget(IPC_PRIVATE, 1, IPC_CREAT | 0600);
    check(sem >= 0, "semget");
    check(semctl(sem, 0, IPC_RMID) == 0, "semctl");
    int shm = shmget(IPC_PRIVATE, 4096, IPC_CREAT | 0600);
    check(shm >= 0, "shmget");
    void *p = shmat(shm, NULL, 0);
    check(p != (void *)-1, "shmat");
    check(shmdt(p) == 0, "shmdt");
    check(shmctl(shm, IPC_RMID, NULL) == 0, "shmctl");
}

static void signals(void)
{
    struct sigaction sa, old;
    sigset_t set, oldset;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGUSR2);
    sa.sa_flags = SA_RESTART;
    check(sigaction(SIGUSR1, &sa, &old) == 0, "sigaction");
    sigemptyset(&set);
    sigaddset(&set, SIGUSR1);
    sigaddset(&set, SIGTERM);
    check(sigprocmask(SIG_BLOCK, &set, &oldset) == 0, "sigprocmask block");
    check(kill(getpid(), SIGUSR1) == 0, "kill");
    check(sigprocmask(SIG_SETMASK, &oldset, NULL) == 0, "sigprocmask restore");
    check(got_signal == SIGUSR1, "signal delivered");
    check(kill(getpid(), 0) == 0, "kill 0");
    check(sigaction(SIGUSR1, &old, NULL) == 0, "sigaction restore");
}

static void times_and_ids(void)
{
    struct timespec ts = { 0, 1000 };
    struct timeval tv;
    struct utsname u;
    struct rlimit rl;
    struct rusage ru;
    unsigned char rnd[8];

    check(clock_gettime(CLOCK_MONOTONIC, &ts) == 0, "clock_gettime");
    check(clock_getres(CLOCK_REALTIME, &ts) == 0, "clock_getres");
    check(gettimeofday(&tv, NULL) == 0, "gettimeofday");
    ts.tv_sec = 0;
    ts.tv_nsec = 1000;
    check(nanosleep(&ts, NULL) == 0, "nanosleep");
    check(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL) == 0, "clock_nanosleep");
    check(uname(&u) == 0, "uname");
    check(getrandom(rnd, sizeof rnd, 0) == sizeof rnd, "getrandom");
    check(getrlimit(RLIMIT_NOFILE, &rl) == 0, "getrlimit");
    check(getrusage(RUSAGE_SELF, &ru) == 0, "getrusage");
    check(syscall(SYS_getppid) > 0, "getppid");
    check(syscall(SYS_getuid) >= 0 && syscall(SYS_getgid) >= 0, "getuid getgid");
    check(syscall(SYS_gettid) > 0, "gettid");
    check(wait4(-1, NULL, WNOHANG, NULL) == -1 && errno == ECHILD, "wait4 ECHILD");
}

int main(void)
{
    char dir[64];

    snprintf(dir, sizeof dir, "/tmp/luahook-manycalls-%d", (int)getpid());
    files(dir);
    descriptors();
    memory();
    sockets(dir);
#ifdef __i386__
    multiplexers();
#endif
    sysv_ipc();
    signals();
    times_and_ids();
    if (failures) {
        return 1;
    }
    printf("done\n");
    return 0;
}
