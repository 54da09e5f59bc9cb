/*
 * The kernel's side of an execve, up to the point where the new program
 * would start, for a program QEMU runs instead (binfmt.h). In the order
 * Linux 6 checks them:
 *
 *   1. the file: execveat's flags, the path's lookup, a regular file with
 *      execute permission (ENOENT, ENOTDIR, ELOOP, EACCES, EINVAL, ...);
 *   2. the arguments and environment: each string at most MAX_ARG_STRLEN,
 *      all of them within a quarter of the stack limit (E2BIG);
 *   3. the format: a "#!" script names its interpreter, which is opened
 *      the same way and gets the arguments (interpreter, its optional
 *      argument, the script's path, the old arguments but the first), up
 *      to MAX_SCRIPT_DEPTH scripts deep (ELOOP beyond); an ELF file must be
 *      a program of a guest architecture (elf_guest.c); anything else is
 *      ENOEXEC.
 *
 * Not reproduced: ETXTBSY for a file open for writing, and a file with
 * execute but no read permission, which QEMU cannot load (EACCES).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "binfmt.h"

/* What the kernel reads of a file to learn its format. */
#define BINPRM_BUF_SIZE 256
/* "#!" scripts one exec follows: the program after the fifth is the last. */
#define MAX_SCRIPT_DEPTH 5
/* A process's name, NUL included. */
#define TASK_COMM_LEN 16
/* The longest argument or variable, NUL included (32 pages). */
#define MAX_ARG_STRLEN (32 * 4096)
/* Arguments and environment get a quarter of the stack limit, at most
 * three quarters of the default 8 MiB limit, at least ARG_MAX. */
#define STACK_LIMIT_DEFAULT (8UL << 20)
#define ARG_SPACE_FLOOR 131072UL

/* A growing NULL-terminated list of malloc'ed strings. */
struct strv {
    char **v;
    size_t n, cap;
};

static bool strv_push(struct strv *s, const char *text)
{
    if (s->n + 2 > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        char **v = realloc(s->v, cap * sizeof(*v));

        if (!v) {
            return false;
        }
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n] = strdup(text);
    if (!s->v[s->n]) {
        return false;
    }
    s->v[++s->n] = NULL;
    return true;
}

static void strv_free(char **v)
{
    for (size_t i = 0; v && v[i]; i++) {
        free(v[i]);
    }
    free(v);
}

static size_t count(char *const *v)
{
    size_t n = 0;

    while (v && v[n]) {
        n++;
    }
    return n;
}

/*
 * Bytes the strings may take once `pointers` pointers are set aside, or 0
 * when the pointers alone are too many (the kernel's bprm_stack_limits).
 */
static size_t arg_space(size_t pointers)
{
    struct rlimit rl;
    size_t limit = STACK_LIMIT_DEFAULT / 4 * 3;
    size_t ptr_size = pointers * sizeof(void *);

    if (getrlimit(RLIMIT_STACK, &rl) == 0 && rl.rlim_cur / 4 < limit) {
        limit = rl.rlim_cur / 4;
    }
    if (limit < ARG_SPACE_FLOOR) {
        limit = ARG_SPACE_FLOOR;
    }
    return limit > ptr_size ? limit - ptr_size : 0;
}

/* One string's share of the space, NUL included; 0 when it is too long. */
static size_t string_cost(const char *s)
{
    size_t len = strnlen(s, MAX_ARG_STRLEN) + 1;

    return len > MAX_ARG_STRLEN ? 0 : len;
}

/*
 * Opens the file exec would run, checking what the kernel checks first:
 * the lookup, a regular file, execute permission. 0 with *fd (close-on-exec),
 * or the errno.
 */
static int open_exec(int dirfd, const char *path, int flags, int *fd)
{
    int at = flags & (AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH);
    struct stat st;

    if (fstatat(dirfd, path, &st, at) != 0) {
        return errno;
    }
    if (S_ISLNK(st.st_mode)) {
        return ELOOP;          /* AT_SYMLINK_NOFOLLOW named a symlink */
    }
    if (!S_ISREG(st.st_mode)) {
        return EACCES;         /* the kernel runs regular files only */
    }
    if (faccessat(dirfd, path, X_OK, AT_EACCESS | at) != 0) {
        return errno;
    }
    if (*path) {
        *fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC
                                  | (flags & AT_SYMLINK_NOFOLLOW ? O_NOFOLLOW : 0));
    } else {
        char proc[64];         /* AT_EMPTY_PATH: the descriptor's own file */

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
        *fd = open(proc, O_RDONLY | O_CLOEXEC);
    }
    return *fd < 0 ? errno : 0;
}

