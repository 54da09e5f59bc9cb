/*
 * THREADS threads take turns, ROUNDS each: holding one mutex, a thread
 * takes the next number N and makes one syscall that shows it, read(-N,
 * NULL, 0) or close(-N) alternately (both fail with EBADF), so the calls
 * return in the order of N while the threads waiting for the mutex make
 * futex calls around them. A spec checks that a trace shows the numbers in
 * that order.
 * usage: turns THREADS ROUNDS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long rounds, next = 1;
static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        pthread_mutex_lock(&turn);
        if (next % 2) {
            syscall(SYS_read, -next, NULL, 0);
        } else {
            syscall(SYS_close, -next);
        }
        next++;
        pthread_mutex_unlock(&turn);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc == 3 ? atoi(argv[1]) : 0;
    pthread_t t[64];

    rounds = argc == 3 ? atol(argv[2]) : 0;
    if (n < 1 || n > 64 || rounds < 0) {
        fprintf(stderr, "usage: turns THREADS(1-64) ROUNDS\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        pthread_create(&t[i], NULL, worker, NULL);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
    }
    printf("%ld calls\n", next - 1);
    return 0;
}
