/*
 * What the parts of the luahook command share: its exit codes and its one
 * way to give up.
 */
#ifndef LUAHOOK_CMD_H
#define LUAHOOK_CMD_H

#include <stdarg.h>

#include "core/fail.h"

/* Exit codes of the command itself (sysexits.h values); otherwise QEMU's. */
enum {
    EXIT_USAGE = 64,            /* bad option or missing program */
    EXIT_BAD_PROGRAM = 65,      /* not ELF, or not a program luahook runs */
    EXIT_NO_INPUT = 66,         /* the program or a script cannot be read */
    EXIT_UNAVAILABLE = 69,      /* QEMU, the plugin or a helper is missing */
};

#define N_ELEMENTS(a) (sizeof(a) / sizeof((a)[0]))


/* malloc'ed printf; exits on out-of-memory. */
char *cmd_printf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
