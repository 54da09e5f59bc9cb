/*
 * Guest stack traces and symbols with elfutils' libdwfl (core/unwind.c).
 * Lua says which ELF file is mapped where (lua/luahook/modmap.lua); libdwfl
 * unwinds through the guest's registers and stack, read with the core's
 * guest ops, and resolves addresses to symbols and source lines.
 * Every call needs vCPU context (lh_core.in_event), as the guest ops do.
 */
#ifndef LUAHOOK_UNWIND_H
#define LUAHOOK_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A DWARF register number and QEMU's (gdb's) name for that register. */
struct lh_unwind_reg {
    int dwarf;
    const char *name;
};

/*
 * What libdwfl must be told about a guest architecture (core/unwind_arch.c,
 * one row per architecture): the ELF identity that picks its backend, and
 * which guest register is which DWARF register.
 */
struct lh_unwind_arch {
    const char *name;          /* luahook's: "i386", "x86_64" */
    uint16_t machine;          /* ELF e_machine */
    uint8_t elf_class;         /* ELFCLASS32 or ELFCLASS64 */
    uint8_t elf_data;          /* ELFDATA2LSB or ELFDATA2MSB */
    const char *pc;            /* the program counter's register */
    int sp_dwarf;              /* the stack pointer's DWARF number */
    const struct lh_unwind_reg *regs;  /* ends with a NULL name */
};

/* The row for architecture `name`, or NULL. */
const struct lh_unwind_arch *lh_unwind_arch_find(const char *name);

/* One frame of a trace, or one resolved address. Strings belong to libdwfl
 * and live until the module list next changes. */
struct lh_frame {
    uint64_t pc;
    const char *module;        /* the module's name; NULL outside every module */
    const char *symbol;        /* NULL when no symbol covers the address */
    uint64_t offset;           /* from the symbol; without one, from the module's load bias */
    const char *file;          /* source file and line, from DWARF; NULL/0 */
    int line;
    bool guessed;              /* unwound without CFI: libdw's frame-pointer walk */
};

/* Starts unwinding for `arch`; false with *msg when libdw cannot. */
bool lh_unwind_init(const struct lh_unwind_arch *arch, const char **msg);

/*
 * The module list is replaced as a whole: begin, report each module that is
 * mapped now, end. A module reported before with the same name and bias
 * keeps what libdwfl has read from it. The report_* calls return NULL or
 * why the module cannot be used.
 */
void lh_unwind_begin(void);
/* The ELF file at host `path`, loaded with `bias` (0 for ET_EXEC). */
const char *lh_unwind_report_file(const char *name, const char *path, uint64_t bias);
/* An ELF image in guest memory at `addr` (the vDSO QEMU provides). */
const char *lh_unwind_report_image(const char *name, uint64_t addr);
void lh_unwind_end(void);

/* Whether guest memory at page-aligned `addr` starts with an ELF header;
 * its DT_SONAME, if any, in soname (size bytes). */
bool lh_unwind_probe_image(uint64_t addr, char *soname, size_t size);

/* The current thread's stack, innermost first: at most max frames; the
 * number filled, or -1 with *msg. */
int lh_unwind_backtrace(struct lh_frame *frames, int max, const char **msg);

/* What `addr` is: module, symbol, offset, source line. `call_site`: addr
 * is a return address, looked up one byte back (the call instruction). */
void lh_unwind_resolve(uint64_t addr, bool call_site, struct lh_frame *out);

#endif
