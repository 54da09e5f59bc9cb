/*
 * The Lua engine's life: create the state, give the runtime library its C
 * primitives, run the user's script, and end cleanly at exit or on abort.
 *
 * The C/Lua boundary (docs/internals.md): C hands the runtime one table of
 * primitives and receives its event loop, which then runs on a stack of its
 * own (core/fiber.c) and is resumed for every event (entry, return, exit).
 * Events cross through struct lh_event, which Lua reads with FFI.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lauxlib.h>
#include <lualib.h>

#include "elf_guest.h"
#include "exec.h"
#include "code_watch.h"
#include "fiber.h"
#include "guest_lua.h"
#include "core.h"
#include "modules.h"
#include "ordered.h"
#include "output.h"
#include "own_fds.h"
#include "repl.h"
#include "signals.h"
#include "shared.h"
#include "state.h"
#include "states.h"
#include "unwind_lua.h"
#include "turns.h"

struct lh_core lh_core;

struct lh_state lh_main_state = {
    .loop_ref = LUA_NOREF,
    .loop_error_ref = LUA_NOREF,
    .complete_ref = LUA_NOREF,
    .want = lh_gate.want,
};

LH_THREAD_LOCAL struct lh_state *lh_here = &lh_main_state;

static LH_THREAD_LOCAL bool fork_took_lock;

static int prim_flush(lua_State *L)
{
    (void)L;
    lh_output_flush();
    return 0;
}

/* core.error(msg): a "luahook: msg" line on stderr. */
static int prim_error(lua_State *L)
{
    lh_output_error(luaL_checkstring(L, 1));
    return 0;
}

/* core.request_abort(): stop QEMU once the current event is done. */
static int prim_request_abort(lua_State *L)
{
    (void)L;
    lh_core.quit_request = LH_QUIT_ABORT;     /* over os.exit and kill: a hook failed */
    return 0;
}

/*
 * core.request_exit(status): os.exit's part in C. QEMU exits with `status`
 * once the current event (or the script's loading) is done, unless
 * something asked to stop it first.
 */
static int prim_request_exit(lua_State *L)
{
    int status = (int)luaL_checkinteger(L, 1);

    if (lh_core.quit_request == LH_QUIT_NONE) {
        lh_core.quit_request = LH_QUIT_EXIT;
        lh_core.exit_status = status;
    }
    return 0;
}

/* core.stopping(): will QEMU stop once the current event is done? */
static int prim_stopping(lua_State *L)
{
    lua_pushboolean(L, lh_core.quit_request != LH_QUIT_NONE);
    return 1;
}

/* lh_core.watch_returns(): return events are wanted from now on (for good). */
static int prim_watch_returns(lua_State *L)
{
    (void)L;
    if (lh_core.watch_returns) {
        lh_core.watch_returns();
        lh_core.watch_returns = NULL;
    }
    return 0;
}

/* core.watch_hooks(ms): hook_timeout=MS, an event's hooks interrupted after MS */
static int prim_watch_hooks(lua_State *L)
{
    char *msg = NULL;

    if (!lh_signals_watch((unsigned)luaL_checkinteger(L, 1), &msg)) {
        lua_pushstring(L, msg);
        g_free(msg);
        return lua_error(L);
    }
    return 0;
}

/* core.set_guest_errno(host, guest): host errno `host` is `guest` on the guest */
static int prim_set_guest_errno(lua_State *L)
{
    lh_dispatch_set_guest_errno((int)luaL_checkinteger(L, 1), (int)luaL_checkinteger(L, 2));
    return 0;
}

/* core.realpath(path) -> the absolute, resolved path | nil, reason */
static int prim_realpath(lua_State *L)
{
    char *resolved = realpath(luaL_checkstring(L, 1), NULL);

    if (!resolved) {
        lua_pushnil(L);
        lua_pushstring(L, g_strerror(errno));
        return 2;
    }
    lua_pushstring(L, resolved);
    free(resolved);
    return 1;
}

/* core.last_signal(): see lh_signals_last */
static int prim_last_signal(lua_State *L)
{
    lua_pushinteger(L, lh_signals_last());
    return 1;
}

