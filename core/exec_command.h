/*
 * The command line and environment of the QEMU a followed exec starts
 * (core/exec.c): pure functions of what they are given.
 */
#ifndef LUAHOOK_CORE_EXEC_COMMAND_H
#define LUAHOOK_CORE_EXEC_COMMAND_H

#include <stdbool.h>
#include <glib.h>

#include "binfmt.h"

/* What every followed exec of this process passes on. */
struct lh_exec_setup {
    bool follow;               /* follow_exec (default on) */
    char **plugin_args;        /* the plugin's arguments, as QEMU gave them; NULL-terminated */
    char *plugin;              /* this plugin's file, an absolute path */
    char *qemu_dir;            /* the directory of this QEMU's binary */
    char *start_dir;           /* where the first QEMU started (exec.dir) */
};

/* One exec. */
struct lh_exec_target {
    const struct lh_binfmt_program *prog;
    char **envp;               /* the guest's environment for it */
    const char *sysroot;       /* QEMU's -L, or NULL */
    int out_fd;                /* copies of luahook's output stream and of its */
    int err_fd;                /* stderr (-1: the stream), for the new QEMU to adopt */
    const char *repl_socket;   /* repl=unix:PATH, PATH absolute; NULL without one */
    bool repl_forked;          /* this process listens on PATH.PID (forked) */
    GPtrArray *inherited;      /* lh.inherited as "KEY=VALUE" strings */
};

struct lh_exec_command {
    char **argv;               /* NULL-terminated, argv[0] the QEMU binary */
    char **envp;
    GPtrArray *dropped;        /* variables QEMU cannot hand to the guest */
};

/* qemu-ARCH beside this QEMU, or NULL when its directory is unknown. */
char *lh_exec_qemu_path(const struct lh_exec_setup *setup, const char *arch);

/* `path` made absolute from the first QEMU's directory; NULL for NULL. */
char *lh_exec_absolute(const struct lh_exec_setup *setup, const char *path);

void lh_exec_command_build(struct lh_exec_command *cmd, const struct lh_exec_setup *setup,
                           const struct lh_exec_target *target);
void lh_exec_command_free(struct lh_exec_command *cmd);

#endif
