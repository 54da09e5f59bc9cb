/* Prints the contents of the file given (a minimal cat). */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    char buf[4096];
    ssize_t n;
    int fd = argc == 2 ? open(argv[1], O_RDONLY) : -1;

    if (fd < 0) {
        perror("open");
        return 1;
    }
    while ((n = read(fd, buf, sizeof(buf))) > 0) {
        fwrite(buf, 1, (size_t)n, stdout);
    }
    close(fd);
    return 0;
}
