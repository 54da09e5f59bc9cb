/*
 * parallel=1 (core/states.c): a Lua state per guest thread, made at the
 * thread's first wanted event and ended with the thread, and the want
 * table as the union of what every state's hooks want.
 */
#ifndef LUAHOOK_STATES_H
#define LUAHOOK_STATES_H

#include <stdbool.h>
#include <stdint.h>

#include "state.h"

/*
 * Set (for good) once the process has a second state, or is about to:
 * Lua sets it too, at a thread's clone, before that thread can run
 * (luahook.order). Lua reads it through FFI.
 */
extern int lh_states_several;

/*
 * At start-up, on the main thread (whose state is lh_main_state), before
 * its runtime boots: the main state gets want bits of its own too.
 */
void lh_states_init(uint32_t main_tid);

/*
 * Gives the calling thread (guest thread `tid`) its own state, unless it
 * has one, is the main thread, or failed to make one (reported once; the
 * thread then shares the main state). Inline: it is asked on every event.
 */
extern LH_THREAD_LOCAL bool lh_states_entered;    /* this thread asked already */
void lh_states_make(uint32_t tid);

static inline void lh_states_enter(uint32_t tid)
{
    if (G_UNLIKELY(!lh_states_entered)) {
        lh_states_make(tid);
    }
}

/*
 * The want bits Lua wrote in `st->want` changed: adds them to the gate's
 * table (lh_gate.want), less what the state wanted before.
 */
void lh_states_want_changed(struct lh_state *st);

/*
 * Runs the exit hooks ("thread") of every state but the caller's, each
 * under its lock: the process ends (an exit, or a followed exec), and the
 * caller's own exit hooks, which run last, can merge what they left. A
 * state still in a hook after 2 s is left without its exit hooks (one
 * line says so): that hook may never return.
 */
void lh_states_end_others(void);

/* In a forked child: the forking thread's state is the only one left. */
void lh_states_forked(void);

#endif
