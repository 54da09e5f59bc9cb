/*
 * luahook's part in the host's signals, which QEMU otherwise owns: a guest
 * dying of a signal goes through QEMU's exit path (output flushed, exit
 * hooks run, then the same death), SIGINT and SIGTERM can interrupt a hook
 * that does not return, and a crash flushes output first.
 */
#ifndef LUAHOOK_SIGNALS_H
#define LUAHOOK_SIGNALS_H

#include <signal.h>
#include <stdbool.h>
#include <lua.h>

/*
 * Before the guest runs: lets compiled Lua code be interrupted (LuaJIT's
 * profiler, in a mode that puts a check in every compiled line, its timer
 * and signal given back to the guest).
 */
void lh_signals_init(lua_State *L);

/*
 * Takes the signals as QEMU left them: at the first syscall (QEMU's
 * handlers are in place by then) and after the guest changed an action.
 */
void lh_signals_arm(void);

/*
 * Interrupts the hook running now (if any) with a Lua error "interrupted
 * (WHY)", even in compiled code. Async-signal-safe; any thread.
 */
void lh_interrupt_hook(const char *why);

/* hook_timeout=MS: a hook running longer is interrupted; false with *msg. */
bool lh_signals_watch(unsigned ms, char **msg);

/*
 * A SIGINT that came while the Lua side ran an event waits for the event
 * to end: lh_run_lua then calls lh_signals_replay, which sends it on.
 */
extern int lh_sigint_deferred;
void lh_signals_replay(void);

/*
 * The REPL on the terminal takes Ctrl-C first: returns true when the
 * SIGINT should still go where it would without luahook.
 */
extern bool (*lh_sigint_policy)(void);

/*
 * The last signal the host sent this process that passed through
 * luahook's handlers (those above: deadly by default, crashes, SIGINT,
 * SIGTERM; and SIGQUIT), or 0.
 */
int lh_signals_last(void);

#endif
