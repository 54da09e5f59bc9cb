/*
 * luahook: run a program under QEMU with the luahook plugin.
 *
 *   luahook [-s SCRIPT]... [-e CODE]... [OPTIONS] [--] PROGRAM [ARGS...]
 *
 * The command only works out QEMU's command line (qemu_command.c) and
 * execs QEMU, so the program's exit status, or the signal that killed it,
 * is the command's own. Options are in options.c and luahook(1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "core/binfmt.h"
#include "invocation.h"
#include "locate.h"
#include "syscall_list.h"
#include "sysroot.h"

char *cmd_printf(const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        lh_fail(EXIT_FAILURE, "out of memory");
    }
    return s;
}

/* luahook attach ARGS...: the REPL client does the work. */
static _Noreturn void attach(const struct invocation *inv, const struct locations *loc)
{
    char *client = locate_attach(loc);
    char **argv;

    if (inv->n_rest < 1) {
        lh_fail(EXIT_USAGE, "attach needs the socket PATH given to --repl unix:PATH");
    }
    if (!client) {
        lh_fail(EXIT_UNAVAILABLE, "luahook-attach is missing: not in %s%s%s",
                 loc->exe_dir, loc->build_root ? " nor in " : "",
                 loc->build_root ? loc->build_root : "");
    }
    argv = calloc((size_t)inv->n_rest + 2, sizeof(*argv));
    if (!argv) {
        lh_fail(EXIT_FAILURE, "out of memory");
    }
    argv[0] = client;
    memcpy(argv + 1, inv->rest, (size_t)inv->n_rest * sizeof(*argv));
    execv(client, argv);
    lh_fail(EXIT_UNAVAILABLE, "cannot run %s: %s", client, strerror(errno));
}

/* A PROGRAM without '/' is looked up in PATH, as a shell would. */
static char *program_path(const char *name)
{
    char *found;

    if (strchr(name, '/')) {
        return (char *)name;
    }
    found = search_path(name);
    if (!found) {
        lh_fail(EXIT_NO_INPUT, "program '%s' not found in PATH", name);
    }
    return found;
}

/*
 * What runs for `program` as the kernel would run it (core/binfmt.c): an
 * ELF program, or the one at the end of a #! script's interpreters, with
 * the arguments it gets; anything else ends the command in one line.
 */
static void resolve(const struct invocation *inv, char *program, struct lh_binfmt_program *prog)
{
    extern char **environ;
    char **argv = calloc((size_t)inv->n_rest + 1, sizeof(*argv));
    struct lh_binfmt_request req = { .dirfd = AT_FDCWD, .path = program, .envp = environ };
    struct lh_binfmt_failure failure;
    int err;

    if (!argv) {
        lh_fail(EXIT_FAILURE, "out of memory");
    }
    memcpy(argv, inv->rest, (size_t)inv->n_rest * sizeof(*argv));   /* argv[0] as typed */
    req.argv = argv;
    err = lh_binfmt_resolve(&req, prog, &failure);
    free(argv);
    if (err == ENOEXEC) {
        if (failure.why) {
            lh_fail(EXIT_BAD_PROGRAM, "%s", failure.why);
        }
        lh_fail(EXIT_BAD_PROGRAM, "%s is not an ELF program or a #! script", failure.file);
    }
    if (err && strcmp(failure.file, program)) {
        lh_fail(EXIT_NO_INPUT, "cannot run %s: its interpreter %s: %s", program, failure.file,
                 strerror(err));
    }
    if (err) {
        lh_fail(EXIT_NO_INPUT, "cannot open program %s: %s", program, strerror(err));
    }
}

static _Noreturn void run(struct invocation *inv, const struct locations *loc)
{
    char *program = program_path(inv->rest[0]);
    struct lh_binfmt_program prog;
    char **argv;

    resolve(inv, program, &prog);
    if (!inv->sysroot) {
        inv->sysroot = default_sysroot(&prog.elf);
    }
    argv = qemu_command(inv, loc, &prog);

    if (inv->dry_run) {
        print_command(argv);
        exit(EXIT_SUCCESS);
    }
    execv(argv[0], argv);
    lh_fail(EXIT_UNAVAILABLE, "cannot run QEMU %s: %s", argv[0], strerror(errno));
}

int main(int argc, char **argv)
{
    struct invocation inv;
    struct locations loc;

    parse_invocation(argc, argv, &inv);
    switch (inv.action) {
    case ACTION_HELP:
        print_help();
        return EXIT_SUCCESS;
    case ACTION_VERSION:
        printf("luahook %s\n", LUAHOOK_VERSION);
        return EXIT_SUCCESS;
    case ACTION_LIST_SYSCALLS:
        list_syscalls(inv.arch);
        return EXIT_SUCCESS;
    case ACTION_ATTACH:
        locate_init(&loc);
        attach(&inv, &loc);
    case ACTION_RUN:
        locate_init(&loc);
        run(&inv, &loc);
    }
    return EXIT_FAILURE;
}
