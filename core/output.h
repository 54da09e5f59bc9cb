/*
 * luahook's own output stream (stderr by default), kept apart from the
 * guest's stdout. Buffered; flushed per write on a terminal. Callers hold
 * the core lock, except at start-up and exit when no vCPU runs Lua.
 */
#ifndef LUAHOOK_OUTPUT_H
#define LUAHOOK_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Opens the stream: the file `path` (created or truncated), or stderr when
 * path is NULL. On failure returns false with a message in *msg.
 */
bool lh_output_open(const char *path, char **msg);
/*
 * Takes over `fd` (inherited across a followed exec) as the stream; false,
 * with *msg, when it is not open.
 */
bool lh_output_adopt(int fd, char **msg);
/* The stream's descriptor, for a followed exec to hand over. */
int lh_output_fd(void);
/* Buffered; written out in whole lines (on a terminal, each at once). */
void lh_output_write(const char *s, size_t len);
void lh_output_flush(void);

/*
 * A message from luahook itself ("luahook: MSG"), always on stderr; pending
 * output is flushed first so the two stay in order.
 */
void lh_output_error(const char *msg);

#endif
