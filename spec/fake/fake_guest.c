/*
 * The core without QEMU: a stand-in for plugin/ that hands the core the
 * syscall events read from stdin, over a guest of its own (64 KiB of
 * memory at FAKE_BASE, a register file), so specs can check dispatch,
 * answers and the guest primitives fast and deterministically
 * (spec/core_unit_spec.lua), and the REPL's socket protocol with a client
 * of the spec's own (spec/repl_unit_spec.lua).
 *
 *   fake_guest ARCH SCRIPT [KEY=VALUE...]
 *
 * onerror=abort, repl=tty|unix:PATH and break=WHAT are understood as the
 * plugin understands them; other pairs go to the script (lh.args).
 *
 * Events, one per line; what the core did is printed on stdout:
 *   entry NR [ARG...]     -> "answer N" (a hook gave the result), "run" (the
 *                            core saw it and let it run) or "unwanted" (the
 *                            glue would not have called the core)
 *   return NR RET         the call's result, as QEMU reports it (when wanted)
 *   poke ADDR TEXT        puts TEXT and a NUL in guest memory
 *   peek ADDR LEN         -> "peek TEXT": LEN bytes, non-printing ones as '.'
 *   reg NAME              -> "reg NAME VALUE" (hex)
 * At the end of the input the guest exits, and QEMU with it: the core's
 * exit hooks run and its output is flushed.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "core/core.h"
#include "core/fail.h"

#define FAKE_BASE 0x10000u
#define FAKE_SIZE 0x10000u

static uint8_t memory[FAKE_SIZE];

/* x86_64's general registers; i386 guests use the e-names of the same file */
static const char *const reg_names_64[] = {
    "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "rip",
    "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15", NULL,
};
static const char *const reg_names_32[] = {
    "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", NULL,
};
static const char *const *reg_names_now = reg_names_64;
static int reg_size = 8;
static uint64_t regs[G_N_ELEMENTS(reg_names_64)];

static bool in_memory(uint64_t addr, size_t len)
{
    return addr >= FAKE_BASE && len <= FAKE_SIZE && addr - FAKE_BASE <= FAKE_SIZE - len;
}

static bool fake_read(uint64_t addr, void *buf, size_t len)
{
    if (!in_memory(addr, len)) {
        return false;
    }
    memcpy(buf, memory + (addr - FAKE_BASE), len);
    return true;
}

static bool fake_write(uint64_t addr, const void *buf, size_t len)
{
    if (!in_memory(addr, len)) {
        return false;
    }
    memcpy(memory + (addr - FAKE_BASE), buf, len);
    return true;
}

static int reg_index(const char *name)
{
    for (int i = 0; reg_names_now[i]; i++) {
        if (!strcmp(reg_names_now[i], name)) {
            return i;
        }
    }
    return -1;
}

static int fake_reg_read(const char *name, void *buf)
{
    int i = reg_index(name);

    if (i < 0) {
        return -1;
    }
    memcpy(buf, &regs[i], (size_t)reg_size);     /* little-endian, as x86 */
    return reg_size;
}

static bool fake_reg_write(const char *name, const void *buf, size_t len)
{
    int i = reg_index(name);

    if (i < 0 || len != (size_t)reg_size) {
        return false;
    }
    regs[i] = 0;
    memcpy(&regs[i], buf, len);
    return true;
}

static void fake_reg_names(void (*fn)(const char *name, void *opaque), void *opaque)
{
    for (int i = 0; reg_names_now[i]; i++) {
        fn(reg_names_now[i], opaque);
    }
}

static bool fake_program(char **path, uint64_t *start_code, uint64_t *entry)
{
    (void)path, (void)start_code, (void)entry;
    return false;
}

static const struct lh_guest_ops fake_ops = {
    .read = fake_read,
    .write = fake_write,
    .reg_read = fake_reg_read,
    .reg_write = fake_reg_write,
    .reg_names = fake_reg_names,
    .program = fake_program,
};

