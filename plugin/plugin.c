/*
 * QEMU-facing glue: the plugin entry point, its arguments, and the syscall
 * callbacks that feed the core. QEMU's API is reached through
 * plugin/qemu_compat.h, which adapts it to the header built against.
 *
 *   -plugin luahook.so,script=FILE[,out=FILE][,onerror=report|abort]
 *                     [,break=SYSCALL...][,repl=tty|unix:PATH][,follow_exec=0]
 *                     [,parallel=1]
 *                     [,KEY=VALUE...]
 *
 * KEY=VALUE pairs that are not luahook's own reach the script as
 * luahook.args. A followed execve adds exec.* arguments (core/exec.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "core/core.h"
#include "core/fail.h"
#include "plugin/qemu_guest.h"
#include "plugin/qemu_compat.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

/* The callbacks' shapes follow the header's plugin API (plugin/qemu_compat.h). */
static bool on_syscall_filter(LH_FILTER_ID_PARAM unsigned int vcpu_index,
                              int64_t num, uint64_t a1, uint64_t a2,
                              uint64_t a3, uint64_t a4, uint64_t a5,
                              uint64_t a6, uint64_t a7, uint64_t a8,
                              lh_sysret_t *sysret LH_FILTER_UDATA_PARAM)
{
    const uint64_t args[8] = { a1, a2, a3, a4, a5, a6, a7, a8 };
    int64_t ret;

    if (!lh_syscall_needs_entry(num) || !lh_syscall_entry(vcpu_index, num, args, &ret)) {
        return false;
    }
    *sysret = (lh_sysret_t)ret;
    return true;
}

static void on_syscall_return(LH_RET_ID_PARAM unsigned int vcpu_index,
                              int64_t num, int64_t ret LH_RET_UDATA_PARAM)
{
    if (lh_syscall_needs_return(num)) {
        lh_syscall_return(vcpu_index, num, ret);
    }
}

static qemu_plugin_id_t plugin_id;

/*
 * QEMU dispatches a return callback on every syscall once one is
 * registered, at a cost close to the rest of a syscall nobody hooks, so it
 * is registered only when Lua first wants a return (an after-hook, the REPL).
 */
static void watch_returns(void)
{
    lh_qemu_register_return(plugin_id, on_syscall_return);
}

/*
 * A block starting at an address Lua watches (a signal handler's first
 * instruction: how luahook sees a signal delivered, docs/internals.md)
 * gets a callback run each time before it; no other block gets one.
 */
static void on_watched_code(unsigned int vcpu_index, void *userdata)
{
    lh_code_reached(vcpu_index, (uint64_t)(uintptr_t)userdata);
}

static void on_translation(LH_TB_TRANS_ID_PARAM struct qemu_plugin_tb *tb LH_TB_TRANS_UDATA_PARAM)
{
    uint64_t pc = qemu_plugin_tb_vaddr(tb);

    if (lh_code_watched(pc)) {
        qemu_plugin_register_vcpu_tb_exec_cb(tb, on_watched_code, QEMU_PLUGIN_CB_R_REGS,
                                             (void *)(uintptr_t)pc);
    }
}

/* Registered only when Lua first watches an address: QEMU then shows
 * luahook every block it translates. */
static void watch_code(void)
{
    lh_qemu_register_tb_trans(plugin_id, on_translation);
}

static void on_qemu_exit(LH_ATEXIT_ID_PARAM void *userdata)
{
    (void)userdata;
    lh_engine_exit();
}

/* A descriptor number: the whole of `text`, 0 or more. */
static int parse_fd(const char *arg, const char *text)
{
    char *end;
    long n = strtol(text, &end, 10);

    if (!*text || *end || n < 0 || n > INT32_MAX) {
        lh_fail(EXIT_FAILURE, "%s: expected a descriptor number", arg);
    }
    return (int)n;
}

/*
 * The arguments a followed exec adds for the QEMU it starts (core/exec.h):
 * not for users, but checked as strictly.
 */
static void parse_exec_arg(const char *arg, const char *eq, struct lh_config *cfg)
{
    if (g_str_has_prefix(arg, "exec.dir=")) {
        cfg->exec_dir = eq + 1;
    } else if (g_str_has_prefix(arg, "exec.comm=")) {
        cfg->exec_comm = eq + 1;
    } else if (g_str_has_prefix(arg, "exec.out=")) {
        cfg->out_fd = parse_fd(arg, eq + 1);
    } else if (g_str_has_prefix(arg, "exec.err=")) {
        cfg->err_fd = parse_fd(arg, eq + 1);
    } else if (!strcmp(arg, "exec.repl_forked=1")) {
        cfg->repl_forked = true;
    } else if (g_str_has_prefix(arg, "exec.close=")) {
        cfg->exec_close = parse_fd(arg, eq + 1);
    } else if (g_str_has_prefix(arg, "exec.keep.") && eq > arg + strlen("exec.keep.")) {
        g_ptr_array_add(cfg->inherited, (gpointer)(arg + strlen("exec.keep.")));
    } else {
        lh_fail(EXIT_FAILURE,
                "plugin argument '%s': exec.* arguments are luahook's own (exec.dir=, "
             "exec.comm=, exec.out=, exec.err=, exec.repl_forked=1, exec.close=, "
             "exec.keep.KEY=)", arg);
    }
}

