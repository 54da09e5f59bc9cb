/*
 * Which QEMU runs a program, and which dynamic loader it needs: read from
 * its ELF headers, without loading it.
 */
#ifndef LUAHOOK_CMD_ELF_ARCH_H
#define LUAHOOK_CMD_ELF_ARCH_H

struct elf_program {
    const char *arch;          /* QEMU's target name: "i386", "x86_64", ... */
    char *interp;              /* PT_INTERP (malloc'ed), or NULL when static */
};

/*
 * Fills `out` from the program at `path`; anything else ends the command
 * with one line (EXIT_NO_INPUT: unreadable, EXIT_BAD_PROGRAM: not a
 * program luahook can run).
 */
void elf_read_program(const char *path, struct elf_program *out);

#endif
