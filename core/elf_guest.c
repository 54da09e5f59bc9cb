/*
 * Reads just enough of an ELF program to choose the QEMU that runs it and
 * the dynamic loader it asks for, and to say clearly why anything else
 * cannot run: which machine, class, byte order and ABI run where is the
 * table `guests` (arm and mips programs must have the ABI, in e_flags,
 * that QEMU's arm and mips targets give: arm EABI5 hard-float, mips o32).
 * The luahook command uses it to start a program, the plugin to follow
 * the guest's execve (core/binfmt.c).
 */
#include <elf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "elf_guest.h"

#define N_GUESTS (sizeof(guests) / sizeof(guests[0]))

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

/* The longest program interpreter path accepted (PATH_MAX). */
#define INTERP_MAX 4096

struct elf_file {
    int fd;
    const char *path;
    int data;                  /* ELFDATA2LSB or ELFDATA2MSB */
    char **why;
};

/* Sets *why to a formatted reason; returns `code`. */
static int refuse(char **why, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int refuse(char **why, int code, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (vasprintf(why, fmt, ap) < 0) {
        *why = NULL;
        code = ENOMEM;
    }
    va_end(ap);
    return code;
}

static uint64_t decode(const unsigned char *p, size_t size, int data)
{
    uint64_t v = 0;

    for (size_t i = 0; i < size; i++) {
        v |= (uint64_t)p[data == ELFDATA2MSB ? size - 1 - i : i] << (8 * i);
    }
    return v;
}

/* Reads len bytes at offset: 0, or ENOEXEC naming the truncation. */
static int read_at(const struct elf_file *e, uint64_t offset, void *buf, size_t len)
{
    if (offset > INT64_MAX || pread(e->fd, buf, len, (off_t)offset) != (ssize_t)len) {
        return refuse(e->why, ENOEXEC, "%s is a truncated ELF program", e->path);
    }
    return 0;
}

static const char *supported_list(void)
{
    static char text[256];
    size_t n = 0;

    for (size_t i = 0; i < N_GUESTS; i++) {
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s (%u)",
                              i ? (i + 1 == N_GUESTS ? " and " : ", ") : "",
                              guests[i].arch, guests[i].machine);
    }
    return text;
}

static int guest_arch(const struct elf_file *e, unsigned int machine, int cls,
                      uint32_t flags, const char **arch)
{
    const char *known = NULL, *refusal;

    for (size_t i = 0; i < N_GUESTS; i++) {
        if (guests[i].machine != machine) {
            continue;
        }
        if (!known) {
            known = guests[i].arch;     /* the machine's first name: "mips" */
        }
        if (guests[i].elf_class == cls && guests[i].data == e->data) {
            refusal = guests[i].abi_refusal ? guests[i].abi_refusal(flags) : NULL;
            if (refusal) {
                return refuse(e->why, ENOEXEC, "%s is %s, which luahook does not run (it runs %s)",
                              e->path, refusal, guests[i].abi);
            }
            *arch = guests[i].arch;
            return 0;
        }
    }
    if (machine == EM_X86_64 && cls == ELFCLASS32) {
        return refuse(e->why, ENOEXEC, "%s is an x32 program, which luahook does not run",
                      e->path);
    }
    if (known) {
        return refuse(e->why, ENOEXEC, "%s is a %s-bit %s-endian program for ELF machine %u "
                      "(%s), which luahook does not run", e->path, cls == ELFCLASS64 ? "64" : "32",
                      e->data == ELFDATA2MSB ? "big" : "little", machine, known);
    }
    return refuse(e->why, ENOEXEC, "%s is for ELF machine %u; only %s programs run",
                  e->path, machine, supported_list());
}

