/* Opens each path given and prints "PATH ok" or "PATH errno=N". */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        int fd = open(argv[i], O_RDONLY);
        if (fd < 0) {
            printf("%s errno=%d\n", argv[i], errno);
        } else {
            printf("%s ok\n", argv[i]);
            close(fd);
        }
    }
    return 0;
}
