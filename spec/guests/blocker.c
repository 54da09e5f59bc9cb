/*
 * A task blocked in a call while another one works, for specs of the order
 * of lines across processes and threads. The blocked task reads a pipe;
 * the worker waits until that read has certainly begun (the kernel says
 * the task is in a read syscall: /proc/PID/task/TID/syscall), then makes a
 * getppid, writes "go" into the pipe and ends; the reader then ends too.
 * usage: blocker fork | blocker thread
 * The number in /proc/.../syscall is the host's: 0, x86_64's read (under
 * QEMU the host runs the guest's read as its own).
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int fds[2];
static volatile long reader_tid;

/* Whether task `tid` of process `pid` is blocked in a read now. */
static int in_read(long pid, long tid)
{
    char path[64], text[32];
    int fd;
    ssize_t n;

    snprintf(path, sizeof(path), "/proc/%ld/task/%ld/syscall", pid, tid);
    fd = open(path, O_RDONLY);
    if (fd < 0) {
        return 0;
    }
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    return n > 2 && strncmp(text, "0 ", 2) == 0;
}

/* Waits (at most about 20 s) until the reader is blocked, then wakes it. */
static int work(long pid, long tid)
{
    struct timespec pause = { 0, 2000000 };

    for (int i = 0; !in_read(pid, tid); i++) {
        if (i == 10000) {
            fprintf(stderr, "blocker: the reader never blocked\n");
            return 1;
        }
        nanosleep(&pause, NULL);
    }
    syscall(SYS_getppid);
    return write(fds[1], "go", 2) == 2 ? 0 : 1;
}

static int read_go(void)
{
    char buf[8];

    return read(fds[0], buf, sizeof(buf)) == 2 ? 0 : 1;
}

static void *reader(void *arg)
{
    (void)arg;
    reader_tid = syscall(SYS_gettid);
    return (void *)(long)read_go();
}

int main(int argc, char **argv)
{
    if (argc != 2 || pipe(fds) != 0) {
        fprintf(stderr, "usage: blocker fork|thread\n");
        return 2;
    }
    if (strcmp(argv[1], "fork") == 0) {
        long parent = getpid();
        pid_t child = fork();
        int status;

        if (child == 0) {
            _exit(work(parent, parent));
        }
        if (read_go() != 0 || waitpid(child, &status, 0) != child) {
            return 1;
        }
        return WEXITSTATUS(status);
    }
    if (strcmp(argv[1], "thread") == 0) {
        pthread_t t;
        void *result;

        pthread_create(&t, NULL, reader, NULL);
        while (reader_tid == 0) {
            sched_yield();
        }
        if (work(getpid(), reader_tid) != 0) {
            return 1;
        }
        pthread_join(t, &result);
        return (int)(long)result;
    }
    fprintf(stderr, "usage: blocker fork|thread\n");
    return 2;
}
