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
 */
#include <linux/futex.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lock.h"
#include "state.h"

/* rounds of a waiter's spin: a few microseconds, about a long hook */
#define SPIN_ROUNDS 200

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

void lh_lock_state(struct lh_state *st)
{
    lh_lock_word(&st->lock_word);
    held_here++;
}

void lh_unlock_state(struct lh_state *st)
{
    held_here--;
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
    if (!try_take(&lh_here->lock_word)) {
        return false;
    }
    held_here++;
    return true;
}

bool lh_lock_held(void)
{
    return held_here > 0;
}
