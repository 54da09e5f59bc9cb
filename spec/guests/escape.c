/*
 * Tries each operation its arguments name, through the raw syscall, and
 * prints "OP:ARGS = ok" or "OP:ARGS = errno N": the moves a program would
 * make to get out of a sandbox, for specs of scripts/sandbox.lua.
 * usage: escape OP:ARG[:ARG2] ...
 *   open openat openat2 creat stat lstat statx fstatat access readlink
 *   truncate unlink mkdir chdir chroot execve       (one path)
 *   rename link symlink                             (two paths: from, to)
 *   renameat2 exchange linkfollow                   (two paths: renameat2 without flags
 *                                                    and with RENAME_EXCHANGE, linkat
 *                                                    with AT_SYMLINK_FOLLOW)
 *   elf:PATH                                        (open PATH and print its ELF
 *                                                    e_machine: "= machine N")
 *   waitfor:PATH                                    (wait up to 10 s for PATH to exist)
 *   fifo:PATH                                       (make a FIFO at PATH; a second thread
 *                                                    opens it for writing and writes a
 *                                                    byte while this one opens it for
 *                                                    reading and reads it)
 *   socket:FAMILY socketcall:FAMILY                 (inet, inet6 or unix)
 *   connect:PATH                                    (an AF_UNIX socket to PATH)
 *   atdir:DIR:PATH inroot:DIR:PATH                  (openat from a fd of DIR; openat2
 *                                                    with RESOLVE_IN_ROOT)
 *   callregs:PATH                                   (socketcall connect to PATH from
 *                                                    assembly: "= ok" when every register
 *                                                    but eax is as it was, else "= clobbered")
 * socketcall exists on i386 only; elsewhere it prints "= unsupported".
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static char statbuf[512];

static int family(const char *name)
{
    if (!strcmp(name, "inet")) {
        return AF_INET;
    } else if (!strcmp(name, "inet6")) {
        return AF_INET6;
    }
    return AF_UNIX;
}

static long socket_via_socketcall(int af)
{
#ifdef SYS_socketcall
    unsigned long args[3] = { (unsigned long)af, SOCK_STREAM, 0 };

    return syscall(SYS_socketcall, 1 /* SYS_SOCKET */, args);
#else
    (void)af;
    errno = ENOSYS;
    return -2;
#endif
}

static long unix_connect(const char *path)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    long r;

    if (fd < 0) {
        return fd;
    }
    strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
    r = syscall(SYS_connect, fd, &sa, (socklen_t)sizeof(sa));
    close(fd);
    return r;
}

/* socketcall(SYS_CONNECT) of an AF_UNIX socket to `path`, made with every
 * argument register set to a known value: 1 when they all come back as
 * they were (the kernel's promise), 0 when not, -2 where there is none. */
static long socketcall_keeps_registers(const char *path)
{
#if defined(SYS_socketcall) && defined(__i386__)
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    unsigned long args[3];
    long fd = syscall(SYS_socket, AF_UNIX, SOCK_STREAM, 0);
    unsigned long ebx = 3, ecx = (unsigned long)args, edx = 0x1234567, esi = 0x2345678,
                  edi = 0x3456789;
    long r;

    strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
    args[0] = (unsigned long)fd;
    args[1] = (unsigned long)&sa;
    args[2] = sizeof(sa);
    __asm__ volatile("int $0x80"
                     : "=a"(r), "+b"(ebx), "+c"(ecx), "+d"(edx), "+S"(esi), "+D"(edi)
                     : "0"(SYS_socketcall)
                     : "memory");
    close((int)fd);
    (void)r;
    return ebx == 3 && ecx == (unsigned long)args && edx == 0x1234567 && esi == 0x2345678
           && edi == 0x3456789;
#else
    (void)path;
    errno = ENOSYS;
    return -2;
#endif
}

/* Opens `path` from a directory fd of `dir`: openat, or openat2 with `dir`
 * as the root. */
static long open_from(const char *dir, const char *path, int in_root)
{
    uint64_t how[3] = { O_RDONLY, 0, 0x10 /* RESOLVE_IN_ROOT */ };
    long dfd = syscall(SYS_openat, AT_FDCWD, dir, O_RDONLY | O_DIRECTORY);
    long r;

    if (dfd < 0) {
        return dfd;
    }
    r = in_root ? syscall(SYS_openat2, dfd, path, how, sizeof(how))
                : syscall(SYS_openat, dfd, path, O_RDONLY);
    close((int)dfd);
    return r;
}

/* The e_machine of the ELF file at `path`, read through a descriptor. */
static long elf_machine(const char *path)
{
    unsigned char header[20];
    long fd = syscall(SYS_open, path, O_RDONLY);
    ssize_t n;

    if (fd < 0) {
        return fd;
    }
    n = read((int)fd, header, sizeof(header));
    close((int)fd);
    if (n != sizeof(header) || memcmp(header, "\177ELF", 4) != 0) {
        errno = ENOEXEC;
        return -1;
    }
    return header[18] | header[19] << 8;
}

static long wait_for(const char *path)
{
    for (int i = 0; i < 1000; i++) {
        if (syscall(SYS_access, path, F_OK) == 0) {
            return 0;
        }
        usleep(10 * 1000);
    }
    errno = ETIMEDOUT;
    return -1;
}

static void *fifo_writer(void *path)
{
    long fd = syscall(SYS_openat, AT_FDCWD, (char *)path, O_WRONLY);

    if (fd >= 0) {
        (void)!write((int)fd, "x", 1);
        close((int)fd);
    }
    return NULL;
}

/* Both ends of a FIFO opened by two threads of this process, each open
 * waiting for the other. */
