/*
 * State shared by the core's files. One Lua state serves every vCPU, so
 * everything here except the want table is guarded by core.lock.
 */
#ifndef LUAHOOK_STATE_H
#define LUAHOOK_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <lua.h>

#include "guest.h"

/*
 * Syscall numbers below this have a slot in the want table; Lua rejects
 * hooks on larger numbers (no i386 or x86_64 syscall comes close).
 */
#define LH_NR_MAX 4096

/* Syscall arguments that reach Lua: i386 and x86_64 use at most six. */
#define LH_ARG_COUNT 6

/* Bits of a want-table slot, set by Lua when hooks are (un)registered. */
enum {
    LH_WANT_ENTRY = 1,         /* an entry hook, or an after-hook that needs sc */
    LH_WANT_RETURN = 2,        /* an after-hook */
    LH_WANT_FLUSH = 4,         /* flush output first: the process is replaced */
    LH_WANT_REARM = 8,         /* the guest set a signal action: retake Ctrl-C */
};

/*
 * The record through which one event crosses into Lua: C fills it, Lua
 * reads it with LuaJIT FFI and stores a hook's result in it. The field list
 * is written once and given to Lua as a cdef string, so both sides agree.
 */
#define LH_EVENT_FIELDS                                                   \
    int64_t nr;                                                           \
    union { uint64_t u64[8]; uint32_t u32[16]; } args;                    \
    int64_t ret;                                                          \
    uint32_t vcpu;                                                        \
    uint32_t tid;
struct lh_event {
    LH_EVENT_FIELDS
};
#define LH_EVENT_CDEF "struct lh_event { " G_STRINGIFY(LH_EVENT_FIELDS) " };"

struct lh_core {
    GMutex lock;
    lua_State *L;
    int entry_ref;             /* registry refs of the runtime's dispatchers */
    int return_ref;
    int exit_ref;
    int quit_request;          /* LH_QUIT_*: stop QEMU once this event is done */
    bool in_event;             /* on a vCPU inside an event: the guest is reachable */
    int complete_ref;          /* the Lua REPL's completer */
    /* set from other threads and signal handlers; atomic */
    int stop_request;          /* LH_STOP_*: open a prompt at the next syscall */
    int world_stopped;         /* a prompt is open: other threads wait */
    bool interrupt_armed;      /* Ctrl-C handling set up (or not wanted) */
    int word_size;             /* the guest's, in bytes: 4 (i386) or 8 */
    const struct lh_guest_ops *guest;
    struct lh_event event;
    /* read without the lock on every syscall; written by Lua under it */
    uint8_t want[LH_NR_MAX];
};

extern struct lh_core core;

/* core.lock, remembering that this thread holds it (for fork). */
void lh_lock(void);
void lh_unlock(void);

/* In a forked child: its thread ids are new. */
void lh_dispatch_forked(void);

enum {
    LH_QUIT_NONE,
    LH_QUIT_ABORT,             /* a hook failed under onerror=abort */
    LH_QUIT_KILL,              /* kill at the REPL */
};

/* Stops QEMU for an LH_QUIT_* reason, exit hooks run; called unlocked. */
_Noreturn void lh_quit_qemu(int reason);

#endif
