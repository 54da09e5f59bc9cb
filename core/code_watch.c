/*
 * Guest code addresses Lua asked to hear about (the guest's signal
 * handlers, see lua/luahook/_core/delivery.lua): the set QEMU's translation
 * callback looks in, and the Lua primitive that fills it. A vCPU starting
 * a block at one of them is an event (lh_code_reached, core/dispatch.c).
 */
#include <lauxlib.h>

#include "code_watch.h"
#include "state.h"

static GMutex watch_mutex;     /* translation runs on any vCPU, Lua under the core lock */
static GHashTable *watched;    /* guint64 address -> itself */
static void (*start_watching)(void);

bool lh_code_watched(uint64_t addr)
{
    bool found;

    g_mutex_lock(&watch_mutex);
    found = watched && g_hash_table_contains(watched, &addr);
    g_mutex_unlock(&watch_mutex);
    return found;
}

/*
 * core.watch_code(addr): report blocks starting at addr translated from
 * now on. QEMU is asked to show luahook its translations only at the
 * first address, so a script that watches none pays nothing.
 */
static int prim_watch_code(lua_State *L)
{
    uint64_t addr = (uint64_t)luaL_checknumber(L, 1);
    guint64 *key = g_new(guint64, 1);

    *key = addr;
    g_mutex_lock(&watch_mutex);
    if (!watched) {
        watched = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
    }
    g_hash_table_add(watched, key);
    g_mutex_unlock(&watch_mutex);
    if (start_watching) {
        start_watching();
        start_watching = NULL;
    }
    return 0;
}

void lh_code_lua_register(lua_State *L, void (*watch)(void))
{
    start_watching = watch;
    lua_pushcfunction(L, prim_watch_code);
    lua_setfield(L, -2, "watch_code");
}
