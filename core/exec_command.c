/*
 * The QEMU a followed exec starts (exec_command.h):
 *
 *   qemu-ARCH [-L SYSROOT] -0 ARGV0 -plugin PLUGIN,ARGS...,exec.dir=DIR,exec.comm=NAME,
 *             exec.out=FD[,exec.err=FD][,exec.repl_forked=1][,exec.close=FD]
 *             [,exec.keep.KEY=VALUE...] [-E VAR=VALUE...] -- PROGRAM ARGS...
 *
 * The plugin's arguments are passed on as they came (QEMU reads ",," as a
 * literal comma, so commas are doubled), except those set anew: the REPL
 * socket's path (absolute; exec.repl_forked=1 keeps a forked child on its
 * PATH.PID) and the exec.* ones. out= passes on, but the new plugin takes
 * over the stream handed over as a descriptor (exec.out=, and exec.err=
 * for stderr as it was at start) instead of opening the file again, which
 * would truncate it. The
 * environment is the guest's, but for variables that would steer the
 * host's QEMU, its dynamic loader or LuaJIT rather than the guest (LD_*,
 * QEMU_*, LUA_PATH, ...): QEMU hands those to the guest itself (-E).
 */
#include <stdio.h>
#include <string.h>

#include "exec_command.h"

char *lh_exec_qemu_path(const struct lh_exec_setup *setup, const char *arch)
{
    if (!setup->qemu_dir) {
        return NULL;
    }
    return g_strdup_printf("%s/qemu-%s", setup->qemu_dir, arch);
}

char *lh_exec_absolute(const struct lh_exec_setup *setup, const char *path)
{
    if (!path || !*path) {
        return NULL;
    }
    return g_path_is_absolute(path) ? g_strdup(path)
                                    : g_build_filename(setup->start_dir, path, NULL);
}

/* Appends `text` with its commas doubled, as QEMU's -plugin reads them. */
static void put_escaped(GString *s, const char *text)
{
    for (; *text; text++) {
        if (*text == ',') {
            g_string_append_c(s, ',');
        }
        g_string_append_c(s, *text);
    }
}

static void put_arg(GString *s, const char *key, const char *value)
{
    g_string_append_printf(s, ",%s=", key);
    put_escaped(s, value);
}

/* Arguments a followed exec sets anew instead of passing on. */
static bool set_anew(const char *arg)
{
    return g_str_has_prefix(arg, "exec.") || g_str_has_prefix(arg, "repl=unix:");
}

static void put_fd(GString *s, const char *key, int fd)
{
    char text[16];

    snprintf(text, sizeof(text), "%d", fd);
    put_arg(s, key, text);
}

static char *plugin_option(const struct lh_exec_setup *setup, const struct lh_exec_target *target)
{
    GString *s = g_string_new(NULL);

    /* a path with '=' would read as KEY=VALUE unless named explicitly */
    if (strchr(setup->plugin, '=')) {
        g_string_append(s, "file=");
    }
    put_escaped(s, setup->plugin);
    for (char **arg = setup->plugin_args; arg && *arg; arg++) {
        if (!set_anew(*arg)) {
            g_string_append_c(s, ',');
            put_escaped(s, *arg);
        } else if (g_str_has_prefix(*arg, "repl=unix:") && target->repl_socket) {
            g_string_append(s, ",repl=unix:");
            put_escaped(s, target->repl_socket);
        }
    }
    put_arg(s, "exec.dir", setup->start_dir);
    put_arg(s, "exec.comm", target->prog->comm);
    put_fd(s, "exec.out", target->out_fd);
    if (target->err_fd >= 0) {
        put_fd(s, "exec.err", target->err_fd);
    }
    if (target->repl_forked) {
        put_arg(s, "exec.repl_forked", "1");
    }
    if (target->prog->fd >= 0) {
        put_fd(s, "exec.close", target->prog->fd);
    }
    for (guint i = 0; target->inherited && i < target->inherited->len; i++) {
        const char *kv = g_ptr_array_index(target->inherited, i);

        g_string_append(s, ",exec.keep.");
        put_escaped(s, kv);
    }
    return g_string_free(s, false);
}

/* Whether the variable "NAME=VALUE" is read by the host's QEMU, its dynamic
 * loader or LuaJIT (which would load code from it), not only the guest. */
static bool steers_host(const char *var)
{
    static const char *const prefixes[] = { "LD_", "QEMU_" };
    static const char *const names[] = { "LUA_PATH", "LUA_CPATH", "GCONV_PATH",
                                          "GLIBC_TUNABLES" };
    size_t len = strcspn(var, "=");

    for (size_t i = 0; i < G_N_ELEMENTS(prefixes); i++) {
        if (g_str_has_prefix(var, prefixes[i])) {
            return true;
        }
    }
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++) {
        if (strlen(names[i]) == len && !strncmp(var, names[i], len)) {
            return true;
        }
    }
    return false;
}

void lh_exec_command_build(struct lh_exec_command *cmd, const struct lh_exec_setup *setup,
                           const struct lh_exec_target *target)
{
    const struct lh_binfmt_program *prog = target->prog;
    GPtrArray *argv = g_ptr_array_new();
    GPtrArray *envp = g_ptr_array_new();
    GPtrArray *to_guest = g_ptr_array_new();

    cmd->dropped = g_ptr_array_new_with_free_func(g_free);
    for (char **var = target->envp; *var; var++) {
        if (!steers_host(*var)) {
            g_ptr_array_add(envp, g_strdup(*var));
        } else if (strchr(*var, ',')) {
            /* -E splits at commas: such a value cannot reach the guest */
            g_ptr_array_add(cmd->dropped, g_strndup(*var, strcspn(*var, "=")));
        } else {
            g_ptr_array_add(to_guest, *var);
        }
    }
    g_ptr_array_add(envp, NULL);

    g_ptr_array_add(argv, lh_exec_qemu_path(setup, prog->elf.arch));
    if (target->sysroot) {
        g_ptr_array_add(argv, g_strdup("-L"));
        g_ptr_array_add(argv, g_strdup(target->sysroot));
    }
    g_ptr_array_add(argv, g_strdup("-0"));
    g_ptr_array_add(argv, g_strdup(prog->argv[0]));
    g_ptr_array_add(argv, g_strdup("-plugin"));
    g_ptr_array_add(argv, plugin_option(setup, target));
    /* QEMU puts each -E variable first: backwards, they keep their order */
    for (guint i = to_guest->len; i-- > 0;) {
        g_ptr_array_add(argv, g_strdup("-E"));
        g_ptr_array_add(argv, g_strdup(g_ptr_array_index(to_guest, i)));
    }
    g_ptr_array_add(argv, g_strdup("--"));
    g_ptr_array_add(argv, g_strdup(prog->path));
    for (int i = 1; prog->argv[i]; i++) {
        g_ptr_array_add(argv, g_strdup(prog->argv[i]));
    }
    g_ptr_array_add(argv, NULL);
    g_ptr_array_free(to_guest, true);
    cmd->argv = (char **)g_ptr_array_free(argv, false);
    cmd->envp = (char **)g_ptr_array_free(envp, false);
}

void lh_exec_command_free(struct lh_exec_command *cmd)
{
    g_strfreev(cmd->argv);
    g_strfreev(cmd->envp);
    g_ptr_array_free(cmd->dropped, true);
    memset(cmd, 0, sizeof(*cmd));
}
