/* Guest access for the core through QEMU's plugin API. */
#ifndef LUAHOOK_PLUGIN_GUEST_H
#define LUAHOOK_PLUGIN_GUEST_H

#include "core/guest.h"

extern const struct lh_guest_ops lh_qemu_guest_ops;

#endif
