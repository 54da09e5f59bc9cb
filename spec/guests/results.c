/*
 * Makes a few syscalls and prints the raw results the guest saw (negative
 * errno for failures), so specs can compare them with after-hooks.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* the kernel's own convention: -errno on failure */
static long raw(long r)
{
    return r == -1 ? -errno : r;
}

int main(void)
{
    long pid = raw(syscall(SYS_getpid));
    long w = raw(syscall(SYS_write, 1, "hello\n", 6));
    long o = raw(syscall(SYS_openat, -100, "/nonexistent/luahook", 0, 0));
    long c = raw(syscall(SYS_close, -1));

    printf("getpid=%ld write=%ld openat=%ld close=%ld\n", pid, w, o, c);
    return 0;
}
