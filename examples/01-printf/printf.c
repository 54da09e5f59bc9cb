/*
 * Lesson 1: what printf becomes. Three printf calls print two lines; how
 * many write() calls reach the kernel depends on how stdio buffers
 * standard output, which the argument chooses:
 *   default  the C library decides: line by line on a terminal, one block
 *            when standard output is a pipe or a file
 *   line     setvbuf(_IOLBF): a write at each newline
 *   full     setvbuf(_IOFBF): a write when the buffer is full or at exit
 *   none     setvbuf(_IONBF): a write for every printf
 */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "default";

    if (strcmp(mode, "line") == 0) {
        setvbuf(stdout, NULL, _IOLBF, BUFSIZ);
    } else if (strcmp(mode, "full") == 0) {
        setvbuf(stdout, NULL, _IOFBF, BUFSIZ);
    } else if (strcmp(mode, "none") == 0) {
        setvbuf(stdout, NULL, _IONBF, 0);
    } else if (strcmp(mode, "default") != 0) {
        fprintf(stderr, "usage: printf [default|line|full|none]\n");
        return 2;
    }
    printf("one\n");
    printf("two, ");
    printf("three\n");
    return 0;
}
