/*
 * The benchmark's floor: a QEMU plugin that only registers the syscall
 * filter callback and counts, to measure what any filter costs before
 * luahook does anything. Prints the count at exit.
 */
#include <stdio.h>

#include "plugin/qemu_compat.h"

QEMU_PLUGIN_EXPORT int qemu_plugin_version = QEMU_PLUGIN_VERSION;

static uint64_t calls;

/* The callbacks' shapes follow the header's plugin API (plugin/qemu_compat.h). */
static bool on_filter(LH_FILTER_ID_PARAM unsigned int vcpu, int64_t num,
                      uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4,
                      uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8,
                      lh_sysret_t *sysret LH_FILTER_UDATA_PARAM)
{
    (void)vcpu; (void)num; (void)a1; (void)a2; (void)a3;
    (void)a4; (void)a5; (void)a6; (void)a7; (void)a8; (void)sysret;
    __atomic_fetch_add(&calls, 1, __ATOMIC_RELAXED);
    return false;
}

static void on_exit_cb(LH_ATEXIT_ID_PARAM void *p)
{
    (void)p;
    fprintf(stderr, "floor: %llu syscalls\n", (unsigned long long)calls);
}

QEMU_PLUGIN_EXPORT int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info,
                                           int argc, char **argv)
{
    (void)info;
    (void)argc;
    (void)argv;
    lh_qemu_register_filter(id, on_filter);
    qemu_plugin_register_atexit_cb(id, on_exit_cb, NULL);
    return 0;
}
