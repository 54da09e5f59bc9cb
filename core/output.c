/*
 * luahook's output stream, and the stderr its own messages go to. Trace
 * lines are many and short, so they are collected in a fixed buffer and
 * written in large chunks; on a terminal a person watches, so each write
 * goes out at once.
 *
 * Both descriptors are luahook's own (own_fds.h): the guest's dup2 over
 * fd 2, close_range or closing every descriptor it finds changes nothing
 * here. The keeping thread writes with every signal blocked, so a reader
 * that went away (EPIPE) raises no SIGPIPE in the guest: the stream just
 * stops, and the guest's fate is its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "output.h"
#include "own_fds.h"

#define OUTPUT_BUFFER_SIZE (64 * 1024)

struct stream {
    int fd;                    /* in luahook's table; -1 once it failed */
};

static struct stream out = { 2 }, err = { 2 };
static bool out_immediate = true;
static char out_buf[OUTPUT_BUFFER_SIZE];
static size_t out_len;
/* copies of both in the guest's table, made for a fork's child */
static int fork_out = -1, fork_err = -1;

struct write_job {
    struct stream *stream;
    const char *s;
    size_t len;
};

/* On the keeping thread. An error ends the stream: nowhere to report it. */
static void write_all(void *arg)
{
    struct write_job *job = arg;
    const char *s = job->s;
    size_t len = job->len;

    while (len > 0 && job->stream->fd >= 0) {
        ssize_t n = write(job->stream->fd, s, len);

        if (n < 0) {
            if (errno != EINTR) {
                job->stream->fd = -1;
            }
            continue;
        }
        s += n;
        len -= (size_t)n;
    }
}

static void write_stream(struct stream *stream, const char *s, size_t len)
{
    struct write_job job = { stream, s, len };

    if (len > 0 && stream->fd >= 0) {
        lh_own_run(write_all, &job);
    }
}

bool lh_output_open(const char *path, char **msg)
{
    int fd = dup(2);

    if (path) {
        if (fd >= 0) {
            close(fd);
        }
        fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
        if (fd < 0) {
            *msg = g_strdup_printf("out=%s: %s", path, g_strerror(errno));
            return false;
        }
    }
    out_immediate = fd >= 0 && isatty(fd);
    out.fd = fd >= 0 ? lh_own_adopt(fd) : -1;
    /* stderr as it was at start, for "luahook: ..." lines */
    err.fd = path ? lh_own_adopt(dup(2)) : out.fd;
    return true;
}

bool lh_output_pending(void)
{
    return __atomic_load_n(&out_len, __ATOMIC_RELAXED) > 0;
}

void lh_output_flush(void)
{
    write_stream(&out, out_buf, out_len);
    out_len = 0;
}

void lh_output_write(const char *s, size_t len)
{
    if (out_len + len > sizeof(out_buf)) {
        lh_output_flush();
    }
    if (len >= sizeof(out_buf)) {
        write_stream(&out, s, len);
        return;
    }
    memcpy(out_buf + out_len, s, len);
    out_len += len;
    if (out_immediate) {
        lh_output_flush();
    }
}

void lh_output_error(const char *msg)
{
    GString *line = g_string_new("luahook: ");

    lh_output_flush();
    g_string_append(line, msg);
    g_string_append_c(line, '\n');
    write_stream(&err, line->str, line->len);
    g_string_free(line, true);
}

void lh_output_fork_prepare(void)
{
    fork_out = out.fd >= 0 ? lh_own_fetch(out.fd) : -1;
    fork_err = err.fd == out.fd ? fork_out : err.fd >= 0 ? lh_own_fetch(err.fd) : -1;
}

static void drop_fork_copies(void)
{
    if (fork_err >= 0 && fork_err != fork_out) {
        close(fork_err);
    }
    if (fork_out >= 0) {
        close(fork_out);
    }
    fork_out = fork_err = -1;
}

void lh_output_fork_parent(void)
{
    drop_fork_copies();
}

void lh_output_fork_child(void)
{
    bool shared = fork_err == fork_out;

    out.fd = fork_out >= 0 ? lh_own_adopt(fork_out) : -1;
    err.fd = shared ? out.fd : fork_err >= 0 ? lh_own_adopt(fork_err) : -1;
    fork_out = fork_err = -1;
}
