/*
 * Where the command's companions are: the plugin, the bundled scripts and
 * loader, the reference QEMU and the REPL client. Either in the meson build
 * tree the command was built in (when run as BUILD/cmd/luahook), or under
 * the install prefix baked in at build time.
 */
#ifndef LUAHOOK_CMD_LOCATE_H
#define LUAHOOK_CMD_LOCATE_H

#include <stdbool.h>

struct locations {
    char *exe_dir;          /* the directory holding this command */
    char *build_root;       /* the build tree's root, or NULL when installed */
    char *plugin;           /* luahook.so (checked when used) */
    char *scripts_dir;      /* the bundled scripts */
    char *loader;           /* loader.lua, which combines scripts and -e code */
    char *qemu_dir;         /* where the reference QEMU would be */
};

void locate_init(struct locations *loc);

/*
 * The qemu-ARCH to run: `option` (--qemu: a binary or its directory), else
 * $LUAHOOK_QEMU_DIR, else the reference QEMU beside the plugin, else PATH.
 * Ends the command (EXIT_UNAVAILABLE) if there is none.
 */
char *locate_qemu(const struct locations *loc, const char *arch, const char *option);

/*
 * The file for -s NAME: a NAME with a '/' or ending in ".lua" is a path,
 * any other NAME the bundled script NAME.lua. An absolute path; ends the
 * command (EXIT_NO_INPUT) if there is no such file.
 */
char *locate_script(const struct locations *loc, const char *name);

/* luahook-attach beside the command or in the build tree, or NULL. */
char *locate_attach(const struct locations *loc);

/* Ends the command (EXIT_UNAVAILABLE) unless `path` is a readable file. */
void require_file(const char *path, const char *what);

/* `name` searched in $PATH as execvp does, if executable there; else NULL. */
char *search_path(const char *name);

#endif
