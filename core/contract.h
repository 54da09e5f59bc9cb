/*
 * The contract between the C core and the Lua runtime, all in one place:
 * the record through which an event crosses into Lua, the C functions
 * Lua calls through FFI, and every code and bit either side reads. Lua
 * never repeats a value from here: core/engine.c hands the runtime the
 * record's and the calls' declarations as cdef strings, and each code
 * and bit by name (push_primitives; docs/internals.md, "The C/Lua
 * boundary", lists them), which lua/luahook/_core/context.lua keeps.
 */
#ifndef LUAHOOK_CONTRACT_H
#define LUAHOOK_CONTRACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

/* Syscall arguments that reach Lua: no guest architecture passes more than six. */
#define LH_ARG_COUNT 6

/* Bits of a want-table slot, set by Lua when hooks are (un)registered. */
enum {
    LH_WANT_ENTRY = 1,         /* an entry hook */
    LH_WANT_RETURN = 2,        /* an after-hook */
    LH_WANT_FLUSH = 4,         /* flush output first: the process is replaced */
    LH_WANT_REARM = 8,         /* the guest sets a signal action: retake signals */
    LH_WANT_ARGS = 16,         /* an after-hook: keep the arguments for the return */
};

/*
 * The record through which one event crosses into Lua: C fills it and
 * resumes the runtime's loop (core/fiber.c), which reads it with LuaJIT FFI
 * and stores a hook's answer in it. Fields Lua reads on every event are
 * doubles and 32-bit integers: reading those needs no allocation even in
 * LuaJIT's interpreter. The field list is written once and given to Lua as
 * a cdef string, so both sides agree.
 */
#define LH_EVENT_FIELDS                                                   \
    int32_t kind;              /* LH_EVENT_* */                           \
    int32_t stop;              /* LH_STOP_*: open a prompt at this entry */ \
    int32_t answer;            /* LH_ANSWER_*, set by Lua */              \
    uint32_t vcpu;                                                        \
    uint32_t tid;                                                         \
    double nr;                                                            \
    double num[LH_ARG_COUNT];  /* args as numbers; from 2^53: see args */ \
    double retn;               /* ret as a number; beyond +-2^53: see ret */ \
    double result;             /* the answer, with LH_ANSWER_NUMBER */    \
    int64_t ret;               /* exact; the answer with LH_ANSWER_RET */ \
    uint64_t args[LH_ARG_COUNT]; /* the guest's words, exact */
struct lh_event {
    LH_EVENT_FIELDS
};
#define LH_EVENT_CDEF "struct lh_event { " G_STRINGIFY(LH_EVENT_FIELDS) " };"

/*
 * C functions Lua calls through FFI rather than the Lua C API: a trace can
 * compile an FFI call, while a lua_CFunction ends it. Only functions that
 * never call back into Lua belong here.
 */
#define LH_CALLS_FIELDS                                                   \
    void (*yield)(void);       /* the event is done: back to the vCPU */ \
    void (*write)(const char *s, size_t len); /* to luahook's output */ \
    int32_t (*read_string)(uint64_t addr, char *buf, int32_t max);        \
    void (*commit)(void);      /* parallel=1: this thread's writes into the stream */ \
    void (*place)(int32_t tid, int32_t cont_tid, int32_t cont_serial, int32_t opens, \
                  const char *lead_first, size_t lead_first_len, const char *lead, \
                  size_t lead_len, bool at_once); /* parallel=1: luahook.order's text */ \
    void (*order_use)(int32_t *open_tid, int32_t *open_serial, int32_t *started, \
                      const char *unfinished); /* where place's rule keeps its state */
struct lh_calls {
    LH_CALLS_FIELDS
};
#define LH_CALLS_CDEF "struct lh_calls { " G_STRINGIFY(LH_CALLS_FIELDS) " };"

/* Why the loop is resumed. */
enum {
    LH_EVENT_ENTRY = 1,
    LH_EVENT_RETURN,
    LH_EVENT_EXIT,             /* QEMU is exiting: run the exit hooks */
    LH_EVENT_CODE,             /* a watched code address is reached (args[0]) */
    LH_EVENT_AFTER,            /* a return whose entry Lua did not see: the
                                  record has the arguments too */
};

/* A hook's answer to an entry. */
enum {
    LH_ANSWER_NONE,            /* all declined: QEMU runs the syscall */
    LH_ANSWER_NUMBER,          /* the result is in .result */
    LH_ANSWER_RET,             /* the result is in .ret (a 64-bit cdata) */
    LH_ANSWER_HOST,            /* the result is the host syscall .ret with .args,
                                  made once the lock is let go (luahook.hostcall) */
};

/* Why a prompt opens without a breakpoint, in lh_gate.stop_request. */
enum {
    LH_STOP_NONE,
    LH_STOP_INTERRUPT,         /* Ctrl-C on the terminal */
    LH_STOP_ATTACH,            /* a socket client attached */
};

#endif
