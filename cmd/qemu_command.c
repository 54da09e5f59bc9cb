/*
 * From an invocation to QEMU's command line (invocation.h):
 *
 *   qemu-ARCH [-L SYSROOT] -plugin PLUGIN,script=...,KEY=VALUE... [-0 ARGV0] PROGRAM ARGS...
 *
 * PROGRAM is the ELF program that runs: for a #! script, its interpreter,
 * whose arguments (ARGV0 the interpreter's name) the kernel would give.
 * The plugin takes one script (or none, for break= and repl= alone). A
 * single -s script is given as it is; more scripts, -e code or --watch go
 * through loader.lua, which receives them, in order, as the plugin
 * arguments _s1=PATH, _e2=CODE, ... and _watch=1, and a script's own
 * argument (struct source's arg) as _a1=KEY=VALUE.
 * QEMU splits -plugin at commas and reads ",," as one literal comma, so
 * every value is written with its commas doubled.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "invocation.h"

static void put_escaped(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == ',') {
            fputc(',', f);
        }
        fputc(*s, f);
    }
}

static void put_arg(FILE *f, const char *key, const char *value)
{
    fprintf(f, ",%s=", key);
    put_escaped(f, value);
}

static bool needs_loader(const struct invocation *inv)
{
    return inv->n_sources > 1 || inv->sources[0].is_code || inv->watch;
}

/* Nothing without a script: the plugin then only runs break= and repl=. */
static void put_sources(FILE *f, const struct invocation *inv, const struct locations *loc)
{
    if (!inv->n_sources) {
        return;
    }
    if (!needs_loader(inv)) {
        put_arg(f, "script", locate_script(loc, inv->sources[0].text));
        if (inv->sources[0].arg) {
            fputc(',', f);
            put_escaped(f, inv->sources[0].arg);
        }
        return;
    }
    require_file(loc->loader, "luahook's loader script");
    put_arg(f, "script", loc->loader);
    for (int i = 0; i < inv->n_sources; i++) {
        const struct source *src = &inv->sources[i];
        char key[32];

        snprintf(key, sizeof(key), "_%c%d", src->is_code ? 'e' : 's', i + 1);
        put_arg(f, key, src->is_code ? src->text : locate_script(loc, src->text));
        if (src->arg) {
            snprintf(key, sizeof(key), "_a%d", i + 1);
            put_arg(f, key, src->arg);
        }
    }
    if (inv->watch) {
        put_arg(f, "_watch", "1");
    }
}

/* The -plugin argument: PLUGIN,script=...,out=...,break=...,repl=...,KEY=VALUE... */
static char *plugin_argument(const struct invocation *inv, const struct locations *loc)
{
    char *text = NULL;
    size_t size = 0;
    FILE *f = open_memstream(&text, &size);

    if (!f) {
        lh_fail(EXIT_FAILURE, "out of memory");
    }
    /* a path with '=' would read as KEY=VALUE unless named explicitly */
    if (strchr(loc->plugin, '=')) {
        fputs("file=", f);
    }
    put_escaped(f, loc->plugin);
    put_sources(f, inv, loc);
    if (inv->out) {
        put_arg(f, "out", inv->out);
    }
    for (int i = 0; i < inv->n_breaks; i++) {
        put_arg(f, "break", inv->breaks[i]);
    }
    if (inv->repl) {
        put_arg(f, "repl", inv->repl);
    }
    if (inv->no_follow) {
        put_arg(f, "follow_exec", "0");
    }
    if (inv->parallel) {
        put_arg(f, "parallel", "1");
    }
    for (int i = 0; i < inv->n_script_args; i++) {
        const char *kv = inv->script_args[i];
        const char *eq = strchr(kv, '=');

        fprintf(f, ",%.*s=", (int)(eq - kv), kv);
        put_escaped(f, eq + 1);
    }
    fclose(f);
    return text;
}

char **qemu_command(const struct invocation *inv, const struct locations *loc,
                    const struct lh_binfmt_program *prog)
{
    int n_args = 0;
    char **argv;
    int n = 0;

    while (prog->argv[n_args]) {
        n_args++;
    }
    /* qemu, -L, SYSROOT, -plugin, ARG, -0, ARGV0, PROGRAM, ARGS..., NULL */
    argv = calloc((size_t)n_args + 8, sizeof(*argv));
    if (!argv) {
        lh_fail(EXIT_FAILURE, "out of memory");
    }
    argv[n++] = locate_qemu(loc, prog->elf.arch, inv->qemu);
    require_file(loc->plugin, "the luahook plugin");
    if (inv->sysroot) {
        argv[n++] = "-L";
        argv[n++] = (char *)inv->sysroot;
    }
    argv[n++] = "-plugin";
    argv[n++] = plugin_argument(inv, loc);
    if (strcmp(prog->argv[0], prog->path)) {
        argv[n++] = "-0";
        argv[n++] = prog->argv[0];
    }
    argv[n++] = prog->path;
    for (int i = 1; i < n_args; i++) {
        argv[n++] = prog->argv[i];
    }
    argv[n] = NULL;
    return argv;
}

/* Characters a POSIX shell reads literally, outside quotes. */
static bool shell_plain(const char *s)
{
    return *s && strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                           "0123456789_-./=:,+@%") == strlen(s);
}

void print_command(char **argv)
{
    for (int i = 0; argv[i]; i++) {
        const char *s = argv[i];

        if (i) {
            putchar(' ');
        }
        if (shell_plain(s)) {
            fputs(s, stdout);
            continue;
        }
        putchar('\'');
        for (; *s; s++) {
            if (*s == '\'') {
                fputs("'\\''", stdout);
            } else {
                putchar(*s);
            }
        }
        putchar('\'');
    }
    putchar('\n');
}
