/*
 * The bundled example for `make demo`: a small program that does what most
 * programs do — asks who and where it is, writes a file, reads it back.
 * Run it under scripts/trace.lua to watch each step become system calls.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

int main(void)
{
    const char *path = "/tmp/luahook-hello.txt";
    const char *note = "hello from a guest program\n";
    struct utsname u;
    char back[64] = "";
    int fd;

    uname(&u);
    printf("I am pid %d on a %s machine\n", (int)getpid(), u.machine);

    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd >= 0) {
        write(fd, note, strlen(note));
        close(fd);
    }
    fd = open(path, O_RDONLY);
    if (fd >= 0) {
        read(fd, back, sizeof(back) - 1);
        close(fd);
    }
    unlink(path);
    printf("I wrote and read back: %s", back[0] ? back : "(nothing)\n");
    return 0;
}