/* Whether `path` is the calling process's own /proc/PID/exe (as QEMU reads it). */
static bool is_self_exe(const char *path)
{
    char mine[64];

    snprintf(mine, sizeof(mine), "/proc/%d/exe", (int)getpid());
    return !strcmp(path, "/proc/self/exe") || !strcmp(path, mine);
}

/*
 * The name a script's interpreter gets for the script, as the kernel
 * makes it: the path given, or /dev/fd/N/PATH relative to execveat's
 * descriptor. *inaccessible: the new program cannot open that name (the
 * descriptor is closed by the exec).
 */
static char *script_name(int dirfd, const char *path, bool *inaccessible)
{
    char *name = NULL;
    int fd_flags;

    *inaccessible = false;
    if (dirfd == AT_FDCWD || path[0] == '/') {
        return strdup(path);
    }
    fd_flags = fcntl(dirfd, F_GETFD);
    *inaccessible = fd_flags >= 0 && (fd_flags & FD_CLOEXEC);
    if ((*path ? asprintf(&name, "/dev/fd/%d/%s", dirfd, path)
               : asprintf(&name, "/dev/fd/%d", dirfd)) < 0) {
        return NULL;
    }
    return name;
}

/*
 * A path for the open file `fd` that the new process can open: its own
 * path when that still leads to it, else /proc/self/fd/FD, which keeps
 * `fd` (*keep).
 */
static char *reachable_path(int fd, bool *keep)
{
    char proc[64], target[4096];
    struct stat by_fd, by_name;
    ssize_t n;
    char *path = NULL;

    snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
    n = readlink(proc, target, sizeof(target) - 1);
    *keep = true;
    if (n > 0 && target[0] == '/' && fstat(fd, &by_fd) == 0) {
        target[n] = '\0';
        if (stat(target, &by_name) == 0 && by_name.st_dev == by_fd.st_dev
            && by_name.st_ino == by_fd.st_ino) {
            *keep = false;
            return strdup(target);
        }
    }
    return asprintf(&path, "%s", proc) < 0 ? NULL : path;
}

static bool blank(char c)
{
    return c == ' ' || c == '\t';
}

/*
 * The first character of [from, last] that ends a word (a blank or a NUL)
 * when `word_end`, else the first that is not blank; NULL if none.
 */
static char *find(char *from, char *last, bool word_end)
{
    for (; from <= last; from++) {
        if (word_end ? blank(*from) || !*from : !blank(*from)) {
            return from;
        }
    }
    return NULL;
}

/*
 * Parses the "#!" line in `buf` (BINPRM_BUF_SIZE bytes, zero-filled past
 * the file's end) as the kernel does: the interpreter's name and its one
 * optional argument (everything after the name, trailing blanks cut),
 * terminated in place. 0, or ENOEXEC for a line that names none or may
 * have been cut short.
 */
static int parse_shebang(char *buf, char **name, char **arg)
{
    char *last = buf + BINPRM_BUF_SIZE - 1;
    char *end = memchr(buf, '\n', BINPRM_BUF_SIZE);
    char *sep;

    if (!end) {
        /* no newline: the name must end before the buffer does */
        end = find(buf + 2, last, false);
        if (!end || !find(end, last, true)) {
            return ENOEXEC;
        }
        end = last;
    }
    while (blank(end[-1])) {
        end--;
    }
    *name = find(buf + 2, end, false);
    if (!*name || *name == end) {
        return ENOEXEC;
    }
    *arg = NULL;
    sep = find(*name, end, true);
    if (sep && *sep) {
        *arg = find(sep, end, false);
    }
    *end = '\0';
    if (*arg) {
        *sep = '\0';
    }
    return 0;
}

