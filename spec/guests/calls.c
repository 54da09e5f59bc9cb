/*
 * Makes the syscalls its arguments name, each a given number of times, and
 * prints what each returned, for specs that count calls or inject results.
 * usage: calls [-t THREADS] NAME COUNT [NAME COUNT ...]
 *   getppid   getppid()
 *   badclose  close(-1), which fails with EBADF
 *   wide      getppid() with all ones and 2^54-1 (on x86_64) in its first two
 *             argument registers, which it ignores
 *   sleep     nanosleep() of 50 ms
 *   open      openat(AT_FDCWD, "/dev/null", O_RDONLY), closed when it succeeds
 *   nr:N      syscall number N (any, e.g. a hypercall: nr:4096) with 1, 2, 3
 *   cd:DIR    chdir(DIR)
 *   hog:MS    opens /dev/null until no descriptor is left (and says so on
 *             stderr), keeps them MS milliseconds (a getppid every 10 ms),
 *             closes them; returns how many it opened
 *   catch:SIG handle signal SIG (a number) from now on, counting it
 *   say:TEXT  writes TEXT and a newline to stderr, at once
 * Each call prints "NAME I = RESULT" (RESULT is -errno for a failure); the
 * last line counts the SIGUSR1 and SIGUSR2 received, the other signals
 * caught, and the microseconds the calls took. With -t, THREADS threads
 * each make the calls, silently.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t usr1, usr2, caught;
static int first_arg, last_arg;
static char **args;
static int quiet;

static void on_signal(int sig)
{
    if (sig == SIGUSR1) {
        usr1++;
    } else if (sig == SIGUSR2) {
        usr2++;
    } else {
        caught++;
    }
}

/* the kernel's own convention: -errno on failure */
static long raw(long r)
{
    return r == -1 ? -errno : r;
}

static long hog(long ms)
{
    struct timespec nap = { 0, 10 * 1000 * 1000 };
    long n = 0;

    while (open("/dev/null", O_RDONLY) >= 0) {
        n++;
    }
    write(2, "descriptors used up\n", 20);
    for (long waited = 0; waited < ms; waited += 10) {
        syscall(SYS_getppid);
        nanosleep(&nap, NULL);
    }
    syscall(SYS_close_range, 3U, ~0U, 0);
    return n;
}

static long call(const char *name)
{
    struct timespec nap = { 0, 50 * 1000 * 1000 };
    long r;

    if (!strcmp(name, "getppid")) {
        return raw(syscall(SYS_getppid));
    } else if (!strcmp(name, "badclose")) {
        return raw(syscall(SYS_close, -1));
    } else if (!strcmp(name, "wide")) {
        return raw(syscall(SYS_getppid, (long)~0UL, (long)(~0UL >> 10)));
    } else if (!strcmp(name, "sleep")) {
        return raw(syscall(SYS_nanosleep, &nap, NULL));
    } else if (!strcmp(name, "open")) {
        r = raw(syscall(SYS_openat, AT_FDCWD, "/dev/null", O_RDONLY));
        if (r >= 0) {
            syscall(SYS_close, r);
        }
        return r;
    } else if (!strncmp(name, "nr:", 3)) {
        return raw(syscall(atol(name + 3), 1L, 2L, 3L));
    } else if (!strncmp(name, "cd:", 3)) {
        return raw(syscall(SYS_chdir, name + 3));
    } else if (!strncmp(name, "hog:", 4)) {
        return hog(atol(name + 4));
    } else if (!strncmp(name, "say:", 4)) {
        return raw(dprintf(2, "%s\n", name + 4));
    } else if (!strncmp(name, "catch:", 6)) {
        return signal(atoi(name + 6), on_signal) == SIG_ERR ? -errno : 0;
    }
    fprintf(stderr, "calls: unknown call '%s'\n", name);
    exit(2);
}

static void *run_all(void *unused)
{
    (void)unused;
    for (int i = first_arg; i + 1 <= last_arg; i += 2) {
        long count = atol(args[i + 1]);

        for (long n = 1; n <= count; n++) {
            long r = call(args[i]);

            if (!quiet) {
                printf("%s %ld = %ld\n", args[i], n, r);
            }
        }
    }
    return NULL;
}

int main(int argc, char **argv)
{
    struct timespec t0, t1;
    pthread_t t[16];
    int threads = 0;

    args = argv;
    first_arg = 1;
    if (argc > 2 && !strcmp(argv[1], "-t")) {
        threads = atoi(argv[2]);
        first_arg = 3;
        quiet = 1;
    }
    last_arg = argc - 1;
    if (threads < 0 || threads > 16 || (argc - first_arg) % 2 != 0) {
        fprintf(stderr, "usage: calls [-t THREADS(1-16)] NAME COUNT [NAME COUNT ...]\n");
        return 2;
    }
    signal(SIGUSR1, on_signal);
    signal(SIGUSR2, on_signal);
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (threads == 0) {
        run_all(NULL);
    } else {
        for (int i = 0; i < threads; i++) {
            pthread_create(&t[i], NULL, run_all, NULL);
        }
        for (int i = 0; i < threads; i++) {
            pthread_join(t[i], NULL);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("usr1=%d usr2=%d caught=%d elapsed_us=%ld\n", (int)usr1, (int)usr2, (int)caught,
           (long)((t1.tv_sec - t0.tv_sec) * 1000000 + (t1.tv_nsec - t0.tv_nsec) / 1000));
    return 0;
}
