/* THREADS threads (default 4) each making N getppid syscalls (default 250 000). */
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long calls;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < calls; i++) {
        syscall(SYS_getppid);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 4;
    pthread_t t[64];

    calls = argc > 2 ? atol(argv[2]) : 250000;
    if (threads < 1 || threads > 64) {
        return 2;
    }
    for (int i = 0; i < threads; i++) {
        pthread_create(&t[i], NULL, worker, NULL);
    }
    for (int i = 0; i < threads; i++) {
        pthread_join(t[i], NULL);
    }
    return 0;
}
