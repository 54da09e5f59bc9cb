/*
 * THREADS threads each make CALLS getppid syscalls, then report their
 * thread id; a spec counts the calls a hook saw, per thread.
 * usage: threads THREADS CALLS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static long calls;
static pthread_mutex_t print_lock = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
    (void)arg;
    for (long i = 0; i < calls; i++) {
        syscall(SYS_getppid);
    }
    pthread_mutex_lock(&print_lock);
    printf("tid %ld\n", (long)syscall(SYS_gettid));
    pthread_mutex_unlock(&print_lock);
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc == 3 ? atoi(argv[1]) : 0;
    pthread_t t[64];

    calls = argc == 3 ? atol(argv[2]) : 0;
    if (n < 1 || n > 64 || calls < 0) {
        fprintf(stderr, "usage: threads THREADS(1-64) CALLS\n");
        return 2;
    }
    for (int i = 0; i < n; i++) {
        pthread_create(&t[i], NULL, worker, NULL);
    }
    for (int i = 0; i < n; i++) {
        pthread_join(t[i], NULL);
    }
    printf("main %ld\n", (long)getpid());
    return 0;
}
