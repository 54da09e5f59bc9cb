/*
 * Raises a signal whose handler writes, then execs or exits as asked:
 *   signals exit | signals exec PROGRAM ARG | signals crash | signals info
 * For specs of syscalls that never return (rt_sigreturn, exit_group, a
 * successful execve) and of output flushing when the guest dies. `info`
 * first has an SA_SIGINFO handler take SIGUSR2, queued with a value, in a
 * sigsuspend (on arm, whose C library always gives a restorer, once more
 * with none, so that the handler returns through QEMU's code): for signal
 * deliveries and the frame sigreturn reads.
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

static void info_handler(int sig, siginfo_t *info, void *context)
{
    (void)sig;
    (void)context;
    if (info->si_value.sival_int == 42) {
        write(1, "value\n", 6);
    }
}

/* SIGUSR2 (and SIGINT) blocked, SIGUSR2 queued, then taken in sigsuspend,
 * which the handler's return ends with EINTR and the mask as before */
static void queue_and_suspend(void)
{
    union sigval value = { .sival_int = 42 };
    sigset_t during;

    sigqueue(getpid(), SIGUSR2, value);
    sigemptyset(&during);
    sigaddset(&during, SIGINT);
    sigsuspend(&during);
}

static void queue_with_info(void)
{
    struct sigaction sa;
    sigset_t blocked;

    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = info_handler;
    sa.sa_flags = SA_SIGINFO;
    sigaction(SIGUSR2, &sa, NULL);
    sigemptyset(&blocked);
    sigaddset(&blocked, SIGUSR2);
    sigaddset(&blocked, SIGINT);
    sigprocmask(SIG_BLOCK, &blocked, NULL);
    queue_and_suspend();
#ifdef __arm__
    {
        /* the kernel's struct sigaction, without SA_RESTORER */
        struct { void *handler; unsigned long flags; void *restorer; unsigned long mask[2]; }
            raw = { (void *)info_handler, SA_SIGINFO, NULL, { 0, 0 } };
        syscall(SYS_rt_sigaction, SIGUSR2, &raw, NULL, 8);
        queue_and_suspend();
    }
#endif
    sigprocmask(SIG_UNBLOCK, &blocked, NULL);
}

int main(int argc, char **argv)
{
    if (argc == 2 && !strcmp(argv[1], "info")) {
        queue_with_info();
    }
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
