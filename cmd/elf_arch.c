/*
 * Reads just enough of an ELF program to choose the QEMU that runs it and
 * the dynamic loader it asks for, and to say clearly why anything else
 * cannot run: which machine, class, byte order and ABI run where is the
 * table `guests` (arm and mips programs must have the ABI, in e_flags,
 * that QEMU's arm and mips targets give: arm EABI5 hard-float, mips o32).
 */
#include <elf.h>
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "elf_arch.h"

/* mips e_flags: the 32-bit ABI field (0 in old o32 programs); n32 is a flag. */
#define MIPS_ABI_FIELD 0x0000f000u
#define MIPS_ABI_O32 0x00001000u

/*
 * What is wrong with the ABI (e_flags) of an arm or a mips program, or
 * NULL: the syscall interface QEMU's arm and mips targets give is that of
 * one ABI.
 */
static const char *arm_abi_refusal(uint32_t flags)
{
    if (EF_ARM_EABI_VERSION(flags) != EF_ARM_EABI_VER5) {
        return flags & EF_ARM_EABIMASK ? "an arm program of an EABI version other than 5"
                                       : "an arm OABI program";
    }
    return flags & EF_ARM_ABI_FLOAT_HARD ? NULL : "an arm soft-float program";
}

static const char *mips_abi_refusal(uint32_t flags)
{
    if (flags & EF_MIPS_ABI2) {
        return "a mips n32 program";
    }
    if ((flags & MIPS_ABI_FIELD) && (flags & MIPS_ABI_FIELD) != MIPS_ABI_O32) {
        return "a mips o64 or EABI program";
    }
    return NULL;
}

/*
 * The ELF machines luahook knows: QEMU's target name for each, by machine,
 * class and byte order (mips and mipsel differ only in the last), and for
 * arm and mips the one ABI their target runs.
 */
static const struct {
    unsigned int machine;
    int elf_class;
    int data;                  /* ELFDATA2LSB or ELFDATA2MSB */
    const char *arch;
    const char *(*abi_refusal)(uint32_t flags);
    const char *abi;           /* what it runs, for the refusal */
} guests[] = {
    { EM_386, ELFCLASS32, ELFDATA2LSB, "i386", NULL, NULL },
    { EM_X86_64, ELFCLASS64, ELFDATA2LSB, "x86_64", NULL, NULL },
    { EM_AARCH64, ELFCLASS64, ELFDATA2LSB, "aarch64", NULL, NULL },
    { EM_ARM, ELFCLASS32, ELFDATA2LSB, "arm", arm_abi_refusal, "arm EABI5 hard-float programs" },
    { EM_RISCV, ELFCLASS64, ELFDATA2LSB, "riscv64", NULL, NULL },
    { EM_MIPS, ELFCLASS32, ELFDATA2MSB, "mips", mips_abi_refusal, "mips o32 programs" },
    { EM_MIPS, ELFCLASS32, ELFDATA2LSB, "mipsel", mips_abi_refusal, "mips o32 programs" },
};

/* The longest program interpreter path we accept (PATH_MAX). */
#define INTERP_MAX 4096

struct elf_file {
    FILE *f;
    const char *path;
    int data;                  /* ELFDATA2LSB or ELFDATA2MSB */
};

static uint64_t decode(const unsigned char *p, size_t size, int data)
{
    uint64_t v = 0;

    for (size_t i = 0; i < size; i++) {
        v |= (uint64_t)p[data == ELFDATA2MSB ? size - 1 - i : i] << (8 * i);
    }
    return v;
}

/* Reads len bytes at offset, or ends the command naming the truncation. */
static void read_at(const struct elf_file *e, uint64_t offset, void *buf, size_t len)
{
    if (fseeko(e->f, (off_t)offset, SEEK_SET) != 0 || fread(buf, 1, len, e->f) != len) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is a truncated ELF program", e->path);
    }
}

static const char *supported_list(void)
{
    static char text[256];
    size_t n = 0;

    for (size_t i = 0; i < N_ELEMENTS(guests); i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s (%u)",
                              i ? (i + 1 == N_ELEMENTS(guests) ? " and " : ", ") : "",
                              guests[i].arch, guests[i].machine);
    }
    return text;
}

