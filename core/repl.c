/*
 * The REPL's C side (repl.h): choosing the front end, the Lua primitives
 * the prompt is built on, and holding other threads while it is open.
 */
#include <string.h>

#include <lauxlib.h>

#include "output.h"
#include "repl.h"
#include "state.h"

struct waiting_thread {
    uint32_t tid;
    unsigned int vcpu;
    int64_t nr;
};

static const struct lh_repl_frontend *frontend;
bool lh_repl_on;
/* parallel=1: moved (by Lua, through FFI) when the prompt's breakpoints change */
static int breaks_generation;
/* threads blocked at a syscall while a prompt may be open (threads()) */
static GMutex waiting_lock;
static GArray *waiting;
/*
 * Held by the thread whose prompt is open, whichever Lua state it runs
 * (parallel=1 has one per thread): the others wait on it.
 */
static GMutex prompt_lock;
static LH_THREAD_LOCAL bool prompt_locked;     /* by this thread */

bool lh_repl_open(const char *spec, bool forked, char **msg)
{
    if (!strcmp(spec, "tty")) {
        frontend = lh_repl_tty_open(msg);
    } else if (g_str_has_prefix(spec, "unix:") && spec[5]) {
        frontend = lh_repl_socket_open(spec + 5, forked, msg);
    } else {
        *msg = g_strdup_printf("repl=%s: expected repl=tty or repl=unix:PATH", spec);
        return false;
    }
    waiting = g_array_new(false, false, sizeof(struct waiting_thread));
    lh_repl_on = frontend != NULL;
    return frontend != NULL;
}

void lh_repl_close(void)
{
    if (frontend && frontend->close) {
        frontend->close();
    }
}

void lh_repl_forked(void)
{
    if (frontend && frontend->forked) {
        frontend->forked();
    }
}

void lh_repl_request_stop(int reason)
{
    __atomic_store_n(&lh_gate.stop_request, reason, __ATOMIC_SEQ_CST);
}

void lh_repl_waiting(uint32_t tid, unsigned int vcpu, int64_t nr, bool on)
{
    g_mutex_lock(&waiting_lock);
    if (on) {
        struct waiting_thread me = { tid, vcpu, nr };

        g_array_append_val(waiting, me);
    } else {
        for (guint i = 0; i < waiting->len; i++) {
            if (g_array_index(waiting, struct waiting_thread, i).tid == tid) {
                g_array_remove_index_fast(waiting, i);
                break;
            }
        }
    }
    g_mutex_unlock(&waiting_lock);
}

void lh_repl_wait(uint32_t tid, unsigned int vcpu, int64_t nr)
{
    lh_repl_waiting(tid, vcpu, nr, true);
    g_mutex_lock(&prompt_lock);        /* the prompt holds it: this waits */
    g_mutex_unlock(&prompt_lock);
    lh_repl_waiting(tid, vcpu, nr, false);
}

GPtrArray *lh_repl_complete(const char *line)
{
    lua_State *L = lh_here->L;
    GPtrArray *matches = g_ptr_array_new_with_free_func(g_free);

    if (lh_here->complete_ref == LUA_NOREF) {
        return matches;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, lh_here->complete_ref);
    lua_pushstring(L, line);
    if (lua_pcall(L, 1, 1, 0) != 0) {
        lh_output_error(lua_tostring(L, -1));
    } else if (lua_istable(L, -1)) {
        for (int i = 1; ; i++) {
            lua_rawgeti(L, -1, i);
            if (!lua_isstring(L, -1)) {
                lua_pop(L, 1);
                break;
            }
            g_ptr_array_add(matches, g_strdup(lua_tostring(L, -1)));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
    return matches;
}

/* repl_read(prompt) -> line | nil at end of input */
static int prim_repl_read(lua_State *L)
{
    const char *prompt = luaL_checkstring(L, 1);
    char *line = frontend ? frontend->read_line(prompt) : NULL;

    if (!line) {
        lua_pushnil(L);
        return 1;
    }
    lua_pushstring(L, line);
    g_free(line);
    return 1;
}

/* repl_write(text) */
static int prim_repl_write(lua_State *L)
{
    size_t len;
    const char *s = luaL_checklstring(L, 1, &len);

    if (frontend) {
        frontend->write(s, len);
    }
    return 0;
}

/* set_completer(fn): fn(line) -> { completed line, ... } */
static int prim_set_completer(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_pushvalue(L, 1);
    lh_here->complete_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/*
 * stop_world(on): while on, other threads wait at their next syscall. A
 * prompt opening also answers any pending request for one (the client
 * that attached to this very prompt, say).
 */
static int prim_stop_world(lua_State *L)
{
    bool on = lua_toboolean(L, 1);

    if (on) {
        __atomic_store_n(&lh_gate.stop_request, LH_STOP_NONE, __ATOMIC_SEQ_CST);
    }
    if (on && !prompt_locked) {
        g_mutex_lock(&prompt_lock);
        prompt_locked = true;
    }
    __atomic_store_n(&lh_gate.world_stopped, on, __ATOMIC_RELEASE);
    if (!on && prompt_locked) {
        prompt_locked = false;
        g_mutex_unlock(&prompt_lock);
    }
    return 0;
}

/* waiting_threads() -> { { tid =, vcpu =, nr = }, ... } */
static int prim_waiting_threads(lua_State *L)
{
    lua_newtable(L);
    g_mutex_lock(&waiting_lock);
    for (guint i = 0; waiting && i < waiting->len; i++) {
        struct waiting_thread *w = &g_array_index(waiting, struct waiting_thread, i);

        lua_createtable(L, 0, 3);
        lua_pushnumber(L, w->tid);
        lua_setfield(L, -2, "tid");
        lua_pushnumber(L, w->vcpu);
        lua_setfield(L, -2, "vcpu");
        lua_pushnumber(L, (lua_Number)w->nr);
        lua_setfield(L, -2, "nr");
        lua_rawseti(L, -2, (int)i + 1);
    }
    g_mutex_unlock(&waiting_lock);
    return 1;
}

void lh_repl_lua_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "repl_read", prim_repl_read },
        { "repl_write", prim_repl_write },
        { "set_completer", prim_set_completer },
        { "stop_world", prim_stop_world },
        { "waiting_threads", prim_waiting_threads },
        { NULL, NULL },
    };

    luaL_register(L, NULL, fns);
    lua_pushlightuserdata(L, &breaks_generation);
    lua_setfield(L, -2, "breaks_generation");
    if (frontend) {
        lua_pushstring(L, frontend->kind);
        lua_setfield(L, -2, "repl_kind");
    }
}
