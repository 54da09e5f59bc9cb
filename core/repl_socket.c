/*
 * The REPL over a Unix socket (repl=unix:PATH) for luahook-attach. The
 * socket is created mode 0600 and never replaces a path we do not own. A
 * background thread accepts clients: one at a time; a client attaching
 * while the guest runs asks for a prompt at the next syscall, a second one
 * is refused with a message. A prompt with no client waits for one.
 *
 * Every process that can stop has its own socket: a forked child listens
 * on PATH.PID, and each process removes only the socket it made. PATH is
 * resolved when QEMU starts (its directory is kept open), so the guest
 * changing directory changes nothing. The sockets are luahook's own
 * descriptors (own_fds.h): every operation on them runs on the keeping
 * thread, or on the accept thread, which shares its table.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "output.h"
#include "own_fds.h"
#include "repl.h"
#include "repl_proto.h"
#include "state.h"

static char *dir_path;         /* the socket's directory, absolute */
static char *given_name;       /* PATH's last component */
static char *socket_name;      /* this process's: given_name, or given_name.PID */
static char *shown_path;       /* dir_path/socket_name, for messages */
static int dir_fd = -1;        /* dir_path, in luahook's table */
static pid_t owner;            /* the process that made socket_name */
static int listen_fd = -1;
static GMutex client_lock;
static GCond client_arrived;
static int client_fd = -1;

/* The socket's path as seen from luahook's table: short, whatever dir_path. */
static bool address_of(struct sockaddr_un *addr)
{
    memset(addr, 0, sizeof(*addr));
    addr->sun_family = AF_UNIX;
    return snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/thread-self/fd/%d/%s",
                    dir_fd, socket_name) < (int)sizeof(addr->sun_path);
}

static void close_job(void *fd)
{
    close(*(int *)fd);
}

static void drop_client(void)
{
    g_mutex_lock(&client_lock);
    if (client_fd >= 0) {
        lh_own_run(close_job, &client_fd);
        client_fd = -1;
    }
    g_mutex_unlock(&client_lock);
}

static void refuse(int fd, const char *why)
{
    lh_frame_send(fd, LH_FRAME_REFUSED, why, strlen(why));
    close(fd);
}

/* On the accept thread, in luahook's table. */
static gpointer accept_loop(gpointer unused)
{
    (void)unused;
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0) {
            struct timespec pause = { 0, 100 * 1000 * 1000 };

            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            if (errno == EBADF || errno == EINVAL) {
                return NULL;   /* the socket is gone: nothing to accept */
            }
            /* out of descriptors or memory: this passes, so try again soon */
            nanosleep(&pause, NULL);
            continue;
        }
        g_mutex_lock(&client_lock);
        if (client_fd >= 0) {
            g_mutex_unlock(&client_lock);
            refuse(fd, "another client is attached to this guest");
            continue;
        }
        client_fd = fd;
        g_cond_broadcast(&client_arrived);
        g_mutex_unlock(&client_lock);
        /* a prompt already waiting for a client needs no second one */
        if (!__atomic_load_n(&lh_gate.world_stopped, __ATOMIC_ACQUIRE)) {
            lh_repl_request_stop(LH_STOP_ATTACH);
        }
    }
}

/* On the keeping thread, so that the accept thread shares luahook's table. */
static void start_accept_thread(void *unused)
{
    (void)unused;
    g_thread_unref(g_thread_new("luahook-repl", accept_loop, NULL));
}

static int wait_for_client(void)
{
    int fd;
    bool announced = false;

    g_mutex_lock(&client_lock);
    while (client_fd < 0) {
        if (!announced) {
            char *msg = g_strdup_printf("waiting for a REPL client: luahook-attach %s", shown_path);

            lh_output_error(msg);
            g_free(msg);
            announced = true;
        }
        g_cond_wait(&client_arrived, &client_lock);
    }
    fd = client_fd;
    g_mutex_unlock(&client_lock);
    return fd;
}

/* A frame to or from the client, on the keeping thread. */
struct frame_job {
    int fd;
    char type;
    const char *payload;       /* to send */
    char *received;            /* received, free() it */
    size_t len;
    bool ok;
};

static void send_job(void *arg)
{
    struct frame_job *job = arg;

    job->ok = lh_frame_send(job->fd, job->type, job->payload, job->len);
}

static void recv_job(void *arg)
{
    struct frame_job *job = arg;

    job->ok = lh_frame_recv(job->fd, &job->type, &job->received, &job->len);
}

static bool send_frame(int fd, char type, const char *payload, size_t len)
{
    struct frame_job job = { .fd = fd, .type = type, .payload = payload, .len = len };

    lh_own_run(send_job, &job);
    return job.ok;
}

/* Output belongs to a prompt, which needs a client: wait for one. Output
 * larger than a frame goes as several. */
static void socket_write(const char *s, size_t len)
{
    int fd = wait_for_client();

    do {
        size_t piece = MIN(len, (size_t)LH_FRAME_MAX);

        if (!send_frame(fd, LH_FRAME_OUTPUT, s, piece)) {
            drop_client();
            return;
        }
        s += piece;
        len -= piece;
    } while (len > 0);
}

static void send_matches(int fd, const char *line)
{
    GPtrArray *matches = lh_repl_complete(line);
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < matches->len; i++) {
        g_string_append_printf(text, "%s\n", (char *)g_ptr_array_index(matches, i));
    }
    send_frame(fd, LH_FRAME_MATCHES, text->str, MIN(text->len, (size_t)LH_FRAME_MAX));
    g_string_free(text, true);
    g_ptr_array_free(matches, true);
}

