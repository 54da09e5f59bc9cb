/*
 * Threads whose output interleaves differently from run to run, for the
 * replay specs: each of THREADS threads sleeps a random while (from
 * getrandom) before each of its STEPS lines, which it writes with one
 * write() each, then the main thread joins them all.
 *   rethreads THREADS STEPS
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

static int steps;

static void *worker(void *arg)
{
    int id = (int)(long)arg;

    for (int step = 1; step <= steps; step++) {
        unsigned char r;
        struct timespec pause = { 0, 0 };
        char line[64];
        int n;

        if (getrandom(&r, 1, 0) == 1) {
            pause.tv_nsec = (long)r * 4000;     /* up to about 1 ms */
        }
        nanosleep(&pause, NULL);
        n = snprintf(line, sizeof(line), "thread %d step %d\n", id, step);
        if (write(1, line, (size_t)n) != n) {
            return (void *)1;
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int threads = argc == 3 ? atoi(argv[1]) : 0;
    pthread_t t[16];
    const char done[] = "all joined\n";

    steps = argc == 3 ? atoi(argv[2]) : 0;
    if (threads < 1 || threads > 16 || steps < 1) {
        fprintf(stderr, "usage: rethreads THREADS(1-16) STEPS\n");
        return 2;
    }
    for (long i = 0; i < threads; i++) {
        pthread_create(&t[i], NULL, worker, (void *)(i + 1));
    }
    for (int i = 0; i < threads; i++) {
        void *failed;

        pthread_join(t[i], &failed);
        if (failed) {
            return 1;
        }
    }
    return write(1, done, strlen(done)) == (ssize_t)strlen(done) ? 0 : 1;
}
