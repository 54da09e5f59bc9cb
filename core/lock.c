/*
 * The core's locks (lock.h), of which a Lua state's is one: by default the
 * core lock, which one Lua state behind every vCPU needs (with parallel=1,
 * each thread's state has its own, which only that thread takes until the
 * process ends; the output stream has one too). Taking one
 * free is one atomic instruction, as it is on every wanted syscall. A
 * waiter spins a little first, because the holder is usually running a
 * short hook on another core, and only then sleeps on a futex: with four
 * guest threads on two cores, sleeping at once made every hand-over two
 * system calls. The word is 0 (free), 1 (held) or 2 (held, maybe sleepers).
 *
 * A state's lock is biased towards its owner (lh_lock_bias), the one
 * thread that takes it while a guest has one thread, or always with
 * parallel=1: the owner takes it with plain stores, since a locked
 * instruction after a syscall waits for every store before it and
 * measured as half of the core's own time per event. The first time
 * another thread takes it, that thread ends the bias for good: it holds
 * the word, clears `biased`, makes every thread of the process pass a
 * memory barrier (membarrier(2), which the owner's plain path relies on
 * in place of its own fence) and waits for the owner to leave. Where the
 * kernel lacks membarrier no lock is biased.
 */
#include <errno.h>
#include <linux/futex.h>
#include <linux/membarrier.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "lock.h"
#include "state.h"
#include "threads.h"

/*
 * Rounds of a waiter's spin: about a microsecond, a short hook. Spinning
 * longer (200 rounds) made trace.lua on four threads, in the default mode,
 * 1.6 times slower: with more threads than cores, the waiters' spins took
 * the cores the holder needed (docs/performance.md).
 */
#define SPIN_ROUNDS 50

