/*
 * Access to the guest, behind an ops table so the core needs no QEMU header
 * (plugin/guest.c fills it from QEMU's plugin API; a test can fake it).
 */
#ifndef LUAHOOK_GUEST_H
#define LUAHOOK_GUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct lh_guest_ops {
    /* Copies len bytes at guest virtual address addr into buf; false, with
     * buf undefined, if any byte is not mapped readable. vCPU context only. */
    bool (*read)(uint64_t addr, void *buf, size_t len);
};

#endif
