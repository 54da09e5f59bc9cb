/*
 * Opens /dev/null with a raw syscall made on a stack that is not one, so
 * that unwinding from it meets what a corrupt stack holds:
 *   garbage    words of 0x41 bytes, which point nowhere
 *   unmapped   a stack pointer into unmapped memory
 *   endless    every word the address of a function: frame after frame of
 *              it, as far as the buffer goes (far beyond any trace's limit)
 * The real stack pointer is back before anything else runs.
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>

#define WORDS 16384

static uintptr_t fake[WORDS];

__attribute__((noipa)) static long openat_on(void *stack, const char *path)
{
    long ret;

#if defined(__x86_64__)
    __asm__ volatile("mov %%rsp, %%r12\n\t"
                     "mov %[stack], %%rsp\n\t"
                     "syscall\n\t"
                     "mov %%r12, %%rsp"
                     : "=a"(ret)
                     : "0"((long)SYS_openat), "D"(-100L), "S"(path), "d"(0L),
                       [stack] "r"(stack)
                     : "rcx", "r11", "r12", "memory");
#elif defined(__i386__)
    __asm__ volatile("mov %%esp, %%edi\n\t"
                     "mov %[stack], %%esp\n\t"
                     "int $0x80\n\t"
                     "mov %%edi, %%esp"
                     : "=a"(ret)
                     : "0"((long)SYS_openat), "b"(-100L), "c"(path), "d"(0L),
                       [stack] "S"(stack)
                     : "edi", "memory");
#else
#error "no raw syscall for this architecture"
#endif
    return ret;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "garbage";
    void *stack = &fake[WORDS / 2];

    if (!strcmp(mode, "garbage")) {
        memset(fake, 0x41, sizeof(fake));
    } else if (!strcmp(mode, "unmapped")) {
        stack = (void *)16;
    } else {
        for (int i = 0; i < WORDS; i++) {
            fake[i] = (uintptr_t)openat_on + 1;
        }
    }
    printf("%s: %ld\n", mode, openat_on(stack, "/dev/null"));
    return 0;
}
