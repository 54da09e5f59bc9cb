/*
 * Finding the plugin, scripts, QEMU and REPL client for the luahook command
 * (locate.h). The build tree is recognised by its build.ninja one level
 * above the command, so build/cmd/luahook uses build/luahook.so and the
 * source tree's scripts without being installed.
 */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cmd.h"
#include "config.h"
#include "locate.h"

static bool is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_executable(const char *path)
{
    return is_file(path) && access(path, X_OK) == 0;
}

/* NULL if `path` is a readable regular file, else why not. */
static const char *unreadable(const char *path)
{
    struct stat st;

    if (stat(path, &st) != 0) {
        return strerror(errno);
    }
    if (S_ISDIR(st.st_mode)) {
        return "it is a directory";
    }
    if (!S_ISREG(st.st_mode)) {
        return "not a regular file";
    }
    return access(path, R_OK) == 0 ? NULL : strerror(errno);
}

void locate_init(struct locations *loc)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    char *build_ninja;

    if (n < 0) {
        lh_fail(EXIT_UNAVAILABLE, "cannot find this command's own file: /proc/self/exe: %s",
                 strerror(errno));
    }
    exe[n] = '\0';
    *strrchr(exe, '/') = '\0';
    loc->exe_dir = cmd_printf("%s", exe);
    build_ninja = cmd_printf("%s/../build.ninja", exe);
    if (is_file(build_ninja)) {
        *strrchr(exe, '/') = '\0';
        loc->build_root = cmd_printf("%s", exe);
        loc->plugin = cmd_printf("%s/luahook.so", loc->build_root);
        loc->scripts_dir = cmd_printf("%s/scripts", LUAHOOK_SOURCE_ROOT);
        loc->loader = cmd_printf("%s/cmd/loader.lua", LUAHOOK_SOURCE_ROOT);
        loc->qemu_dir = cmd_printf("%s", LUAHOOK_BUILD_QEMU_DIR);
    } else {
        loc->build_root = NULL;
        loc->plugin = cmd_printf("%s/luahook.so", LUAHOOK_PLUGIN_DIR);
        loc->scripts_dir = cmd_printf("%s/scripts", LUAHOOK_DATA_DIR);
        loc->loader = cmd_printf("%s/loader/loader.lua", LUAHOOK_DATA_DIR);
        loc->qemu_dir = cmd_printf("%s/qemu/bin", LUAHOOK_PLUGIN_DIR);
    }
    free(build_ninja);
}

void require_file(const char *path, const char *what)
{
    const char *why = unreadable(path);

    if (why) {
        lh_fail(EXIT_UNAVAILABLE, "%s is missing: %s: %s", what, path, why);
    }
}

char *search_path(const char *name)
{
    const char *path = getenv("PATH");
    const char *p;

    if (!path) {
        path = "/usr/bin:/bin";
    }
    for (p = path;; p++) {
        const char *end = strchrnul(p, ':');
        /* an empty entry means the current directory, as for execvp */
        char *candidate = end == p ? cmd_printf("%s", name)
                                   : cmd_printf("%.*s/%s", (int)(end - p), p, name);

        if (is_executable(candidate)) {
            return candidate;
        }
        free(candidate);
        if (!*end) {
            return NULL;
        }
        p = end;
    }
}

/* DIR/qemu-ARCH, which must exist because someone chose DIR. */
static char *qemu_in(const char *dir, const char *arch, const char *chosen_by)
{
    char *qemu = cmd_printf("%s/qemu-%s", dir, arch);

    if (!is_executable(qemu)) {
        lh_fail(EXIT_UNAVAILABLE, "QEMU not found: %s is not an executable file (%s)",
                 qemu, chosen_by);
    }
    return qemu;
}

char *locate_qemu(const struct locations *loc, const char *arch, const char *option)
{
    const char *env = getenv("LUAHOOK_QEMU_DIR");
    char *qemu, *found;

    if (option) {
        if (is_dir(option)) {
            return qemu_in(option, arch, "--qemu");
        }
        if (!is_executable(option)) {
            lh_fail(EXIT_UNAVAILABLE, "QEMU not found: %s is not an executable file (--qemu)",
                     option);
        }
        return cmd_printf("%s", option);
    }
    if (env && *env) {
        return qemu_in(env, arch, "LUAHOOK_QEMU_DIR");
    }
    qemu = cmd_printf("%s/qemu-%s", loc->qemu_dir, arch);
    if (is_executable(qemu)) {
        return qemu;
    }
    free(qemu);
    qemu = cmd_printf("qemu-%s", arch);
    found = search_path(qemu);
    if (!found) {
        lh_fail(EXIT_UNAVAILABLE,
                 "QEMU not found: no %s in %s or PATH; use --qemu or LUAHOOK_QEMU_DIR",
                 qemu, loc->qemu_dir);
    }
    free(qemu);
    return found;
}

/* A script people run by name: NAME.lua, not _private.lua. */
static int is_bundled_script(const struct dirent *e)
{
    size_t len = strlen(e->d_name);

    return e->d_name[0] != '_' && e->d_name[0] != '.' && len > 4 &&
           !strcmp(e->d_name + len - 4, ".lua");
}

/* The bundled scripts' names, "count, trace", for an error message. */
static char *bundled_names(const char *dir)
{
    struct dirent **entries;
    int n = scandir(dir, &entries, is_bundled_script, alphasort);
    char *names = cmd_printf("%s", "");

    for (int i = 0; i < n; i++) {
        char *more = cmd_printf("%s%s%.*s", names, i ? ", " : "",
                                (int)strlen(entries[i]->d_name) - 4, entries[i]->d_name);

        free(names);
        free(entries[i]);
        names = more;
    }
    if (n >= 0) {
        free(entries);
    }
    return names;
}

char *locate_script(const struct locations *loc, const char *name)
{
    size_t len = strlen(name);
    bool is_path = strchr(name, '/') || (len > 4 && !strcmp(name + len - 4, ".lua"));
    char *file = is_path ? cmd_printf("%s", name)
                         : cmd_printf("%s/%s.lua", loc->scripts_dir, name);
    const char *why = unreadable(file);
    char *absolute;

    if (why && is_path) {
        lh_fail(EXIT_NO_INPUT, "cannot read script %s: %s", name, why);
    }
    if (why) {
        lh_fail(EXIT_NO_INPUT, "no bundled script '%s' in %s (there are: %s)",
                 name, loc->scripts_dir, bundled_names(loc->scripts_dir));
    }
    /* absolute, so a guest's chdir cannot break a later --watch reload */
    absolute = realpath(file, NULL);
    if (!absolute) {
        return file;
    }
    free(file);
    return absolute;
}

char *locate_attach(const struct locations *loc)
{
    char *client = cmd_printf("%s/luahook-attach", loc->exe_dir);

    if (is_executable(client)) {
        return client;
    }
    free(client);
    if (loc->build_root) {
        client = cmd_printf("%s/luahook-attach", loc->build_root);
        if (is_executable(client)) {
            return client;
        }
        free(client);
    }
    return NULL;
}
