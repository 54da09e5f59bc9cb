/*
 * State shared by the core's files. One Lua state serves every vCPU, so
 * everything here is guarded by the core lock (lh_gate, in core.h, is
 * not: it is read on every syscall). What Lua sees of it is in
 * contract.h.
 */
#ifndef LUAHOOK_STATE_H
#define LUAHOOK_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <lua.h>

#include "contract.h"
#include "guest.h"
#include "core.h"

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

extern struct lh_core lh_core;

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
    LH_QUIT_EXIT,              /* os.exit in a script, with lh_core.exit_status */
};

/*
 * Stops QEMU for lh_core.quit_request once the event that asked is done:
 * runs the exit hooks once and exits with the request's status. Called
 * unlocked; a second thread calling it waits for the first to end QEMU.
 */
_Noreturn void lh_quit_qemu(void);

/* A thread that finds QEMU stopping (lh_core.quitting) waits here, unlocked. */
_Noreturn void lh_wait_for_quit(void);

#endif
