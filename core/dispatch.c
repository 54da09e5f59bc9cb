/*
 * The per-syscall path. The common case (no hook wants the syscall) ends
 * in the glue, which asks lh_syscall_needs_entry (core.h) first; wanted
 * events take the lock of this thread's Lua state (the one state, unless
 * parallel=1), fill its event record and resume its loop. Nothing is
 * allocated (but a parallel=1 thread's first event makes its state).
 */
#include <errno.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "exec.h"
#include "fiber.h"
#include "core.h"
#include "output.h"
#include "repl.h"
#include "signals.h"
#include "state.h"
#include "states.h"
#include "turns.h"

struct lh_gate lh_gate;

/*
 * Guest threads are host threads in linux-user, so the guest's thread id is
 * this thread's. Cached: a gettid per event would cost as much as the rest.
 */
static LH_THREAD_LOCAL uint32_t cached_tid;

uint32_t lh_current_tid(void)
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
 * Signals are taken only once QEMU has installed its own handlers (after
 * plugins load), and again whenever a guest sigaction made QEMU replace
 * one.
 */
static void arm_signals(void)
{
    lh_gate.signals_armed = true;
    lh_signals_arm();
}

void lh_run_lua(void)
{
    static uint32_t events;
    /* interrupts reach the main state only: LuaJIT's profiler serves one */
    bool interruptible = lh_here == &lh_main_state;

    if (interruptible) {
        /* 0 means no event: skipped when the count wraps */
        events = events + 1 ? events + 1 : 1;
        __atomic_store_n(&lh_gate.lua_event, events, __ATOMIC_RELAXED);
    }
    if (G_UNLIKELY(!lh_fiber_run(&lh_here->fiber))) {
        /* never seen: the state's lock keeps a second event out while one runs */
        lh_output_error("an event came while the Lua side ran another: "
                        "left to QEMU unhooked");
    }
    if (interruptible) {
        __atomic_store_n(&lh_gate.lua_event, 0, __ATOMIC_RELAXED);
    }
    if (G_UNLIKELY(lh_core.parallel)) {
        lh_output_commit();   /* the event's text, whole, into the stream */
    }
    if (G_UNLIKELY(__atomic_load_n(&lh_sigint_deferred, __ATOMIC_RELAXED))) {
        lh_signals_replay();
    }
}

/*
 * Hands the filled record to the runtime's loop, which runs on its own
 * stack until the event is done. Errors, a hook's included, are dealt with
 * there (fiber_body in core/engine.c).
 */
static void run_loop(int kind)
{
    lh_here->event.kind = kind;
    lh_here->in_event = true;
    lh_run_lua();
    lh_here->in_event = false;
}

/*
 * Takes the lock of the state of this thread (guest thread `tid`; with
 * parallel=1 made at the thread's first event), unless QEMU is being
 * stopped: then waits for that.
 */
static void lock_unless_quitting(uint32_t tid, unsigned int vcpu, int64_t nr)
{
    if (G_UNLIKELY(lh_core.parallel)) {
        lh_states_enter(tid);
    }
    if (G_LIKELY(!lh_repl_on)) {
        lh_lock();
    } else if (!lh_lock_try()) {
        /*
         * Held by another thread's event, which may open a prompt before
         * it lets go: this thread is waiting at its syscall all the same.
         */
        lh_repl_waiting(tid, vcpu, nr, true);
        lh_lock();
        lh_repl_waiting(tid, vcpu, nr, false);
    }
    if (G_UNLIKELY(__atomic_load_n(&lh_core.quitting, __ATOMIC_ACQUIRE))) {
        lh_unlock();
        lh_wait_for_quit();
    }
}

static void finish(void)
{
    bool quit = __atomic_load_n(&lh_core.quit_request, __ATOMIC_ACQUIRE) != LH_QUIT_NONE;

    /* before unlocking: no other thread may start a hook from here on */
    if (quit) {
        __atomic_store_n(&lh_core.quitting, true, __ATOMIC_RELEASE);
    }
    lh_unlock();
    if (quit) {
        lh_quit_qemu();
    }
}

/* The hook's answer, as the record holds it. */
static int64_t entry_result(void)
{
    double n = lh_here->event.result;

    if (lh_here->event.answer == LH_ANSWER_RET) {
        return lh_here->event.ret;
    }
    if (n >= 9223372036854775808.0) {       /* 2^63 and up: an unsigned value */
        return (int64_t)(uint64_t)n;
    }
    return (int64_t)n;
}

/*
 * A host syscall a hook asked for in place of the guest's (LH_ANSWER_HOST),
 * made after the lock is let go: it may wait for another guest thread's
 * hooked call (the two ends of a FIFO), which needs the lock.
 */
struct host_call {
    long nr;
    uint64_t args[LH_ARG_COUNT];
};

/* Host errno -> the guest's number, where the two differ; 0 elsewhere. */
#define HOST_ERRNO_MAX 4096
static int guest_errno[HOST_ERRNO_MAX];

void lh_dispatch_set_guest_errno(int host, int guest)
{
    if (host > 0 && host < HOST_ERRNO_MAX) {
        guest_errno[host] = guest;
    }
}

static int64_t make_host_call(const struct host_call *c)
{
    long r = syscall(c->nr, c->args[0], c->args[1], c->args[2], c->args[3], c->args[4],
                     c->args[5]);
    int e = errno;

    if (r >= 0) {
        return r;
    }
    return -(int64_t)(e > 0 && e < HOST_ERRNO_MAX && guest_errno[e] ? guest_errno[e] : e);
}

