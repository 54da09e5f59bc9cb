/*
 * Access to the guest, behind an ops table so the core needs no QEMU header
 * (plugin/qemu_guest.c fills it from QEMU's plugin API; spec/fake/fake_guest.c
 * fakes it, to test the core without QEMU).
 * Every operation needs vCPU context: call them only while handling an event.
 */
#ifndef LUAHOOK_GUEST_H
#define LUAHOOK_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Large enough for any x86 register QEMU describes (AVX-512 included). */
#define LH_REG_MAX_SIZE 64

struct lh_guest_ops {
    /* Copies len bytes at guest virtual address addr into buf; false, with
     * buf undefined, if any byte is not mapped. */
    bool (*read)(uint64_t addr, void *buf, size_t len);
    /* Writes all len bytes or, if any page is not mapped, none. */
    bool (*write)(uint64_t addr, const void *buf, size_t len);
    /* Register `name` into buf (LH_REG_MAX_SIZE bytes); its size in bytes,
     * or -1 when the guest has no such register. */
    int (*reg_read)(const char *name, void *buf);
    /* Sets register `name` from len bytes (its full size); false if unknown. */
    bool (*reg_write)(const char *name, const void *buf, size_t len);
    /* Calls fn for each register name the guest has, in QEMU's order. */
    void (*reg_names)(void (*fn)(const char *name, void *opaque), void *opaque);
    /* The program QEMU loaded: the host path of its file (g_free it), the
     * address of its first executable segment, and the entry point QEMU
     * started the guest at (the interpreter's, for a dynamically linked
     * program). False when QEMU does not say. */
    bool (*program)(char **path, uint64_t *start_code, uint64_t *entry);
};

#endif
