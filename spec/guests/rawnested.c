/*
 * nested.c's calls, but with openat made in place, in inline assembly:
 * for stack traces on arm and riscv64, whose C libraries (Debian 12's)
 * give their syscall wrappers no DWARF CFI (arm's has only ARM's own
 * unwind tables, which libdw does not read) and whose compilers give
 * none without -g, so only a syscall made in code built with -g can be
 * unwound there.
 */
#include <fcntl.h>
#include <stdio.h>

/* The syscall ABI: argument and number registers, the trap, openat's number. */
#if defined(__riscv)
#define REG_A0 "a0"
#define REG_A1 "a1"
#define REG_A2 "a2"
#define REG_NR "a7"
#define TRAP "ecall"
#define NR_OPENAT 56
#elif defined(__arm__)
#define REG_A0 "r0"
#define REG_A1 "r1"
#define REG_A2 "r2"
#define REG_NR "r7"
#define TRAP "svc 0"
#define NR_OPENAT 322
#else
#error "rawnested is for arm and riscv64"
#endif

static inline __attribute__((always_inline)) long raw_openat(long dirfd, const char *path,
                                                             long flags)
{
    register long a0 __asm__(REG_A0) = dirfd;
    register long a1 __asm__(REG_A1) = (long)path;
    register long a2 __asm__(REG_A2) = flags;
    register long nr __asm__(REG_NR) = NR_OPENAT;

    __asm__ volatile(TRAP : "+r"(a0) : "r"(a1), "r"(a2), "r"(nr) : "memory");
    return a0;
}

/* after <fcntl.h>, whose declaration it would otherwise replace */
#define openat(dirfd, path, flags) raw_openat(dirfd, path, flags)
#include "nested.c"
