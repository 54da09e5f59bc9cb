/*
 * luahook's part in the host's signals (signals.h).
 *
 * QEMU installs its handler only for the signals the guest handles and
 * those that dump core; a signal that ends the process by default (TERM,
 * INT, HUP, ALRM, PIPE, ...) is left at the host's default, which kills
 * QEMU on the spot: no output flushed, no exit hook. luahook gives those
 * to QEMU's own handler: QEMU then queues the signal for the guest like
 * any other, finds its action is the default, and dies of it the way it
 * does for SEGV: through its exit path (exit hooks run), then of the same
 * signal, so the exit status is bare QEMU's.
 *
 * SIGINT and SIGTERM go through luahook first: while a hook runs, SIGTERM
 * (or a second SIGINT during the same event) interrupts it. A count hook
 * set from here raises the error at the next Lua instruction, but compiled
 * code never looks at count hooks: it looks at the profile hook bit, in a
 * guard the trace recorder emits at every line change while LuaJIT's
 * profiler runs in 'l' mode. So the profiler runs, with its timer and
 * SIGPROF given back to the guest, and luahook sets that bit by calling
 * the profiler's own SIGPROF handler.
 *
 * Crash signals (SEGV, BUS, ILL, FPE, TRAP, ABRT) go through luahook too,
 * to flush its output before QEMU decides whether the process dies.
 *
 * Each of these signals is remembered as it passes (lh_signals_last), so
 * that the exit hooks can tell which one ends the process.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <lauxlib.h>
#include <luajit.h>

#include "output.h"
#include "repl.h"
#include "signals.h"
#include "state.h"
#include "threads.h"

bool (*lh_sigint_policy)(void);

/* Signals whose default action ends the process and that QEMU leaves so. */
static const int deadly[] = {
    SIGHUP, SIGINT, SIGPIPE, SIGALRM, SIGTERM, SIGUSR1, SIGUSR2, SIGSTKFLT,
    SIGVTALRM, SIGPROF, SIGIO, SIGPWR, SIGXCPU, SIGXFSZ, SIGSYS,
};
/* Signals of a crash: QEMU's handler decides whether it is the guest's. */
static const int crashes[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGTRAP, SIGABRT };

static struct sigaction qemu_action;   /* QEMU's handler, as on SIGSEGV */
static struct sigaction next_action[NSIG];  /* where luahook passes a signal on */

static void (*profile_trigger)(int);   /* LuaJIT's profiler's SIGPROF handler */
static const char *interrupt_why;
static uint32_t interrupt_event;        /* the event an interrupt is for */
static uint32_t last_sigint_event;

static void ignore_samples(void *data, lua_State *L, int samples, int vmstate)
{
    (void)data;
    (void)L;
    (void)samples;
    (void)vmstate;
}

void lh_signals_init(lua_State *L)
{
    struct sigaction guest_sigprof, profiler;
    struct itimerval guest_timer;

    sigaction(SIGPROF, NULL, &guest_sigprof);
    getitimer(ITIMER_PROF, &guest_timer);
    /* 'l': compiled code checks the profile bit at each new line; a sample every 24 days */
    luaJIT_profile_start(L, "li2000000000", ignore_samples, NULL);
    sigaction(SIGPROF, NULL, &profiler);
    sigaction(SIGPROF, &guest_sigprof, NULL);
    setitimer(ITIMER_PROF, &guest_timer, NULL);
    if (!(profiler.sa_flags & SA_SIGINFO) && profiler.sa_handler != guest_sigprof.sa_handler
        && profiler.sa_handler != SIG_DFL && profiler.sa_handler != SIG_IGN) {
        profile_trigger = profiler.sa_handler;
    }
}

/* At the first Lua instruction after an interrupt: the hook's error. */
static void raise_interrupt(lua_State *L, lua_Debug *ar)
{
    uint32_t event = __atomic_load_n(&interrupt_event, __ATOMIC_ACQUIRE);

    (void)ar;
    lua_sethook(L, NULL, 0, 0);
    /* an interrupt that came as its event ended must not hit the next one */
    if (event != 0 && event == __atomic_load_n(&lh_gate.lua_event, __ATOMIC_RELAXED)) {
        __atomic_store_n(&interrupt_event, 0, __ATOMIC_RELAXED);
        luaL_where(L, 0);      /* the line the hook was at */
        lua_pushfstring(L, "interrupted (%s)", interrupt_why);
        lua_concat(L, 2);
        lua_error(L);
    }
}

void lh_interrupt_hook(const char *why)
{
    uint32_t event = __atomic_load_n(&lh_gate.lua_event, __ATOMIC_RELAXED);

    /* nothing runs, or a person is at the prompt, which Ctrl-C ends its own way */
    if (event == 0 || __atomic_load_n(&lh_gate.world_stopped, __ATOMIC_RELAXED)) {
        return;
    }
    interrupt_why = why;
    __atomic_store_n(&interrupt_event, event, __ATOMIC_RELEASE);
    lua_sethook(lh_main_state.L, raise_interrupt, LUA_MASKCOUNT, 1);
    if (profile_trigger) {
        profile_trigger(SIGPROF);      /* compiled code leaves its trace */
    }
}

static volatile sig_atomic_t last_signal;

int lh_signals_last(void)
{
    return last_signal;
}

/*
 * Where a signal would have gone without luahook. Every signal luahook
 * takes part in comes here, and is remembered: QEMU's exit path, which
 * the exit hooks run in, does not say which signal ends the process.
 */
