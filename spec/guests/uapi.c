/*
 * The check of an architecture's generated data module (build/tools/
 * arch_ARCH.lua, spec/arch_data_spec.lua). print_uapi, generated from the
 * module by tools/gen_uapi_check.lua, prints each of its values as this
 * architecture's compiler computes it from the same kernel headers; main
 * then prints some of the same names as glibc defines them in its own
 * per-architecture headers (bits/signum-arch.h, bits/fcntl.h,
 * bits/mman-linux.h, ...), which are written apart from the kernel's.
 */
#define _GNU_SOURCE               /* O_DIRECT, O_TMPFILE, SO_PEERCRED */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>

void print_uapi(void);

#define LIBC(x) printf("libc %s %lld\n", #x, (long long)(x))

int main(void)
{
    print_uapi();
    LIBC(SYS_openat);
    LIBC(SYS_getppid);
    LIBC(SYS_exit_group);
    LIBC(SYS_clone);
    LIBC(ENOSYS);
    LIBC(EAGAIN);
    LIBC(ELOOP);
    LIBC(ENOTEMPTY);
    LIBC(EDEADLOCK);
    LIBC(ETIMEDOUT);
    LIBC(SIGUSR1);
    LIBC(SIGUSR2);
    LIBC(SIGCHLD);
    LIBC(SIGBUS);
    LIBC(SIGSTOP);
    LIBC(SIGTSTP);
    LIBC(SIGSYS);
    LIBC(SIG_BLOCK);
    LIBC(SIG_SETMASK);
    LIBC(SA_RESTART);
    LIBC(SA_SIGINFO);
    LIBC(SA_NOCLDSTOP);
    LIBC(O_APPEND);
    LIBC(O_CREAT);
    LIBC(O_EXCL);
    LIBC(O_NONBLOCK);
    LIBC(O_DIRECTORY);
    LIBC(O_NOFOLLOW);
    LIBC(O_CLOEXEC);
    LIBC(O_DIRECT);
    LIBC(O_TMPFILE);
    LIBC(F_GETLK);
    LIBC(F_SETLK);
    LIBC(F_GETOWN);
    LIBC(F_SETOWN);
    LIBC(MAP_ANONYMOUS);
    LIBC(MAP_FIXED);
    LIBC(MAP_NORESERVE);
    LIBC(MAP_GROWSDOWN);
    LIBC(MAP_STACK);
    LIBC(MADV_DONTNEED);
    LIBC(SOL_SOCKET);
    LIBC(SO_REUSEADDR);
    LIBC(SO_TYPE);
    LIBC(SO_RCVBUF);
    LIBC(SO_PEERCRED);
    LIBC(RLIMIT_NOFILE);
    LIBC(RLIMIT_AS);
    LIBC(RLIMIT_NPROC);
    return 0;
}
