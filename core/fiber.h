/*
 * The stack the Lua side runs on (core/fiber.c): C resumes it for each
 * event, and the runtime's loop yields back when the event is done.
 */
#ifndef LUAHOOK_FIBER_H
#define LUAHOOK_FIBER_H

#include <stdbool.h>
#include <stddef.h>
#include <glib.h>

#ifdef LUAHOOK_FIBER_UCONTEXT
#include <ucontext.h>
#endif

/* A stack and where each side stopped; one per Lua state. */
struct lh_fiber {
    char *base;                /* the mapping, guard page first */
    size_t size;
    bool busy;                 /* running: see lh_fiber_run */
#ifdef LUAHOOK_FIBER_UCONTEXT
    ucontext_t fiber_context, caller_context;
#else
    void *fiber_sp, *caller_sp;
#endif
};

/*
 * Reserves the stack; `body` runs on it from the first lh_fiber_run and
 * never returns. False with a one-line message in *msg on failure.
 */
bool lh_fiber_init(struct lh_fiber *f, void (*body)(void), char **msg);

/* Unmaps the stack of a fiber that will not run again. */
void lh_fiber_free(struct lh_fiber *f);

/*
 * Runs the fiber until it yields. Callers hold its state's lock. False, doing
 * nothing, when the fiber is running already: an event that came on the
 * fiber itself must not resume it over its own frames.
 */
bool lh_fiber_run(struct lh_fiber *f);

/* On a fiber: back to the lh_fiber_run (on this thread) that resumed it. */
void lh_fiber_yield(void);

#endif
