/*
 * The REPL's C side: the front end people type into (the terminal, or a
 * client on a Unix socket), the primitives the Lua REPL uses, and stopping
 * the other guest threads while a prompt is open. The prompt itself (what
 * a line means) lives in lua/luahook/_core/repl.lua.
 */
#ifndef LUAHOOK_REPL_H
#define LUAHOOK_REPL_H

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>
#include <lua.h>

#include "state.h"

struct lh_repl_frontend {
    const char *kind;                       /* "tty" or "unix" */
    /* Shows prompt, returns the line (g_free it); NULL at end of input:
     * Ctrl-D on the terminal, or the socket client detached. */
    char *(*read_line)(const char *prompt);
    void (*write)(const char *s, size_t len);
    void (*close)(void);       /* at exit (NULL: nothing to do) */
    /* In a forked child (NULL: nothing to do): its own way to be reached. */
    void (*forked)(void);
};

/*
 * repl=tty or repl=unix:PATH; false with a one-line *msg on failure.
 * `forked`: this process was forked from the one that listens on PATH
 * (and has exec'd since): it listens on PATH.PID, as after the fork.
 */
bool lh_repl_open(const char *spec, bool forked, char **msg);
void lh_repl_close(void);

/* In a forked child, after luahook's descriptor thread started again. */
void lh_repl_forked(void);

/* Adds the REPL primitives to the table on top of the stack. */
void lh_repl_lua_register(lua_State *L);

/* Completions of `line` (the cursor at its end), from the Lua REPL. */
GPtrArray *lh_repl_complete(const char *line);

/* Asks for a prompt at the next syscall of any thread; async-signal-safe. */
void lh_repl_request_stop(int reason);

/* Waits while another thread holds the prompt (listed in threads()). */
void lh_repl_wait(uint32_t tid, unsigned int vcpu, int64_t nr);
/*
 * Whether a REPL is set up; then a thread about to wait for its state's
 * lock at syscall `nr` lists itself in threads() meanwhile (`on`), and
 * takes itself off once it has the lock: the holder may open a prompt.
 */
extern bool lh_repl_on;
#define LH_AT_CODE (-1)        /* `nr` at a watched code address */
void lh_repl_waiting(uint32_t tid, unsigned int vcpu, int64_t nr, bool on);

/* On every syscall entry: inline, as no prompt is open nearly always. */
static inline void lh_repl_wait_if_stopped(uint32_t tid, unsigned int vcpu, int64_t nr)
{
    if (__atomic_load_n(&lh_gate.world_stopped, __ATOMIC_ACQUIRE)) {
        lh_repl_wait(tid, vcpu, nr);
    }
}

/* Front ends. */
const struct lh_repl_frontend *lh_repl_tty_open(char **msg);
const struct lh_repl_frontend *lh_repl_socket_open(const char *path, bool forked, char **msg);
/*
 * For a followed exec, whose new QEMU listens on this process's socket
 * again: PATH as given to repl=unix: (absolute; g_free it), and whether
 * this process listens on PATH.PID (forked from the one on PATH). NULL
 * without a socket.
 */
char *lh_repl_socket_path(bool *forked);

#endif
