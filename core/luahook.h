/*
 * The core's interface to the QEMU-facing glue in plugin/: start the Lua
 * engine, hand it syscall events, stop it. Nothing here knows QEMU.
 */
#ifndef LUAHOOK_CORE_H
#define LUAHOOK_CORE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "guest.h"

struct lh_config {
    const char *arch;          /* guest architecture: "i386" or "x86_64" */
    const char *script;        /* path of the user's script; NULL with only break=/repl= */
    const char *out;           /* out=FILE for luahook's output, or NULL: stderr */
    const char *repl;          /* repl=tty or repl=unix:PATH, or NULL */
    GPtrArray *breaks;         /* break=WHAT values, in order */
    bool abort_on_error;       /* onerror=abort: a failing hook stops QEMU */
    GPtrArray *script_args;    /* "key=value" strings, for luahook.args */
    const struct lh_guest_ops *guest;
};

/*
 * Creates the Lua state, loads the runtime library and runs the user's
 * script. On failure returns false with a one-line message in *msg (free
 * with g_free); the guest must not start then.
 */
bool lh_engine_start(const struct lh_config *cfg, char **msg);

/* QEMU is exiting: run exit hooks, report hook errors, flush output. */
void lh_engine_exit(void);

/*
 * A syscall is about to run. Returns true when a hook produced the result
 * (stored in *ret) so QEMU must skip the syscall; false to let it run.
 * Syscalls that no hook wants return at once without entering Lua.
 */
bool lh_syscall_entry(unsigned int vcpu, int64_t nr, const uint64_t args[8],
                      int64_t *ret);

/* The syscall's result exists (from QEMU or a hook). */
void lh_syscall_return(unsigned int vcpu, int64_t nr, int64_t ret);

#endif
