/* The Lua runtime library compiled into the plugin (see tools/embed_lua.lua). */
#ifndef LUAHOOK_MODULES_H
#define LUAHOOK_MODULES_H

#include <stddef.h>

struct lh_module {
    const char *name;          /* require() name, e.g. "luahook._core.hooks" */
    const char *bytecode;
    size_t size;
};

/* Terminated by an entry whose name is NULL. */
extern const struct lh_module lh_modules[];

#endif
