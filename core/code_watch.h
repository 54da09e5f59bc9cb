/*
 * Guest code addresses whose execution is an event (core/code_watch.c).
 */
#ifndef LUAHOOK_CODE_WATCH_H
#define LUAHOOK_CODE_WATCH_H

#include <lua.h>

/* Adds core.watch_code to the table on top of L's stack; `watch` makes
 * QEMU show luahook the blocks it translates (called once, at the first). */
void lh_code_lua_register(lua_State *L, void (*watch)(void));

#endif
