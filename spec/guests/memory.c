/*
 * Hands a hook pointers to known data through one harmless syscall
 * (pwrite64 to fd -1, which fails with EBADF), then prints the data, so a
 * spec can check what the hook read and wrote. Argument layout of that
 * pwrite64: 2 text, 3 numbers, 4 the last 4 bytes of a page followed by
 * an unmapped page, 5 a read-only string, 6 a string of 3 MiB less one
 * "x". pwrite64, as it has six argument slots on mips o32, where QEMU
 * reads from the stack only the arguments a call takes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

struct numbers {
    uint8_t u8;
    int16_t i16;
    uint32_t u32;
    int64_t i64;
    uint64_t u64;
} __attribute__((packed));

static const char rodata[] = "read-only text";

int main(void)
{
    char text[32] = "original text";
    struct numbers n = { 0xfe, -2, 0xdeadbeef, -5, 0xfedcba9876543210ULL };
    long page = sysconf(_SC_PAGESIZE);
    char *two = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    char *edge;
    size_t long_size = 3u << 20;
    char *long_text = malloc(long_size);

    if (!long_text || two == MAP_FAILED || munmap(two + page, page) != 0) {
        perror("mmap");
        return 1;
    }
    edge = two + page - 4;
    memcpy(edge, "EDGE", 4);

    memset(long_text, 'x', long_size - 1);
    long_text[long_size - 1] = '\0';
    syscall(SYS_pwrite64, -1L, text, &n, edge, rodata, long_text);

    printf("text=%s\n", text);
    printf("u8=%u i16=%d u32=%#x i64=%lld u64=%#llx\n", n.u8, n.i16, n.u32,
           (long long)n.i64, (unsigned long long)n.u64);
    printf("edge=%.4s\n", edge);
    printf("rodata=%s\n", rodata);
    return 0;
}