/* lh_core.in_event(): is a hook running for a syscall right now? */
static int prim_in_event(lua_State *L)
{
    lua_pushboolean(L, lh_here->in_event);
    return 1;
}

/* core.want_changed(): Lua rewrote its want bits (parallel=1: see lh_states_want_changed) */
static int prim_want_changed(lua_State *L)
{
    (void)L;
    if (lh_core.parallel) {
        lh_states_want_changed(lh_here);
    }
    return 0;
}

/*
 * core.end_other_states(): a followed exec is about to replace the
 * process: every other state's exit hooks run first (parallel=1).
 */
static int prim_end_other_states(lua_State *L)
{
    (void)L;
    if (lh_core.parallel) {
        lh_states_end_others();
    }
    return 0;
}

/* core.kill_guest(): end the guest once the current event is done. */
static int prim_kill_guest(lua_State *L)
{
    (void)L;
    if (lh_core.quit_request == LH_QUIT_NONE) {
        lh_core.quit_request = LH_QUIT_KILL;
    }
    return 0;
}

struct code {
    const char *name;
    int value;
};

/*
 * Sets field `table` of the table on top to { name = value }: the runtime
 * learns the record's codes and bits from C, never by repeating them.
 */
static void push_codes(lua_State *L, const char *table, const struct code codes[])
{
    lua_newtable(L);
    for (int i = 0; codes[i].name; i++) {
        lua_pushinteger(L, codes[i].value);
        lua_setfield(L, -2, codes[i].name);
    }
    lua_setfield(L, -2, table);
}

static const struct lh_calls ffi_calls = {
    .yield = lh_fiber_yield,
    .write = lh_output_write,
    .read_string = lh_guest_read_string,
    .commit = lh_output_commit,
    .place = lh_output_place,
    .order_use = lh_ordered_use,
};

/* Sets field `name` of the table on top to { KEY = "VALUE" } from "KEY=VALUE" strings. */
static void push_pairs(lua_State *L, const char *name, GPtrArray *pairs)
{
    lua_newtable(L);
    for (guint i = 0; pairs && i < pairs->len; i++) {
        const char *kv = g_ptr_array_index(pairs, i);
        const char *eq = strchr(kv, '=');

        lua_pushlstring(L, kv, (size_t)(eq - kv));
        lua_pushstring(L, eq + 1);
        lua_rawset(L, -3);
    }
    lua_setfield(L, -2, name);
}

