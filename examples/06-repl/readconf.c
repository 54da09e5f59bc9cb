/*
 * Lesson 6: a program that reads a configuration file and prints it; at
 * a breakpoint on openat you can send it to another file, or make the
 * open fail, before the kernel sees the call.
 * usage: readconf [PATH]   (default /etc/luahook-lesson.conf)
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    const char *path = argc > 1 ? argv[1] : "/etc/luahook-lesson.conf";
    char line[256];
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        printf("cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    while (fgets(line, sizeof(line), f) != NULL) {
        printf("config: %s", line);
    }
    fclose(f);
    return 0;
}
