/*
 * luahook's output stream, and the stderr its own messages go to. Trace
 * lines are many and short, so they are collected in a fixed buffer and
 * written in large chunks; on a terminal a person watches, so each write
 * goes out at once (a call's line started at its entry shows while the call
 * waits). The processes of a guest tree (forked, or started by a followed
 * exec, which is handed the stream) share it, so buffered writes hold whole
 * lines: another process's line never lands inside one of ours.
 *
 * Both descriptors are luahook's own (own_fds.h): the guest's dup2 over
 * fd 2, close_range or closing every descriptor it finds changes nothing
 * here. The keeping thread writes with every signal blocked, so a reader
 * that went away (EPIPE) raises no SIGPIPE in the guest: the stream just
 * stops, and the guest's fate is its own.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <glib.h>

#include "core.h"
#include "lock.h"
#include "ordered.h"
#include "output.h"
#include "own_fds.h"

#define OUTPUT_BUFFER_SIZE (64 * 1024)

struct stream {
    int fd;                    /* in luahook's table; -1 once it failed */
    bool pipe;                 /* a pipe or socket: see write_job */
};

static struct stream out = { 2, false }, err = { 2, false };
static bool out_immediate = true;
/*
 * What committing writes (parallel=1: any thread, under stream_lock) is
 * kept off the cache line of what every write reads (`shared`): sharing
 * one, each commit made every other core's next write wait for the line.
 */
static _Alignas(LH_CACHE_LINE) char out_buf[OUTPUT_BUFFER_SIZE];
static _Alignas(LH_CACHE_LINE) size_t out_len;
/* copies of both in the guest's table, made for a fork's child or an exec */
static int copy_out = -1, copy_err = -1;
/*
 * parallel=1: Lua states on several threads write at once. Each thread
 * writes into a buffer of its own, without a lock, and commits it to the
 * stream's buffer under stream_lock: at the end of each event, and when it
 * flushes. Texts luahook.order places (it orders texts across threads)
 * wait in the thread's ring instead (ordered.h), which every taking of
 * stream_lock first merges into the stream's buffer.
 */
static bool shared;
/* a lock.h word, alone on its line: waiters read it while others write */
static _Alignas(LH_CACHE_LINE) union {
    int word;
    char line[LH_CACHE_LINE];
} stream_lock;
struct own_text {
    char *buf;
    size_t len, cap;
};
static LH_THREAD_LOCAL struct own_text own_text;   /* this thread's, not yet committed */

void lh_output_share(void)
{
    shared = true;
}

void lh_output_forked(void)
{
    stream_lock.word = 0;          /* held across the fork by the parent's thread */
    lh_ordered_forked();
}

struct write_job {
    struct stream *stream;
    const char *s;
    size_t len;
};

/* On the keeping thread. An error ends the stream: nowhere to report it. */
static void write_all(struct stream *stream, const char *s, size_t len)
{
    while (len > 0 && stream->fd >= 0) {
        ssize_t n = write(stream->fd, s, len);

        if (n < 0) {
            if (errno != EINTR) {
                stream->fd = -1;
            }
            continue;
        }
        s += n;
        len -= (size_t)n;
    }
}

/*
 * On the keeping thread. A pipe keeps a write in one piece only up to
 * PIPE_BUF bytes, so there whole lines go out in writes of at most that
 * many (or one line, if longer): other processes' writes land between
 * lines, never inside one.
 */
static void write_job(void *arg)
{
    struct write_job *job = arg;
    const char *s = job->s;
    size_t len = job->len;

    while (job->stream->pipe && len > PIPE_BUF) {
        const char *end = memrchr(s, '\n', PIPE_BUF);
        size_t piece;

        if (!end) {
            end = memchr(s, '\n', len);
        }
        piece = end ? (size_t)(end - s) + 1 : len;
        write_all(job->stream, s, piece);
        s += piece;
        len -= piece;
    }
    write_all(job->stream, s, len);
}

static void write_stream(struct stream *stream, const char *s, size_t len)
{
    struct write_job job = { stream, s, len };

    if (len > 0 && stream->fd >= 0) {
        lh_own_run(write_job, &job);
    }
}

/* Makes `fd` (in the guest's table) the stream's: it moves to luahook's. */
static void take_stream(struct stream *stream, int fd)
{
    struct stat st;

    stream->pipe = fstat(fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode));
    stream->fd = lh_own_adopt(fd);
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
    if (fd >= 0) {
        take_stream(&out, fd);
    } else {
        out.fd = -1;
    }
    /* stderr as it was at start, for "luahook: ..." lines */
    if (path) {
        take_stream(&err, dup(2));
    } else {
        err = out;
    }
    return true;
}

bool lh_output_adopt(int out_fd, int err_fd, char **msg)
{
    if (fcntl(out_fd, F_GETFD) < 0 || (err_fd >= 0 && fcntl(err_fd, F_GETFD) < 0)) {
        *msg = g_strdup_printf("exec.out=%d, exec.err=%d: %s", out_fd, err_fd,
                               g_strerror(errno));
        return false;
    }
    out_immediate = isatty(out_fd);
    take_stream(&out, out_fd);
    if (err_fd >= 0) {
        take_stream(&err, err_fd);
    } else {
        err = out;
    }
    return true;
}

bool lh_output_pending(void)
{
    return __atomic_load_n(&out_len, __ATOMIC_RELAXED) > 0 || own_text.len > 0;
}