static LH_THREAD_LOCAL int held_here;   /* how many states' locks this thread holds */

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static bool try_take(int *lock_word)
{
    int expected = 0;

    return __atomic_compare_exchange_n(lock_word, &expected, 1, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void lh_lock_word(int *lock_word)
{
    if (!try_take(lock_word)) {
        int spins = SPIN_ROUNDS;

        while (spins-- > 0 && !(__atomic_load_n(lock_word, __ATOMIC_RELAXED) == 0
                                && try_take(lock_word))) {
            cpu_relax();
        }
        if (spins < 0) {
            /* taken with 2, so whoever releases it next wakes a sleeper */
            while (__atomic_exchange_n(lock_word, 2, __ATOMIC_ACQUIRE) != 0) {
                syscall(SYS_futex, lock_word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
            }
        }
    }
}

bool lh_lock_word_try(int *lock_word)
{
    return try_take(lock_word);
}

void lh_unlock_word(int *lock_word)
{
    if (__atomic_exchange_n(lock_word, 0, __ATOMIC_RELEASE) == 2) {
        syscall(SYS_futex, lock_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

/* The state this thread owns, if any: see lh_lock_bias. */
static LH_THREAD_LOCAL struct lh_state *owned;

/*
 * Registering the process for membarrier's private expedited command waits
 * for an RCU grace period (5-12 ms measured here). Done at start-up, that
 * was every start's cost; done when a bias ends, it made a guest's first
 * threads arrive at their first hooked call together, one of them then
 * waiting for the lock where a REPL stop does not list it. So a thread of
 * its own registers at start-up (core/threads.c); a bias ended before it
 * is done registers there.
 */
static void *register_barrier(void *unused)
{
    (void)unused;
    syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
    return NULL;
}

static bool register_soon(void)
{
    pthread_t thread;

    if (lh_thread_start(&thread, register_barrier, NULL) != 0) {
        return false;
    }
    pthread_detach(thread);
    return true;
}

/* -1 until asked, then whether membarrier's private expedited command exists. */
static int barrier_works = -1;

bool lh_barrier_ready(void)
{
    if (barrier_works < 0) {
        long cmds = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

        barrier_works = cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED)
                        && register_soon();
    }
    return barrier_works;
}

/* Every thread of the process passes a full memory barrier. */
void lh_barrier_everywhere(void)
{
    if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0
        && errno == EPERM) {
        /* not registered yet (soon after start-up, or in a forked child) */
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0);
        syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
    }
}

void lh_lock_bias(struct lh_state *st)
{
    if (lh_barrier_ready()) {
        owned = st;
        __atomic_store_n(&st->biased, 1, __ATOMIC_RELEASE);
    }
}

/*
 * The owner's way in: announce, then look at `biased`. A thread ending
 * the bias clears it, then passes the barrier everywhere, then reads
 * owner_in: either it sees the owner in, or the owner sees the bias gone.
 */
static bool owner_enters(struct lh_state *st)
{
    if (st != owned || !__atomic_load_n(&st->biased, __ATOMIC_RELAXED)) {
        return false;
    }
    __atomic_store_n(&st->owner_in, 1, __ATOMIC_RELAXED);
    __atomic_signal_fence(__ATOMIC_SEQ_CST);
    if (__atomic_load_n(&st->biased, __ATOMIC_RELAXED)) {
        return true;
    }
    /* the thread ending the bias may have seen this owner_in and sleep on it */
    __atomic_store_n(&st->owner_in, 0, __ATOMIC_RELEASE);
    syscall(SYS_futex, &st->owner_in, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    return false;
}

/*
 * Holding the word, another thread ends the bias, if not ended yet. With
 * `wait`, it then waits for the owner to leave (false without it, if the
 * owner is in: it may have come in before the bias ended, whoever ended it).
 */
static bool end_bias(struct lh_state *st, bool wait)
{
    int spins = SPIN_ROUNDS;

    if (__atomic_load_n(&st->biased, __ATOMIC_ACQUIRE)) {
        __atomic_store_n(&st->biased, 0, __ATOMIC_SEQ_CST);
        lh_barrier_everywhere();
    }
    while (__atomic_load_n(&st->owner_in, __ATOMIC_ACQUIRE)) {
        if (!wait) {
            return false;
        }
        if (spins-- > 0) {
            cpu_relax();
        } else {
            syscall(SYS_futex, &st->owner_in, FUTEX_WAIT_PRIVATE, 1, NULL, NULL, 0);
        }
    }
    return true;
}

/* Another thread's attempt: the word if free, then the owner gone (no wait). */
static bool try_as_other(struct lh_state *st)
{
    if (!try_take(&st->lock_word)) {
        return false;
    }
    if (end_bias(st, false)) {
        return true;
    }
    lh_unlock_word(&st->lock_word);
    return false;
}

void lh_lock_state(struct lh_state *st)
{
    if (!owner_enters(st)) {
        lh_lock_word(&st->lock_word);
        end_bias(st, true);
    }
    held_here++;
}

void lh_unlock_state(struct lh_state *st)
{
    held_here--;
    if (__atomic_load_n(&st->owner_in, __ATOMIC_RELAXED) && st == owned) {
        __atomic_store_n(&st->owner_in, 0, __ATOMIC_RELEASE);
        if (!__atomic_load_n(&st->biased, __ATOMIC_RELAXED)) {
            /* a thread ending the bias may sleep on owner_in */
            syscall(SYS_futex, &st->owner_in, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
        }
        return;
    }
    lh_unlock_word(&st->lock_word);
}

void lh_lock(void)
{
    lh_lock_state(lh_here);
}

void lh_unlock(void)
{
    lh_unlock_state(lh_here);
}

bool lh_lock_try(void)
{
    struct lh_state *st = lh_here;

    if (st == owned && __atomic_load_n(&st->owner_in, __ATOMIC_RELAXED)) {
        return false;          /* a signal's handler, on the owner inside */
    }
    if (!owner_enters(st) && !try_as_other(st)) {
        return false;
    }
    held_here++;
    return true;
}

bool lh_lock_state_within(struct lh_state *st, int ms)
{
    const struct timespec pause = { 0, 1000000 };

    if (st == owned) {
        lh_lock_state(st);
        return true;
    }
    for (int waited = 0;; waited++) {
        if (try_as_other(st)) {
            held_here++;
            return true;
        }
        if (waited >= ms) {
            return false;
        }
        nanosleep(&pause, NULL);
    }
}

bool lh_lock_held(void)
{
    return held_here > 0;
}
