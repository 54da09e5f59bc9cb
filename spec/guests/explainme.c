/*
 * Makes one of each of the calls spec/explain_spec.lua checks the
 * explanations of: a pipe, a descriptor copied with fcntl(F_DUPFD), bytes
 * through both, a socket pair, a mapping cut by mprotect and munmap, a
 * failing lseek, a short sleep. Prints the descriptors and the address it
 * got, so the spec can find them in the sentences, and exits with status 5.
 */
#include <fcntl.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

int main(void)
{
    struct timespec nap = { 0, 1000000 };
    int ends[2], pair[2], copy;
    char buf[8];
    char *map;

    if (pipe(ends) != 0 || socketpair(AF_UNIX, SOCK_STREAM, 0, pair) != 0) {
        perror("explainme");
        return 1;
    }
    copy = fcntl(ends[1], F_DUPFD, 10);
    write(copy, "ping", 4);
    read(ends[0], buf, sizeof(buf));
    map = mmap(NULL, 3 * 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    mprotect(map + 4096, 4096, PROT_NONE);
    munmap(map, 4096);
    lseek(ends[0], 0, SEEK_SET);
    nanosleep(&nap, NULL);
    printf("pipe %d %d copy %d pair %d %d map %p\n", ends[0], ends[1], copy, pair[0], pair[1],
           (void *)map);
    return 5;
}
