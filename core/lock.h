/*
 * The lock word the core's locks are made of (core/lock.c): 0 when free.
 * Taking it free is one atomic instruction; a waiter spins a little, then
 * sleeps on a futex. Not recursive, and known to no thread: a forked
 * child may take one its parent's other threads held only after setting
 * it to 0 again.
 */
#ifndef LUAHOOK_LOCK_H
#define LUAHOOK_LOCK_H

#include <stdbool.h>

void lh_lock_word(int *lock_word);
bool lh_lock_word_try(int *lock_word);     /* takes it if free; never waits */
void lh_unlock_word(int *lock_word);

/*
 * membarrier(2): whether this kernel has the private expedited command
 * (registered soon after the first call), and making every thread of the
 * process pass a full memory barrier with it. A thread that stores with
 * no fence of its own pairs with another that calls it: see core/lock.c's
 * bias and core/ordered.c.
 */
bool lh_barrier_ready(void);
void lh_barrier_everywhere(void);

#endif
