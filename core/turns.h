/*
 * Turns: an order of syscalls across guest threads that a script imposes
 * (scripts/replay.lua replays the recorded one). A hook cannot wait for
 * another thread itself: it runs holding the core lock, on the one stack
 * the Lua loop has (core/fiber.c). So it asks, through FFI, to wait once
 * its event is done; the vCPU's thread then waits here, on its own stack
 * and without the lock, before the guest goes on.
 */
#ifndef LUAHOOK_TURNS_H
#define LUAHOOK_TURNS_H

#include <stdbool.h>
#include <stdint.h>
#include <lua.h>

#include "state.h"

/* No turn: nothing to wait for; as the turn to wait past, never. */
#define LH_TURN_NONE UINT32_MAX

/* What a hook asked of this thread for after its event (lh_turns_wait). */
struct lh_turn_request {
    bool pending;
    bool advance;              /* pass the turn on once it is ours */
    uint32_t turn;             /* wait until the counter reaches this */
    uint32_t then;             /* then until it reaches at least this */
};

extern LH_THREAD_LOCAL struct lh_turn_request lh_turn_request;

/* Waits as the request says; called after the event, unlocked. */
void lh_turns_wait(void);

/* On every wanted event, after the lock is released: one load, nearly always false. */
static inline void lh_turns_wait_if_asked(void)
{
    if (lh_turn_request.pending) {
        lh_turns_wait();
    }
}

/* Adds `turns` (the FFI functions) and `turns_cdef` to the table on top. */
void lh_turns_lua_register(lua_State *L);

#endif
