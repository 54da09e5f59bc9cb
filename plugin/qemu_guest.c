/*
 * The core's guest ops, implemented with QEMU's plugin memory and register
 * API. Called under the core's lock from a vCPU callback, so one scratch
 * array serves every call.
 */
#include <string.h>

#include <glib.h>

#include "plugin/qemu_guest.h"
#include "plugin/qemu_compat.h"

static GByteArray *scratch;
/* name -> handle; register handles are the same for every vCPU of a guest */
static GHashTable *reg_handles;
static GArray *reg_list;

static GByteArray *scratch_array(void)
{
    if (!scratch) {
        scratch = g_byte_array_sized_new(4096);
    }
    return scratch;
}

static bool guest_read(uint64_t addr, void *buf, size_t len)
{
    GByteArray *a = scratch_array();

    if (len == 0) {
        return true;
    }
    if (!qemu_plugin_read_memory_vaddr(addr, a, len) || a->len < len) {
        return false;
    }
    memcpy(buf, a->data, len);
    return true;
}

/*
 * QEMU writes page by page and stops at the first unmapped one. Reading the
 * whole range first proves every page is mapped (a debug write ignores page
 * protection, as a debugger's does), so the write is all or nothing.
 */
static bool guest_write(uint64_t addr, const void *buf, size_t len)
{
    GByteArray *a = scratch_array();

    if (len == 0) {
        return true;
    }
    if (!qemu_plugin_read_memory_vaddr(addr, a, len)) {
        return false;
    }
    g_byte_array_set_size(a, 0);
    g_byte_array_append(a, buf, (guint)len);
    return qemu_plugin_write_memory_vaddr(addr, a);
}

static void resolve_registers(void)
{
    if (reg_handles) {
        return;
    }
    reg_handles = g_hash_table_new(g_str_hash, g_str_equal);
    reg_list = qemu_plugin_get_registers();
    for (guint i = 0; i < reg_list->len; i++) {
        qemu_plugin_reg_descriptor *d =
            &g_array_index(reg_list, qemu_plugin_reg_descriptor, i);

        g_hash_table_insert(reg_handles, (gpointer)d->name, d->handle);
    }
}

static int guest_reg_read(const char *name, void *buf)
{
    GByteArray *a = scratch_array();
    struct qemu_plugin_register *handle;
    int size;

    resolve_registers();
    handle = g_hash_table_lookup(reg_handles, name);
    if (!handle) {
        return -1;
    }
    g_byte_array_set_size(a, 0);
    size = lh_qemu_read_register(handle, a);
    if (size <= 0 || size > LH_REG_MAX_SIZE || a->len < (guint)size) {
        return -1;
    }
    memcpy(buf, a->data, (size_t)size);
    return size;
}

static bool guest_reg_write(const char *name, const void *buf, size_t len)
{
    GByteArray *a = scratch_array();
    struct qemu_plugin_register *handle;

    resolve_registers();
    handle = g_hash_table_lookup(reg_handles, name);
    if (!handle) {
        return false;
    }
    g_byte_array_set_size(a, 0);
    g_byte_array_append(a, buf, (guint)len);
    return lh_qemu_write_register(handle, a);
}

static void guest_reg_names(void (*fn)(const char *name, void *opaque), void *opaque)
{
    resolve_registers();
    for (guint i = 0; i < reg_list->len; i++) {
        fn(g_array_index(reg_list, qemu_plugin_reg_descriptor, i).name, opaque);
    }
}

static bool guest_program(char **path, uint64_t *start_code, uint64_t *entry)
{
    /* QEMU's copy, ours to free */
    *path = (char *)qemu_plugin_path_to_binary();
    if (!*path) {
        return false;
    }
    *start_code = qemu_plugin_start_code();
    *entry = qemu_plugin_entry_code();
    return true;
}

const struct lh_guest_ops lh_qemu_guest_ops = {
    .read = guest_read,
    .write = guest_write,
    .reg_read = guest_reg_read,
    .reg_write = guest_reg_write,
    .reg_names = guest_reg_names,
    .program = guest_program,
};
