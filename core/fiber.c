/*
 * The Lua side's own stack. The runtime's event loop runs here and hands
 * control back to the vCPU after each event, instead of being called (and
 * returning) once per event: LuaJIT cannot compile a trace that returns
 * into C, but it compiles a loop whose "wait for the next event" is an FFI
 * call. That keeps the dispatcher and the hooks it calls JIT-compiled.
 *
 * Only one thread runs on the fiber at a time (the caller holds the core lock),
 * but not always the same one: whichever vCPU has an event resumes it. So
 * code on the fiber must not keep, across a yield, anything that belongs
 * to the thread: the address of a thread-local variable (the compiler may
 * keep it in a register: the fiber's C code reads them only in functions
 * that never yield), errno (read it before yielding), the thread's id.
 * Sanitizers (ASan, TSan) are not told of the switch and misreport; build
 * them with -Dfiber=ucontext, whose switch they know. The x86_64 switch
 * returns onto the other stack, so it cannot run under a CET shadow stack:
 * the object carries no SHSTK property note (Debian builds without
 * -fcf-protection), so a loader enforcing shadow stacks refuses or
 * disables them, never runs it half-protected.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fiber.h"

/*
 * Address space reserved for the fiber's stack; pages are used only as
 * touched. The REPL (readline) and deep Lua/C recursion run here too.
 */
#define FIBER_STACK_SIZE (8u << 20)

static void (*fiber_body)(void);   /* the same for every fiber */

/* The fiber this thread runs, for lh_fiber_yield (reached through FFI, no arguments). */
static _Thread_local __attribute__((tls_model("initial-exec"))) struct lh_fiber *running;

#ifndef LUAHOOK_FIBER_UCONTEXT
#ifndef __x86_64__
#error "the stack switch is x86_64 code: configure with -Dfiber=ucontext"
#endif

/*
 * Saves the callee-saved registers on this stack, stores the stack pointer
 * in *save, and continues on the stack `to` (saved the same way). It ends
 * in a `ret`, which the CPU mispredicts (its return stack holds the other
 * side's address), but which pops one return-stack entry for the one its
 * call pushed: lh_fiber_yield reaches it by a tail call, so each side's
 * call depth stays what the return stack expects, and only the two
 * switches of an event mispredict. Ending in a jump instead left two
 * stale entries, and then every return up QEMU's syscall path
 * mispredicted too (perf showed the time in those returns, in functions
 * whose code had not changed). The x87 and SSE
 * control words are not switched: neither side changes them, and a hook
 * that did would change them for QEMU as a plain call would.
 */
void lh_fiber_switch(void **save, void *to) __attribute__((visibility("hidden")));
void lh_fiber_first(void) __attribute__((visibility("hidden")));
/*
 * The unwind info holds at every instruction, the stack switch included:
 * both stacks hold the same frame (six registers above the return address),
 * so a profiler or debugger stopping inside reads the frame of whichever
 * side is current.
 */
__asm__(
    "    .text\n"
    "    .p2align 4\n"
    "    .globl lh_fiber_switch\n"
    "    .hidden lh_fiber_switch\n"
    "    .type lh_fiber_switch, @function\n"
    "lh_fiber_switch:\n"
    "    .cfi_startproc\n"
    "    pushq %rbp\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_rel_offset rbp, 0\n"
    "    pushq %rbx\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_rel_offset rbx, 0\n"
    "    pushq %r12\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_rel_offset r12, 0\n"
    "    pushq %r13\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_rel_offset r13, 0\n"
    "    pushq %r14\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_rel_offset r14, 0\n"
    "    pushq %r15\n"
    "    .cfi_adjust_cfa_offset 8\n"
    "    .cfi_rel_offset r15, 0\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    popq %r15\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore r15\n"
    "    popq %r14\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore r14\n"
    "    popq %r13\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore r13\n"
    "    popq %r12\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore r12\n"
    "    popq %rbx\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore rbx\n"
    "    popq %rbp\n"
    "    .cfi_adjust_cfa_offset -8\n"
    "    .cfi_restore rbp\n"
    "    ret\n"
    "    .cfi_endproc\n"
    "    .size lh_fiber_switch, .-lh_fiber_switch\n"
    /*
     * The fiber's first instruction: call the body with an aligned stack.
     * Its frame ends every unwind; the nop before it puts the address an
     * unwinder looks up for a return to lh_fiber_first (one byte less)
     * inside that frame's unwind info too.
     */
    "    .globl lh_fiber_first\n"
    "    .hidden lh_fiber_first\n"
    "    .type lh_fiber_first, @function\n"
    "    .cfi_startproc\n"
    "    .cfi_undefined rip\n"
    "    nop\n"
    "lh_fiber_first:\n"
    "    callq *%r12\n"
    "    ud2\n"
    "    .cfi_endproc\n"
    "    .size lh_fiber_first, .-lh_fiber_first\n");