/* An exec under way: the file reached so far and what it will be given. */
struct walk {
    int fd;                    /* the file, open */
    char *filename;            /* its name for a script's interpreter */
    bool inaccessible;         /* ... which the new program cannot open */
    struct strv args;
    size_t used, space;        /* bytes the strings take, and may take */
    int depth;                 /* scripts passed */
    struct lh_binfmt_failure *failure;
};

/*
 * A script's arguments as the kernel rewrites them: the interpreter, its
 * argument if any, the script's name, then the old ones without the first.
 */
static int rewrite_args(struct walk *w, const char *interp, const char *arg)
{
    struct strv next = { 0 };
    const char *head[] = { interp, arg, w->filename };

    w->used -= strlen(w->args.v[0]) + 1;
    for (size_t i = 0; i < 3; i++) {
        size_t cost;

        if (!head[i]) {
            continue;
        }
        cost = string_cost(head[i]);
        w->used += cost;
        if (!cost || w->used > w->space) {
            strv_free(next.v);
            return E2BIG;
        }
        if (!strv_push(&next, head[i])) {
            strv_free(next.v);
            return ENOMEM;
        }
    }
    for (size_t i = 1; i < w->args.n; i++) {
        if (!strv_push(&next, w->args.v[i])) {
            strv_free(next.v);
            return ENOMEM;
        }
    }
    strv_free(w->args.v);
    w->args = next;
    return 0;
}

/* Moves the walk on from a script to its interpreter `name`. */
static int enter_interpreter(struct walk *w, const char *name)
{
    int fd = -1;
    /* an empty name is the working directory to the kernel */
    int err = open_exec(AT_FDCWD, *name ? name : ".", 0, &fd);

    if (err) {
        w->failure->file = strdup(name);
        return err;
    }
    close(w->fd);
    w->fd = fd;
    free(w->filename);
    w->filename = strdup(name);
    w->depth++;
    return w->filename ? 0 : ENOMEM;
}

/* Follows #! scripts from the walk's file to the ELF program at the end. */
static int follow_scripts(struct walk *w, struct lh_elf_guest *elf)
{
    for (;;) {
        char buf[BINPRM_BUF_SIZE] = { 0 };
        char *interp, *arg;
        int err;

        if (w->depth > MAX_SCRIPT_DEPTH) {
            return ELOOP;
        }
        if (pread(w->fd, buf, sizeof(buf), 0) < 0) {
            return errno;
        }
        if (buf[0] != '#' || buf[1] != '!') {
            err = lh_elf_guest_read(w->fd, w->filename, elf, &w->failure->why);
            if (err && memcmp(buf, "\177ELF", 4)) {
                free(w->failure->why);  /* not ELF: no format, rather than no QEMU */
                w->failure->why = NULL;
            }
            return err;
        }
        err = parse_shebang(buf, &interp, &arg);
        if (!err && w->inaccessible) {
            err = ENOENT;      /* the interpreter could not open the script */
        }
        if (!err) {
            err = rewrite_args(w, interp, arg);
        }
        if (!err) {
            err = enter_interpreter(w, interp);
        }
        w->inaccessible = false;
        if (err) {
            return err;
        }
    }
}

/* The bytes of the arguments, environment and filename, or E2BIG. */
static int measure(const struct lh_binfmt_request *req, struct walk *w)
{
    size_t argc = count(req->argv), envc = count(req->envp);
    char *const *lists[] = { req->argv, req->envp };

    w->space = arg_space((argc ? argc : 1) + envc);
    w->used = string_cost(w->filename) + (argc ? 0 : 1);  /* argc 0 gets "" */
    if (!w->space) {
        return E2BIG;
    }
    for (size_t l = 0; l < 2; l++) {
        for (size_t i = 0; lists[l] && lists[l][i]; i++) {
            size_t cost = string_cost(lists[l][i]);

            w->used += cost;
            if (!cost || w->used > w->space) {
                return E2BIG;
            }
        }
    }
    return 0;
}

static int copy_args(const struct lh_binfmt_request *req, struct strv *args)
{
    if (!req->argv || !req->argv[0]) {
        return strv_push(args, "") ? 0 : ENOMEM;
    }
    for (size_t i = 0; req->argv[i]; i++) {
        if (!strv_push(args, req->argv[i])) {
            return ENOMEM;
        }
    }
    return 0;
}

