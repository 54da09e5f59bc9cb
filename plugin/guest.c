/*
 * The core's guest ops, implemented with QEMU's plugin memory API. Called
 * under the core's lock from a vCPU callback, so one scratch array serves.
 */
#include <string.h>

#include <glib.h>
#include <qemu-plugin.h>

#include "plugin/guest.h"

static GByteArray *scratch;

static bool guest_read(uint64_t addr, void *buf, size_t len)
{
    if (len == 0) {
        return true;
    }
    if (!scratch) {
        scratch = g_byte_array_sized_new(4096);
    }
    if (!qemu_plugin_read_memory_vaddr(addr, scratch, len) || scratch->len < len) {
        return false;
    }
    memcpy(buf, scratch->data, len);
    return true;
}

const struct lh_guest_ops lh_qemu_guest_ops = {
    .read = guest_read,
};
