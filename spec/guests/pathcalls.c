/*
 * Makes every path-taking file syscall in directory DIR, through the raw
 * syscall, and prints one line per call: what it returned and what it
 * wrote (structures in hex), so that a spec can compare, line for line, a
 * run under bare QEMU with a run under scripts/sandbox.lua.
 * usage: pathcalls DIR
 * DIR holds, made by the spec: f (a file of 6 bytes), l -> f and rl -> f
 * (symlinks to stat and to read), d/ (a directory), r (a file), and an
 * empty directory w/ where the calls that change things work (and leave it
 * empty again). Nothing stat'ed is read or written, so the times the lines
 * show stay put between two runs.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#if defined(__mips__) && defined(__MIPSEB__)
#define PAIR(n) 0, 0, (n)
#elif defined(__ARM_EABI__) || defined(__mips__)
#define PAIR(n) 0, (n), 0
#else
#define PAIR(n) (n), 0
#endif

#define RESOLVE_NO_SYMLINKS 0x04
#define RESOLVE_IN_ROOT 0x10
#ifndef AT_EACCESS
#define AT_EACCESS 0x200
#endif

/* i386 has the old stat and stat64; x86_64 has stat, which is both */
#ifdef SYS_stat64
#define SYS_STAT64 SYS_stat64
#define SYS_LSTAT64 SYS_lstat64
#define SYS_FSTATAT SYS_fstatat64
#define STAT64 "stat64"
#define LSTAT64 "lstat64"
#define FSTATAT "fstatat64"
#define STAT_SIZE 64
#define STAT64_SIZE 96
#else
#define SYS_STAT64 SYS_stat
#define SYS_LSTAT64 SYS_lstat
#define SYS_FSTATAT SYS_newfstatat
#define STAT64 "stat"
#define LSTAT64 "lstat"
#define FSTATAT "newfstatat"
#define STAT_SIZE 144
#define STAT64_SIZE 144
#endif

static unsigned char buf[512];

/* Prints "what = result" and, when `len` > 0 and the call worked, the
 * first `len` bytes of buf in hex. */
static void show(const char *what, long r, size_t len)
{
    if (r < 0) {
        printf("%s = -1 errno %d\n", what, errno);
        return;
    }
    printf("%s = %ld", what, r);
    if (len > 0) {
        printf(" ");
        for (size_t i = 0; i < len; i++) {
            printf("%02x", buf[i]);
        }
    }
    printf("\n");
}

#define CALL(what, len, ...) do { \
        memset(buf, 0xa5, sizeof(buf)); \
        show(what, syscall(__VA_ARGS__), len); \
    } while (0)

/* A descriptor's mode and size (stat through it: not a path call). */
static void describe(const char *what, long fd)
{
    struct stat st;

    if (fd < 0) {
        show(what, fd, 0);
        return;
    }
    fstat((int)fd, &st);
    printf("%s = %ld mode %o size %lld flags %x\n", what, fd, (unsigned)st.st_mode,
           (long long)st.st_size, (unsigned)fcntl((int)fd, F_GETFL));
    close((int)fd);
}

