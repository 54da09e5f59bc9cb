/*
 * luahook's own output stream (stderr by default), kept apart from the
 * guest's stdout and out of its reach. Buffered; flushed per line on a
 * terminal. Callers hold the core lock (or, with parallel=1, see
 * lh_output_share), except at start-up and exit when no vCPU runs Lua.
 */
#ifndef LUAHOOK_OUTPUT_H
#define LUAHOOK_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Opens the stream: the file `path` (created or truncated), or stderr when
 * path is NULL; luahook's messages go to stderr as it is now, whatever the
 * guest later does with its fd 2. Call after lh_own_start, so both are
 * luahook's own. On failure returns false with a message in *msg.
 */
bool lh_output_open(const char *path, char **msg);
/*
 * Takes over `out_fd` (and `err_fd`, or -1 when stderr is the stream
 * itself), inherited across a followed exec, instead of opening anything:
 * out= is appended to, never truncated. Call after lh_own_start; false,
 * with *msg, when they are not open.
 */
bool lh_output_adopt(int out_fd, int err_fd, char **msg);
/*
 * parallel=1: several threads' Lua states write at once. Each thread's
 * writes wait in a buffer of its own until it commits them to the
 * stream's, whole, under a lock: at the end of each event (the core does),
 * on a flush, and when the thread ends (lh_output_thread_done).
 * lh_output_hold(true) flushes and keeps that lock (until hold(false)):
 * around a fork, whose child then frees it with lh_output_forked (its
 * thread is not the one that took it).
 */
void lh_output_share(void);
void lh_output_commit(void);
/*
 * luahook.order's texts across threads of one process (parallel=1): this
 * thread's writes since its last commit are one text, which waits in its
 * ring, stamped, to be merged into the stream in the order of the stamps,
 * preceded as ordered.h's rule says (the struct lh_ordered_text fields,
 * in order). `at_once` (the process is one of several) merges and writes
 * it now, under the lock, as a full ring or a terminal does.
 */
void lh_output_place(int32_t tid, int32_t cont_tid, int32_t cont_serial, int32_t opens,
                     const char *lead_first, size_t lead_first_len, const char *lead,
                     size_t lead_len, bool at_once);
void lh_output_thread_done(void);
void lh_output_hold(bool on);
void lh_output_forked(void);

/* A flush from a crash's handler: false, doing nothing, if the lock is taken. */
bool lh_output_try_flush(void);

/* Buffered; written out in whole lines (on a terminal, each at once). */
void lh_output_write(const char *s, size_t len);
void lh_output_flush(void);

/* Whether anything waits in the buffer (read without the lock). */
bool lh_output_pending(void);

/*
 * A message from luahook itself ("luahook: MSG"), always on stderr; pending
 * output is flushed first so the two stay in order.
 */
void lh_output_error(const char *msg);

/*
 * Copies of both descriptors in the guest's table (the core lock held,
 * output flushed): around a guest fork, for the child, which adopts them
 * into its own luahook table (the parent drops its copies); for a
 * followed exec, which hands them to the new QEMU (out_fd, err_fd: -1 when
 * stderr is the stream itself; NULL for a fork).
 */
void lh_output_copies_make(int *out_fd, int *err_fd);
void lh_output_copies_drop(void);
void lh_output_copies_adopt(void);

#endif
