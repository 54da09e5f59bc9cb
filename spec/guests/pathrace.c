/*
 * Races a sandbox's path check: one thread flips a path buffer between two
 * names of the same length while another makes a call with that buffer
 * TRIES times, for specs of scripts/sandbox.lua. Prints how often the call
 * worked and how often it reached the file whose contents start with
 * "secret" (the denied one), as "OP: N ok, K secret".
 * usage: pathrace open TRIES ALLOWED DENIED   open(2) the buffer and read it
 *        pathrace stat TRIES ALLOWED DENIED INODE
 *                        stat the buffer; INODE (DENIED's) counts as secret
 *        pathrace connect TRIES ALLOWED DENIED
 *                        connect an AF_UNIX socket to the buffer; ALLOWED is
 *                        this program's own listening socket, DENIED another
 *                        program's: a connection whose peer is DENIED counts
 *        pathrace mkdir TRIES PATH DIR
 *                        make and remove directory PATH while another thread
 *                        puts a descriptor of directory DIR on the numbers a
 *                        sandbox's own descriptors take; a directory of
 *                        PATH's last name that shows up in DIR counts as secret
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

static struct sockaddr_un address = { .sun_family = AF_UNIX };
static char *path = address.sun_path;
static const char *names[2];
static atomic_int done;
static int dir_fd;

static void *flipper(void *unused)
{
    size_t len = strlen(names[0]) + 1;

    (void)unused;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        for (int i = 0; i < 2; i++) {
            memcpy(path, names[i], len);
            __asm__ volatile("" ::: "memory");
        }
    }
    return NULL;
}

/* Puts the descriptor of DIR on the next few numbers, again and again. */
static void *replacer(void *unused)
{
    (void)unused;
    while (!atomic_load_explicit(&done, memory_order_relaxed)) {
        for (int fd = dir_fd + 1; fd < dir_fd + 4; fd++) {
            dup2(dir_fd, fd);
        }
        for (int fd = dir_fd + 1; fd < dir_fd + 4; fd++) {
            close(fd);
        }
    }
    return NULL;
}

/* Whether directory descriptor `fd` lists `name`. */
static int lists(int fd, const char *name)
{
    char entries[4096];
    long n;

    lseek(fd, 0, SEEK_SET);
    while ((n = syscall(SYS_getdents64, fd, entries, sizeof(entries))) > 0) {
        for (long at = 0; at < n;) {
            struct dirent64 *e = (struct dirent64 *)(entries + at);
            if (!strcmp(e->d_name, name)) {
                return 1;
            }
            at += e->d_reclen;
        }
    }
    return 0;
}

/* mkdir and rmdir of the buffer's path: 1 when its name showed up in DIR. */
static int make_and_remove(void)
{
    const char *name = strrchr(path, '/') + 1;
    int r = syscall(SYS_mkdir, path, 0700) == 0 ? 0 : -1;

    if (lists(dir_fd, name)) {
        r = 1;
        rmdir(path);
    }
    syscall(SYS_rmdir, path);
    return r;
}

/* Takes the connections to this program's own socket `listener`. */
static void *acceptor(void *listener)
{
    for (;;) {
        int c = accept((int)(long)listener, NULL, NULL);
        if (c >= 0) {
            close(c);
        }
    }
    return NULL;
}

/* connect to the buffer's socket: 1 when the peer is the denied one. */
static int connect_to(void)
{
    struct sockaddr_un peer;
    socklen_t len = sizeof(peer);
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    int r = -1;

    if (syscall(SYS_connect, s, &address, (socklen_t)sizeof(address)) == 0) {
        r = getpeername(s, (struct sockaddr *)&peer, &len) == 0 && !strcmp(peer.sun_path, names[1]);
    }
    close(s);
    return r;
}

/* 1 when the call reached the denied file, 0 when another, -1 on failure. */
static int attempt(const char *op, ino_t secret_ino)
{
    if (!strcmp(op, "connect")) {
        return connect_to();
    }
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
    int is_mkdir = argc == 5 && !strcmp(argv[1], "mkdir");
    int is_connect = argc == 5 && !strcmp(argv[1], "connect");
    long tries = is_open || is_stat || is_mkdir || is_connect ? atol(argv[2]) : 0;
    ino_t secret_ino = is_stat ? (ino_t)strtoull(argv[5], NULL, 10) : 0;
    long ok = 0, secret = 0;
    pthread_t t;

    if (is_mkdir && tries > 0 && strlen(argv[3]) < sizeof(address.sun_path) && strchr(argv[3], '/')) {
        strcpy(path, argv[3]);
        dir_fd = open(argv[4], O_RDONLY | O_DIRECTORY);
        if (dir_fd < 0) {
            perror(argv[4]);
            return 2;
        }
        pthread_create(&t, NULL, replacer, NULL);
        for (long i = 0; i < tries; i++) {
            int r = make_and_remove();
            if (r >= 0) {
                ok++;
                secret += r;
            }
        }
        atomic_store(&done, 1);
        pthread_join(t, NULL);
        printf("mkdir: %ld ok, %ld secret\n", ok, secret);
        return 0;
    }
    if (tries <= 0 || strlen(argv[3]) != strlen(argv[4]) || strlen(argv[3]) >= sizeof(address.sun_path)) {
        fprintf(stderr, "usage: pathrace open TRIES ALLOWED DENIED | "
                "pathrace stat TRIES ALLOWED DENIED INODE (names of one length) | "
                "pathrace connect TRIES ALLOWED DENIED | pathrace mkdir TRIES PATH DIR\n");
        return 2;
    }
    if (is_connect) {
        int listener = socket(AF_UNIX, SOCK_STREAM, 0);
        pthread_t a;

        strcpy(path, argv[3]);
        if (bind(listener, (struct sockaddr *)&address, sizeof(address)) != 0 || listen(listener, 128) != 0) {
            perror(argv[3]);
            return 2;
        }
        pthread_create(&a, NULL, acceptor, (void *)(long)listener);
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
