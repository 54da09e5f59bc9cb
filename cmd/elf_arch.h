/*
 * Which QEMU runs a program: read from its ELF header, without loading it.
 */
#ifndef LUAHOOK_CMD_ELF_ARCH_H
#define LUAHOOK_CMD_ELF_ARCH_H

/*
 * "i386" or "x86_64"; anything else ends the command with one line
 * (EXIT_NO_INPUT: unreadable, EXIT_BAD_PROGRAM: not a program it can run).
 */
const char *elf_guest_arch(const char *path);

#endif
