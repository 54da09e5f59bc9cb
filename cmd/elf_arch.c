/*
 * Reads just enough of an ELF header to choose qemu-i386 or qemu-x86_64,
 * and to say clearly why anything else cannot run.
 */
#include <elf.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "elf_arch.h"

/* e_type and e_machine sit at the same offsets in 32- and 64-bit headers. */
#define ELF_HEAD_SIZE (offsetof(Elf32_Ehdr, e_machine) + sizeof(Elf32_Half))

static unsigned int read_half(const unsigned char *p, int data)
{
    return data == ELFDATA2MSB ? (unsigned int)(p[0] << 8 | p[1])
                               : (unsigned int)(p[0] | p[1] << 8);
}

const char *elf_guest_arch(const char *path)
{
    unsigned char head[ELF_HEAD_SIZE];
    FILE *f = fopen(path, "rb");
    size_t got;
    unsigned int type, machine;
    int cls;

    if (!f) {
        cmd_fail(EXIT_NO_INPUT, "cannot open program %s: %s", path, strerror(errno));
    }
    got = fread(head, 1, sizeof(head), f);
    fclose(f);
    if (got < sizeof(head) || memcmp(head, ELFMAG, SELFMAG)) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is not an ELF program", path);
    }
    cls = head[EI_CLASS];
    type = read_half(head + offsetof(Elf32_Ehdr, e_type), head[EI_DATA]);
    machine = read_half(head + offsetof(Elf32_Ehdr, e_machine), head[EI_DATA]);
    if (type != ET_EXEC && type != ET_DYN) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is an ELF file but not a program (ELF type %u)",
                 path, type);
    }
    if (machine == EM_386 && cls == ELFCLASS32) {
        return "i386";
    }
    if (machine == EM_X86_64 && cls == ELFCLASS64) {
        return "x86_64";
    }
    if (machine == EM_X86_64) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is an x32 program; only i386 and x86_64 run", path);
    }
    cmd_fail(EXIT_BAD_PROGRAM,
             "%s is for ELF machine %u; only i386 (%d) and x86_64 (%d) programs run",
             path, machine, EM_386, EM_X86_64);
}
