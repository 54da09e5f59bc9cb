/*
 * The REPL's wire format between the plugin (repl=unix:PATH) and the
 * luahook-attach client: frames of one type byte, a 4-byte big-endian
 * length and that many bytes of payload. Shared by both programs.
 */
#ifndef LUAHOOK_REPL_PROTO_H
#define LUAHOOK_REPL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum {
    /* plugin -> client */
    LH_FRAME_OUTPUT = 'O',     /* text to show */
    LH_FRAME_PROMPT = 'P',     /* read a line with this prompt */
    LH_FRAME_MATCHES = 'M',    /* completion candidates, one per line */
    LH_FRAME_REFUSED = 'R',    /* why the plugin will not talk; it closes */
    /* client -> plugin */
    LH_FRAME_LINE = 'L',       /* a line the person entered */
    LH_FRAME_COMPLETE = 'C',   /* complete the end of this line */
    LH_FRAME_DETACH = 'D',     /* the client leaves; the guest continues */
};

#define LH_FRAME_MAX (16 * 1024 * 1024)

/* Writes one frame; false if the peer is gone. */
bool lh_frame_send(int fd, char type, const char *payload, size_t len);

/*
 * Reads one frame; the payload (NUL-terminated, free with free()) goes to
 * *payload. False at end of stream or on a malformed frame.
 */
bool lh_frame_recv(int fd, char *type, char **payload, size_t *len);

#endif
