/*
 * Writes a file of known bytes, reads it back, stats it and prints what it
 * saw; the output and the file must be the same with or without hooks.
 * usage: fileio PATH
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SIZE (256 * 1024)

static unsigned char out[SIZE], in[SIZE];

int main(int argc, char **argv)
{
    unsigned long sum = 0;
    struct stat st;
    int fd;

    if (argc != 2) {
        fprintf(stderr, "usage: fileio PATH\n");
        return 2;
    }
    for (int i = 0; i < SIZE; i++) {
        out[i] = (unsigned char)(i * 7 + i / 251);
    }
    fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0 || write(fd, out, SIZE) != SIZE || close(fd) != 0) {
        perror("write");
        return 1;
    }
    fd = open(argv[1], O_RDONLY);
    ssize_t got = 0, n;
    while (fd >= 0 && (n = read(fd, in + got, SIZE - got)) > 0) {
        got += n;
    }
    close(fd);
    if (stat(argv[1], &st) != 0) {
        perror("stat");
        return 1;
    }
    for (int i = 0; i < SIZE; i++) {
        sum = sum * 31 + in[i];
    }
    printf("read %ld bytes, size %lld, same=%d, sum=%lu\n", (long)got,
           (long long)st.st_size, memcmp(in, out, SIZE) == 0, sum);
    return 0;
}
