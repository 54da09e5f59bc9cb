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

static uint8_t want_of(int64_t nr)
{
    if (nr < 0 || nr >= LH_NR_MAX) {
        return 0;
    }
    /* Lua updates slots under the lock; a stale byte only delays a change */
    return __atomic_load_n(&core.want[nr], __ATOMIC_RELAXED);
}

/*
 * Calls a runtime dispatcher. The runtime guards each hook itself, so an
 * error reaching here is a bug in luahook: report it and carry on.
 */
static bool call_dispatcher(int ref, int nresults)
{
    lua_State *L = core.L;

    lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
    if (lua_pcall(L, 0, nresults, 0) != 0) {
        lh_output_error(lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    return true;
}

static void finish(void)
{
    bool abort = core.abort_requested;

    lh_unlock();
    if (abort) {
        lh_abort_qemu();
    }
}

bool lh_syscall_entry(unsigned int vcpu, int64_t nr, const uint64_t args[8],
                      int64_t *ret)
{
    uint8_t want = want_of(nr);
    bool handled = false;

    if (!want) {
        return false;
    }
    lh_lock();
    if (want & LH_WANT_ENTRY) {
        core.event.nr = nr;
        core.event.vcpu = vcpu;
        core.event.tid = current_tid();
        core.event.ret = 0;
        for (int i = 0; i < 8; i++) {
            core.event.args.u64[i] = args[i];
        }
        core.in_event = true;
        if (call_dispatcher(core.entry_ref, 1)) {
            handled = lua_toboolean(core.L, -1);
            lua_pop(core.L, 1);
            *ret = core.event.ret;
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
    if (!(want_of(nr) & LH_WANT_RETURN)) {
        return;
    }
    lh_lock();
    core.event.nr = nr;
    core.event.vcpu = vcpu;
    core.event.tid = current_tid();
    core.event.ret = ret;
    core.in_event = true;
    call_dispatcher(core.return_ref, 0);
    core.in_event = false;
    finish();
}
