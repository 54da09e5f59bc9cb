/* Guest memory and register primitives for the Lua runtime. */
#ifndef LUAHOOK_GUEST_LUA_H
#define LUAHOOK_GUEST_LUA_H

#include <stddef.h>
#include <stdint.h>
#include <lua.h>

/* Adds the guest primitives to the table on top of the stack. */
void lh_guest_lua_register(lua_State *L);

enum {
    LH_READ_UNREACHABLE = -1,  /* not inside a hook */
    LH_READ_UNMAPPED = -2,
};

/*
 * Copies the NUL-terminated string at guest `addr` into buf, at most `max`
 * bytes; returns its length, `max` when no NUL came within them, or an
 * LH_READ_* code. Lua calls it through FFI (struct lh_calls); 32-bit, as
 * a 64-bit result would be boxed.
 */
int32_t lh_guest_read_string(uint64_t addr, char *buf, int32_t max);

#endif
