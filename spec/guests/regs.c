/*
 * Makes a getpid syscall by hand with a marker in a register the kernel
 * preserves (ebx on i386, r12 on x86_64, x19 on aarch64, r9 on arm, s2 on
 * riscv64), prints that register afterwards and the address just after
 * the syscall instruction, so a spec can check register reads, writes and
 * sc.pc. (No mips build: QEMU gives plugins no mips registers.)
 */
#include <stdio.h>
#include <sys/syscall.h>

int main(void)
{
    unsigned long marker = 0x1234, after, ret;

#if defined(__x86_64__)
    __asm__ volatile("mov %[m], %%r12\n\t"
                     "syscall\n\t"
                     "1: lea 1b(%%rip), %[after]\n\t"
                     "mov %%r12, %[m]"
                     : [m] "+r"(marker), [after] "=r"(after), "=a"(ret)
                     : "a"((unsigned long)SYS_getpid)
                     : "rcx", "r11", "r12", "memory");
#elif defined(__i386__)
    __asm__ volatile("mov %[m], %%ebx\n\t"
                     "int $0x80\n\t"
                     "1: mov %%ebx, %[m]\n\t"
                     "mov $1b, %[after]"
                     : [m] "+r"(marker), [after] "=r"(after), "=a"(ret)
                     : "a"((unsigned long)SYS_getpid)
                     : "ebx", "memory");
#elif defined(__aarch64__) || defined(__arm__)
#  ifdef __aarch64__
#    define KEPT "x19"
#    define NR "x8"
#    define RET "x0"
#  else
#    define KEPT "r9"
#    define NR "r7"
#    define RET "r0"
#  endif
    __asm__ volatile("mov " KEPT ", %[m]\n\t"
                     "mov " NR ", %[nr]\n\t"
                     "svc #0\n\t"
                     "1: adr %[after], 1b\n\t"
                     "mov %[m], " KEPT "\n\t"
                     "mov %[ret], " RET
                     : [m] "+r"(marker), [after] "=&r"(after), [ret] "=&r"(ret)
                     : [nr] "r"((unsigned long)SYS_getpid)
                     : RET, NR, KEPT, "memory");
#elif defined(__riscv)
    __asm__ volatile("mv s2, %[m]\n\t"
                     "li a7, %[nr]\n\t"
                     "ecall\n\t"
                     "1: lla %[after], 1b\n\t"
                     "mv %[m], s2\n\t"
                     "mv %[ret], a0"
                     : [m] "+r"(marker), [after] "=&r"(after), [ret] "=&r"(ret)
                     : [nr] "i"(SYS_getpid)
                     : "a0", "a7", "s2", "memory");
#endif
    printf("ret=%lu marker=%#lx\n", ret, marker);
    printf("after=%#lx\n", after);
    return 0;
}