static void pass_on(int sig, siginfo_t *info, void *uc)
{
    const struct sigaction *next = &next_action[sig];

    last_signal = sig;

    if (next->sa_flags & SA_SIGINFO) {
        next->sa_sigaction(sig, info, uc);
    } else if (next->sa_handler == SIG_DFL) {
        /* pending until this handler returns; a fault then faults again */
        struct sigaction dfl = { .sa_handler = SIG_DFL };

        sigaction(sig, &dfl, NULL);
        raise(sig);
    } else if (next->sa_handler != SIG_IGN) {
        next->sa_handler(sig);
    }
}

int lh_sigint_deferred;
static int sigint_replayed;

/*
 * SIGTERM interrupts a running hook at once. SIGINT does the second time
 * during one event: the first is passed on only once the event is done,
 * because QEMU's handler blocks every signal on its thread until the
 * guest takes the signal, which it cannot while a hook runs, and the
 * second would never come.
 */
static void on_stop_signal(int sig, siginfo_t *info, void *uc)
{
    uint32_t event = __atomic_load_n(&lh_gate.lua_event, __ATOMIC_RELAXED);

    if (sig == SIGTERM) {
        lh_interrupt_hook("SIGTERM");
    } else if (__atomic_exchange_n(&sigint_replayed, 0, __ATOMIC_SEQ_CST)) {
        /* the one held back during an event: on to QEMU now */
    } else {
        if (event != 0 && event == last_sigint_event) {
            lh_interrupt_hook("a second SIGINT");
        }
        last_sigint_event = event;
        if (lh_sigint_policy && !lh_sigint_policy()) {
            return;
        }
        if (event != 0) {
            __atomic_store_n(&lh_sigint_deferred, 1, __ATOMIC_SEQ_CST);
            return;
        }
    }
    pass_on(sig, info, uc);
}

void lh_signals_replay(void)
{
    lh_sigint_deferred = 0;
    __atomic_store_n(&sigint_replayed, 1, __ATOMIC_SEQ_CST);
    raise(SIGINT);
}

/*
 * A crash may be luahook's own (a hook's FFI, LuaJIT) or QEMU's, or no
 * crash at all (the guest's own fault, which QEMU's handler turns into a
 * guest signal): flushing costs nothing then, so output is flushed
 * whenever that can be done safely, before QEMU decides.
 */
static void on_crash(int sig, siginfo_t *info, void *uc)
{
    if (lh_output_pending()) {
        if (lh_lock_held()) {
            lh_output_try_flush();
        } else if (lh_lock_try()) {
            lh_output_try_flush();
            lh_unlock();
        }
    }
    pass_on(sig, info, uc);
}

static bool is_handler(const struct sigaction *act, void (*fn)(int, siginfo_t *, void *))
{
    return (act->sa_flags & SA_SIGINFO) && act->sa_sigaction == fn;
}

/* Puts `handler` in front of what `sig` does now (unless it is there). */
static void go_first(int sig, void (*handler)(int, siginfo_t *, void *))
{
    struct sigaction current, ours;

    sigaction(sig, NULL, &current);
    if (is_handler(&current, handler) || current.sa_handler == SIG_IGN) {
        return;                /* ignored: stays so, nothing to interrupt with */
    }
    if (current.sa_handler == SIG_DFL && qemu_action.sa_sigaction && sig != SIGABRT) {
        current = qemu_action; /* the default, as QEMU does it */
    }
    ours = current;
    ours.sa_flags |= SA_SIGINFO;
    ours.sa_sigaction = handler;
    sigfillset(&ours.sa_mask);
    next_action[sig] = current;
    sigaction(sig, &ours, NULL);
}

void lh_signals_arm(void)
{
    struct sigaction segv;

    sigaction(SIGSEGV, NULL, &segv);
    if ((segv.sa_flags & SA_SIGINFO) && segv.sa_sigaction != on_crash) {
        qemu_action = segv;    /* QEMU never lets the guest change it */
    }
    for (size_t i = 0; i < G_N_ELEMENTS(deadly); i++) {
        int sig = deadly[i];

        /* the default, as QEMU does it, behind pass_on (which remembers it) */
        go_first(sig, sig == SIGINT || sig == SIGTERM ? on_stop_signal : pass_on);
    }
    for (size_t i = 0; i < G_N_ELEMENTS(crashes); i++) {
        go_first(crashes[i], on_crash);
    }
    /* QEMU handles it (its default dumps core): luahook only remembers it */
    go_first(SIGQUIT, pass_on);
}

static unsigned timeout_ms;
static char *timeout_why;

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The hook_timeout watcher: a thread that samples which event Lua runs. */
static void *watch_hooks(void *unused)
{
    uint32_t watched = 0;
    double since = 0;
    long tick_ns = MIN(timeout_ms / 4 + 1, 50u) * 1000000L;

    (void)unused;
    for (;;) {
        struct timespec tick = { 0, tick_ns };
        uint32_t event;

        nanosleep(&tick, NULL);
        event = __atomic_load_n(&lh_gate.lua_event, __ATOMIC_RELAXED);
        if (event == 0 || __atomic_load_n(&lh_gate.world_stopped, __ATOMIC_RELAXED)) {
            watched = 0;       /* a prompt's time is the person's */
        } else if (event != watched) {
            watched = event;
            since = now();
        } else if (now() - since >= timeout_ms / 1000.0) {
            lh_interrupt_hook(timeout_why);
            since = now();     /* and again, if a pcall swallowed it */
        }
    }
    return NULL;
}

bool lh_signals_watch(unsigned ms, char **msg)
{
    pthread_t thread;
    int err;

    timeout_ms = ms;
    timeout_why = g_strdup_printf("hook_timeout=%u", ms);
    err = lh_thread_start(&thread, watch_hooks, NULL);
    if (err != 0) {
        *msg = g_strdup_printf("hook_timeout: cannot start its thread: %s", g_strerror(err));
        return false;
    }
    pthread_detach(thread);
    return true;
}
