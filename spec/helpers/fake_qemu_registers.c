/*
 * The real plugin/qemu_guest.c linked against a stand-in for the QEMU functions
 * it calls, compiled with the qemu-plugin.h of any plugin API shape
 * (spec/build_spec.lua): prints what the core would get from register
 * reads and writes, "NAME SIZE BYTES" per register.
 *
 * The stand-ins behave as QEMU does in every API: a read appends the
 * register's bytes to the caller's array; the result is the header's own
 * type, so the size converted to it (a byte count up to API 5, true from
 * API 6 on). Guest memory is not what this checks: it is never mapped.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <qemu-plugin.h>

#include "plugin/qemu_guest.h"

struct fake_register {
    const char *name;
    guint size;
    uint8_t bytes[16];
};

static struct fake_register registers[] = {
    { "eax", 4, { 0x44, 0x33, 0x22, 0x11 } },
    { "rip", 8, { 0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11 } },
    { "xmm0", 16, { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16 } },
};

typedef __typeof__(qemu_plugin_read_register(NULL, NULL)) read_result;
typedef __typeof__(qemu_plugin_write_register(NULL, NULL)) write_result;

GArray *qemu_plugin_get_registers(void)
{
    GArray *list = g_array_new(false, true, sizeof(qemu_plugin_reg_descriptor));

    for (size_t i = 0; i < G_N_ELEMENTS(registers); i++) {
        qemu_plugin_reg_descriptor d = {
            .handle = (struct qemu_plugin_register *)&registers[i],
            .name = registers[i].name,
        };
        g_array_append_val(list, d);
    }
    return list;
}

read_result qemu_plugin_read_register(struct qemu_plugin_register *handle, GByteArray *buf)
{
    struct fake_register *r = (struct fake_register *)handle;

    g_byte_array_append(buf, r->bytes, r->size);
    return (read_result)r->size;
}

write_result qemu_plugin_write_register(struct qemu_plugin_register *handle, GByteArray *buf)
{
    struct fake_register *r = (struct fake_register *)handle;

    if (buf->len < r->size) {
        return (write_result)0;
    }
    memcpy(r->bytes, buf->data, r->size);
    return (write_result)r->size;
}

bool qemu_plugin_read_memory_vaddr(uint64_t addr, GByteArray *data, size_t len)
{
    (void)addr;
    (void)data;
    (void)len;
    return false;
}

bool qemu_plugin_write_memory_vaddr(uint64_t addr, GByteArray *data)
{
    (void)addr;
    (void)data;
    return false;
}

/* The program's description is not what this checks either. */
const char *qemu_plugin_path_to_binary(void)
{
    return NULL;
}

uint64_t qemu_plugin_start_code(void)
{
    return 0;
}

uint64_t qemu_plugin_entry_code(void)
{
    return 0;
}

static void print_register(const char *name)
{
    uint8_t buf[LH_REG_MAX_SIZE];
    int size = lh_qemu_guest_ops.reg_read(name, buf);

    printf("%s %d ", name, size);
    for (int i = 0; i < size; i++) {
        printf("%02x", buf[i]);
    }
    putchar('\n');
}

int main(void)
{
    static const uint8_t value[4] = { 0xef, 0xbe, 0xad, 0xde };

    for (size_t i = 0; i < G_N_ELEMENTS(registers); i++) {
        print_register(registers[i].name);
    }
    printf("write eax %s\n", lh_qemu_guest_ops.reg_write("eax", value, 4) ? "ok" : "failed");
    print_register("eax");
    return 0;
}
