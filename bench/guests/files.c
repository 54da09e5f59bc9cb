/*
 * File-heavy work: create, write, read back, stat and unlink N small files
 * (default 3000) in a fresh directory under DIR (default /tmp).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 3000;
    const char *base = argc > 2 ? argv[2] : "/tmp";
    char dir[256], path[512], buf[128];
    struct stat st;

    snprintf(dir, sizeof(dir), "%s/luahook-bench-%d", base, (int)getpid());
    if (mkdir(dir, 0700) != 0) {
        perror("mkdir");
        return 1;
    }
    for (long i = 0; i < n; i++) {
        int fd;

        snprintf(path, sizeof(path), "%s/f%ld", dir, i);
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd < 0 || write(fd, path, strlen(path)) < 0 || close(fd) != 0) {
            perror("write");
            return 1;
        }
        fd = open(path, O_RDONLY);
        if (fd < 0 || read(fd, buf, sizeof(buf)) < 0 || close(fd) != 0 ||
            stat(path, &st) != 0 || unlink(path) != 0) {
            perror("read");
            return 1;
        }
    }
    rmdir(dir);
    return 0;
}
