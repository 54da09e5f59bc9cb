/*
 * What the kernel does with an execve before the new program runs, done
 * on the host for a program that QEMU will run instead: the checks that
 * decide execve's error, #! scripts, and the ELF program at the end. Plain
 * C (no GLib): the luahook command shares it (a script as PROGRAM).
 */
#ifndef LUAHOOK_CORE_BINFMT_H
#define LUAHOOK_CORE_BINFMT_H

#include "elf_guest.h"

struct lh_binfmt_request {
    int dirfd;                 /* AT_FDCWD, or execveat's directory descriptor */
    const char *path;          /* the path given */
    int flags;                 /* execveat's AT_* flags; 0 for execve */
    char *const *argv;         /* NULL-terminated, possibly empty */
    char *const *envp;         /* NULL-terminated */
    const char *self_exe;      /* the file /proc/self/exe stands for, or NULL */
    int args_error;            /* an errno met reading argv or envp (EFAULT, E2BIG), or 0 */
};

struct lh_binfmt_program {
    char *path;                /* the ELF program, as a path the new process can open */
    struct lh_elf_guest elf;   /* its QEMU target and dynamic loader */
    char **argv;               /* its arguments after #! rewriting; NULL-terminated */
    char *comm;                /* the process's new name, as the kernel sets it */
    int fd;                    /* -1, or the descriptor `path` names (/proc/self/fd/N):
                                  the program has no other path, so it must stay open
                                  across the exec (it is close-on-exec until then) */
};

/* What a failed resolution is about (malloc'ed strings, or NULL). */
struct lh_binfmt_failure {
    char *file;                /* the file: the program, or a script's interpreter */
    char *why;                 /* for an ELF file no QEMU target runs: why, in one line */
};

/*
 * Resolves `req` as the kernel's execve would. Returns 0 with `out`
 * filled (free it with lh_binfmt_program_free), or the errno the kernel
 * would give (ENOENT, EACCES, ELOOP, ENOEXEC, E2BIG, EINVAL, ...) with
 * `failure` filled (free it with lh_binfmt_failure_free).
 */
int lh_binfmt_resolve(const struct lh_binfmt_request *req, struct lh_binfmt_program *out,
                      struct lh_binfmt_failure *failure);

void lh_binfmt_program_free(struct lh_binfmt_program *prog);
void lh_binfmt_failure_free(struct lh_binfmt_failure *failure);

#endif
