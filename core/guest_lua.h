/* Guest memory and register primitives for the Lua runtime. */
#ifndef LUAHOOK_GUEST_LUA_H
#define LUAHOOK_GUEST_LUA_H

#include <lua.h>

/* Adds the guest primitives to the table on top of the stack. */
void lh_guest_lua_register(lua_State *L);

#endif
