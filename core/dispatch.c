/*
 * The per-syscall path. The common case (no hook wants the syscall) ends
 * in the glue, which asks lh_syscall_needs_entry (luahook.h) first; wanted
 * events take the lock, fill the shared event record and resume the Lua
 * side's loop. Nothing is allocated.
 */
#include <sys/syscall.h>
#include <unistd.h>

#include "fiber.h"
#include "luahook.h"
#include "output.h"
#include "repl.h"
#include "state.h"
#include "turns.h"

struct lh_gate lh_gate;

/*
 * Guest threads are host threads in linux-user, so the guest's thread id is
 * this thread's. Cached: a gettid per event would cost as much as the rest.
 */
static LH_THREAD_LOCAL uint32_t cached_tid;

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

    lh_gate.interrupt_armed = true;
    if (frontend) {
        frontend->arm_interrupt();
    }
}

/*
 * Hands the filled record to the runtime's loop, which runs on its own
 * stack until the event is done. Errors, a hook's included, are dealt with
 * there (fiber_body in core/engine.c).
 */
static void run_loop(int kind)
{
    core.event.kind = kind;
    core.in_event = true;
    lh_fiber_run();
    core.in_event = false;
}

static void finish(void)
{
    int quit = core.quit_request;

    lh_unlock();
    if (quit != LH_QUIT_NONE) {
        lh_quit_qemu(quit);
    }
}

/* The hook's answer, as the record holds it. */
static int64_t entry_result(void)
{
    double n = core.event.result;

    if (core.event.answer == LH_ANSWER_RET) {
        return core.event.ret;
    }
    if (n >= 9223372036854775808.0) {       /* 2^63 and up: an unsigned value */
        return (int64_t)(uint64_t)n;
    }
    return (int64_t)n;
}

bool lh_syscall_entry(unsigned int vcpu, int64_t nr, const uint64_t args[8],
                      int64_t *ret)
{
    uint8_t want = lh_want_of(nr);
    bool handled = false;
    uint32_t tid;
    int stop;

    if (G_UNLIKELY(!lh_gate.interrupt_armed)) {
        arm_interrupt();
    }
    if (!want && !__atomic_load_n(&lh_gate.stop_request, __ATOMIC_RELAXED)
        && !__atomic_load_n(&lh_gate.world_stopped, __ATOMIC_RELAXED)) {
        return false;
    }
    tid = current_tid();
    lh_repl_wait_if_stopped(tid, vcpu, nr);
    lh_lock();
    /*
     * A prompt was asked for (Ctrl-C, a client attached): this call opens
     * it. Loaded before the exchange, a locked instruction, as it is
     * nearly always unset.
     */
    stop = __atomic_load_n(&lh_gate.stop_request, __ATOMIC_RELAXED)
           ? __atomic_exchange_n(&lh_gate.stop_request, LH_STOP_NONE, __ATOMIC_SEQ_CST)
           : LH_STOP_NONE;
    if (stop != LH_STOP_NONE || (want & LH_WANT_ENTRY)) {
        struct lh_event *ev = &core.event;

        ev->nr = (double)nr;
        ev->vcpu = vcpu;
        ev->tid = tid;
        ev->stop = stop;
        ev->answer = LH_ANSWER_NONE;
        /* QEMU sign-extends i386's 32-bit arguments: keep the guest's word */
        if (core.word_size == 4) {
            for (int i = 0; i < LH_ARG_COUNT; i++) {
                ev->args[i] = (uint32_t)args[i];
                ev->num[i] = (double)(uint32_t)args[i];
            }
        } else {
            for (int i = 0; i < LH_ARG_COUNT; i++) {
                ev->args[i] = args[i];
                ev->num[i] = (double)args[i];
            }
        }
        run_loop(LH_EVENT_ENTRY);
        handled = ev->answer != LH_ANSWER_NONE;
        if (handled) {
            *ret = entry_result();
        }
    }
    if (want & LH_WANT_FLUSH) {
        /* after the hooks, so what they printed about this call is out too */
        lh_output_flush();
    }
    finish();
    lh_turns_wait_if_asked();  /* a hook asked this thread to wait its turn */
    return handled;
}

void lh_syscall_return(unsigned int vcpu, int64_t nr, int64_t ret)
{
    uint8_t want = lh_want_of(nr);

    if (want & LH_WANT_REARM) {
        arm_interrupt();
    }
    if (!(want & LH_WANT_RETURN)) {
        return;
    }
    lh_lock();
    core.event.nr = (double)nr;
    core.event.vcpu = vcpu;
    core.event.tid = current_tid();
    core.event.ret = ret;
    core.event.retn = (double)ret;
    run_loop(LH_EVENT_RETURN);
    finish();
    lh_turns_wait_if_asked();
}