static char *socket_read_line(const char *prompt)
{
    int fd = wait_for_client();

    if (!send_frame(fd, LH_FRAME_PROMPT, prompt, strlen(prompt))) {
        drop_client();
        return NULL;
    }
    for (;;) {
        struct frame_job job = { .fd = fd };

        lh_own_run(recv_job, &job);
        if (!job.ok) {
            drop_client();             /* the client went away: detached */
            return NULL;
        }
        if (job.type == LH_FRAME_LINE) {
            char *line = g_strndup(job.received, job.len);

            free(job.received);
            return line;
        }
        if (job.type == LH_FRAME_COMPLETE) {
            send_matches(fd, job.received);
            free(job.received);
            continue;
        }
        free(job.received);
        drop_client();                 /* LH_FRAME_DETACH, or nonsense */
        return NULL;
    }
}

static void unlink_job(void *unused)
{
    (void)unused;
    unlinkat(dir_fd, socket_name, 0);
}

/* Each process removes the socket it made, never its parent's. */
static void socket_close(void)
{
    if (listen_fd >= 0 && getpid() == owner) {
        lh_own_run(unlink_job, NULL);
    }
}

struct listen_job {
    char *error;               /* g_free it */
};

/*
 * An existing path is reused only if it is a socket of ours that nobody
 * listens on any more (left by a run that died); anything else is refused.
 */
static bool claim_path(const struct sockaddr_un *addr, char **error)
{
    struct stat st;
    int probe;
    bool alive;

    if (fstatat(dir_fd, socket_name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        return true;
    }
    if (!S_ISSOCK(st.st_mode) || st.st_uid != getuid()) {
        *error = g_strdup_printf("repl=unix:%s: the path exists and is not a socket of ours; "
                                 "refusing to replace it", shown_path);
        return false;
    }
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    alive = probe >= 0 && connect(probe, (const struct sockaddr *)addr, sizeof(*addr)) == 0;
    if (probe >= 0) {
        close(probe);
    }
    if (alive) {
        *error = g_strdup_printf("repl=unix:%s: another luahook is listening there", shown_path);
        return false;
    }
    unlinkat(dir_fd, socket_name, 0);
    return true;
}

/* On the keeping thread: the listening socket, born 0600. */
static void listen_job(void *arg)
{
    struct listen_job *job = arg;
    struct sockaddr_un addr;
    mode_t old_mask;
    int fd;

    if (!address_of(&addr)) {
        job->error = g_strdup_printf("repl=unix:%s: the file name is too long for a socket",
                                     shown_path);
        return;
    }
    if (!claim_path(&addr, &job->error)) {
        return;
    }
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    old_mask = umask(0177);                /* born 0600: no window for others */
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 4) != 0) {
        job->error = g_strdup_printf("repl=unix:%s: %s", shown_path, g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
    } else {
        listen_fd = fd;
    }
    umask(old_mask);
}

/* Listens as this process (socket_name set), and starts accepting. */
static bool listen_here(char **msg)
{
    struct listen_job job = { NULL };

    g_free(shown_path);
    shown_path = g_build_filename(dir_path, socket_name, NULL);
    dir_fd = lh_own_adopt(open(dir_path, O_PATH | O_DIRECTORY | O_CLOEXEC));
    if (dir_fd < 0) {
        *msg = g_strdup_printf("repl=unix:%s: cannot open its directory: %s", shown_path,
                               g_strerror(errno));
        return false;
    }
    lh_own_run(listen_job, &job);
    if (job.error) {
        *msg = job.error;
        return false;
    }
    owner = getpid();
    lh_own_run(start_accept_thread, NULL);
    return true;
}

/* PATH.PID: the socket of a process forked from the one listening on PATH. */
static char *forked_name(void)
{
    return g_strdup_printf("%s.%ld", given_name, (long)getpid());
}

static void socket_forked(void)
{
    char *msg = NULL;

    /* the parent's socket, client and accept thread are the parent's */
    listen_fd = client_fd = dir_fd = -1;
    g_mutex_init(&client_lock);
    g_cond_init(&client_arrived);
    g_free(socket_name);
    socket_name = forked_name();
    if (!listen_here(&msg)) {
        lh_output_error(msg);
        g_free(msg);
    }
}

char *lh_repl_socket_path(bool *forked)
{
    if (!given_name || !dir_path) {
        return NULL;
    }
    *forked = strcmp(socket_name, given_name) != 0;
    return g_build_filename(dir_path, given_name, NULL);
}

static const struct lh_repl_frontend socket_frontend = {
    .kind = "unix",
    .read_line = socket_read_line,
    .write = socket_write,
    .close = socket_close,
    .forked = socket_forked,
};

const struct lh_repl_frontend *lh_repl_socket_open(const char *path, bool forked, char **msg)
{
    char *dir = g_path_get_dirname(path);
    char *resolved = realpath(dir, NULL);

    given_name = g_path_get_basename(path);
    socket_name = forked ? forked_name() : g_strdup(given_name);
    if (!resolved) {
        *msg = g_strdup_printf("repl=unix:%s: %s: %s", path, dir, g_strerror(errno));
        g_free(dir);
        return NULL;
    }
    g_free(dir);
    dir_path = g_strdup(resolved);
    free(resolved);
    return listen_here(msg) ? &socket_frontend : NULL;
}