/*
 * The name the kernel gives the process (its comm, 15 bytes at most): the
 * last part of the path given, or for execveat relative to a descriptor
 * the name of the file itself. Scripts do not change it.
 */
static char *process_name(int dirfd, const char *path, int fd)
{
    char proc[64], target[4096];
    const char *name = path;
    ssize_t n;

    if (dirfd != AT_FDCWD && path[0] != '/') {
        static const char deleted[] = " (deleted)";    /* a memfd's, say */

        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
        n = readlink(proc, target, sizeof(target) - 1);
        n = n > 0 ? n : 0;
        if ((size_t)n >= sizeof(deleted) - 1
            && !memcmp(target + n - (sizeof(deleted) - 1), deleted, sizeof(deleted) - 1)) {
            n -= sizeof(deleted) - 1;
        }
        target[n] = '\0';
        name = target;
    }
    if (strrchr(name, '/')) {
        name = strrchr(name, '/') + 1;
    }
    return strndup(name, TASK_COMM_LEN - 1);
}

/*
 * Where the new process finds the program the walk ended at: an
 * interpreter by the name its script gave, the first file by the path the
 * caller gave, or by one found for execveat's descriptor.
 */
static int program_path(const struct walk *w, int dirfd, const char *path,
                        struct lh_binfmt_program *out)
{
    bool keep = false;

    if (w->depth > 0) {
        out->path = strdup(w->filename);
    } else if (dirfd == AT_FDCWD || path[0] == '/') {
        out->path = strdup(path);
    } else {
        out->path = reachable_path(w->fd, &keep);
    }
    if (!out->path) {
        return ENOMEM;
    }
    if (keep) {
        out->fd = w->fd;
    }
    return 0;
}

int lh_binfmt_resolve(const struct lh_binfmt_request *req, struct lh_binfmt_program *out,
                      struct lh_binfmt_failure *failure)
{
    const char *path = req->path;
    int dirfd = req->dirfd;
    struct walk w = { .fd = -1, .failure = failure };
    int err;

    memset(out, 0, sizeof(*out));
    memset(failure, 0, sizeof(*failure));
    out->fd = -1;
    if (req->self_exe && is_self_exe(path)) {
        path = req->self_exe;  /* QEMU hands the host its guest program's path */
        dirfd = AT_FDCWD;
    }
    err = req->flags & ~(AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH) ? EINVAL
                                                              : open_exec(dirfd, path, req->flags, &w.fd);
    if (!err) {
        /* named as the guest named it: /proc/self/exe makes "exe" */
        out->comm = process_name(req->dirfd, req->path, w.fd);
        err = out->comm ? 0 : ENOMEM;
    }
    if (!err) {
        w.filename = script_name(dirfd, path, &w.inaccessible);
        err = !w.filename ? ENOMEM : req->args_error;
    }
    if (!err) {
        err = measure(req, &w);
    }
    if (!err) {
        err = copy_args(req, &w.args);
    }
    if (!err) {
        err = follow_scripts(&w, &out->elf);
    }
    if (!err) {
        err = program_path(&w, dirfd, path, out);
    }
    if (!err) {
        out->argv = w.args.v;
        w.args.v = NULL;
        if (out->fd == w.fd) {
            w.fd = -1;
        }
    }
    if (w.fd >= 0) {
        close(w.fd);
    }
    strv_free(w.args.v);
    if (err) {
        lh_binfmt_program_free(out);
        if (!failure->file) {
            failure->file = strdup(w.filename ? w.filename : path);
        }
    }
    free(w.filename);
    return err;
}

void lh_binfmt_failure_free(struct lh_binfmt_failure *failure)
{
    free(failure->file);
    free(failure->why);
    memset(failure, 0, sizeof(*failure));
}

void lh_binfmt_program_free(struct lh_binfmt_program *prog)
{
    free(prog->path);
    free(prog->comm);
    free(prog->elf.interp);
    strv_free(prog->argv);
    if (prog->fd >= 0) {
        close(prog->fd);
    }
    memset(prog, 0, sizeof(*prog));
    prog->fd = -1;
}
