/*
 * Directory descriptors in threads whose descriptor table is not the main
 * thread's, for specs of scripts/sandbox.lua. Prints "MODE = ok" when the
 * final openat succeeds (it reads the file), "MODE = errno N" when not.
 * usage: fdtable unshare DECOY DIR NAME
 *          a thread takes a private descriptor table (unshare CLONE_FILES),
 *          reuses the number of the main thread's descriptor of DECOY for
 *          DIR, then opens NAME from it
 *        fdtable orphan DIR NAME
 *          the main thread ends (pthread_exit) and a thread then opens
 *          NAME from a descriptor of DIR
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char **args;

static void report(const char *mode, long fd)
{
    char buf[64];

    if (fd < 0) {
        printf("%s = errno %d\n", mode, errno);
    } else {
        /* a read proves the file itself was reached, not just named */
        printf("%s = %s\n", mode, read((int)fd, buf, sizeof(buf)) >= 0 ? "ok" : "unreadable");
        close((int)fd);
    }
    fflush(stdout);
}

/* args: DECOY DIR NAME; the main thread holds a descriptor of DECOY. */
static void *unshared(void *decoy_fd)
{
    int fd = (int)(long)decoy_fd;
    long dir;

    if (unshare(CLONE_FILES) != 0) {
        perror("unshare");
        exit(2);
    }
    close(fd);
    dir = syscall(SYS_openat, AT_FDCWD, args[1], O_RDONLY | O_DIRECTORY);
    if (dir != fd) {
        fprintf(stderr, "fdtable: %s got descriptor %ld, not %d\n", args[1], dir, fd);
        exit(2);
    }
    report("unshare", syscall(SYS_openat, fd, args[2], O_RDONLY));
    return NULL;
}

/* args: DIR NAME, after the main thread has gone. */
static void *orphaned(void *unused)
{
    long dir;

    (void)unused;
    usleep(100 * 1000); /* let the main thread's exit complete */
    dir = syscall(SYS_openat, AT_FDCWD, args[0], O_RDONLY | O_DIRECTORY);
    if (dir < 0) {
        report("orphan", dir);
    } else {
        report("orphan", syscall(SYS_openat, dir, args[1], O_RDONLY));
    }
    exit(0);
}

int main(int argc, char **argv)
{
    pthread_t t;

    if (argc == 5 && !strcmp(argv[1], "unshare")) {
        long decoy = syscall(SYS_openat, AT_FDCWD, argv[2], O_RDONLY | O_DIRECTORY);

        if (decoy < 0) {
            perror(argv[2]);
            return 2;
        }
        args = argv + 2;
        pthread_create(&t, NULL, unshared, (void *)decoy);
        pthread_join(t, NULL);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "orphan")) {
        args = argv + 2;
        pthread_create(&t, NULL, orphaned, NULL);
        pthread_exit(NULL);
    }
    fprintf(stderr, "usage: fdtable unshare DECOY DIR NAME | fdtable orphan DIR NAME\n");
    return 2;
}