/* Writes the buffer's complete lines, keeping a last partial one. */
static void flush_lines(void)
{
    const char *end = memrchr(out_buf, '\n', out_len);
    size_t done = end ? (size_t)(end - out_buf) + 1 : 0;

    write_stream(&out, out_buf, done);
    memmove(out_buf, out_buf + done, out_len - done);
    out_len -= done;
}

static void flush_stream(void)
{
    write_stream(&out, out_buf, out_len);
    out_len = 0;
}

/* lh_output_write's rarer cases, out of its way: full buffer, long text, a terminal. */
static void __attribute__((noinline)) write_through(const char *s, size_t len)
{
    if (out_len + len > sizeof(out_buf)) {
        flush_lines();
        if (out_len + len > sizeof(out_buf)) {
            flush_stream();            /* a line longer than the buffer */
        }
    }
    if (len >= sizeof(out_buf)) {
        write_stream(&out, s, len);
        return;
    }
    memcpy(out_buf + out_len, s, len);
    out_len += len;
    if (out_immediate) {
        flush_stream();
    }
}

/* Room for `len` more bytes in this thread's buffer (parallel=1). */
static void __attribute__((noinline)) grow_own(size_t len)
{
    struct own_text *t = &own_text;

    t->cap = MAX(t->cap * 2, t->len + len + 4096);
    t->buf = g_realloc(t->buf, t->cap);
}

/* Into the stream's buffer: the usual text is one copy. */
static inline void append(const char *s, size_t len)
{
    if (out_len + len < sizeof(out_buf) && !out_immediate) {
        memcpy(out_buf + out_len, s, len);
        out_len += len;
    } else {
        write_through(s, len);
    }
}

/*
 * Trace lines come in several short pieces each: the usual piece is one
 * copy, into the stream's buffer or (parallel=1) this thread's.
 */
void lh_output_write(const char *s, size_t len)
{
    if (G_UNLIKELY(shared)) {
        struct own_text *t = &own_text;

        if (t->len + len > t->cap) {
            grow_own(len);
        }
        memcpy(t->buf + t->len, s, len);
        t->len += len;
    } else {
        append(s, len);
    }
}

/* This thread's text into the stream's buffer, stream_lock held. */
static void commit_held(void)
{
    struct own_text *t = &own_text;

    if (t->len > 0) {
        append(t->buf, t->len);
        t->len = 0;
    }
}

/* stream_lock, and the texts placed before now in the stream's buffer. */
static void take(void)
{
    lh_lock_word(&stream_lock.word);
    lh_ordered_merge(append);
}

void lh_output_commit(void)
{
    if (own_text.len > 0) {
        take();
        commit_held();
        lh_unlock_word(&stream_lock.word);
    }
}

void lh_output_place(int32_t tid, int32_t cont_tid, int32_t cont_serial, int32_t opens,
                     const char *lead_first, size_t lead_first_len, const char *lead,
                     size_t lead_len, bool at_once)
{
    struct lh_ordered_text t = { tid, cont_tid, cont_serial, opens,
                                 lead_first, lead_first_len, lead, lead_len };
    struct own_text *o = &own_text;

    if (!at_once && !out_immediate && lh_ordered_put(&t, o->buf, o->len)) {
        o->len = 0;
        return;
    }
    take();
    lh_ordered_write(append, &t, o->buf, o->len, !out_immediate);
    o->len = 0;
    lh_unlock_word(&stream_lock.word);
}

void lh_output_hold(bool on)
{
    if (on) {
        if (shared) {
            take();
            commit_held();
        }
        flush_stream();
    } else if (shared) {
        lh_unlock_word(&stream_lock.word);
    }
}

void lh_output_flush(void)
{
    lh_output_hold(true);
    lh_output_hold(false);
}

bool lh_output_try_flush(void)
{
    if (shared) {
        if (!lh_lock_word_try(&stream_lock.word)) {
            return false;
        }
        lh_ordered_merge(append);
        commit_held();
    }
    flush_stream();
    if (shared) {
        lh_unlock_word(&stream_lock.word);
    }
    return true;
}

void lh_output_thread_done(void)
{
    if (shared) {
        take();
        commit_held();
        lh_ordered_thread_done();
        lh_unlock_word(&stream_lock.word);
    }
    g_free(own_text.buf);
    own_text = (struct own_text){ NULL, 0, 0 };
}

void lh_output_error(const char *msg)
{
    GString *line = g_string_new("luahook: ");

    g_string_append(line, msg);
    g_string_append_c(line, '\n');
    lh_output_hold(true);
    write_stream(&err, line->str, line->len);
    lh_output_hold(false);
    g_string_free(line, true);
}

void lh_output_copies_make(int *out_fd, int *err_fd)
{
    copy_out = out.fd >= 0 ? lh_own_fetch(out.fd) : -1;
    copy_err = err.fd == out.fd ? -1 : err.fd >= 0 ? lh_own_fetch(err.fd) : -1;
    if (out_fd) {
        *out_fd = copy_out;
        *err_fd = copy_err;
    }
}

void lh_output_copies_drop(void)
{
    if (copy_err >= 0) {
        close(copy_err);
    }
    if (copy_out >= 0) {
        close(copy_out);
    }
    copy_out = copy_err = -1;
}

void lh_output_copies_adopt(void)
{
    bool shared = err.fd == out.fd;

    out.fd = copy_out >= 0 ? lh_own_adopt(copy_out) : -1;
    err.fd = shared ? out.fd : copy_err >= 0 ? lh_own_adopt(copy_err) : -1;
    copy_out = copy_err = -1;
}
