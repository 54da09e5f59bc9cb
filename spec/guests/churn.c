/*
 * Starts COUNT threads one after another, each making one getppid before
 * it ends; the main thread makes a getpid after the fifth of them and
 * another after the last, for specs that look at luahook between the two.
 * usage: churn COUNT
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void *call_once(void *unused)
{
    (void)unused;
    syscall(SYS_getppid);
    return NULL;
}

int main(int argc, char **argv)
{
    long count = argc == 2 ? atol(argv[1]) : 0;

    if (count < 5) {
        fprintf(stderr, "usage: churn COUNT(5 or more)\n");
        return 2;
    }
    for (long i = 1; i <= count; i++) {
        pthread_t t;

        if (pthread_create(&t, NULL, call_once, NULL) != 0) {
            perror("pthread_create");
            return 1;
        }
        pthread_join(t, NULL);
        if (i == count / 5 || i == count) {
            syscall(SYS_getpid);
        }
    }
    printf("started %ld threads\n", count);
    return 0;
}
