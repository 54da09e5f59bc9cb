/*
 * A program that unmaps its own code: main -> caller -> unmap_and_open,
 * which unmaps the first page of caller's code (caller's return address
 * is in it), opens /dev/null and exits without returning there. caller
 * starts a page and is longer than one, so nothing else is on that page.
 */
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#define PAGE 4096

__attribute__((noipa, aligned(PAGE))) void unmap_and_open(void *code)
{
    int ok = munmap(code, PAGE) == 0 && openat(AT_FDCWD, "/dev/null", O_RDONLY) >= 0;

    _exit(ok ? 0 : 1);
}

__attribute__((noipa, aligned(PAGE))) void caller(void)
{
    unmap_and_open((void *)(uintptr_t)caller);
    /* never runs: it makes the call a call, not a jump, and fills the page */
    __asm__ volatile("jmp 1f\n\t.skip 4096, 0xcc\n1:" ::: "memory");
}

int main(void)
{
    caller();
    return 1;
}
