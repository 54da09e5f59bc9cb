/*
 * State shared by the core's files: the process's (lh_core) and each Lua
 * state's (lh_state), guarded by that state's lock (lh_gate, in core.h, is
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
#include "fiber.h"

/* What the whole process shares, whatever the number of Lua states. */
struct lh_core {
    int quit_request;          /* LH_QUIT_*: stop QEMU once this event is done */
    int exit_status;           /* with LH_QUIT_EXIT: what os.exit was given */
    bool quitting;             /* a thread is stopping QEMU: run no more hooks */
    bool parallel;             /* parallel=1: a Lua state per guest thread */
    int word_size;             /* the guest's, in bytes: 4 or 8 */
    int big_endian;            /* the guest's byte order: 1 on mips */
    const struct lh_guest_ops *guest;
    void (*watch_returns)(void);   /* NULL once called: see lh_config */
    const struct lh_config *config;    /* for the states parallel=1 starts later */
};

extern struct lh_core lh_core;

/*
 * One Lua state with what runs it: its own stack (the fiber), its lock and
 * the record its events cross by. By default there is one, the main state,
 * behind which every vCPU queues; with parallel=1 each guest thread makes
 * its own at its first wanted event (core/states.c), and only a thread
 * ending the process (or exec) touches another thread's.
 */
struct lh_state {
    /* a line of its own: other threads' states must not share its lock's */
    _Alignas(LH_CACHE_LINE) lua_State *L;
    int loop_ref;              /* registry refs of the runtime's event loop */
    int loop_error_ref;        /* and of its message handler */
    int complete_ref;          /* the Lua REPL's completer */
    bool in_event;             /* on a vCPU inside an event: the guest is reachable */
    bool ended;                /* its exit hooks have run */
    int lock_word;             /* the state's lock (core/lock.c) */
    int biased;                /* its owner thread takes it without the word */
    int owner_in;              /* the owner holds it that way */
    struct lh_fiber fiber;
    uint8_t *want;             /* where Lua writes its want bits (see lh_states_want) */
    uint8_t *wanted;           /* parallel=1: what they added to the gate's table */
    struct lh_state *next;     /* parallel=1: the live states, newest first */
    uint32_t tid;              /* parallel=1: the guest thread it serves */
    struct lh_event event;
};

/* The state the main thread (and, by default, every thread) uses. */
extern struct lh_state lh_main_state;


/* This thread's Lua state: &lh_main_state unless parallel=1 gave it one. */
extern LH_THREAD_LOCAL struct lh_state *lh_here;

/*
 * A state's lock (core/lock.c), guarding the state. By default it is the
 * core lock every vCPU takes; lh_lock takes this thread's state's.
 */
void lh_lock_state(struct lh_state *st);
void lh_unlock_state(struct lh_state *st);
void lh_lock(void);
void lh_unlock(void);
bool lh_lock_try(void);        /* takes this thread's if free; never waits */
/* Takes `st`'s, trying for about `ms` milliseconds (false then): another thread's. */
bool lh_lock_state_within(struct lh_state *st, int ms);
bool lh_lock_held(void);       /* some state's, by this thread (for fork) */
/*
 * Makes the calling thread `st`'s owner, which takes its lock with plain
 * stores until another thread takes it once (core/lock.c).
 */
void lh_lock_bias(struct lh_state *st);

/*
 * Runs the Lua side until it yields, the event numbered in
 * lh_gate.lua_event meanwhile (what an interrupt is aimed at). Callers
 * hold the core lock.
 */
void lh_run_lua(void);

/* The calling thread's id (the guest thread's: linux-user runs each on its own). */
uint32_t lh_current_tid(void);

/*
 * The life of a Lua state beside the main one (core/states.c), each on
 * lh_here: boot makes its Lua state and runs the runtime and the script in
 * it (false with a one-line *msg); end runs its exit hooks once, with
 * `thread_only` when the process goes on (or another state's exit hooks
 * merge it), under its lock; close frees it.
 */
bool lh_state_boot(char **msg);
void lh_state_end(bool thread_only);
void lh_state_close(struct lh_state *st);

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
