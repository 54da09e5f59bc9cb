/*
 * Races a sandbox's path check: one thread flips a path buffer between two
 * names of the same length while another makes a call with that buffer
 * TRIES times, for specs of scripts/sandbox.lua. Prints how often the call
 * worked and how often it reached the file whose contents start with
 * "secret" (the denied one), as "OP: N ok, K secret".
 * usage: pathrace open TRIES ALLOWED DENIED   open(2) the buffer and read it
 *        pathrace stat TRIES ALLOWED DENIED INODE
 *                        stat the buffer; INODE (DENIED's) counts as secret
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static char path[256];
static const char *names[2];
static atomic_int done;

static void *flipper(void *unused)
{
    size_t len = strlen(names[0]) + 1;

    (void)unused;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        for (int i = 0; i < 2; i++) {
            memcpy((void *)path, names[i], len);
            __asm__ volatile("" ::: "memory");
        }
    }
    return NULL;
}

/* 1 when the call reached the denied file, 0 when another, -1 on failure. */
static int attempt(const char *op, ino_t secret_ino)
{
    if (!strcmp(op, "open")) {
        char buf[6];
        long fd = syscall(SYS_open, path, O_RDONLY);
        ssize_t n;

        if (fd < 0) {
            return -1;
        }
        n = read((int)fd, buf, sizeof(buf));
        close((int)fd);
        return n == sizeof(buf) && !memcmp(buf, "secret", sizeof(buf));
    }
    struct stat st;
    if (stat(path, &st) != 0) {
        return -1;
    }
    return st.st_ino == secret_ino;
}

int main(int argc, char **argv)
{
    int is_open = argc == 5 && !strcmp(argv[1], "open");
    int is_stat = argc == 6 && !strcmp(argv[1], "stat");
    long tries = is_open || is_stat ? atol(argv[2]) : 0;
    ino_t secret_ino = is_stat ? (ino_t)strtoull(argv[5], NULL, 10) : 0;
    long ok = 0, secret = 0;
    pthread_t t;

    if (tries <= 0 || strlen(argv[3]) != strlen(argv[4]) || strlen(argv[3]) >= sizeof(path)) {
        fprintf(stderr, "usage: pathrace open TRIES ALLOWED DENIED | "
                "pathrace stat TRIES ALLOWED DENIED INODE (names of one length)\n");
        return 2;
    }
    names[0] = argv[3];
    names[1] = argv[4];
    strcpy(path, names[0]);
    pthread_create(&t, NULL, flipper, NULL);
    for (long i = 0; i < tries; i++) {
        int r = attempt(argv[1], secret_ino);

        if (r >= 0) {
            ok++;
            secret += r;
        }
    }
    atomic_store(&done, 1);
    pthread_join(t, NULL);
    printf("%s: %ld ok, %ld secret\n", argv[1], ok, secret);
    return 0;
}