static void opens(int dir)
{
    uint64_t how[3] = { O_RDONLY, 0, 0 };
    long a, b;

    describe("open f", syscall(SYS_open, "f", O_RDONLY));
    describe("open missing", syscall(SYS_open, "missing", O_RDONLY));
    describe("open f excl", syscall(SYS_open, "f", O_RDONLY | O_CREAT | O_EXCL, 0600));
    describe("open d for writing", syscall(SYS_open, "d", O_WRONLY));
    describe("open l nofollow", syscall(SYS_open, "l", O_RDONLY | O_NOFOLLOW));
    describe("open l path nofollow", syscall(SYS_open, "l", O_PATH | O_NOFOLLOW));
    describe("open f directory", syscall(SYS_open, "f", O_RDONLY | O_DIRECTORY));
    describe("open d directory", syscall(SYS_open, "d", O_RDONLY | O_DIRECTORY));
    describe("open f append", syscall(SYS_open, "f", O_RDONLY | O_APPEND | O_NONBLOCK));
    describe("open bad flags", syscall(SYS_open, "missing", O_RDONLY | O_CREAT | O_DIRECTORY, 0600));
    describe("open w/new", syscall(SYS_open, "w/new", O_WRONLY | O_CREAT | O_TRUNC, 0640));
    describe("open w/new again", syscall(SYS_open, "w/new", O_RDWR | O_CREAT, 0600));
    describe("open w/new/", syscall(SYS_open, "w/new/", O_RDWR | O_CREAT, 0600));
    CALL("unlink w/new", 0, SYS_unlink, "w/new");
    CALL("symlink target w/dangling", 0, SYS_symlink, "target", "w/dangling");
    describe("open w/dangling create", syscall(SYS_open, "w/dangling", O_WRONLY | O_CREAT, 0600));
    describe("open w/dangling excl", syscall(SYS_open, "w/dangling", O_WRONLY | O_CREAT | O_EXCL, 0600));
    CALL("unlink w/target", 0, SYS_unlink, "w/target");
    CALL("unlink w/dangling", 0, SYS_unlink, "w/dangling");
    describe("open w tmpfile", syscall(SYS_open, "w", O_RDWR | O_TMPFILE, 0600));
    describe("creat w/c", syscall(SYS_creat, "w/c", 0600));
    CALL("unlink w/c", 0, SYS_unlink, "w/c");
    describe("openat d/..", syscall(SYS_openat, dir, "../f", O_RDONLY));
    describe("openat2 f", syscall(SYS_openat2, AT_FDCWD, "f", how, sizeof(how)));
    how[2] = RESOLVE_NO_SYMLINKS;
    describe("openat2 l no symlinks", syscall(SYS_openat2, AT_FDCWD, "l", how, sizeof(how)));
    how[2] = RESOLVE_IN_ROOT;
    describe("openat2 in root", syscall(SYS_openat2, dir, "/../../f", how, sizeof(how)));
    how[2] = 0;
    describe("openat2 short", syscall(SYS_openat2, AT_FDCWD, "f", how, 8));
    /* the lowest free number, as the kernel gives it */
    a = syscall(SYS_open, "f", O_RDONLY);
    b = syscall(SYS_open, "f", O_RDONLY);
    close((int)a);
    printf("numbers %ld %ld then %ld\n", a, b, (long)syscall(SYS_open, "r", O_RDONLY));
    close((int)a);
    close((int)b);
}

static void stats(int dir)
{
    CALL(STAT64 " f", STAT64_SIZE, SYS_STAT64, "f", buf);
    CALL(LSTAT64 " l", STAT64_SIZE, SYS_LSTAT64, "l", buf);
    CALL(STAT64 " missing", STAT64_SIZE, SYS_STAT64, "missing", buf);
    CALL(FSTATAT " d", STAT64_SIZE, SYS_FSTATAT, dir, "", buf, AT_EMPTY_PATH);
    CALL(FSTATAT " l nofollow", STAT64_SIZE, SYS_FSTATAT, AT_FDCWD, "l", buf, AT_SYMLINK_NOFOLLOW);
    CALL(FSTATAT " bad flags", STAT64_SIZE, SYS_FSTATAT, AT_FDCWD, "missing", buf, 0x8000);
    CALL("stat f", STAT_SIZE, SYS_stat, "f", buf);
    CALL("lstat l", STAT_SIZE, SYS_lstat, "l", buf);
#ifdef SYS_statfs64
    CALL("statfs64 .", 12, SYS_statfs64, ".", 84, buf);
#endif
    CALL("statfs .", 8, SYS_statfs, ".", buf);
    CALL("statx f", 256, SYS_statx, AT_FDCWD, "f", 0, 0x7ff, buf);
    CALL("statx l nofollow", 256, SYS_statx, AT_FDCWD, "l", AT_SYMLINK_NOFOLLOW, 0xfff, buf);
    CALL("statx d empty", 256, SYS_statx, dir, "", AT_EMPTY_PATH, 0x7ff, buf);
    CALL("statx bad mask", 256, SYS_statx, AT_FDCWD, "f", 0, 0x80000000u, buf);
    CALL("statx missing", 256, SYS_statx, AT_FDCWD, "missing", 0, 0x7ff, buf);
    CALL("access f", 0, SYS_access, "f", R_OK | W_OK);
    CALL("access missing", 0, SYS_access, "missing", F_OK);
    CALL("faccessat d/..", 0, SYS_faccessat, dir, "../f", R_OK);
    CALL("faccessat2 l", 0, SYS_faccessat2, AT_FDCWD, "l", R_OK, AT_EACCESS | AT_SYMLINK_NOFOLLOW);
    CALL("faccessat2 bad mode", 0, SYS_faccessat2, AT_FDCWD, "missing", 0x10, 0);
    CALL("readlink rl", 8, SYS_readlink, "rl", buf, 8);
    CALL("readlink f", 0, SYS_readlink, "f", buf, 8);
    CALL("readlink rl short", 1, SYS_readlink, "rl", buf, 1);
    CALL("readlink rl zero", 0, SYS_readlink, "rl", buf, 0);
    CALL("readlinkat d ../rl", 1, SYS_readlinkat, dir, "../rl", buf, 64);
    {
        long n = syscall(SYS_readlink, "/proc/self/exe", buf, sizeof(buf));
        printf("readlink /proc/self/exe = %ld %.*s\n", n, n > 0 ? (int)n : 0, (char *)buf);
    }
}

