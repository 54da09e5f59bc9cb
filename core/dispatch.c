/*
 * The per-syscall path. Every guest syscall passes here, so the common case
 * (no hook wants it) is one table load; only wanted events take the lock,
 * fill the shared event record and call into Lua. Nothing is allocated.
 */
#include <sys/syscall.h>
#include <unistd.h>

#include <lauxlib.h>

#include "luahook.h"
#include "output.h"
#include "repl.h"
#include "state.h"

/*
 * Guest threads are host threads in linux-user, so the guest's thread id is
 * this thread's. Cached: a gettid per event would cost as much as the rest.
 */
static _Thread_local uint32_t cached_tid;

static uint32_t current_tid(void)
{
    if (!cached_tid) {
        cached_tid = (uint32_t)syscall(SYS_gettid);
    }
    return cached_tid;
}

void lh_dispatch_forked(void)
{
    cached_tid = 0;
}

/*
 * Ctrl-C is taken only once QEMU has installed its own signal handlers
 * (after plugins load), and again whenever a guest sigaction made QEMU
 * replace them.
 */
static void arm_interrupt(void)
{
    const struct lh_repl_frontend *frontend = lh_repl_frontend();

    core.interrupt_armed = true;
    if (frontend) {
        frontend->arm_interrupt();
    }
}

static uint8_t want_of(int64_t nr)
{
    if (nr < 0 || nr >= LH_NR_MAX) {
        return 0;
    }
    /* Lua updates slots under the lock; a stale byte only delays a change */
    return __atomic_load_n(&core.want[nr], __ATOMIC_RELAXED);
}

#define EXACT_LIMIT 9007199254740992.0   /* 2^53: doubles are exact below */

/*
 * Values cross as plain numbers: the dispatchers run in LuaJIT's interpreter
 * (a trace cannot return into C), where reading FFI fields costs far more
 * than a push. A value a double cannot hold exactly crosses as false, and
 * Lua reads it from the event record instead.
 */
static void push_word(lua_State *L, uint64_t v)
{
    if ((double)v < EXACT_LIMIT) {
        lua_pushnumber(L, (lua_Number)v);
    } else {
        lua_pushboolean(L, 0);
    }
}

static void push_signed(lua_State *L, int64_t v)
{
    if ((double)v < EXACT_LIMIT && (double)v > -EXACT_LIMIT) {
        lua_pushnumber(L, (lua_Number)v);
    } else {
        lua_pushboolean(L, 0);
    }
}

/* Pushes the dispatcher `ref` and the event's nr, vcpu and tid. */
static void push_dispatcher(int ref)
{
    lua_State *L = core.L;

    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    lua_pushnumber(L, (lua_Number)core.event.nr);
    lua_pushnumber(L, core.event.vcpu);
    lua_pushnumber(L, core.event.tid);
}

/*
 * Calls the dispatcher pushed with its arguments. The runtime guards each
 * hook itself, so an error reaching here is a bug in luahook: report it and
 * carry on.
 */
static bool call_dispatcher(int nargs, int nresults)
{
    lua_State *L = core.L;

    if (lua_pcall(L, nargs, nresults, 0) != 0) {
        lh_output_error(lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    return true;
}

static void finish(void)
{
    int quit = core.quit_request;

    lh_unlock();
    if (quit != LH_QUIT_NONE) {
        lh_quit_qemu(quit);
    }
}

/* The hook's answer: a number on the stack, else the record's ret. */
static int64_t entry_result(lua_State *L)
{
    lua_Number n;

    if (!lua_isnumber(L, -1)) {
        return core.event.ret;
    }
    n = lua_tonumber(L, -1);
    if (n >= 9223372036854775808.0) {       /* 2^63 and up: an unsigned value */
        return (int64_t)(uint64_t)n;
    }
    return (int64_t)n;
}

bool lh_syscall_entry(unsigned int vcpu, int64_t nr, const uint64_t args[8],
                      int64_t *ret)
{
    lua_State *L = core.L;
    uint8_t want = want_of(nr);
    bool handled = false;
    int stop;

    if (G_UNLIKELY(!core.interrupt_armed)) {
        arm_interrupt();
    }
    if (!want && !__atomic_load_n(&core.stop_request, __ATOMIC_RELAXED)
        && !__atomic_load_n(&core.world_stopped, __ATOMIC_RELAXED)) {
        return false;
    }
    lh_repl_wait_if_stopped(current_tid(), vcpu, nr);
    lh_lock();
    /* a prompt was asked for (Ctrl-C, a client attached): this call opens it */
    stop = __atomic_exchange_n(&core.stop_request, LH_STOP_NONE, __ATOMIC_SEQ_CST);
    if (stop != LH_STOP_NONE || (want & LH_WANT_ENTRY)) {
        core.event.nr = nr;
        core.event.vcpu = vcpu;
        core.event.tid = current_tid();
        core.event.ret = 0;
        push_dispatcher(core.entry_ref);
        for (int i = 0; i < 8; i++) {
            /* QEMU sign-extends i386's 32-bit arguments: keep the guest's word */
            core.event.args.u64[i] = core.word_size == 4 ? (uint32_t)args[i] : args[i];
        }
        for (int i = 0; i < LH_ARG_COUNT; i++) {
            push_word(L, core.event.args.u64[i]);
        }
        lua_pushstring(L, stop == LH_STOP_INTERRUPT ? "interrupt"
                          : stop == LH_STOP_ATTACH ? "attach" : NULL);
        core.in_event = true;
        if (call_dispatcher(4 + LH_ARG_COUNT, 2)) {
            handled = lua_toboolean(L, -2);
            if (handled) {
                *ret = entry_result(L);
            }
            lua_pop(L, 2);
        }
        core.in_event = false;
    }
    if (want & LH_WANT_FLUSH) {
        /* after the hooks, so what they printed about this call is out too */
        lh_output_flush();
    }
    finish();
    return handled;
}

void lh_syscall_return(unsigned int vcpu, int64_t nr, int64_t ret)
{
    uint8_t want = want_of(nr);

    if (want & LH_WANT_REARM) {
        arm_interrupt();
    }
    if (!(want & LH_WANT_RETURN)) {
        return;
    }
    lh_lock();
    core.event.nr = nr;
    core.event.vcpu = vcpu;
    core.event.tid = current_tid();
    core.event.ret = ret;
    push_dispatcher(core.return_ref);
    push_signed(core.L, ret);
    core.in_event = true;
    call_dispatcher(4, 0);
    core.in_event = false;
    finish();
}
