/*
 * luahook's own threads (core/threads.c): the descriptor keeper, the
 * hook_timeout watcher, the membarrier registration.
 */
#ifndef LUAHOOK_THREADS_H
#define LUAHOOK_THREADS_H

#include <pthread.h>

/*
 * pthread_create with every signal blocked in the new thread: QEMU's
 * signal handlers expect a vCPU thread, so a signal for the process must
 * never land on one of these. Returns pthread_create's error (0: started).
 */
int lh_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg);

#endif
