/*
 * Does to its descriptors what programs do (and what would hit another
 * program's descriptors living in the same table), calling getppid after
 * each step so a hook can say it still writes where it should:
 *   the first open's number, what /proc/self/fd lists, F_DUPFD from 63,
 *   dup2 of FILE onto every number from 3 to 255, close_range(3, ~0U, 0).
 * usage: descriptors FILE
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

static void list_descriptors(void)
{
    DIR *d = opendir("/proc/self/fd");
    int own = d ? dirfd(d) : -1;
    struct dirent *e;
    char seen[4096] = "";
    int n = 0;

    while (d && (e = readdir(d))) {
        if (e->d_name[0] != '.' && atoi(e->d_name) != own) {
            n += snprintf(seen + n, sizeof(seen) - n, " %s", e->d_name);
        }
    }
    if (d) {
        closedir(d);
    }
    printf("/proc/self/fd:%s\n", seen);
}

int main(int argc, char **argv)
{
    int fd, file;

    if (argc != 2) {
        fprintf(stderr, "usage: descriptors FILE\n");
        return 2;
    }
    fd = open("/dev/null", O_RDONLY);
    printf("first open %d\n", fd);
    list_descriptors();
    syscall(SYS_getppid);
    printf("F_DUPFD 63 -> %d\n", fcntl(fd, F_DUPFD, 63));
    file = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    for (int n = 3; n <= 255; n++) {
        if (n != file) {
            dup2(file, n);
        }
    }
    syscall(SYS_getppid);
    printf("close_range %ld\n", syscall(SYS_close_range, 3U, ~0U, 0));
    list_descriptors();
    syscall(SYS_getppid);
    printf("done\n");
    fflush(stdout);
    return 0;
}
