/*
 * Lesson 7: a pipe between two processes. The parent makes a pipe and
 * forks; the child writes a message into the pipe and exits with status
 * 7; the parent reads the message, waits for the child and reports.
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    const char *message = "hello through the pipe\n";
    char got[64] = "";
    int ends[2], status;
    pid_t child;

    if (pipe(ends) != 0) {
        perror("pipe");
        return 1;
    }
    child = fork();
    if (child == 0) {
        close(ends[0]);
        write(ends[1], message, strlen(message));
        _exit(7);
    }
    close(ends[1]);
    read(ends[0], got, sizeof(got) - 1);
    close(ends[0]);
    waitpid(child, &status, 0);
    printf("parent read: %s", got);
    printf("child exited with status %d\n", WEXITSTATUS(status));
    return 0;
}