static void parse_args(int argc, char **argv, struct lh_config *cfg)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        const char *eq = strchr(arg, '=');

        if (!eq || eq == arg) {
            lh_fail(EXIT_FAILURE, "plugin argument '%s' is not KEY=VALUE", arg);
        }
        if (g_str_has_prefix(arg, "script=")) {
            if (cfg->script) {
                lh_fail(EXIT_FAILURE, "script= given twice ('%s' and '%s')", cfg->script, eq + 1);
            }
            if (!eq[1]) {
                lh_fail(EXIT_FAILURE, "script= is empty; give the path of a Lua script");
            }
            cfg->script = eq + 1;
        } else if (g_str_has_prefix(arg, "out=")) {
            if (!eq[1]) {
                lh_fail(EXIT_FAILURE, "out= is empty; give a file for luahook's output");
            }
            cfg->out = eq + 1;
        } else if (g_str_has_prefix(arg, "repl=")) {
            cfg->repl = eq + 1;
        } else if (g_str_has_prefix(arg, "break=")) {
            if (!eq[1]) {
                lh_fail(EXIT_FAILURE, "break= is empty; give a syscall name, number or class");
            }
            g_ptr_array_add(cfg->breaks, (gpointer)(eq + 1));
        } else if (g_str_has_prefix(arg, "follow_exec=")) {
            if (strcmp(eq + 1, "0") && strcmp(eq + 1, "1")) {
                lh_fail(EXIT_FAILURE,
                        "follow_exec=%s: expected follow_exec=1 or follow_exec=0", eq + 1);
            }
            cfg->follow_exec = eq[1] == '1';
        } else if (g_str_has_prefix(arg, "parallel=")) {
            if (strcmp(eq + 1, "0") && strcmp(eq + 1, "1")) {
                lh_fail(EXIT_FAILURE, "parallel=%s: expected parallel=1 or parallel=0", eq + 1);
            }
            cfg->parallel = eq[1] == '1';
        } else if (g_str_has_prefix(arg, "exec.")) {
            parse_exec_arg(arg, eq, cfg);
        } else if (g_str_has_prefix(arg, "onerror=")) {
            if (!strcmp(eq + 1, "abort")) {
                cfg->abort_on_error = true;
            } else if (!strcmp(eq + 1, "report")) {
                cfg->abort_on_error = false;
            } else {
                lh_fail(EXIT_FAILURE,
                        "onerror=%s: expected onerror=report or onerror=abort", eq + 1);
            }
        } else {
            g_ptr_array_add(cfg->script_args, (gpointer)arg);
        }
    }
    if (cfg->breaks->len > 0 && !cfg->repl) {
        cfg->repl = "tty";     /* a breakpoint needs somewhere to stop */
    }
    if (!cfg->script && !cfg->repl) {
        lh_fail(EXIT_FAILURE,
                "no script given; use -plugin luahook.so,script=FILE.lua (or break=SYSCALL)");
    }
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id,
                                           const qemu_info_t *info,
                                           int argc, char **argv)
{
    struct lh_config cfg;
    char *msg = NULL;

    /*
     * QEMU loads any plugin between its minimum API and its own, yet API 6
     * changed what register reads return and API 7 every callback's
     * arguments, without raising that minimum: a build for another API
     * would misread registers or be called with arguments it does not
     * expect. Only the API this build was compiled for is safe.
     */
    if (info->version.cur != QEMU_PLUGIN_VERSION) {
        lh_fail(EXIT_FAILURE, "built for plugin API %d (%s), but this QEMU has plugin API %d "
             "(loads %d to %d); rebuild luahook with this QEMU's qemu-plugin.h "
             "(meson setup -Dqemu_include=DIR)", QEMU_PLUGIN_VERSION,
             LH_QEMU_BUILT_FOR, info->version.cur, info->version.min,
             info->version.cur);
    }
    if (info->system_emulation) {
        lh_fail(EXIT_FAILURE,
                "needs QEMU's user-mode emulation (qemu-i386, qemu-x86_64), not qemu-system");
    }
    if (!lh_arch_supported(info->target_name)) {
        lh_fail(EXIT_FAILURE,
                "guest architecture '%s' is not supported (" LH_ARCHES " are)", info->target_name);
    }
    plugin_id = id;
    lh_config_init(&cfg, info->target_name, &lh_qemu_guest_ops, watch_returns);
    cfg.watch_code = watch_code;
    cfg.plugin_argc = argc;
    cfg.plugin_argv = argv;
    parse_args(argc, argv, &cfg);
    if (!lh_engine_start(&cfg, &msg)) {
        lh_fail(EXIT_FAILURE, "%s", msg);
    }
    lh_config_free(&cfg);

    lh_qemu_register_filter(id, on_syscall_filter);
    qemu_plugin_register_atexit_cb(id, on_qemu_exit, NULL);
    return 0;
}
