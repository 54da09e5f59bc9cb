/*
 * A program whose output depends on everything outside it, for the
 * record and replay specs: it prints the time (three clocks), random
 * bytes, its pid and parent's, a file's size and contents, what it reads
 * from its stdin (a pipe a producer feeds) and what a server on a
 * loopback socket sends it.
 *   recplay FILE PORT     the run (PORT 0: no socket)
 *   recplay serve         a server: binds 127.0.0.1 on a free port, prints
 *                         the port, sends one greeting with its own pid and
 *                         clock to the first client, and exits
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void print_read(const char *what, int fd)
{
    char buf[256];
    ssize_t n;

    printf("%s: \"", what);
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
    }
    printf("\" (last read %zd)\n", n);
}

static int serve(void)
{
    struct sockaddr_in addr = { .sin_family = AF_INET };
    socklen_t len = sizeof(addr);
    struct timespec now;
    char greeting[128];
    int s = socket(AF_INET, SOCK_STREAM, 0), c;

    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (s < 0 || bind(s, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(s, 1) != 0
        || getsockname(s, (struct sockaddr *)&addr, &len) != 0) {
        perror("serve");
        return 1;
    }
    printf("%d\n", ntohs(addr.sin_port));
    fflush(stdout);
    c = accept(s, NULL, NULL);
    if (c < 0) {
        perror("accept");
        return 1;
    }
    clock_gettime(CLOCK_REALTIME, &now);
    snprintf(greeting, sizeof(greeting), "hello from server %d at %ld.%09ld",
             (int)getpid(), (long)now.tv_sec, now.tv_nsec);
    if (write(c, greeting, strlen(greeting)) < 0) {
        perror("write");
    }
    close(c);
    close(s);
    return 0;
}

int main(int argc, char **argv)
{
    struct timespec ts, mono;
    struct timeval tv;
    struct stat st;
    unsigned char random[16];
    int fd, port;

    if (argc == 2 && !strcmp(argv[1], "serve")) {
        return serve();
    }
    if (argc != 3) {
        fprintf(stderr, "usage: recplay FILE PORT | recplay serve\n");
        return 2;
    }
    port = atoi(argv[2]);
    clock_gettime(CLOCK_REALTIME, &ts);
    clock_gettime(CLOCK_MONOTONIC, &mono);
    gettimeofday(&tv, NULL);
    printf("realtime %ld.%09ld monotonic %ld.%09ld\n", (long)ts.tv_sec, ts.tv_nsec,
           (long)mono.tv_sec, mono.tv_nsec);
    printf("gettimeofday %ld.%06ld time %ld\n", (long)tv.tv_sec, (long)tv.tv_usec,
           (long)time(NULL));
    if (getrandom(random, sizeof(random), 0) != sizeof(random)) {
        perror("getrandom");
        return 1;
    }
    printf("random ");
    for (size_t i = 0; i < sizeof(random); i++) {
        printf("%02x", random[i]);
    }
    printf("\npid %d ppid %d\n", (int)getpid(), (int)getppid());

    fd = open(argv[1], O_RDONLY);
    if (fd < 0 || fstat(fd, &st) != 0) {
        perror(argv[1]);
        return 1;
    }
    printf("file size %lld mtime %lld\n", (long long)st.st_size, (long long)st.st_mtime);
    print_read("file", fd);
    close(fd);
    print_read("stdin", 0);

    if (port) {
        struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = htons(port) };
        int s = socket(AF_INET, SOCK_STREAM, 0);

        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (s < 0 || connect(s, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
            perror("connect");
            return 1;
        }
        print_read("socket", s);
        close(s);
    }
    return 0;
}
