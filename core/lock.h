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

#endif