static void changes(void)
{
    describe("open w/t", syscall(SYS_open, "w/t", O_WRONLY | O_CREAT, 0644));
    CALL("truncate w/t", 0, SYS_truncate, "w/t", 3);
    describe("open w/t size", syscall(SYS_open, "w/t", O_RDONLY));
    CALL("truncate w/t negative", 0, SYS_truncate, "w/t", -1);
#ifdef SYS_truncate64
    /* the length as the kernel takes it: low and high words, on arm EABI
     * and mips o32 from an even register (a pad before), on big-endian
     * mips high word first */
    CALL("truncate64 w/t", 0, SYS_truncate64, "w/t", PAIR(5));
    CALL("truncate64 w/t back", 0, SYS_truncate64, "w/t", PAIR(3));
#endif
    CALL("chmod w/t", 0, SYS_chmod, "w/t", 0600);
    CALL("fchmodat w/t", 0, SYS_fchmodat, AT_FDCWD, "w/t", 0640);
    describe("open w/t mode", syscall(SYS_open, "w/t", O_RDONLY));
    CALL("chown w/t", 0, SYS_chown, "w/t", -1, -1);
    CALL("fchownat w/t nofollow", 0, SYS_fchownat, AT_FDCWD, "w/t", -1, -1, AT_SYMLINK_NOFOLLOW);
    CALL("fchownat bad flags", 0, SYS_fchownat, AT_FDCWD, "missing", -1, -1, 0x8000);
#ifdef SYS_utime
    {
        long times[2] = { 1000000000, 1000000001 };
        CALL("utime w/t", 0, SYS_utime, "w/t", times);
    }
#endif
    {
        struct timespec ts[2] = { { 1, 2 }, { 3, UTIME_OMIT } };
        CALL("utimensat w/t", 0, SYS_utimensat, AT_FDCWD, "w/t", ts, 0);
        ts[1].tv_nsec = 1000000000;
        CALL("utimensat bad time", 0, SYS_utimensat, AT_FDCWD, "missing", ts, 0);
    }
    {
        long tv[4] = { 7, 8, 9, 10 };
        CALL("utimes w/t", 0, SYS_utimes, "w/t", tv);
        CALL("futimesat w/t", 0, SYS_futimesat, AT_FDCWD, "w/t", tv);
    }
    CALL("stat after times", 16, SYS_statx, AT_FDCWD, "w/t", 0, 0x7ff, buf);
    printf("times %lld %lld\n", (long long)((struct statx *)buf)->stx_atime.tv_sec,
           (long long)((struct statx *)buf)->stx_mtime.tv_sec);
    CALL("setxattr w/t", 0, SYS_setxattr, "w/t", "user.k", "value", 5, 0);
    CALL("getxattr w/t", 5, SYS_getxattr, "w/t", "user.k", buf, sizeof(buf));
    CALL("getxattr w/t size", 0, SYS_getxattr, "w/t", "user.k", NULL, 0);
    CALL("getxattr w/t small", 0, SYS_getxattr, "w/t", "user.k", buf, 2);
    CALL("listxattr w/t", 7, SYS_listxattr, "w/t", buf, sizeof(buf));
    CALL("lgetxattr l", 0, SYS_lgetxattr, "l", "user.k", buf, sizeof(buf));
    CALL("removexattr w/t", 0, SYS_removexattr, "w/t", "user.k");
    CALL("removexattr w/t again", 0, SYS_removexattr, "w/t", "user.k");
    CALL("inotify", 0, SYS_inotify_add_watch, (int)syscall(SYS_inotify_init1, O_CLOEXEC), "w/t", 0x2);
    CALL("mkdir w/s", 0, SYS_mkdir, "w/s", 0750);
    CALL("mkdir w/s again", 0, SYS_mkdir, "w/s", 0750);
    CALL("mkdirat w/s/t/", 0, SYS_mkdirat, AT_FDCWD, "w/s/t/", 0700);
    CALL("rmdir w/s", 0, SYS_rmdir, "w/s");
    CALL("rmdir w/s/.", 0, SYS_rmdir, "w/s/.");
    CALL("unlinkat w/s/t dir", 0, SYS_unlinkat, AT_FDCWD, "w/s/t", AT_REMOVEDIR);
    CALL("unlink w/s", 0, SYS_unlink, "w/s");
    CALL("mknod w/p fifo", 0, SYS_mknod, "w/p", S_IFIFO | 0600, 0);
    CALL("mknodat w/q", 0, SYS_mknodat, AT_FDCWD, "w/q", S_IFREG | 0600, 0);
    CALL("rename w/p w/q", 0, SYS_rename, "w/p", "w/q");
    CALL("renameat2 noreplace", 0, SYS_renameat2, AT_FDCWD, "w/q", AT_FDCWD, "w/t", 1);
    CALL("renameat2 exchange", 0, SYS_renameat2, AT_FDCWD, "w/q", AT_FDCWD, "w/t", 2);
    CALL("renameat2 bad flags", 0, SYS_renameat2, AT_FDCWD, "w/q", AT_FDCWD, "w/t", 3);
    CALL("renameat w/q w/r", 0, SYS_renameat, AT_FDCWD, "w/q", AT_FDCWD, "w/r");
    CALL("link w/r w/h", 0, SYS_link, "w/r", "w/h");
    CALL("link w/r w/h again", 0, SYS_link, "w/r", "w/h");
    CALL("link w missing", 0, SYS_link, "w/zz", "w/h2");
    CALL("symlink w/r w/sl", 0, SYS_symlink, "r", "w/sl");
    CALL("lchown w/sl", 0, SYS_lchown, "w/sl", -1, -1);
    CALL("linkat follow", 0, SYS_linkat, AT_FDCWD, "w/sl", AT_FDCWD, "w/h3", AT_SYMLINK_FOLLOW);
    CALL("linkat nofollow", 0, SYS_linkat, AT_FDCWD, "w/sl", AT_FDCWD, "w/h4", 0);
    CALL("symlinkat", 0, SYS_symlinkat, "../f", AT_FDCWD, "w/up");
    CALL("readlink w/up", 4, SYS_readlink, "w/up", buf, sizeof(buf));
    CALL("lstat w/h4", 16, SYS_statx, AT_FDCWD, "w/h4", AT_SYMLINK_NOFOLLOW, 0x7ff, buf);
    printf("h4 mode %o\n", ((struct statx *)buf)->stx_mode);
    CALL("chdir w", 0, SYS_chdir, "w");
    CALL("chdir missing", 0, SYS_chdir, "missing");
    for (const char *const *n = (const char *const[]){ "r", "t", "h", "h3", "h4", "sl", "up", NULL };
         *n; n++) {
        CALL(*n, 0, SYS_unlink, *n);
    }
    CALL("chdir ..", 0, SYS_chdir, "..");
    CALL("rmdir w/s", 0, SYS_rmdir, "w/s");
    CALL("execve missing", 0, SYS_execve, "missing", (char *[]){ "missing", NULL }, (char *[]){ NULL });
    CALL("execve d", 0, SYS_execve, "d", (char *[]){ "d", NULL }, (char *[]){ NULL });
}