static long fifo_pair(char *path)
{
    pthread_t writer;
    char byte = 0;
    long fd;

    if (mkfifo(path, 0600) != 0) {
        return -1;
    }
    pthread_create(&writer, NULL, fifo_writer, path);
    fd = syscall(SYS_openat, AT_FDCWD, path, O_RDONLY);
    if (fd >= 0) {
        (void)!read((int)fd, &byte, 1);
        close((int)fd);
    }
    pthread_join(writer, NULL);
    unlink(path);
    if (fd >= 0 && byte != 'x') {
        errno = EIO;
        return -1;
    }
    return fd < 0 ? fd : 0;
}

/* The result of one operation: >= 0 for success, -1 with errno set. */
static long attempt(const char *op, char *a, char *b)
{
    char *argv[] = { a, NULL };
    uint64_t how[3] = { O_RDONLY, 0, 0 };

    if (!strcmp(op, "open")) {
        return syscall(SYS_open, a, O_RDONLY);
    } else if (!strcmp(op, "openat")) {
        return syscall(SYS_openat, AT_FDCWD, a, O_RDONLY);
    } else if (!strcmp(op, "openat2")) {
        return syscall(SYS_openat2, AT_FDCWD, a, how, sizeof(how));
    } else if (!strcmp(op, "creat")) {
        return syscall(SYS_creat, a, 0600);
    } else if (!strcmp(op, "stat")) {
        return syscall(SYS_stat, a, statbuf);
    } else if (!strcmp(op, "lstat")) {
        return syscall(SYS_lstat, a, statbuf);
    } else if (!strcmp(op, "statx")) {
        return syscall(SYS_statx, AT_FDCWD, a, 0, 0x7ff, statbuf);
    } else if (!strcmp(op, "fstatat")) {
#ifdef SYS_newfstatat
        return syscall(SYS_newfstatat, AT_FDCWD, a, statbuf, 0);
#else
        return syscall(SYS_fstatat64, AT_FDCWD, a, statbuf, 0);
#endif
    } else if (!strcmp(op, "access")) {
        return syscall(SYS_access, a, F_OK);
    } else if (!strcmp(op, "readlink")) {
        return syscall(SYS_readlink, a, statbuf, sizeof(statbuf));
    } else if (!strcmp(op, "truncate")) {
        return syscall(SYS_truncate, a, 0);
    } else if (!strcmp(op, "unlink")) {
        return syscall(SYS_unlink, a);
    } else if (!strcmp(op, "mkdir")) {
        return syscall(SYS_mkdir, a, 0700);
    } else if (!strcmp(op, "chdir")) {
        return syscall(SYS_chdir, a);
    } else if (!strcmp(op, "chroot")) {
        return syscall(SYS_chroot, a);
    } else if (!strcmp(op, "execve")) {
        fflush(stdout);
        return syscall(SYS_execve, a, argv, NULL);
    } else if (!strcmp(op, "rename") && b) {
        return syscall(SYS_rename, a, b);
    } else if (!strcmp(op, "link") && b) {
        return syscall(SYS_link, a, b);
    } else if (!strcmp(op, "symlink") && b) {
        return syscall(SYS_symlink, a, b);
    } else if (!strcmp(op, "renameat2") && b) {
        return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 0);
    } else if (!strcmp(op, "exchange") && b) {
        return syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, 2 /* RENAME_EXCHANGE */);
    } else if (!strcmp(op, "linkfollow") && b) {
        return syscall(SYS_linkat, AT_FDCWD, a, AT_FDCWD, b, AT_SYMLINK_FOLLOW);
    } else if (!strcmp(op, "elf")) {
        return elf_machine(a);
    } else if (!strcmp(op, "waitfor")) {
        return wait_for(a);
    } else if (!strcmp(op, "fifo")) {
        return fifo_pair(a);
    } else if (!strcmp(op, "socket")) {
        return syscall(SYS_socket, family(a), SOCK_STREAM, 0);
    } else if (!strcmp(op, "socketcall")) {
        return socket_via_socketcall(family(a));
    } else if (!strcmp(op, "connect")) {
        return unix_connect(a);
    } else if (!strcmp(op, "callregs")) {
        return socketcall_keeps_registers(a);
    } else if (!strcmp(op, "atdir") && b) {
        return open_from(a, b, 0);
    } else if (!strcmp(op, "inroot") && b) {
        return open_from(a, b, 1);
    }
    fprintf(stderr, "escape: unknown operation '%s'\n", op);
    exit(2);
}

static int returns_fd(const char *op)
{
    static const char *const fd_ops[] = {
        "open", "openat", "openat2", "creat", "socket", "socketcall", "atdir", "inroot",
    };

    for (size_t i = 0; i < sizeof(fd_ops) / sizeof(fd_ops[0]); i++) {
        if (!strcmp(op, fd_ops[i])) {
            return 1;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char *text = strdup(argv[i]);
        char *op = strtok(text, ":");
        char *a = strtok(NULL, ":");
        char *b = strtok(NULL, ":");
        long r;

        if (!a) {
            fprintf(stderr, "escape: '%s' needs an argument (OP:ARG)\n", argv[i]);
            return 2;
        }
        r = attempt(op, a, b);
        if (r == -2) {
            printf("%s = unsupported\n", argv[i]);
        } else if (r < 0) {
            printf("%s = errno %d\n", argv[i], errno);
        } else if (!strcmp(op, "elf")) {
            printf("%s = machine %ld\n", argv[i], r);
        } else if (!strcmp(op, "callregs")) {
            printf("%s = %s\n", argv[i], r ? "ok" : "clobbered");
        } else {
            printf("%s = ok\n", argv[i]);
            if (returns_fd(op)) {
                close((int)r);
            }
        }
        free(text);
    }
    return 0;
}
