/*
 * A read that signals interrupt and the kernel (QEMU) restarts: a SIGALRM
 * handler installed with SA_RESTART runs every 150 ms (and makes a syscall
 * of its own), while read waits on a pipe a thread writes to after 600 ms;
 * with `alone`, no thread: the fourth handler writes the byte itself. For
 * specs of restarted calls. Prints what read returned.
 * usage: restart [alone]
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static volatile sig_atomic_t alarms;

static int alone;

static void on_alarm(int sig)
{
    (void)sig;
    alarms++;
    syscall(SYS_getppid);
    if (alone && alarms == 4) {
        write(fds[1], "x", 1);
    }
}

static void *writer(void *unused)
{
    struct timespec wait = { 0, 600 * 1000 * 1000 };

    (void)unused;
    nanosleep(&wait, NULL);
    write(fds[1], "x", 1);
    return NULL;
}

int main(int argc, char **argv)
{
    struct sigaction sa;
    struct itimerval every = { { 0, 150 * 1000 }, { 0, 150 * 1000 } };
    struct itimerval off = { { 0, 0 }, { 0, 0 } };
    pthread_t thread;
    char c;
    ssize_t n;

    alone = argc == 2 && strcmp(argv[1], "alone") == 0;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGALRM, &sa, NULL);
    if (pipe(fds) != 0 || (!alone && pthread_create(&thread, NULL, writer, NULL) != 0)) {
        perror("restart");
        return 1;
    }
    setitimer(ITIMER_REAL, &every, NULL);
    n = read(fds[0], &c, 1);
    setitimer(ITIMER_REAL, &off, NULL);
    if (!alone) {
        pthread_join(thread, NULL);
    }
    printf("read %zd after %d alarms\n", n, (int)alarms);
    return 0;
}
