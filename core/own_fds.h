/*
 * luahook's own descriptors (its output stream, stderr, the REPL's
 * sockets), kept out of the guest's reach: a thread of luahook's keeps
 * them in a descriptor table of its own, which no guest thread shares, and
 * does every operation on them. The guest's tables never hold them, so the
 * guest can neither see, take, close nor replace them.
 */
#ifndef LUAHOOK_OWN_FDS_H
#define LUAHOOK_OWN_FDS_H

#include <stdbool.h>
#include <glib.h>

/* Starts the keeping thread (again, in a forked child); false with *msg. */
bool lh_own_start(char **msg);

/*
 * Moves `fd` from the calling thread's table into luahook's: closes it
 * here and returns its number there, or -1 (fd is closed either way).
 */
int lh_own_adopt(int fd);

/*
 * A duplicate of luahook's `fd` in the calling thread's table (the same
 * open file, as dup gives), or -1: for a fork, whose child starts a
 * keeping thread of its own with it.
 */
int lh_own_fetch(int fd);

/*
 * Runs fn(arg) on the keeping thread, where luahook's descriptors are,
 * and returns once it is done. Calls from several threads take turns.
 */
void lh_own_run(void (*fn)(void *), void *arg);

/* In a forked child, before anything else: the keeping thread is gone. */
void lh_own_forked(void);

#endif
