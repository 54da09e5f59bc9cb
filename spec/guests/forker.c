/*
 * Forks: the child makes 3 getppid calls and exits 3, the parent makes 2
 * and waits for it; each says who it is. For specs of per-process state.
 */
#include <stdio.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void calls(int n)
{
    for (int i = 0; i < n; i++) {
        syscall(SYS_getppid);
    }
}

int main(void)
{
    int status;
    pid_t child;

    syscall(SYS_getppid);
    fflush(stdout);
    child = fork();
    if (child == 0) {
        calls(3);
        printf("child %ld\n", (long)getpid());
        return 3;
    }
    waitpid(child, &status, 0);
    calls(2);
    printf("parent %ld child %ld exited %d\n", (long)getpid(), (long)child,
           WEXITSTATUS(status));
    return 0;
}