static socklen_t unix_address(struct sockaddr_un *sa, const char *path, int abstract)
{
    memset(sa, 0, sizeof(*sa));
    sa->sun_family = AF_UNIX;
    strcpy(sa->sun_path + abstract, path);
    return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + abstract + strlen(path) + 1);
}

/* The AF_UNIX calls whose address names a file, and their kin. */
static void sockets(void)
{
    struct sockaddr_un sa, to;
    socklen_t len;
    long l = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    long c = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    long d = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
    long e = syscall(SYS_socket, AF_UNIX, SOCK_DGRAM, 0);
    long n = syscall(SYS_socket, AF_INET, SOCK_DGRAM, 0);
    char data[8] = "hello";
    struct iovec iov[2] = { { data, 2 }, { data + 2, 3 } };
    union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } control;
    struct msghdr msg = { &to, 0, iov, 2, &control, sizeof(control), 0 };
    struct mmsghdr mm[2];
    int zero = 0;

    len = unix_address(&sa, "w/sock", 0);
    CALL("bind w/sock", 0, SYS_bind, l, &sa, len);
    CALL("bind w/sock again", 0, SYS_bind, c, &sa, len);
    CALL("listen", 0, SYS_listen, l, 1);
    CALL("connect w/sock", 0, SYS_connect, c, &sa, len - 1); /* the NUL left out */
    len = unix_address(&sa, "missing", 0);
    CALL("connect missing", 0, SYS_connect, d, &sa, len);
    len = unix_address(&sa, "f", 0);
    CALL("connect f", 0, SYS_connect, d, &sa, len);
    CALL("connect bad length", 0, SYS_connect, d, &sa, (socklen_t)-1);
    len = unix_address(&sa, "w/dgram", 0);
    CALL("bind w/dgram", 0, SYS_bind, d, &sa, len);
    msg.msg_namelen = unix_address(&to, "w/dgram", 0);
    CALL("sendto w/dgram", 0, SYS_sendto, e, data, 5, 0, &to, msg.msg_namelen);
    CALL("recv", 5, SYS_recvfrom, d, buf, sizeof(buf), 0, NULL, NULL);
    control.h.cmsg_len = CMSG_LEN(sizeof(int));
    control.h.cmsg_level = SOL_SOCKET;
    control.h.cmsg_type = SCM_RIGHTS;
    memcpy(CMSG_DATA(&control.h), &zero, sizeof(int));
    CALL("sendmsg w/dgram with a descriptor", 0, SYS_sendmsg, e, &msg, 0);
    {
        union { struct cmsghdr h; char space[CMSG_SPACE(sizeof(int))]; } got;
        struct iovec in = { buf, sizeof(buf) };
        struct msghdr rm = { NULL, 0, &in, 1, &got, sizeof(got), 0 };
        long r = syscall(SYS_recvmsg, d, &rm, 0);
        printf("recvmsg = %ld %.5s control %d level %d type %d\n", r, (char *)buf,
               (int)rm.msg_controllen, got.h.cmsg_level, got.h.cmsg_type);
        if (rm.msg_controllen > 0) {
            int fd;
            memcpy(&fd, CMSG_DATA(&got.h), sizeof(fd));
            close(fd);
        }
    }
    memset(mm, 0, sizeof(mm));
    mm[0].msg_hdr = msg;
    mm[0].msg_hdr.msg_control = NULL;
    mm[0].msg_hdr.msg_controllen = 0;
    mm[1].msg_hdr = mm[0].msg_hdr;
    mm[1].msg_hdr.msg_iovlen = 1;
    CALL("sendmmsg w/dgram", 0, SYS_sendmmsg, e, mm, 2, 0);
    printf("sendmmsg lengths %u %u\n", mm[0].msg_len, mm[1].msg_len);
    CALL("recv 1", 5, SYS_recvfrom, d, buf, sizeof(buf), 0, NULL, NULL);
    CALL("recv 2", 2, SYS_recvfrom, d, buf, sizeof(buf), 0, NULL, NULL);
    len = unix_address(&sa, "lh-pathcalls-abstract", 1);
    CALL("bind abstract", 0, SYS_bind, e, &sa, len);
    CALL("sendto abstract", 0, SYS_sendto, d, data, 1, 0, &sa, len);
    CALL("sendto inet", 0, SYS_sendto, n, data, 1, 0, &sa, len);
#ifdef SYS_socketcall
    {
        unsigned long args[3] = { (unsigned long)c, (unsigned long)&to, msg.msg_namelen };
        CALL("socketcall connect w/dgram", 0, SYS_socketcall, 3, args);
    }
#endif
    CALL("unlink w/sock", 0, SYS_unlink, "w/sock");
    CALL("unlink w/dgram", 0, SYS_unlink, "w/dgram");
    close((int)l);
    close((int)c);
    close((int)d);
    close((int)e);
    close((int)n);
}

int main(int argc, char **argv)
{
    int dir;

    if (argc != 2 || chdir(argv[1]) != 0) {
        fprintf(stderr, "usage: pathcalls DIR (with f, l, rl, d/, r and an empty w/)\n");
        return 2;
    }
    dir = open("d", O_RDONLY | O_DIRECTORY);
    setvbuf(stdout, NULL, _IOLBF, 0);
    opens(dir);
    stats(dir);
    changes();
    sockets();
    return 0;
}