static void push_primitives(lua_State *L, const struct lh_config *cfg)
{
    static const luaL_Reg fns[] = {
        { "flush", prim_flush },
        { "error", prim_error },
        { "request_abort", prim_request_abort },
        { "request_exit", prim_request_exit },
        { "kill_guest", prim_kill_guest },
        { "stopping", prim_stopping },
        { "in_event", prim_in_event },
        { "last_signal", prim_last_signal },
        { "watch_returns", prim_watch_returns },
        { "realpath", prim_realpath },
        { "set_guest_errno", prim_set_guest_errno },
        { "watch_hooks", prim_watch_hooks },
        { "want_changed", prim_want_changed },
        { "end_other_states", prim_end_other_states },
        { NULL, NULL },
    };
    struct lh_state *st = lh_here;

    lua_newtable(L);
    luaL_register(L, NULL, fns);
    lh_guest_lua_register(L);
    lh_repl_lua_register(L);
    lh_unwind_lua_register(L, cfg->arch);
    lh_turns_lua_register(L);
    lh_code_lua_register(L, cfg->watch_code);
    lh_shared_lua_register(L);
    lua_pushboolean(L, lh_core.parallel);
    lua_setfield(L, -2, "parallel");
    lua_pushboolean(L, st != &lh_main_state);
    lua_setfield(L, -2, "thread_state");
    lua_pushlightuserdata(L, &lh_states_several);
    lua_setfield(L, -2, "several_states");
    lua_pushstring(L, cfg->arch);
    lua_setfield(L, -2, "arch");
    lua_pushinteger(L, lh_core.word_size);
    lua_setfield(L, -2, "word_size");
    lua_pushboolean(L, lh_core.big_endian);
    lua_setfield(L, -2, "big_endian");
    lua_pushboolean(L, cfg->abort_on_error);
    lua_setfield(L, -2, "abort_on_error");
    lua_pushstring(L, cfg->script ? cfg->script : "");
    lua_setfield(L, -2, "script");
    lua_pushstring(L, cfg->out);       /* nil for stderr */
    lua_setfield(L, -2, "out");
    lua_newtable(L);
    for (guint i = 0; cfg->breaks && i < cfg->breaks->len; i++) {
        lua_pushstring(L, g_ptr_array_index(cfg->breaks, i));
        lua_rawseti(L, -2, (int)i + 1);
    }
    lua_setfield(L, -2, "breaks");
    lua_pushstring(L, LH_EVENT_CDEF);
    lua_setfield(L, -2, "event_cdef");
    lua_pushlightuserdata(L, &st->event);
    lua_setfield(L, -2, "event");
    lua_pushstring(L, LH_CALLS_CDEF);
    lua_setfield(L, -2, "calls_cdef");
    lua_pushlightuserdata(L, (void *)&ffi_calls);
    lua_setfield(L, -2, "calls");
    push_codes(L, "events", (const struct code[]){
        { "entry", LH_EVENT_ENTRY }, { "return", LH_EVENT_RETURN }, { "exit", LH_EVENT_EXIT },
        { "code", LH_EVENT_CODE }, { "after", LH_EVENT_AFTER }, { NULL, 0 } });
    push_codes(L, "answers", (const struct code[]){
        { "number", LH_ANSWER_NUMBER }, { "ret", LH_ANSWER_RET }, { "host", LH_ANSWER_HOST },
        { NULL, 0 } });
    push_codes(L, "stops", (const struct code[]){
        { "interrupt", LH_STOP_INTERRUPT }, { "attach", LH_STOP_ATTACH }, { NULL, 0 } });
    push_codes(L, "wants", (const struct code[]){
        { "entry", LH_WANT_ENTRY }, { "return", LH_WANT_RETURN }, { "flush", LH_WANT_FLUSH },
        { "rearm", LH_WANT_REARM }, { "args", LH_WANT_ARGS }, { NULL, 0 } });
    lua_pushinteger(L, LH_ARG_COUNT);
    lua_setfield(L, -2, "arg_count");
    lua_pushlightuserdata(L, st->want);
    lua_setfield(L, -2, "want");
    lua_pushinteger(L, LH_NR_MAX);
    lua_setfield(L, -2, "nr_max");

    lh_exec_lua_register(L);
    push_pairs(L, "args", cfg->script_args);
    push_pairs(L, "inherited", cfg->inherited);
}

/*
 * Pushes the globals the runtime library sees: a copy of the standard
 * ones as they are before any script runs, each library table (string,
 * math, ...) copied too, and _G the real global table. A script that
 * assigns `type`, `string` or `string.format` changes its own globals,
 * never what the runtime calls at every event.
 */
static void push_private_globals(lua_State *L)
{
    lua_newtable(L);
    lua_pushnil(L);
    while (lua_next(L, LUA_GLOBALSINDEX) != 0) {
        if (lua_istable(L, -1) && !lua_rawequal(L, -1, LUA_GLOBALSINDEX)) {
            int lib = lua_gettop(L);

            lua_newtable(L);
            lua_pushnil(L);
            while (lua_next(L, lib) != 0) {
                lua_pushvalue(L, -2);
                lua_insert(L, -2);
                lua_rawset(L, -4);
            }
            lua_replace(L, lib);
        }
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, -4);
    }
}

/*
 * package.preload's __index: the loader of an embedded module, compiled
 * from its bytecode when first required, its globals the private ones
 * (upvalue 1). Loading every module at start-up instead cost a thread's
 * new state with parallel=1 as much as the rest of its boot.
 */
static int load_embedded(lua_State *L)
{
    const char *name = luaL_checkstring(L, 2);

    for (const struct lh_module *m = lh_modules; m->name; m++) {
        if (!strcmp(m->name, name)) {
            /* the build compiled these, so loading cannot fail */
            luaL_loadbuffer(L, m->bytecode, m->size, m->name);
            lua_pushvalue(L, lua_upvalueindex(1));
            lua_setfenv(L, -2);
            return 1;
        }
    }
    return 0;
}

