/*
 * What Lua states share within a process (core/shared.c): named maps of
 * numbers and strings, and one lock for scripts. parallel=1 gives each
 * guest thread its own Lua state, which shares nothing else; the one state
 * of the default mode sees the same API.
 */
#ifndef LUAHOOK_SHARED_H
#define LUAHOOK_SHARED_H

#include <stdbool.h>
#include <lua.h>

/*
 * Adds to the primitives table on top: shared_add, shared_set,
 * shared_get, shared_snapshot, shared_lock and shared_unlock.
 */
void lh_shared_lua_register(lua_State *L);

/*
 * Around a guest fork, so the child gets the store whole: hold(true)
 * before, hold(false) in the parent after; the child, whose thread has
 * another id (a recursive mutex knows its owner by it), makes the locks
 * anew with lh_shared_forked.
 */
void lh_shared_hold(bool on);
void lh_shared_forked(void);

#endif
