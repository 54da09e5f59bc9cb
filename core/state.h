/*
 * State shared by the core's files. One Lua state serves every vCPU, so
 * everything here is guarded by the core lock (lh_gate, in core.h, is
 * not: it is read on every syscall).
 */
#ifndef LUAHOOK_STATE_H
#define LUAHOOK_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <lua.h>

#include "guest.h"
#include "core.h"

/* Syscall arguments that reach Lua: i386 and x86_64 use at most six. */
#define LH_ARG_COUNT 6

/* Bits of a want-table slot, set by Lua when hooks are (un)registered. */
enum {
    LH_WANT_ENTRY = 1,         /* an entry hook, or an after-hook that needs sc */
    LH_WANT_RETURN = 2,        /* an after-hook */
    LH_WANT_FLUSH = 4,         /* flush output first: the process is replaced */
    LH_WANT_REARM = 8,         /* the guest sets a signal action: retake signals */
};

/*
 * The record through which one event crosses into Lua: C fills it and
 * resumes the runtime's loop (core/fiber.c), which reads it with LuaJIT FFI
 * and stores a hook's answer in it. Fields Lua reads on every event are
 * doubles and 32-bit integers: reading those needs no allocation even in
 * LuaJIT's interpreter. The field list is written once and given to Lua as
 * a cdef string, so both sides agree.
 */
#define LH_EVENT_FIELDS                                                   \
    int32_t kind;              /* LH_EVENT_* */                           \
    int32_t stop;              /* LH_STOP_*: open a prompt at this entry */ \
    int32_t answer;            /* LH_ANSWER_*, set by Lua */              \
    uint32_t vcpu;                                                        \
    uint32_t tid;                                                         \
    double nr;                                                            \
    double num[LH_ARG_COUNT];  /* args as numbers; from 2^53: see args */ \
    double retn;               /* ret as a number; beyond +-2^53: see ret */ \
    double result;             /* the answer, with LH_ANSWER_NUMBER */    \
    int64_t ret;               /* exact; the answer with LH_ANSWER_RET */ \
    uint64_t args[LH_ARG_COUNT]; /* the guest's words, exact */
struct lh_event {
    LH_EVENT_FIELDS
};
#define LH_EVENT_CDEF "struct lh_event { " G_STRINGIFY(LH_EVENT_FIELDS) " };"

/*
 * C functions Lua calls through FFI rather than the Lua C API: a trace can
 * compile an FFI call, while a lua_CFunction ends it. Only functions that
 * never call back into Lua belong here.
 */
#define LH_CALLS_FIELDS                                                   \
    void (*yield)(void);       /* the event is done: back to the vCPU */ \
    void (*write)(const char *s, size_t len); /* to luahook's output */ \
    int32_t (*read_string)(uint64_t addr, char *buf, int32_t max);
struct lh_calls {
    LH_CALLS_FIELDS
};
#define LH_CALLS_CDEF "struct lh_calls { " G_STRINGIFY(LH_CALLS_FIELDS) " };"

/* Why the loop is resumed. */
enum {
    LH_EVENT_ENTRY = 1,
    LH_EVENT_RETURN,
    LH_EVENT_EXIT,             /* QEMU is exiting: run the exit hooks */
    LH_EVENT_CODE,             /* a watched code address is reached (args[0]) */
};

/* A hook's answer to an entry. */
enum {
    LH_ANSWER_NONE,            /* all declined: QEMU runs the syscall */
    LH_ANSWER_NUMBER,          /* the result is in .result */
    LH_ANSWER_RET,             /* the result is in .ret (a 64-bit cdata) */
    LH_ANSWER_HOST,            /* the result is the host syscall .ret with .args,
                                  made once the lock is let go (luahook.hostcall) */
};

struct lh_core {
    lua_State *L;
    int loop_ref;              /* registry refs of the runtime's event loop */
    int loop_error_ref;        /* and of its message handler */
    int quit_request;          /* LH_QUIT_*: stop QEMU once this event is done */
    int exit_status;           /* with LH_QUIT_EXIT: what os.exit was given */
    bool quitting;             /* a thread is stopping QEMU: run no more hooks */
    bool in_event;             /* on a vCPU inside an event: the guest is reachable */
    int complete_ref;          /* the Lua REPL's completer */
    int word_size;             /* the guest's, in bytes: 4 or 8 */
    int big_endian;            /* the guest's byte order: 1 on mips */
    const struct lh_guest_ops *guest;
    void (*watch_returns)(void);   /* NULL once called: see lh_config */
    struct lh_event event;
};

extern struct lh_core core;

/*
 * Thread-local state on the per-syscall path. A plugin's TLS would
 * otherwise go through __tls_get_addr on every access; its few bytes fit
 * in the static TLS glibc keeps spare for modules loaded later.
 */
#define LH_THREAD_LOCAL _Thread_local __attribute__((tls_model("initial-exec")))

/* The core lock (core/lock.c), guarding everything here but the want table. */
void lh_lock(void);
void lh_unlock(void);
bool lh_lock_try(void);        /* takes it if free; never waits */
bool lh_lock_held(void);       /* by this thread (for fork) */

/*
 * Runs the Lua side until it yields, the event numbered in
 * lh_gate.lua_event meanwhile (what an interrupt is aimed at). Callers
 * hold the core lock.
 */
void lh_run_lua(void);

/* In a forked child: its thread ids are new. */
void lh_dispatch_forked(void);

/* Host errno `host` is `guest` on the guest (mips numbers many its own way). */
void lh_dispatch_set_guest_errno(int host, int guest);

enum {
    LH_QUIT_NONE,
    LH_QUIT_ABORT,             /* a hook failed under onerror=abort */
    LH_QUIT_KILL,              /* kill at the REPL */
    LH_QUIT_EXIT,              /* os.exit in a script, with core.exit_status */
};

/*
 * Stops QEMU for core.quit_request once the event that asked is done:
 * runs the exit hooks once and exits with the request's status. Called
 * unlocked; a second thread calling it waits for the first to end QEMU.
 */
_Noreturn void lh_quit_qemu(void);

/* A thread that finds QEMU stopping (core.quitting) waits here, unlocked. */
_Noreturn void lh_wait_for_quit(void);

#endif