static void preload_modules(lua_State *L)
{
    lua_getglobal(L, "package");
    lua_getfield(L, -1, "preload");
    lua_newtable(L);
    push_private_globals(L);
    lua_pushcclosure(L, load_embedded, 1);
    lua_setfield(L, -2, "__index");
    lua_setmetatable(L, -2);
    lua_pop(L, 2);
}

/* require("luahook._core.runtime").boot(primitives) -> the event loop, its handler */
static bool boot_runtime(lua_State *L, const struct lh_config *cfg, char **msg)
{
    lua_getglobal(L, "require");
    lua_pushliteral(L, "luahook._core.runtime");
    if (lua_pcall(L, 1, 1, 0) != 0) {
        *msg = g_strdup_printf("cannot load the runtime library: %s", lua_tostring(L, -1));
        return false;
    }
    lua_getfield(L, -1, "boot");
    push_primitives(L, cfg);
    if (lua_pcall(L, 1, 2, 0) != 0) {
        *msg = g_strdup(lua_tostring(L, -1));
        return false;
    }
    lh_here->loop_error_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lh_here->loop_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pop(L, 1);
    return true;
}

/*
 * The script's hooks are in: hooks.settle writes the want table. The module
 * is found in package.loaded (the runtime loaded it), not through the global
 * require, which the script may have replaced.
 */
static bool settle_hooks(lua_State *L, char **msg)
{
    bool ok;

    lua_getfield(L, LUA_REGISTRYINDEX, "_LOADED");
    lua_getfield(L, -1, "luahook._core.hooks");
    if (!lua_istable(L, -1)) {
        *msg = g_strdup("cannot register the script's hooks: the script unloaded "
                        "luahook._core.hooks");
        lua_pop(L, 2);
        return false;
    }
    lua_getfield(L, -1, "settle");
    ok = lua_pcall(L, 0, 0, 0) == 0;
    if (!ok) {
        *msg = g_strdup_printf("cannot register the script's hooks: %s", lua_tostring(L, -1));
    }
    lua_pop(L, ok ? 2 : 3);
    return ok;
}

/* Errors before the guest runs are one line: "file:line: message". */
static bool run_script(lua_State *L, const char *path, char **msg)
{
    if (luaL_loadfile(L, path) != 0) {
        *msg = g_strdup(lua_tostring(L, -1));
        return false;
    }
    if (lua_pcall(L, 0, 0, 0) != 0) {
        const char *err = lua_tostring(L, -1);

        *msg = err ? g_strdup(err)
                   : g_strdup_printf("%s: the script raised a %s as its error", path,
                                     luaL_typename(L, -1));
        return false;
    }
    return true;
}

/*
 * A guest fork copies the process with its Lua state. Hold the lock across
 * the fork so the child never inherits it mid-update from another vCPU, and
 * flush first so buffered output is not written twice. A hook that forks
 * (io.popen) already holds the lock.
 */
static void fork_prepare(void)
{
    fork_took_lock = !lh_lock_held();
    if (fork_took_lock) {
        lh_lock();
    }
    lh_shared_hold(true);
    lh_output_hold(true);      /* flushed, and no other thread writes until after */
    lh_output_copies_make(NULL, NULL);
}

static void fork_done(void)
{
    if (fork_took_lock) {
        fork_took_lock = false;
        lh_unlock();
    }
}

static void fork_parent(void)
{
    lh_output_copies_drop();
    lh_output_hold(false);
    lh_shared_hold(false);
    fork_done();
}

/*
 * The child has only the forking thread: luahook's descriptor thread is
 * started again, and takes the copies fork_prepare made.
 */
static void fork_child(void)
{
    char *msg = NULL;

    lh_output_forked();
    lh_shared_forked();
    lh_dispatch_forked();
    if (lh_core.parallel) {
        lh_states_forked();
    }
    lh_own_forked();
    if (!lh_own_start(&msg)) {
        lh_output_error(msg);  /* luahook's descriptors stay in the child's table */
        g_free(msg);
    }
    lh_output_copies_adopt();
    lh_repl_forked();
    fork_done();
}

/*
 * The fiber's body: the runtime's loop, which yields after each event and
 * returns only by an error. A hook's error unwinds it too (hooks are not
 * called under pcall, see lua/luahook/_core/runtime.lua): the loop's message
 * handler reports it and the loop, started again, resumes the event.
 */