/*
 * The arguments into the record. QEMU sign-extends i386's 32-bit
 * arguments: the guest's word is kept.
 */
static void put_args(struct lh_event *ev, const uint64_t *args)
{
    if (lh_core.word_size == 4) {
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
}

/*
 * A call with after-hooks only (LH_WANT_ARGS without LH_WANT_ENTRY) does
 * not enter Lua at its entry, which would cost as much as its return: its
 * arguments wait here, per thread, and its return brings them
 * (LH_EVENT_AFTER). `valid` is cleared at that return, and by an entry
 * Lua sees, whose return must not take these.
 */
static LH_THREAD_LOCAL struct {
    bool valid;
    int64_t nr;
    uint64_t args[LH_ARG_COUNT];
} kept_call;

static void keep_args(int64_t nr, const uint64_t args[8])
{
    kept_call.valid = true;
    kept_call.nr = nr;
    memcpy(kept_call.args, args, sizeof(kept_call.args));
}

bool lh_syscall_entry(unsigned int vcpu, int64_t nr, const uint64_t args[8],
                      int64_t *ret)
{
    uint8_t want = lh_want_of(nr);
    bool handled = false;
    struct host_call host = { .nr = -1 };
    uint32_t tid;
    int stop;

    if (G_UNLIKELY(!lh_gate.signals_armed)) {
        /* the guest's first syscall (or the next after a sigaction): QEMU
         * is set up and the program loaded */
        arm_signals();
        lh_exec_first_syscall();
    }
    if (G_UNLIKELY(want & LH_WANT_REARM)) {
        /* QEMU is about to set a signal's action: take it back next time */
        __atomic_store_n(&lh_gate.signals_armed, false, __ATOMIC_RELAXED);
        want &= ~LH_WANT_REARM;
    }
    if (!(want & ~(LH_WANT_ARGS | LH_WANT_RETURN))
        && !__atomic_load_n(&lh_gate.stop_request, __ATOMIC_RELAXED)
        && !__atomic_load_n(&lh_gate.world_stopped, __ATOMIC_RELAXED)) {
        if (want & LH_WANT_ARGS) {
            keep_args(nr, args);
        }
        return false;
    }
    tid = lh_current_tid();
    lh_repl_wait_if_stopped(tid, vcpu, nr);
    lock_unless_quitting(tid, vcpu, nr);
    /*
     * A prompt was asked for (Ctrl-C, a client attached): this call opens
     * it. Loaded before the exchange, a locked instruction, as it is
     * nearly always unset.
     */
    stop = __atomic_load_n(&lh_gate.stop_request, __ATOMIC_RELAXED)
           ? __atomic_exchange_n(&lh_gate.stop_request, LH_STOP_NONE, __ATOMIC_SEQ_CST)
           : LH_STOP_NONE;
    if (stop != LH_STOP_NONE || (want & LH_WANT_ENTRY)) {
        struct lh_event *ev = &lh_here->event;

        ev->nr = (double)nr;
        ev->vcpu = vcpu;
        ev->tid = tid;
        ev->stop = stop;
        ev->answer = LH_ANSWER_NONE;
        put_args(ev, args);
        kept_call.valid = false;
        run_loop(LH_EVENT_ENTRY);
        handled = ev->answer != LH_ANSWER_NONE;
        if (ev->answer == LH_ANSWER_HOST) {
            host.nr = (long)ev->ret;
            memcpy(host.args, ev->args, sizeof(host.args));
        } else if (handled) {
            *ret = entry_result();
        }
    } else if (want & LH_WANT_ARGS) {
        keep_args(nr, args);
    }
    if (want & LH_WANT_FLUSH) {
        /* after the hooks, so what they printed about this call is out too */
        lh_output_flush();
    }
    finish();
    if (host.nr >= 0) {
        *ret = make_host_call(&host);
    }
    lh_turns_wait_if_asked();  /* a hook asked this thread to wait its turn */
    return handled;
}

void lh_syscall_return(unsigned int vcpu, int64_t nr, int64_t ret)
{
    uint8_t want = lh_want_of(nr);
    struct lh_event *ev;
    uint32_t tid;
    int kind;

    if (want & LH_WANT_REARM) {
        arm_signals();         /* QEMU has set the action: take it back now */
    }
    if (!(want & LH_WANT_RETURN)) {
        return;
    }
    tid = lh_current_tid();
    lock_unless_quitting(tid, vcpu, nr);
    ev = &lh_here->event;
    ev->nr = (double)nr;
    ev->vcpu = vcpu;
    ev->tid = tid;
    ev->ret = ret;
    ev->retn = (double)ret;
    kind = LH_EVENT_RETURN;
    if (kept_call.valid && kept_call.nr == nr) {
        put_args(ev, kept_call.args);
        kind = LH_EVENT_AFTER;
    }
    kept_call.valid = false;
    run_loop(kind);
    finish();
    lh_turns_wait_if_asked();
}

void lh_code_reached(unsigned int vcpu, uint64_t addr)
{
    uint32_t tid = lh_current_tid();

    lock_unless_quitting(tid, vcpu, LH_AT_CODE);
    lh_here->event.vcpu = vcpu;
    lh_here->event.tid = tid;
    lh_here->event.args[0] = addr;
    lh_here->event.num[0] = (double)addr;
    run_loop(LH_EVENT_CODE);
    finish();
}
