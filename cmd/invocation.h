/*
 * One run of the luahook command as its options describe it, and the QEMU
 * command line that follows from it.
 */
#ifndef LUAHOOK_CMD_INVOCATION_H
#define LUAHOOK_CMD_INVOCATION_H

#include <stdbool.h>

#include "core/binfmt.h"
#include "locate.h"

/* What the command was asked to do. */
enum action {
    ACTION_RUN,                 /* run PROGRAM under QEMU (or print how: -n) */
    ACTION_ATTACH,              /* luahook attach PATH: exec the REPL client */
    ACTION_LIST_SYSCALLS,
    ACTION_HELP,
    ACTION_VERSION,
};

/* A -s script or -e one-liner, in command-line order. */
struct source {
    bool is_code;
    const char *text;           /* the -s argument, or the -e code */
    const char *arg;            /* KEY=VALUE for this script alone, or NULL */
};

struct invocation {
    enum action action;
    struct source *sources;
    int n_sources;
    const char **script_args;   /* -a KEY=VALUE */
    int n_script_args;
    const char **breaks;        /* --break SYSCALL */
    int n_breaks;
    const char *out;            /* -o FILE */
    const char *repl;           /* --repl tty|unix:PATH */
    const char *qemu;           /* --qemu PATH */
    const char *sysroot;        /* -L SYSROOT, or the default (sysroot.h) */
    const char *arch;           /* --list-syscalls ARCH */
    bool watch;
    bool no_follow;             /* --no-follow: follow_exec=0 */
    bool parallel;              /* --parallel: parallel=1 */
    bool dry_run;
    char **rest;                /* PROGRAM ARGS..., or attach's arguments */
    int n_rest;
};

/* Fills `inv` from the command line; ends the command on a usage error. */
void parse_invocation(int argc, char **argv, struct invocation *inv);

/* Whether `word` (the first argument) is record or replay (recording.c). */
bool recording_subcommand(const char *word);

/*
 * Turns the invocation of luahook record or replay into the plain run it
 * stands for (the bundled script added, replay's FILE taken out of the
 * program's arguments); ends the command on a usage error.
 */
void recording_complete(struct invocation *inv, const char *subcommand);

/* The --help text. */
void print_help(void);

/*
 * QEMU's argv for running `prog` (an ELF program and its arguments, from
 * core/binfmt.h) as `inv` says, with the scripts resolved through `loc`;
 * NULL-terminated.
 */
char **qemu_command(const struct invocation *inv, const struct locations *loc,
                    const struct lh_binfmt_program *prog);

/* Prints argv as one shell-quoted line on stdout (for --dry-run). */
void print_command(char **argv);

#endif
