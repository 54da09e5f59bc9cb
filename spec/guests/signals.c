/*
 * Raises a signal whose handler writes, then execs or exits as asked:
 *   signals exit | signals exec PROGRAM ARG | signals crash
 * For specs of syscalls that never return (rt_sigreturn, exit_group, a
 * successful execve) and of output flushing when the guest dies.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static void handler(int sig)
{
    (void)sig;
    write(1, "handled\n", 8);
}

int main(int argc, char **argv)
{
    signal(SIGUSR1, handler);
    kill(getpid(), SIGUSR1);
    syscall(SYS_getppid);
    if (argc == 4 && !strcmp(argv[1], "exec")) {
        char *args[] = { argv[2], argv[3], NULL };
        execv(argv[2], args);
        perror("execv");
        return 1;
    }
    if (argc == 2 && !strcmp(argv[1], "crash")) {
        int *volatile bad = NULL;   /* volatile: the compiler must not prove it */
        *(volatile int *)bad = 1;
    }
    return 0;
}
