/*
 * parallel=1 (states.h): a Lua state per guest thread. A thread's state is
 * made at its first wanted event, on the thread's own stack, and freed by
 * a thread-specific-data destructor when the host thread (which is the
 * guest thread in linux-user) exits, after its exit hooks ran. Only the
 * thread ending the process (or replacing it by exec) touches other
 * threads' states: it runs their exit hooks, each under its lock.
 *
 * The want table QEMU's glue reads stays one table (lh_gate.want): each
 * state writes its own bits, and this file keeps, per slot and bit, how
 * many states want it, so a bit is set while any state wants it and
 * cleared when the last one stops.
 */
#include <pthread.h>
#include <string.h>

#include "output.h"
#include "states.h"

int lh_states_several;
static pthread_key_t thread_state;
static uint32_t main_tid;

/* The live states but the main one; guarded by list_lock. */
static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct lh_state *live;

/* [slot][bit]: how many states want that bit of that slot; guarded by want_lock. */
#define WANT_BITS 8
static pthread_mutex_t want_lock = PTHREAD_MUTEX_INITIALIZER;
static uint32_t want_count[LH_NR_MAX + 1][WANT_BITS];

/* In a child forked from a thread with a state of its own: the main state is a stale copy. */
static bool main_abandoned;

LH_THREAD_LOCAL bool lh_states_entered;

void lh_states_want_changed(struct lh_state *st)
{
    pthread_mutex_lock(&want_lock);
    for (int slot = 0; slot <= LH_NR_MAX; slot++) {
        uint8_t now = st->want[slot], before = st->wanted[slot], gate = 0;

        if (now == before) {
            continue;
        }
        for (int b = 0; b < WANT_BITS; b++) {
            want_count[slot][b] += ((now >> b) & 1u) - ((before >> b) & 1u);
            gate |= (uint8_t)((want_count[slot][b] != 0) << b);
        }
        st->wanted[slot] = now;
        __atomic_store_n(&lh_gate.want[slot], gate, __ATOMIC_RELAXED);
    }
    pthread_mutex_unlock(&want_lock);
}

static void unlink_state(struct lh_state *st)
{
    for (struct lh_state **at = &live; *at; at = &(*at)->next) {
        if (*at == st) {
            *at = st->next;
            break;
        }
    }
}

static void free_state(struct lh_state *st)
{
    memset(st->want, 0, LH_NR_MAX + 1);
    lh_states_want_changed(st);
    lh_state_close(st);
    g_free(st->want);
    g_free(st->wanted);
    g_aligned_free(st);
}

/*
 * How long the thread ending the process waits for another thread's hooks
 * to return: they may never (a loop that never ends, which LuaJIT lets
 * luahook interrupt in the main state's compiled code only), and the
 * process must still end, on a SIGTERM say.
 */
#define OTHERS_WAIT_MS 2000

/*
 * Runs `st`'s exit hooks as one thread's, under its lock, from this
 * thread; another thread's state still in a hook after OTHERS_WAIT_MS is
 * left without them, and said so.
 */
static void end_state(struct lh_state *st)
{
    struct lh_state *mine = lh_here;

    if (!lh_lock_state_within(st, OTHERS_WAIT_MS)) {
        char *line = g_strdup_printf("parallel=1: thread %u's hooks have run for %d ms and "
                                     "go on: its exit hooks are left out", st->tid,
                                     OTHERS_WAIT_MS);

        lh_output_error(line);
        g_free(line);
        return;
    }
    lh_here = st;
    lh_state_end(true);
    lh_unlock_state(st);
    lh_here = mine;
}

/*
 * The thread is exiting (its state is still this thread's lh_here): its
 * exit hooks, unless the process's end ran them already, then its memory.
 */
static void thread_ended(void *data)
{
    struct lh_state *st = data;

    /*
     * Listed until its exit hooks have run: a process ending meanwhile
     * waits for them (its end_others takes this lock) before its own
     * exit and done hooks merge what they left.
     */
    end_state(st);
    lh_here = &lh_main_state;
    pthread_mutex_lock(&list_lock);
    unlink_state(st);
    pthread_mutex_unlock(&list_lock);
    free_state(st);
    lh_output_thread_done();
}

/* Want bits of the state's own, added to the gate's by lh_states_want_changed. */
static void own_want(struct lh_state *st)
{
    st->want = g_malloc0(LH_NR_MAX + 1);
    st->wanted = g_malloc0(LH_NR_MAX + 1);
}

void lh_states_init(uint32_t tid)
{
    own_want(&lh_main_state);
    main_tid = lh_main_state.tid = tid;
    lh_states_entered = true;
    pthread_key_create(&thread_state, thread_ended);
}

void lh_states_make(uint32_t tid)
{
    struct lh_state *st;
    char *msg = NULL;

    lh_states_entered = true;
    if (tid == main_tid) {
        return;
    }
    st = g_aligned_alloc0(1, sizeof *st, _Alignof(struct lh_state));
    st->tid = tid;
    lh_lock_bias(st);
    own_want(st);
    lh_here = st;
    if (!lh_state_boot(&msg)) {
        char *line = g_strdup_printf("parallel=1: thread %u shares the main Lua state: %s",
                                     tid, msg);

        lh_here = &lh_main_state;
        lh_output_error(line);
        g_free(line);
        g_free(msg);
        free_state(st);
        return;
    }
    __atomic_store_n(&lh_states_several, 1, __ATOMIC_RELAXED);
    pthread_mutex_lock(&list_lock);
    st->next = live;
    live = st;
    pthread_mutex_unlock(&list_lock);
    pthread_setspecific(thread_state, st);
}

void lh_states_end_others(void)
{
    pthread_mutex_lock(&list_lock);
    for (struct lh_state *st = live; st; st = st->next) {
        if (st != lh_here) {
            end_state(st);
        }
    }
    if (lh_here != &lh_main_state && !main_abandoned) {
        end_state(&lh_main_state);
    }
    pthread_mutex_unlock(&list_lock);
}

void lh_states_forked(void)
{
    pthread_mutex_init(&list_lock, NULL);
    pthread_mutex_init(&want_lock, NULL);
    main_tid = lh_here->tid = lh_current_tid();
    live = NULL;
    if (lh_here != &lh_main_state) {
        /* the forking thread's state is the child's only one; its thread
         * never exits before the process does */
        main_abandoned = true;
        pthread_setspecific(thread_state, NULL);
    }
}