static void fiber_body(void)
{
    /* read before the first yield: a state may later run on another thread */
    struct lh_state *st = lh_here;
    lua_State *L = st->L;

    for (;;) {
        int status;

        lua_rawgeti(L, LUA_REGISTRYINDEX, st->loop_error_ref);
        lua_rawgeti(L, LUA_REGISTRYINDEX, st->loop_ref);
        status = lua_pcall(L, 0, 0, -2);
        if (status != 0 && status != LUA_ERRRUN) {
            /*
             * The handler could not run where the error happened (a stack
             * overflow leaves it no room, or memory ran out): run it now
             * that the stack has unwound. Should that fail too, the event
             * goes on as declined.
             */
            lua_pushvalue(L, -2);
            lua_pushvalue(L, -2);
            if (lua_pcall(L, 1, 0, 0) != 0) {
                lh_output_error(lua_tostring(L, -1));
                lua_pop(L, 3);
                lh_fiber_yield();
                continue;
            }
        }
        lua_pop(L, 2);
    }
}

bool lh_arch_supported(const char *arch)
{
    int word_size, big_endian;

    return lh_elf_guest_layout(arch, &word_size, &big_endian);
}

/* Exit status and last words for a quit request (after the exit hooks). */
static int quit_status(int reason)
{
    switch (reason) {
    case LH_QUIT_KILL:
        lh_output_error("guest killed at the REPL");
        return 128 + SIGKILL;  /* the status a shell shows for a killed program */
    case LH_QUIT_ABORT:
        lh_output_error("stopping QEMU because a hook failed (onerror=abort)");
        return EXIT_FAILURE;
    default:
        return lh_core.exit_status;
    }
}

static int quit_started;

void lh_state_end(bool thread_only)
{
    struct lh_state *st = lh_here;

    if (!st->ended) {
        st->ended = true;
        st->event.kind = LH_EVENT_EXIT;
        st->event.args[0] = thread_only;
        st->event.num[0] = thread_only;
        lh_run_lua();
    }
}

/*
 * Runs the exit hooks once (the first caller does), then flushes. Called
 * from QEMU's exit path, where the exit hooks may still ask to stop QEMU
 * their own way (os.exit, onerror=abort): that exits here, with _exit as
 * QEMU itself would right after. With parallel=1 the other states' exit
 * hooks run first, so this thread's, last, can merge what they left.
 */
static void engine_exit(bool from_qemu)
{
    int quit;

    if (lh_lock_held()) {
        /*
         * exit() called from a hook on this very thread (ffi.C.exit, say;
         * os.exit is luahook's own): the Lua side is in mid-event, so no
         * exit hook can run. Output still goes out.
         */
        lh_output_flush();
        return;
    }
    if (lh_core.parallel) {
        lh_states_end_others();
    }
    lh_lock();
    lh_state_end(false);
    lh_output_flush();
    lh_repl_close();
    quit = __atomic_load_n(&lh_core.quit_request, __ATOMIC_ACQUIRE);
    if (quit != LH_QUIT_NONE) {
        __atomic_store_n(&lh_core.quitting, true, __ATOMIC_RELEASE);
    }
    lh_unlock();
    if (from_qemu && quit != LH_QUIT_NONE
        && !__atomic_exchange_n(&quit_started, 1, __ATOMIC_SEQ_CST)) {
        _exit(quit_status(quit));
    }
}

void lh_engine_exit(void)
{
    engine_exit(true);
}

void lh_wait_for_quit(void)
{
    for (;;) {
        pause();
    }
}

void lh_quit_qemu(void)
{
    if (__atomic_exchange_n(&quit_started, 1, __ATOMIC_SEQ_CST)) {
        lh_wait_for_quit();    /* another thread is at it */
    }
    engine_exit(false);
    exit(quit_status(lh_core.quit_request));
}

void lh_config_init(struct lh_config *cfg, const char *arch,
                    const struct lh_guest_ops *guest, void (*watch_returns)(void))
{
    *cfg = (struct lh_config){
        .arch = arch,
        .script_args = g_ptr_array_new(),
        .breaks = g_ptr_array_new(),
        .guest = guest,
        .watch_returns = watch_returns,
        .follow_exec = true,
        .out_fd = -1,
        .err_fd = -1,
        .exec_close = -1,
        .inherited = g_ptr_array_new(),
    };
}

