/*
 * The kernel UAPI headers whose macros make an architecture's data module
 * (tools/gen_arch.lua reads each compiler's `-E -dM` dump of this file),
 * and that the data's check program (spec/guests) is compiled against.
 * Kernel headers only: glibc's define some of the same names differently.
 */
#include <asm/unistd.h>
#include <linux/errno.h>
#include <asm/signal.h>
#include <linux/fcntl.h>
#include <linux/mman.h>
#include <asm/socket.h>
#include <asm/sockios.h>
#include <asm/poll.h>
#include <asm/resource.h>
#include <asm/ioctls.h>