/* A stack lh_fiber_switch can switch to, whose first stop is the body. */
static void prepare_stack(struct lh_fiber *f, void *top)
{
    uint64_t *sp = top;

    *--sp = (uint64_t)(uintptr_t)lh_fiber_first;    /* where the first switch returns */
    *--sp = 0;                                       /* rbp */
    *--sp = 0;                                       /* rbx */
    *--sp = (uint64_t)(uintptr_t)fiber_body;         /* r12: what to call */
    *--sp = 0;                                       /* r13 */
    *--sp = 0;                                       /* r14 */
    *--sp = 0;                                       /* r15 */
    f->fiber_sp = sp;
}

static void switch_to_fiber(struct lh_fiber *f)
{
    lh_fiber_switch(&f->caller_sp, f->fiber_sp);
}

void lh_fiber_yield(void)
{
    lh_fiber_switch(&running->fiber_sp, running->caller_sp);
}

#else

/*
 * Portable (meson -Dfiber=ucontext, the default on hosts other than
 * x86_64): swapcontext also saves the signal mask with a system call per
 * switch, so this costs more per event than the x86_64 switch.
 */
static void prepare_stack(struct lh_fiber *f, void *top)
{
    getcontext(&f->fiber_context);
    f->fiber_context.uc_stack.ss_sp = (char *)top - FIBER_STACK_SIZE;
    f->fiber_context.uc_stack.ss_size = FIBER_STACK_SIZE;
    f->fiber_context.uc_link = NULL;
    makecontext(&f->fiber_context, fiber_body, 0);
}

static void switch_to_fiber(struct lh_fiber *f)
{
    swapcontext(&f->caller_context, &f->fiber_context);
}

void lh_fiber_yield(void)
{
    swapcontext(&running->fiber_context, &running->caller_context);
}

#endif

bool lh_fiber_run(struct lh_fiber *f)
{
    struct lh_fiber *outer = running;

    if (f->busy) {
        return false;
    }
    f->busy = true;
    running = f;
    switch_to_fiber(f);
    running = outer;
    f->busy = false;
    return true;
}

void lh_fiber_free(struct lh_fiber *f)
{
    if (f->base) {
        munmap(f->base, f->size);
        f->base = NULL;
    }
}

bool lh_fiber_init(struct lh_fiber *f, void (*body)(void), char **msg)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    char *base = mmap(NULL, FIBER_STACK_SIZE + page, PROT_READ | PROT_WRITE,
                      MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);

    if (base == MAP_FAILED) {
        *msg = g_strdup_printf("cannot map the Lua side's stack: %s", g_strerror(errno));
        return false;
    }
    /* a guard page below: an overflow faults instead of corrupting memory */
    if (mprotect(base, page, PROT_NONE) != 0) {
        *msg = g_strdup_printf("cannot guard the Lua side's stack: %s", g_strerror(errno));
        munmap(base, FIBER_STACK_SIZE + page);
        return false;
    }
    fiber_body = body;
    f->base = base;
    f->size = FIBER_STACK_SIZE + page;
    prepare_stack(f, base + page + FIBER_STACK_SIZE);
    return true;
}
