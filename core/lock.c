/*
 * The core lock, which one Lua state behind every vCPU needs. Taking it
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

#include "state.h"

/* rounds of a waiter's spin: a few microseconds, about a long hook */
#define SPIN_ROUNDS 200

static int lock_word;
static LH_THREAD_LOCAL bool held_here;

static void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static bool try_take(void)
{
    int expected = 0;

    return __atomic_compare_exchange_n(&lock_word, &expected, 1, false,
                                       __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

void lh_lock(void)
{
    if (!try_take()) {
        int spins = SPIN_ROUNDS;

        while (spins-- > 0 && !(__atomic_load_n(&lock_word, __ATOMIC_RELAXED) == 0
                                && try_take())) {
            cpu_relax();
        }
        if (spins < 0) {
            /* taken with 2, so whoever releases it next wakes a sleeper */
            while (__atomic_exchange_n(&lock_word, 2, __ATOMIC_ACQUIRE) != 0) {
                syscall(SYS_futex, &lock_word, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
            }
        }
    }
    held_here = true;
}

bool lh_lock_try(void)
{
    held_here = try_take();
    return held_here;
}

void lh_unlock(void)
{
    held_here = false;
    if (__atomic_exchange_n(&lock_word, 0, __ATOMIC_RELEASE) == 2) {
        syscall(SYS_futex, &lock_word, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
    }
}

bool lh_lock_held(void)
{
    return held_here;
}
