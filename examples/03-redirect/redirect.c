/*
 * Lesson 3: file descriptors. The program sends its own standard output
 * into a file, the way a shell's "> file" does, then takes it back:
 * dup() keeps the way back, dup2() puts the file in place of descriptor
 * 1, and printf never knows the difference.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
    const char *path = "/tmp/luahook-lesson-redirect.txt";
    char back[128] = "";
    int saved, fd;

    saved = dup(1);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (saved < 0 || fd < 0) {
        perror("redirect");
        return 1;
    }
    dup2(fd, 1);
    close(fd);
    printf("this line went into %s\n", path);
    fflush(stdout);

    dup2(saved, 1);
    close(saved);
    fd = open(path, O_RDONLY);
    if (fd < 0 || read(fd, back, sizeof(back) - 1) < 0) {
        perror("read back");
        return 1;
    }
    close(fd);
    unlink(path);
    printf("back on the original standard output; the file held: %s", back);
    return 0;
}
