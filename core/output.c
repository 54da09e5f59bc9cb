/*
 * luahook's output stream. Trace lines are many and short, so they are
 * collected in a fixed buffer and written in large chunks; on a terminal a
 * person watches, so each line goes out at once. The processes of a guest
 * tree (forked, or started by a followed exec, which inherits the
 * descriptor) share the stream, so writes hold whole lines: another
 * process's line never lands inside one of ours.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "output.h"

#define OUTPUT_BUFFER_SIZE (64 * 1024)
/*
 * The highest descriptor of a process's initial table: the kernel grows
 * the table for a higher one, and in a process with threads (QEMU has an
 * RCU thread) growing it waits for an RCU grace period, 10-20 ms.
 */
#define OUTPUT_FD_FLOOR 63

static int out_fd = 2;
static bool out_immediate = true;
static bool out_pipe;          /* a pipe or socket: see flush_lines */
static char out_buf[OUTPUT_BUFFER_SIZE];
static size_t out_len;

static void write_fd(int fd, const char *s, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, s, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return;            /* nowhere left to report it; drop quietly */
        }
        s += n;
        len -= (size_t)n;
    }
}

static void set_stream(int fd)
{
    struct stat st;

    out_fd = fd;
    out_immediate = isatty(fd);
    out_pipe = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
}

/*
 * The stream gets its own descriptor, high and close-on-exec: a guest that
 * redirects its stderr (dup2 over fd 2) or closes it must not capture or
 * lose luahook's output, and exec'd programs must not inherit it.
 */
bool lh_output_open(const char *path, char **msg)
{
    int fd = 2;
    int high;

    if (path) {
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            *msg = g_strdup_printf("out=%s: %s", path, g_strerror(errno));
            return false;
        }
    }
    high = fcntl(fd, F_DUPFD_CLOEXEC, OUTPUT_FD_FLOOR);
    if (high >= 0) {
        if (fd != 2) {
            close(fd);
        }
        fd = high;
    }
    set_stream(fd);
    return true;
}

bool lh_output_adopt(int fd, char **msg)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags < 0) {
        *msg = g_strdup_printf("exec.out=%d: %s", fd, g_strerror(errno));
        return false;
    }
    fcntl(fd, F_SETFD, flags | FD_CLOEXEC);
    set_stream(fd);
    return true;
}

int lh_output_fd(void)
{
    return out_fd;
}

/*
 * Writes the buffer's complete lines, keeping a last partial one. A pipe
 * keeps a write in one piece only up to PIPE_BUF bytes, so there they go
 * out in writes of at most that many (or one line, if longer).
 */
static void flush_lines(void)
{
    size_t done = 0;

    for (;;) {
        size_t left = out_len - done;
        const char *start = out_buf + done;
        const char *end = memrchr(start, '\n', out_pipe ? MIN(left, PIPE_BUF) : left);

        if (!end && out_pipe) {
            end = memchr(start, '\n', left);
        }
        if (!end) {
            break;
        }
        write_fd(out_fd, start, (size_t)(end - start) + 1);
        done += (size_t)(end - start) + 1;
    }
    memmove(out_buf, out_buf + done, out_len - done);
    out_len -= done;
}

void lh_output_flush(void)
{
    write_fd(out_fd, out_buf, out_len);
    out_len = 0;
}

void lh_output_write(const char *s, size_t len)
{
    if (out_len + len > sizeof(out_buf)) {
        flush_lines();
        if (out_len + len > sizeof(out_buf)) {
            lh_output_flush();         /* a line longer than the buffer */
        }
    }
    if (len >= sizeof(out_buf)) {
        write_fd(out_fd, s, len);
        return;
    }
    memcpy(out_buf + out_len, s, len);
    out_len += len;
    if (out_immediate && memchr(s, '\n', len)) {
        flush_lines();
    }
}

void lh_output_error(const char *msg)
{
    static const char prefix[] = "luahook: ";

    lh_output_flush();
    write_fd(2, prefix, sizeof(prefix) - 1);
    write_fd(2, msg, strlen(msg));
    write_fd(2, "\n", 1);
}