/* PT_INTERP's path into *interp, left NULL for a statically linked program. */
static int interpreter(const struct elf_file *e, const unsigned char *eh, int cls, char **interp)
{
    bool wide = cls == ELFCLASS64;
    uint64_t phoff = decode(eh + (wide ? offsetof(Elf64_Ehdr, e_phoff)
                                       : offsetof(Elf32_Ehdr, e_phoff)), wide ? 8 : 4, e->data);
    size_t phentsize = decode(eh + (wide ? offsetof(Elf64_Ehdr, e_phentsize)
                                         : offsetof(Elf32_Ehdr, e_phentsize)), 2, e->data);
    size_t phnum = decode(eh + (wide ? offsetof(Elf64_Ehdr, e_phnum)
                                     : offsetof(Elf32_Ehdr, e_phnum)), 2, e->data);
    size_t want = wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr);

    *interp = NULL;
    if (phnum && phentsize < want) {
        return refuse(e->why, ENOEXEC, "%s has malformed program headers", e->path);
    }
    for (size_t i = 0; i < phnum; i++) {
        unsigned char ph[sizeof(Elf64_Phdr)];
        uint64_t offset, size;
        int err = read_at(e, phoff + i * phentsize, ph, want);

        if (err) {
            return err;
        }
        if (decode(ph, 4, e->data) != PT_INTERP) {      /* p_type comes first */
            continue;
        }
        offset = decode(ph + (wide ? offsetof(Elf64_Phdr, p_offset)
                                   : offsetof(Elf32_Phdr, p_offset)), wide ? 8 : 4, e->data);
        size = decode(ph + (wide ? offsetof(Elf64_Phdr, p_filesz)
                                 : offsetof(Elf32_Phdr, p_filesz)), wide ? 8 : 4, e->data);
        if (size < 2 || size > INTERP_MAX) {
            return refuse(e->why, ENOEXEC, "%s names a malformed program interpreter", e->path);
        }
        *interp = calloc(1, (size_t)size + 1);
        if (!*interp) {
            return ENOMEM;
        }
        err = read_at(e, offset, *interp, (size_t)size);
        if (err) {
            free(*interp);
            *interp = NULL;
        }
        return err;
    }
    return 0;
}

int lh_elf_guest_layout(const char *arch, int *word_size, int *big_endian)
{
    for (size_t i = 0; i < N_GUESTS; i++) {
        if (!strcmp(guests[i].arch, arch)) {
            *word_size = guests[i].elf_class == ELFCLASS64 ? 8 : 4;
            *big_endian = guests[i].data == ELFDATA2MSB;
            return 1;
        }
    }
    return 0;
}

int lh_elf_guest_read(int fd, const char *path, struct lh_elf_guest *out, char **why)
{
    unsigned char eh[sizeof(Elf64_Ehdr)] = { 0 };
    struct elf_file e = { .fd = fd, .path = path, .why = why };
    ssize_t got = pread(fd, eh, sizeof(eh), 0);
    unsigned int type, machine;
    uint32_t flags;
    int cls, err;

    *why = NULL;
    if (got < EI_NIDENT || memcmp(eh, ELFMAG, SELFMAG)) {
        return refuse(why, ENOEXEC, "%s is not an ELF program", path);
    }
    cls = eh[EI_CLASS];
    e.data = eh[EI_DATA];
    if ((size_t)got < (cls == ELFCLASS64 ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr))) {
        return refuse(why, ENOEXEC, "%s is a truncated ELF program", path);
    }
    type = (unsigned int)decode(eh + offsetof(Elf32_Ehdr, e_type), 2, e.data);
    machine = (unsigned int)decode(eh + offsetof(Elf32_Ehdr, e_machine), 2, e.data);
    if (type != ET_EXEC && type != ET_DYN) {
        return refuse(why, ENOEXEC, "%s is an ELF file but not a program (ELF type %u)",
                      path, type);
    }
    flags = (uint32_t)decode(eh + (cls == ELFCLASS64 ? offsetof(Elf64_Ehdr, e_flags)
                                                    : offsetof(Elf32_Ehdr, e_flags)), 4, e.data);
    err = guest_arch(&e, machine, cls, flags, &out->arch);
    return err ? err : interpreter(&e, eh, cls, &out->interp);
}
