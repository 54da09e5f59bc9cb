/*
 * Lesson 5: when malloc fails. Asks for two blocks of 100 kB (which
 * malloc carves out of its heap, growing it with brk when it must) and one
 * of 8 MB (which it maps on its own, with mmap), keeping them all, and
 * says what it got: a program must check for NULL.
 * Exit status: the number of requests that failed.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define REQUESTS 3

int main(void)
{
    static const size_t sizes[REQUESTS] = { 100 * 1000, 100 * 1000, 8 * 1000 * 1000 };
    char *blocks[REQUESTS];
    int failed = 0;

    printf("asking for memory\n");
    fflush(stdout);
    for (int i = 0; i < REQUESTS; i++) {
        blocks[i] = malloc(sizes[i]);
        if (blocks[i] == NULL) {
            printf("malloc(%zu) failed: %s\n", sizes[i], strerror(errno));
            failed++;
            continue;
        }
        memset(blocks[i], 1, sizes[i]);
        printf("malloc(%zu) worked\n", sizes[i]);
    }
    for (int i = 0; i < REQUESTS; i++) {
        free(blocks[i]);
    }
    return failed;
}
