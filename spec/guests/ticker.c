/*
 * Runs for a while making syscalls: COUNT rounds of getppid and a sleep of
 * MS milliseconds, then prints how many rounds it made; with THREADS, that
 * many threads do so at once. For specs that attach to, interrupt or edit
 * the hooks of a running guest.
 * usage: ticker COUNT MS [THREADS]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long count, ms;

static void *tick(void *unused)
{
    struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
    long i;

    (void)unused;
    for (i = 0; i < count; i++) {
        syscall(SYS_getppid);
        nanosleep(&pause, NULL);
    }
    return (void *)i;
}

int main(int argc, char **argv)
{
    int threads = argc == 4 ? atoi(argv[3]) : 1;
    pthread_t t[64];
    long total = 0;

    count = argc >= 3 ? atol(argv[1]) : 0;
    ms = argc >= 3 ? atol(argv[2]) : 0;
    if (argc < 3 || argc > 4 || count <= 0 || ms < 0 || threads < 1 || threads > 64) {
        fprintf(stderr, "usage: ticker COUNT MS [THREADS(1-64)]\n");
        return 2;
    }
    if (threads == 1) {
        total = (long)tick(NULL);
    } else {
        for (int i = 0; i < threads; i++) {
            pthread_create(&t[i], NULL, tick, NULL);
        }
        for (int i = 0; i < threads; i++) {
            void *ticks;

            pthread_join(t[i], &ticks);
            total += (long)ticks;
        }
    }
    printf("ticked %ld times\n", total);
    return 0;
}
