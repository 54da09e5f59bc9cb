/* Frame reading and writing for the REPL's socket protocol (repl_proto.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "repl_proto.h"

/* Sends (`out`) or reads all `len` bytes; false once the other end is gone. */
static bool move_all(int fd, char *p, size_t len, bool out)
{
    while (len > 0) {
        /* MSG_NOSIGNAL: a client that vanished must not SIGPIPE the guest */
        ssize_t n = out ? send(fd, p, len, MSG_NOSIGNAL) : read(fd, p, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        p += n;
        len -= (size_t)n;
    }
    return true;
}

static bool write_all(int fd, const void *buf, size_t len)
{
    return move_all(fd, (char *)buf, len, true);
}

static bool read_all(int fd, void *buf, size_t len)
{
    return move_all(fd, buf, len, false);
}

bool lh_frame_send(int fd, char type, const char *payload, size_t len)
{
    unsigned char head[5] = {
        (unsigned char)type,
        (unsigned char)(len >> 24), (unsigned char)(len >> 16),
        (unsigned char)(len >> 8), (unsigned char)len,
    };

    return len <= LH_FRAME_MAX && write_all(fd, head, sizeof(head))
           && write_all(fd, payload, len);
}

bool lh_frame_recv(int fd, char *type, char **payload, size_t *len)
{
    unsigned char head[5];
    size_t n;
    char *buf;

    if (!read_all(fd, head, sizeof(head))) {
        return false;
    }
    n = ((size_t)head[1] << 24) | ((size_t)head[2] << 16) | ((size_t)head[3] << 8) | head[4];
    if (n > LH_FRAME_MAX || !(buf = malloc(n + 1))) {
        return false;
    }
    if (!read_all(fd, buf, n)) {
        free(buf);
        return false;
    }
    buf[n] = '\0';
    *type = (char)head[0];
    *payload = buf;
    *len = n;
    return true;
}
