/* --list-syscalls: one "NUMBER NAME" line per syscall of an architecture. */
#include <stdio.h>
#include <string.h>

#include "cmd.h"
#include "syscall_list.h"

void list_syscalls(const char *arch)
{
    for (const struct syscall_table *t = syscall_tables; t->arch; t++) {
        if (!strcmp(t->arch, arch)) {
            for (int i = 0; i < t->count; i++) {
                printf("%d %s\n", t->names[i].nr, t->names[i].name);
            }
            return;
        }
    }
    lh_fail(EXIT_USAGE, "--list-syscalls %s: unknown architecture (%s)", arch,
             syscall_arches);
}
