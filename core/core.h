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

/*
 * Thread-local state on the per-syscall path. A plugin's TLS would
 * otherwise go through __tls_get_addr on every access; its few bytes fit
 * in the static TLS glibc keeps spare for modules loaded later.
 */
#define LH_THREAD_LOCAL _Thread_local __attribute__((tls_model("initial-exec")))

/* What threads write apart goes on lines of this many bytes apart (no false sharing). */
#define LH_CACHE_LINE 64

struct lh_config {
    const char *arch;          /* guest architecture: one of LH_ARCHES */
    const char *script;        /* path of the user's script; NULL with only break=/repl= */
    const char *out;           /* out=FILE for luahook's output, or NULL: stderr */
    const char *repl;          /* repl=tty or repl=unix:PATH, or NULL */
    GPtrArray *breaks;         /* break=WHAT values, in order */
    bool abort_on_error;       /* onerror=abort: a failing hook stops QEMU */
    bool parallel;             /* parallel=1: a Lua state per guest thread */
    GPtrArray *script_args;    /* "key=value" strings, for luahook.args */
    const struct lh_guest_ops *guest;
    void (*watch_returns)(void);  /* have lh_syscall_return called from now on */
    /* following execve (core/exec.h) */
    bool follow_exec;          /* follow_exec=0 turns it off */
    int plugin_argc;           /* the plugin's arguments as QEMU gave them, to pass on */
    char **plugin_argv;
    const char *exec_dir;      /* exec.dir=: where the first QEMU started, or NULL */
    const char *exec_comm;     /* exec.comm=: the process's name after the exec, or NULL */
    int out_fd;                /* exec.out=: the output stream handed over, or -1 */
    int err_fd;                /* exec.err=: the stderr for luahook's messages, or -1 */
    bool repl_forked;          /* exec.repl_forked=1: listen on repl=unix:PATH's PATH.PID */
    int exec_close;            /* exec.close=: a descriptor to close once loaded, or -1 */
    GPtrArray *inherited;      /* exec.keep.KEY=VALUE: lh.inherited, "KEY=VALUE" */
    void (*watch_code)(void);  /* have lh_code_watched asked about new blocks */
};

/*
 * A configuration with every default (follow execs, report hook errors, no
 * descriptors handed over) for guest `arch` reached through `guest`; the
 * lists are empty and the caller's to free (lh_config_free).
 */
void lh_config_init(struct lh_config *cfg, const char *arch,
                    const struct lh_guest_ops *guest, void (*watch_returns)(void));

/* Frees the lists lh_config_init made; the strings are the caller's. */
void lh_config_free(struct lh_config *cfg);

/* The guest architectures the core runs (QEMU's names), as a phrase. */
#define LH_ARCHES "i386, x86_64, aarch64, arm, riscv64, mips and mipsel"

/* Whether the core runs guests of QEMU target `arch`. */
bool lh_arch_supported(const char *arch);

/*
 * Creates the Lua state, loads the runtime library and runs the user's
 * script. On failure returns false with a one-line message in *msg (free
 * with g_free); the guest must not start then.
 */
bool lh_engine_start(const struct lh_config *cfg, char **msg);

/* QEMU is exiting: run exit hooks, report hook errors, flush output. */
void lh_engine_exit(void);

/*
 * Syscall numbers below this have a slot of their own in the want table
 * (mips o32 numbers its calls from 4000 up, to about 4470); every other
 * number the guest can pass (negative ones, say) shares the last slot.
 */
#define LH_NR_MAX 4608

/*
 * What decides, on every syscall and without the lock, whether the core
 * must see it: the want table (written by Lua under the lock, one final
 * value per slot) and the REPL's requests (set from other threads and
 * signal handlers). Atomic.
 */
struct lh_gate {
    uint8_t want[LH_NR_MAX + 1]; /* LH_WANT_* bits by syscall number; others last */
    int stop_request;          /* LH_STOP_*: open a prompt at the next syscall */
    int world_stopped;         /* a prompt is open: other threads wait */
    bool signals_armed;        /* luahook's signal handling set up */
    uint32_t lua_event;        /* while the Lua side runs an event: its number */
};
extern struct lh_gate lh_gate;

/* The LH_WANT_* bits of syscall `nr` (of every number beyond the table). */
static inline uint8_t lh_want_of(int64_t nr)
{
    uint64_t slot = (uint64_t)nr < LH_NR_MAX ? (uint64_t)nr : LH_NR_MAX;

    /* Lua updates slots under the lock; a stale byte only delays a change */
    return __atomic_load_n(&lh_gate.want[slot], __ATOMIC_RELAXED);
}

/*
 * Whether syscall `nr` needs lh_syscall_entry: the glue asks first, inline,
 * so a syscall nobody wants costs a few loads and no call.
 */
static inline bool lh_syscall_needs_entry(int64_t nr)
{
    return lh_want_of(nr)
           || __atomic_load_n(&lh_gate.stop_request, __ATOMIC_RELAXED)
           || __atomic_load_n(&lh_gate.world_stopped, __ATOMIC_RELAXED)
           || !__atomic_load_n(&lh_gate.signals_armed, __ATOMIC_RELAXED);
}

/*
 * A syscall is about to run (and lh_syscall_needs_entry said so). Returns
 * true when a hook produced the result (stored in *ret) so QEMU must skip
 * the syscall; false to let it run.
 */
bool lh_syscall_entry(unsigned int vcpu, int64_t nr, const uint64_t args[8],
                      int64_t *ret);

/* Whether syscall `nr`'s return needs lh_syscall_return (see above). */
static inline bool lh_syscall_needs_return(int64_t nr)
{
    return lh_want_of(nr) != 0;
}

/* The syscall's result exists (from QEMU or a hook). */
void lh_syscall_return(unsigned int vcpu, int64_t nr, int64_t ret);

/*
 * Whether Lua watches the guest code at `addr` (core/code_watch.c): asked
 * when QEMU translates a block starting there, from any vCPU.
 */
bool lh_code_watched(uint64_t addr);

/* A vCPU is about to run a block starting at a watched address. */
void lh_code_reached(unsigned int vcpu, uint64_t addr);

#endif