void lh_config_free(struct lh_config *cfg)
{
    g_ptr_array_free(cfg->script_args, true);
    g_ptr_array_free(cfg->breaks, true);
    g_ptr_array_free(cfg->inherited, true);
}

/*
 * Loads the runtime and the script into lh_here's new Lua state: its
 * fiber, the runtime's boot, the user's script.
 */
static bool boot_state(const struct lh_config *cfg, char **msg)
{
    struct lh_state *st = lh_here;

    preload_modules(st->L);
    return lh_fiber_init(&st->fiber, fiber_body, msg)
           && boot_runtime(st->L, cfg, msg)
           && (!cfg->script || run_script(st->L, cfg->script, msg))
           && settle_hooks(st->L, msg);
}

static lua_State *new_lua(char **msg)
{
    lua_State *L = luaL_newstate();

    if (!L) {
        *msg = g_strdup("cannot create the Lua state (out of memory)");
        return NULL;
    }
    luaL_openlibs(L);
    return L;
}

bool lh_state_boot(char **msg)
{
    struct lh_state *st = lh_here;

    st->loop_ref = st->loop_error_ref = st->complete_ref = LUA_NOREF;
    st->L = new_lua(msg);
    return st->L && boot_state(lh_core.config, msg);
}

void lh_state_close(struct lh_state *st)
{
    if (st->L) {
        lua_close(st->L);
    }
    lh_fiber_free(&st->fiber);
}

static GPtrArray *copy_strings(GPtrArray *list)
{
    GPtrArray *copy = g_ptr_array_new();

    for (guint i = 0; list && i < list->len; i++) {
        g_ptr_array_add(copy, g_strdup(g_ptr_array_index(list, i)));
    }
    return copy;
}

/* What later states boot with (parallel=1): the caller's configuration is gone by then. */
static const struct lh_config *keep_config(const struct lh_config *cfg)
{
    struct lh_config *kept = g_new(struct lh_config, 1);

    *kept = *cfg;
    kept->arch = g_strdup(cfg->arch);
    kept->script = g_strdup(cfg->script);
    kept->out = g_strdup(cfg->out);
    kept->repl = g_strdup(cfg->repl);
    kept->breaks = copy_strings(cfg->breaks);
    kept->script_args = copy_strings(cfg->script_args);
    kept->inherited = copy_strings(cfg->inherited);
    kept->plugin_argc = 0;
    kept->plugin_argv = NULL;
    return kept;
}

bool lh_engine_start(const struct lh_config *cfg, char **msg)
{
    struct lh_state *st = &lh_main_state;
    lua_State *L = new_lua(msg);

    if (!L) {
        return false;
    }
    st->L = L;
    lh_lock_bias(st);          /* the main thread: the guest's first */
    lh_core.guest = cfg->guest;
    lh_core.watch_returns = cfg->watch_returns;
    lh_core.parallel = cfg->parallel;
    lh_elf_guest_layout(cfg->arch, &lh_core.word_size, &lh_core.big_endian);
    lh_signals_init(L);
    lh_exec_init(cfg);
    if (!lh_own_start(msg)
        || !(cfg->out_fd >= 0 ? lh_output_adopt(cfg->out_fd, cfg->err_fd, msg)
                              : lh_output_open(cfg->out, msg))) {
        return false;
    }
    if (cfg->repl && !lh_repl_open(cfg->repl, cfg->repl_forked, msg)) {
        return false;
    }
    if (cfg->parallel) {
        lh_core.config = keep_config(cfg);
        lh_states_init(lh_current_tid());
        lh_output_share();
    }
    if (!boot_state(cfg, msg)) {
        if (lh_core.quit_request != LH_QUIT_NONE) {
            lh_quit_qemu();    /* os.exit while loading: before the guest runs */
        }
        lh_output_flush();     /* what the script printed before failing */
        lh_repl_close();       /* no socket left behind by a start that failed */
        return false;
    }
    lh_exec_started();
    pthread_atfork(fork_prepare, fork_parent, fork_child);
    return true;
}
