/*
 * Following the guest's execve: the new program runs under the QEMU for
 * its architecture with this plugin and its arguments again
 * (docs/internals.md, "Following exec"). The Lua runtime decides when
 * (lua/luahook/_core/follow.lua); these are its primitives.
 */
#ifndef LUAHOOK_CORE_EXEC_H
#define LUAHOOK_CORE_EXEC_H

#include <stdbool.h>
#include <lua.h>

#include "core.h"

/*
 * Records what a followed exec passes on (the plugin's arguments, where
 * QEMU and the plugin are) and enters the directory relative paths in
 * the arguments are relative to; lh_exec_started goes back once the
 * scripts are loaded.
 */
void lh_exec_init(const struct lh_config *cfg);
void lh_exec_started(void);

/* The guest's first syscall is about to run (its program is loaded); also
 * called later, when it has nothing left to do. */
void lh_exec_first_syscall(void);

/* Adds exec_resolve and exec_start to the primitives table on top. */
void lh_exec_lua_register(lua_State *L);

#endif
