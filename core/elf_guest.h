/*
 * Which QEMU target runs an ELF program, and which dynamic loader it asks
 * for, read from its headers without loading it. Plain C (no GLib): the
 * luahook command builds it as well as the plugin.
 */
#ifndef LUAHOOK_CORE_ELF_GUEST_H
#define LUAHOOK_CORE_ELF_GUEST_H

struct lh_elf_guest {
    const char *arch;          /* QEMU's target name: "i386", "x86_64", ... */
    char *interp;              /* PT_INTERP (malloc'ed), or NULL when static */
};

/*
 * Reads the headers of the open file `fd` (`path` names it in messages).
 * Returns 0 with `out` filled when it is a program of a guest architecture;
 * otherwise ENOEXEC (not ELF, not a program, a machine, class or ABI no
 * target runs, malformed) or ENOMEM, with a one-line reason in *why
 * ("PATH is an arm OABI program, which luahook does not run ...";
 * malloc'ed, the caller frees it).
 */
int lh_elf_guest_read(int fd, const char *path, struct lh_elf_guest *out, char **why);

/*
 * The word size (4 or 8 bytes) and byte order of guest architecture `arch`
 * (QEMU's target name). False for a name this table does not know.
 */
int lh_elf_guest_layout(const char *arch, int *word_size, int *big_endian);

#endif
