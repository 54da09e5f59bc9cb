/*
 * Forks a child that waits for a signal, then kills it with SIGTERM (by
 * the pid fork returned) and reports how it ended: for the replay specs,
 * a signal sent to a live process the replay made.
 */
#include <signal.h>
#include <stdio.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void)
{
    int status;
    pid_t child = fork();

    if (child == 0) {
        pause();
        return 0;
    }
    usleep(100000);
    kill(child, SIGTERM);
    waitpid(child, &status, 0);
    printf("child ended by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
    return 0;
}