static const char *guest_arch(const char *path, unsigned int machine, int cls, int data,
                              uint32_t flags)
{
    const char *known = NULL, *refusal;

    for (size_t i = 0; i < N_ELEMENTS(guests); i++) {
        if (guests[i].machine != machine) {
            continue;
        }
        if (!known) {
            known = guests[i].arch;     /* the machine's first name: "mips" */
        }
        if (guests[i].elf_class == cls && guests[i].data == data) {
            refusal = guests[i].abi_refusal ? guests[i].abi_refusal(flags) : NULL;
            if (refusal) {
                cmd_fail(EXIT_BAD_PROGRAM, "%s is %s, which luahook does not run (it runs %s)",
                         path, refusal, guests[i].abi);
            }
            return guests[i].arch;
        }
    }
    if (machine == EM_X86_64 && cls == ELFCLASS32) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is an x32 program, which luahook does not run", path);
    }
    if (known) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is a %s-bit %s-endian program for ELF machine %u (%s), "
                 "which luahook does not run", path, cls == ELFCLASS64 ? "64" : "32",
                 data == ELFDATA2MSB ? "big" : "little", machine, known);
    }
    cmd_fail(EXIT_BAD_PROGRAM, "%s is for ELF machine %u; only %s programs run",
             path, machine, supported_list());
}

/* PT_INTERP's path, or NULL for a statically linked program. */
static char *interpreter(const struct elf_file *e, const unsigned char *eh, int cls)
{
    bool wide = cls == ELFCLASS64;
    uint64_t phoff = decode(eh + (wide ? offsetof(Elf64_Ehdr, e_phoff)
                                       : offsetof(Elf32_Ehdr, e_phoff)), wide ? 8 : 4, e->data);
    size_t phentsize = decode(eh + (wide ? offsetof(Elf64_Ehdr, e_phentsize)
                                         : offsetof(Elf32_Ehdr, e_phentsize)), 2, e->data);
    size_t phnum = decode(eh + (wide ? offsetof(Elf64_Ehdr, e_phnum)
                                     : offsetof(Elf32_Ehdr, e_phnum)), 2, e->data);
    size_t want = wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

    if (phnum && phentsize < want) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s has malformed program headers", e->path);
    }
    for (size_t i = 0; i < phnum; i++) {
        unsigned char ph[sizeof(Elf64_Phdr)];
        uint64_t offset, size;
        char *interp;

        read_at(e, phoff + i * phentsize, ph, want);
        if (decode(ph, 4, e->data) != PT_INTERP) {      /* p_type comes first */
            continue;
        }
        offset = decode(ph + (wide ? offsetof(Elf64_Phdr, p_offset)
                                   : offsetof(Elf32_Phdr, p_offset)), wide ? 8 : 4, e->data);
        size = decode(ph + (wide ? offsetof(Elf64_Phdr, p_filesz)
                                 : offsetof(Elf32_Phdr, p_filesz)), wide ? 8 : 4, e->data);
        if (size < 2 || size > INTERP_MAX) {
            cmd_fail(EXIT_BAD_PROGRAM, "%s names a malformed program interpreter", e->path);
        }
        interp = calloc(1, (size_t)size + 1);
        if (!interp) {
            cmd_fail(EXIT_FAILURE, "out of memory");
        }
        read_at(e, offset, interp, (size_t)size);
        return interp;
    }
    return NULL;
}

void elf_read_program(const char *path, struct elf_program *out)
{
    unsigned char eh[sizeof(Elf64_Ehdr)] = { 0 };
    struct elf_file e = { .path = path };
    size_t got;
    unsigned int type, machine;
    uint32_t flags;
    int cls;

    e.f = fopen(path, "rb");
    if (!e.f) {
        cmd_fail(EXIT_NO_INPUT, "cannot open program %s: %s", path, strerror(errno));
    }
    got = fread(eh, 1, sizeof(eh), e.f);
    if (got < EI_NIDENT || memcmp(eh, ELFMAG, SELFMAG)) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is not an ELF program", path);
    }
    cls = eh[EI_CLASS];
    e.data = eh[EI_DATA];
    if (got < (cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is a truncated ELF program", path);
    }
    type = (unsigned int)decode(eh + offsetof(Elf32_Ehdr, e_type), 2, e.data);
    machine = (unsigned int)decode(eh + offsetof(Elf32_Ehdr, e_machine), 2, e.data);
    if (type != ET_EXEC && type != ET_DYN) {
        cmd_fail(EXIT_BAD_PROGRAM, "%s is an ELF file but not a program (ELF type %u)",
                 path, type);
    }
    flags = (uint32_t)decode(eh + (cls == ELFCLASS64 ? offsetof(Elf64_Ehdr, e_flags)
                                                    : offsetof(Elf32_Ehdr, e_flags)), 4, e.data);
    out->arch = guest_arch(path, machine, cls, e.data, flags);
    out->interp = interpreter(&e, eh, cls);
    fclose(e.f);
}
