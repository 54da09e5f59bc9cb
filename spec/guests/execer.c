/*
 * Execs as asked, for the specs of following execve (spec/exec_spec.lua).
 * On failure it prints "execer: CALL failed: ERRNO-NAME" and exits 1.
 *
 *   execer exec PATH ARG0 [ARGS...]  execve(PATH, [ARG0, ARGS...])
 *   execer noargs PATH               execve(PATH, [] ): no arguments at all
 *   execer at DIR NAME ARG0 [ARGS...]  execveat(open(DIR), NAME, ...)
 *   execer fexec PATH ARG0 [ARGS...] fexecve(open(PATH, O_CLOEXEC), ...)
 *   execer memfd PATH ARG0 [ARGS...] PATH copied into a memfd, fexecve'd
 *   execer big BYTES PATH            execve(PATH, [PATH, "x" * BYTES])
 *   execer many COUNT BYTES PATH     COUNT arguments of BYTES each
 *   execer fds PATH ARG0 [ARGS...]   fd 5 open, fd 6 close-on-exec, then exec
 *   execer show                      argv, the variables EXECER*, LD_* and QEMU_*,
 *                                    the cwd, the process's name, which of fds 3-9
 *                                    are open
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

extern char **environ;

static const char *errno_name(int e)
{
    switch (e) {
    case ENOENT: return "ENOENT";
    case EACCES: return "EACCES";
    case ENOEXEC: return "ENOEXEC";
    case E2BIG: return "E2BIG";
    case ELOOP: return "ELOOP";
    case EFAULT: return "EFAULT";
    case EINVAL: return "EINVAL";
    case ENOTDIR: return "ENOTDIR";
    default: return "other";
    }
}

static int failed(const char *call)
{
    printf("execer: %s failed: %s\n", call, errno_name(errno));
    return 1;
}

static int show(int argc, char **argv)
{
    char cwd[4096], name[17];

    for (int i = 0; i < argc; i++) {
        printf("argv[%d]=%s\n", i, argv[i]);
    }
    for (char **var = environ; *var; var++) {
        if (!strncmp(*var, "EXECER", 6) || !strncmp(*var, "LD_", 3) || !strncmp(*var, "QEMU_", 5)) {
            printf("env %s\n", *var);
        }
    }
    printf("cwd=%s\n", getcwd(cwd, sizeof(cwd)) ? cwd : "?");
    memset(name, 0, sizeof(name));
    prctl(PR_GET_NAME, name);
    printf("name=%s\n", name);
    printf("open:");
    for (int fd = 3; fd < 10; fd++) {
        if (fcntl(fd, F_GETFD) >= 0) {
            printf(" %d", fd);
        }
    }
    printf("\n");
    return 0;
}

static int copy_to_memfd(const char *path)
{
    int in = open(path, O_RDONLY);
    int out = (int)syscall(SYS_memfd_create, "execer", MFD_CLOEXEC);
    char buf[65536];
    ssize_t n;

    if (in < 0 || out < 0) {
        return -1;
    }
    while ((n = read(in, buf, sizeof(buf))) > 0) {
        if (write(out, buf, (size_t)n) != n) {
            return -1;
        }
    }
    close(in);
    return out;
}

/* COUNT arguments of BYTES 'x' each after PATH. */
static int exec_filled(const char *path, long count, long bytes)
{
    char **args = calloc((size_t)count + 2, sizeof(*args));
    char *text = malloc((size_t)bytes + 1);

    memset(text, 'x', (size_t)bytes);
    text[bytes] = '\0';
    args[0] = (char *)path;
    for (long i = 1; i <= count; i++) {
        args[i] = text;
    }
    execve(path, args, environ);
    return failed("execve");
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";

    setvbuf(stdout, NULL, _IONBF, 0);
    if (!strcmp(mode, "exec") && argc >= 4) {
        execve(argv[2], argv + 3, environ);
        return failed("execve");
    }
    if (!strcmp(mode, "noargs") && argc == 3) {
        char *none[] = { NULL };

        execve(argv[2], none, environ);
        return failed("execve");
    }
    if (!strcmp(mode, "at") && argc >= 5) {
        int dir = open(argv[2], O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        syscall(SYS_execveat, dir, argv[3], argv + 4, environ, 0);
        return failed("execveat");
    }
    if (!strcmp(mode, "fexec") && argc >= 4) {
        int fd = open(argv[2], O_RDONLY | O_CLOEXEC);

        fexecve(fd, argv + 3, environ);
        return failed("fexecve");
    }
    if (!strcmp(mode, "memfd") && argc >= 4) {
        int fd = copy_to_memfd(argv[2]);

        fexecve(fd, argv + 3, environ);
        return failed("fexecve");
    }
    if (!strcmp(mode, "big") && argc == 4) {
        return exec_filled(argv[3], 1, atol(argv[2]));
    }
    if (!strcmp(mode, "many") && argc == 5) {
        return exec_filled(argv[4], atol(argv[2]), atol(argv[3]));
    }
    if (!strcmp(mode, "fds") && argc >= 4) {
        int keep = open("/dev/null", O_RDONLY);
        int shut = open("/dev/null", O_RDONLY | O_CLOEXEC);

        dup2(keep, 5);
        dup3(shut, 6, O_CLOEXEC);
        if (keep != 5 && keep != 6) {
            close(keep);
        }
        if (shut != 5 && shut != 6) {
            close(shut);
        }
        execve(argv[2], argv + 3, environ);
        return failed("execve");
    }
    if (!strcmp(mode, "show")) {
        return show(argc, argv);
    }
    fprintf(stderr, "usage: execer exec|noargs|at|fexec|memfd|big|many|fds|show ...\n");
    return 2;
}