/*
 * Each return line asks lh_syscall_needs_return, as the glue's callback
 * does; this says when the core first wanted returns.
 */
static void watch_returns(void)
{
    printf("watching returns\n");
}

static uint64_t number(const char *text)
{
    return strtoull(text, NULL, 0);
}

static void peek(uint64_t addr, size_t len)
{
    char text[256];

    if (len >= sizeof(text) || !fake_read(addr, text, len)) {
        printf("peek: out of range\n");
        return;
    }
    for (size_t i = 0; i < len; i++) {
        text[i] = isprint((unsigned char)text[i]) ? text[i] : '.';
    }
    text[len] = '\0';
    printf("peek %s\n", text);
}

static void event(char **words)
{
    int n = (int)g_strv_length(words);

    if (n >= 2 && !strcmp(words[0], "entry")) {
        uint64_t args[8] = { 0 };
        int64_t ret;

        for (int i = 2; i < n && i < 10; i++) {
            args[i - 2] = number(words[i]);
        }
        if (!lh_syscall_needs_entry((int64_t)number(words[1]))) {
            printf("unwanted\n");
        } else if (lh_syscall_entry(0, (int64_t)number(words[1]), args, &ret)) {
            printf("answer %" PRId64 "\n", ret);
        } else {
            printf("run\n");
        }
    } else if (n == 3 && !strcmp(words[0], "return")) {
        if (lh_syscall_needs_return((int64_t)number(words[1]))) {
            lh_syscall_return(0, (int64_t)number(words[1]), (int64_t)strtoll(words[2], NULL, 0));
        }
    } else if (n == 3 && !strcmp(words[0], "poke")) {
        if (!fake_write(number(words[1]), words[2], strlen(words[2]) + 1)) {
            printf("poke: out of range\n");
        }
    } else if (n == 3 && !strcmp(words[0], "peek")) {
        peek(number(words[1]), (size_t)number(words[2]));
    } else if (n == 2 && !strcmp(words[0], "reg")) {
        int i = reg_index(words[1]);

        printf("reg %s %" PRIx64 "\n", words[1], i < 0 ? 0 : regs[i]);
    } else if (n > 0) {
        fprintf(stderr, "fake_guest: unknown event '%s'\n", words[0]);
        exit(2);
    }
}

int main(int argc, char **argv)
{
    struct lh_config cfg;
    char line[1024], *msg = NULL;

    if (argc < 3 || !lh_arch_supported(argv[1])) {
        fprintf(stderr, "usage: fake_guest i386|x86_64 SCRIPT [KEY=VALUE...]\n");
        return 2;
    }
    lh_config_init(&cfg, argv[1], &fake_ops, watch_returns);
    cfg.follow_exec = false;
    cfg.script = argv[2];
    cfg.plugin_argc = argc - 1;
    cfg.plugin_argv = argv + 1;
    if (!strcmp(cfg.arch, "i386")) {
        reg_names_now = reg_names_32;
        reg_size = 4;
    }
    for (int i = 3; i < argc; i++) {
        if (!strcmp(argv[i], "onerror=abort")) {
            cfg.abort_on_error = true;
        } else if (g_str_has_prefix(argv[i], "repl=")) {
            cfg.repl = argv[i] + strlen("repl=");
        } else if (g_str_has_prefix(argv[i], "break=")) {
            g_ptr_array_add(cfg.breaks, argv[i] + strlen("break="));
        } else {
            g_ptr_array_add(cfg.script_args, argv[i]);
        }
    }
    /* every line out at once, in order with the core's own output */
    setvbuf(stdout, NULL, _IONBF, 0);
    if (!lh_engine_start(&cfg, &msg)) {
        lh_fail(EXIT_FAILURE, "%s", msg);
    }
    while (fgets(line, sizeof(line), stdin)) {
        char **words;

        line[strcspn(line, "\n")] = '\0';
        words = g_strsplit_set(line, " ", -1);
        event(words);
        g_strfreev(words);
    }
    lh_engine_exit();
    lh_config_free(&cfg);
    return 0;
}
