/*
 * lh.shared's store (shared.h): maps by name, each from string keys to a
 * number or a string, behind one mutex. Every call takes that mutex, so a
 * hook that counts through it on every syscall makes threads queue for a
 * moment each time; scripts count in their own state and merge at exit
 * (docs/api.md says so), and use the store for what must be exact while
 * threads run.
 */
#include <pthread.h>

#include <glib.h>
#include <lauxlib.h>

#include "shared.h"

struct value {
    char *string;              /* NULL for a number */
    double number;
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static GHashTable *maps;       /* name -> GHashTable of key -> struct value */
/* scripts' lock: recursive, a hook holding it may call something that takes it */
static pthread_mutex_t script_lock = PTHREAD_RECURSIVE_MUTEX_INITIALIZER_NP;

static void free_value(gpointer p)
{
    struct value *v = p;

    g_free(v->string);
    g_free(v);
}

/* The map named `name` (made when `create`), the store locked. */
static GHashTable *map_of(const char *name, bool create)
{
    GHashTable *map;

    if (!maps) {
        maps = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                     (GDestroyNotify)g_hash_table_unref);
    }
    map = g_hash_table_lookup(maps, name);
    if (!map && create) {
        map = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free_value);
        g_hash_table_insert(maps, g_strdup(name), map);
    }
    return map;
}

static void push_value(lua_State *L, const struct value *v)
{
    if (!v) {
        lua_pushnil(L);
    } else if (v->string) {
        lua_pushstring(L, v->string);
    } else {
        lua_pushnumber(L, v->number);
    }
}

/* shared_add(map, key, n) -> the new number; a string there is an error */
static int prim_add(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1), *key = luaL_checkstring(L, 2);
    double n = luaL_checknumber(L, 3);
    struct value *v;
    bool was_string;

    pthread_mutex_lock(&store_lock);
    v = g_hash_table_lookup(map_of(name, true), key);
    if (!v) {
        v = g_new0(struct value, 1);
        g_hash_table_insert(map_of(name, true), g_strdup(key), v);
    }
    was_string = v->string != NULL;
    if (!was_string) {
        v->number += n;
        n = v->number;
    }
    pthread_mutex_unlock(&store_lock);
    if (was_string) {
        return luaL_error(L, "lh.shared: %s[%s] holds a string, not a number", name, key);
    }
    lua_pushnumber(L, n);
    return 1;
}

/* shared_set(map, key, number | string | nil) */
static int prim_set(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1), *key = luaL_checkstring(L, 2);
    struct value *v = NULL;

    if (lua_type(L, 3) == LUA_TNUMBER) {
        v = g_new0(struct value, 1);
        v->number = lua_tonumber(L, 3);
    } else if (lua_type(L, 3) == LUA_TSTRING) {
        v = g_new0(struct value, 1);
        v->string = g_strdup(lua_tostring(L, 3));
    } else if (!lua_isnil(L, 3)) {
        return luaL_error(L, "lh.shared: a value is a number or a string, not a %s",
                          luaL_typename(L, 3));
    }
    pthread_mutex_lock(&store_lock);
    if (v) {
        g_hash_table_insert(map_of(name, true), g_strdup(key), v);
    } else if (map_of(name, false)) {
        g_hash_table_remove(map_of(name, false), key);
    }
    pthread_mutex_unlock(&store_lock);
    return 0;
}

/* shared_get(map, key) -> number | string | nil */
static int prim_get(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1), *key = luaL_checkstring(L, 2);
    GHashTable *map;

    pthread_mutex_lock(&store_lock);
    map = map_of(name, false);
    push_value(L, map ? g_hash_table_lookup(map, key) : NULL);
    pthread_mutex_unlock(&store_lock);
    return 1;
}

/* shared_snapshot(map) -> { key = value, ... } as the map is now */
static int prim_snapshot(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    GHashTableIter it;
    gpointer key, value;
    GHashTable *map;

    lua_newtable(L);
    pthread_mutex_lock(&store_lock);
    map = map_of(name, false);
    if (map) {
        g_hash_table_iter_init(&it, map);
        while (g_hash_table_iter_next(&it, &key, &value)) {
            lua_pushstring(L, key);
            push_value(L, value);
            lua_rawset(L, -3);
        }
    }
    pthread_mutex_unlock(&store_lock);
    return 1;
}

static int prim_lock(lua_State *L)
{
    (void)L;
    pthread_mutex_lock(&script_lock);
    return 0;
}

static int prim_unlock(lua_State *L)
{
    (void)L;
    pthread_mutex_unlock(&script_lock);
    return 0;
}

void lh_shared_lua_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "shared_add", prim_add },
        { "shared_set", prim_set },
        { "shared_get", prim_get },
        { "shared_snapshot", prim_snapshot },
        { "shared_lock", prim_lock },
        { "shared_unlock", prim_unlock },
        { NULL, NULL },
    };

    luaL_register(L, NULL, fns);
}

void lh_shared_hold(bool on)
{
    if (on) {
        pthread_mutex_lock(&script_lock);
        pthread_mutex_lock(&store_lock);
    } else {
        pthread_mutex_unlock(&store_lock);
        pthread_mutex_unlock(&script_lock);
    }
}

void lh_shared_forked(void)
{
    pthread_mutexattr_t attr;

    pthread_mutexattr_init(&attr);
    pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&script_lock, &attr);
    pthread_mutexattr_destroy(&attr);
    pthread_mutex_init(&store_lock, NULL);
}
