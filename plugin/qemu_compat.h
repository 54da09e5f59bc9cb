/*
 * The one place that knows how QEMU's plugin API changed shape between
 * versions. Code that talks to QEMU (plugin/ and bench/floor.c) includes
 * this instead of qemu-plugin.h and writes its callbacks as
 *
 *   static bool on_filter(LH_FILTER_ID_PARAM unsigned int vcpu_index, ...,
 *                         lh_sysret_t *sysret LH_FILTER_UDATA_PARAM)
 *
 * meson probes the header it builds against, one callback or function at
 * a time (upstream changed them in separate commits), and writes the
 * answers to qemu_shapes.h (docs/internals.md, "Other QEMUs"):
 *
 *   LH_QEMU_FILTER_UDATA   1: filter (vcpu, num, a1..a8, int64_t *sysret,
 *                          userdata), registered with userdata (API 7);
 *                          0: (id, vcpu, num, a1..a8, uint64_t *sysret)
 *   LH_QEMU_RET_UDATA      1: return (vcpu, num, ret, userdata) (API 7);
 *                          0: (id, vcpu, num, ret)
 *   LH_QEMU_ATEXIT_UDATA   1: atexit (userdata) (API 7); 0: (id, userdata)
 *   LH_QEMU_TB_TRANS_UDATA 1: translation (tb, userdata), registered with
 *                          userdata (API 7, as its patch series has it);
 *                          0: (id, tb)
 *   LH_QEMU_REGISTER_BOOL  1: read/write_register return bool (API 6);
 *                          0: a byte count (API 5)
 */
#ifndef LUAHOOK_PLUGIN_QEMU_COMPAT_H
#define LUAHOOK_PLUGIN_QEMU_COMPAT_H

#include <glib.h>
#include <qemu-plugin.h>

#include "qemu_shapes.h"

/* The QEMU a build is for, named when luahook refuses another one: API 5
 * with a syscall filter is only the reference QEMU. */
#if QEMU_PLUGIN_VERSION == 5
#define LH_QEMU_BUILT_FOR "QEMU 10.2 with luahook's syscall-filter patch"
#elif QEMU_PLUGIN_VERSION == 6
#define LH_QEMU_BUILT_FOR "QEMU 11.0"
#elif QEMU_PLUGIN_VERSION == 7
#define LH_QEMU_BUILT_FOR "QEMU 11.1"
#else
#define LH_QEMU_BUILT_FOR "an untested QEMU"
#endif

/*
 * The parameters QEMU puts around a callback's own: the plugin id first
 * (up to API 6), the registration's userdata last (API 7; registered as
 * NULL). Neither is used.
 */
#if LH_QEMU_FILTER_UDATA
#define LH_FILTER_ID_PARAM
#define LH_FILTER_UDATA_PARAM , G_GNUC_UNUSED void *lh_userdata
typedef int64_t lh_sysret_t;
#define lh_qemu_register_filter(id, cb) qemu_plugin_register_vcpu_syscall_filter_cb(id, cb, NULL)
#else
#define LH_FILTER_ID_PARAM G_GNUC_UNUSED qemu_plugin_id_t lh_id,
#define LH_FILTER_UDATA_PARAM
typedef uint64_t lh_sysret_t;
#define lh_qemu_register_filter(id, cb) qemu_plugin_register_vcpu_syscall_filter_cb(id, cb)
#endif

#if LH_QEMU_RET_UDATA
#define LH_RET_ID_PARAM
#define LH_RET_UDATA_PARAM , G_GNUC_UNUSED void *lh_userdata
#define lh_qemu_register_return(id, cb) qemu_plugin_register_vcpu_syscall_ret_cb(id, cb, NULL)
#else
#define LH_RET_ID_PARAM G_GNUC_UNUSED qemu_plugin_id_t lh_id,
#define LH_RET_UDATA_PARAM
#define lh_qemu_register_return(id, cb) qemu_plugin_register_vcpu_syscall_ret_cb(id, cb)
#endif

#if LH_QEMU_TB_TRANS_UDATA
#define LH_TB_TRANS_ID_PARAM
#define LH_TB_TRANS_UDATA_PARAM , G_GNUC_UNUSED void *lh_userdata
#define lh_qemu_register_tb_trans(id, cb) qemu_plugin_register_vcpu_tb_trans_cb(id, cb, NULL)
#else
#define LH_TB_TRANS_ID_PARAM G_GNUC_UNUSED qemu_plugin_id_t lh_id,
#define LH_TB_TRANS_UDATA_PARAM
#define lh_qemu_register_tb_trans(id, cb) qemu_plugin_register_vcpu_tb_trans_cb(id, cb)
#endif

/* The atexit callback always had userdata; from API 7 on, only that. */
#if LH_QEMU_ATEXIT_UDATA
#define LH_ATEXIT_ID_PARAM
#else
#define LH_ATEXIT_ID_PARAM G_GNUC_UNUSED qemu_plugin_id_t lh_id,
#endif

/*
 * Appends the register's bytes to buf; returns how many, or -1. API 6
 * reports only success, so the size is what QEMU appended: taking its
 * bool as the size would read one byte of every register.
 */
static inline int lh_qemu_read_register(struct qemu_plugin_register *handle,
                                        GByteArray *buf)
{
#if LH_QEMU_REGISTER_BOOL
    guint before = buf->len;

    return qemu_plugin_read_register(handle, buf) ? (int)(buf->len - before) : -1;
#else
    return qemu_plugin_read_register(handle, buf);
#endif
}

static inline bool lh_qemu_write_register(struct qemu_plugin_register *handle,
                                          GByteArray *buf)
{
#if LH_QEMU_REGISTER_BOOL
    return qemu_plugin_write_register(handle, buf);
#else
    return qemu_plugin_write_register(handle, buf) > 0;
#endif
}

#endif
