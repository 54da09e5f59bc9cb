/*
 * Runs for a while making syscalls: COUNT rounds of getppid and a sleep of
 * MS milliseconds, then prints how many rounds it made. For specs that
 * attach to, interrupt or edit the hooks of a running guest.
 * usage: ticker COUNT MS
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long count = argc == 3 ? atol(argv[1]) : 0;
    long ms = argc == 3 ? atol(argv[2]) : 0;
    struct timespec pause = { ms / 1000, (ms % 1000) * 1000000L };
    long i;

    if (count <= 0 || ms < 0) {
        fprintf(stderr, "usage: ticker COUNT MS\n");
        return 2;
    }
    for (i = 0; i < count; i++) {
        syscall(SYS_getppid);
        nanosleep(&pause, NULL);
    }
    printf("ticked %ld times\n", i);
    return 0;
}
