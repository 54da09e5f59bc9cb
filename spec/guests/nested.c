/*
 * Nested calls for stack traces: main -> outer -> middle -> inner, and
 * inner opens the file named by the first argument (default /dev/null).
 * noipa keeps each function whole (no inlining, cloning or tail calls
 * across it); the arithmetic after each call keeps the callers' frames.
 */
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

__attribute__((noipa)) int inner(const char *path)
{
    int fd = openat(AT_FDCWD, path, O_RDONLY);

    return fd + 1;
}

__attribute__((noipa)) int middle(const char *path)
{
    return inner(path) * 2;
}

__attribute__((noipa)) int outer(const char *path)
{
    return middle(path) - 3;
}

int main(int argc, char **argv)
{
    printf("%d\n", outer(argc > 1 ? argv[1] : "/dev/null"));
    return 0;
}
