/* The unwinder's primitives for the Lua runtime (core/unwind_lua.c). */
#ifndef LUAHOOK_UNWIND_LUA_H
#define LUAHOOK_UNWIND_LUA_H

#include <lua.h>

/* Adds them to the table on top of the stack; `arch` is the guest's. */
void lh_unwind_lua_register(lua_State *L, const char *arch);

#endif
