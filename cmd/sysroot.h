/*
 * Where QEMU finds a dynamically linked guest's loader and libraries when
 * -L is not given: Debian's cross sysroot for the guest's architecture.
 */
#ifndef LUAHOOK_CMD_SYSROOT_H
#define LUAHOOK_CMD_SYSROOT_H

#include "core/elf_guest.h"

/*
 * The directory to give QEMU as -L for `prog`, or NULL when it needs none
 * (static, or its loader is on the host). Ends the command
 * (EXIT_UNAVAILABLE) when the loader is nowhere, naming what to install.
 */
const char *default_sysroot(const struct lh_elf_guest *prog);

#endif
