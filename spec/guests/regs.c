/*
 * Makes a getpid syscall by hand with a marker in a register the kernel
 * preserves (ebx on i386, r12 on x86_64), prints that register afterwards
 * and the address just after the syscall instruction, so a spec can check
 * register reads, writes and sc.pc.
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
#else
    __asm__ volatile("mov %[m], %%ebx\n\t"
                     "int $0x80\n\t"
                     "1: mov %%ebx, %[m]\n\t"
                     "mov $1b, %[after]"
                     : [m] "+r"(marker), [after] "=r"(after), "=a"(ret)
                     : "a"((unsigned long)SYS_getpid)
                     : "ebx", "memory");
#endif
    printf("ret=%lu marker=%#lx\n", ret, marker);
    printf("after=%#lx\n", after);
    return 0;
}
