/*
 * Starts luahook's own threads, which take no signal (threads.h): the
 * new thread inherits the mask in force while it is created.
 */
#include <signal.h>

#include "threads.h"

int lh_thread_start(pthread_t *thread, void *(*fn)(void *), void *arg)
{
    sigset_t all, old;
    int err;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    err = pthread_create(thread, NULL, fn, arg);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return err;
}
