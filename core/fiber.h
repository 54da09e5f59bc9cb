/*
 * The stack the Lua side runs on (core/fiber.c): C resumes it for each
 * event, and the runtime's loop yields back when the event is done.
 */
#ifndef LUAHOOK_FIBER_H
#define LUAHOOK_FIBER_H

#include <stdbool.h>
#include <glib.h>

/*
 * Reserves the stack; `body` runs on it from the first lh_fiber_run and
 * never returns. False with a one-line message in *msg on failure.
 */
bool lh_fiber_init(void (*body)(void), char **msg);

/*
 * Runs the fiber until it yields. Callers hold the core lock. False, doing
 * nothing, when the fiber is running already: an event that came on the
 * fiber itself must not resume it over its own frames.
 */
bool lh_fiber_run(void);

/* On the fiber: back to the lh_fiber_run that resumed it. */
void lh_fiber_yield(void);

#endif
