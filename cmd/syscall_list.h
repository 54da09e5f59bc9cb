/*
 * The syscall tables behind --list-syscalls, generated at build time from
 * each architecture's data module (tools/gen_arch.lua, from the kernel's
 * UAPI headers) by cmd/gen_syscall_list.lua.
 */
#ifndef LUAHOOK_CMD_SYSCALL_LIST_H
#define LUAHOOK_CMD_SYSCALL_LIST_H

struct syscall_name {
    int nr;
    const char *name;
};

struct syscall_table {
    const char *arch;                   /* "i386", "aarch64", ...; NULL ends the list */
    const struct syscall_name *names;   /* by increasing number */
    int count;
};

/* Defined in the generated syscall_tables.c; syscall_arches names them all
 * for messages ("i386, x86_64, ... or mipsel"). */
extern const struct syscall_table syscall_tables[];
extern const char syscall_arches[];

/* Prints "NR NAME" lines for `arch`; a usage error for an unknown arch. */
void list_syscalls(const char *arch);

#endif
