/*
 * The REPL over a Unix socket (repl=unix:PATH) for luahook-attach. The
 * socket is created mode 0600 and never replaces a path we do not own. A
 * background thread accepts clients: one at a time; a client attaching
 * while the guest runs asks for a prompt at the next syscall, a second one
 * is refused with a message. A prompt with no client waits for one.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "output.h"
#include "repl.h"
#include "repl_proto.h"
#include "state.h"

static char *socket_path;
static pid_t socket_pid;       /* the process that opened it (not a forked child) */
static int listen_fd = -1;
static GMutex client_lock;
static GCond client_arrived;
static int client_fd = -1;

static void drop_client(void)
{
    g_mutex_lock(&client_lock);
    if (client_fd >= 0) {
        close(client_fd);
        client_fd = -1;
    }
    g_mutex_unlock(&client_lock);
}

static void refuse(int fd, const char *why)
{
    lh_frame_send(fd, LH_FRAME_REFUSED, why, strlen(why));
    close(fd);
}

static gpointer accept_loop(gpointer unused)
{
    (void)unused;
    for (;;) {
        int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);

        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            return NULL;
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

/*
 * Guest signals are the vCPU threads' business: QEMU's handlers expect to
 * run on one, so the accept thread starts with every signal blocked.
 */
static void start_accept_thread(void)
{
    sigset_t all, old;

    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    g_thread_unref(g_thread_new("luahook-repl", accept_loop, NULL));
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static int wait_for_client(void)
{
    int fd;
    bool announced = false;

    g_mutex_lock(&client_lock);
    while (client_fd < 0) {
        if (!announced) {
            char *msg = g_strdup_printf("waiting for a REPL client: luahook-attach %s", socket_path);

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

/* Output belongs to a prompt, which needs a client: wait for one. */
static void socket_write(const char *s, size_t len)
{
    if (!lh_frame_send(wait_for_client(), LH_FRAME_OUTPUT, s, len)) {
        drop_client();
    }
}

static void send_matches(int fd, const char *line)
{
    GPtrArray *matches = lh_repl_complete(line);
    GString *text = g_string_new(NULL);

    for (guint i = 0; i < matches->len; i++) {
        g_string_append_printf(text, "%s\n", (char *)g_ptr_array_index(matches, i));
    }
    lh_frame_send(fd, LH_FRAME_MATCHES, text->str, text->len);
    g_string_free(text, true);
    g_ptr_array_free(matches, true);
}

static char *socket_read_line(const char *prompt)
{
    int fd = wait_for_client();

    if (!lh_frame_send(fd, LH_FRAME_PROMPT, prompt, strlen(prompt))) {
        drop_client();
        return NULL;
    }
    for (;;) {
        char type, *payload;
        size_t len;

        if (!lh_frame_recv(fd, &type, &payload, &len)) {
            drop_client();             /* the client went away: detached */
            return NULL;
        }
        if (type == LH_FRAME_LINE) {
            char *line = g_strndup(payload, len);

            free(payload);
            return line;
        }
        if (type == LH_FRAME_COMPLETE) {
            send_matches(fd, payload);
            free(payload);
            continue;
        }
        free(payload);
        drop_client();                 /* LH_FRAME_DETACH, or nonsense */
        return NULL;
    }
}

static void socket_arm_interrupt(void)
{
}

static void socket_close(void)
{
    if (socket_path) {
        unlink(socket_path);
    }
}

const char *lh_repl_socket_path(void)
{
    return socket_path && getpid() == socket_pid ? socket_path : NULL;
}

static const struct lh_repl_frontend socket_frontend = {
    .kind = "unix",
    .read_line = socket_read_line,
    .write = socket_write,
    .arm_interrupt = socket_arm_interrupt,
    .close = socket_close,
};

/*
 * An existing path is reused only if it is a socket of ours that nobody
 * listens on any more (left by a run that died); anything else is refused.
 */
static bool claim_path(const char *path, char **msg)
{
    struct stat st;
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int probe;
    bool alive;

    if (lstat(path, &st) != 0) {
        return true;
    }
    if (!S_ISSOCK(st.st_mode) || st.st_uid != getuid()) {
        *msg = g_strdup_printf("repl=unix:%s: the path exists and is not a socket of ours; "
                               "refusing to replace it", path);
        return false;
    }
    strcpy(addr.sun_path, path);
    probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    alive = probe >= 0 && connect(probe, (struct sockaddr *)&addr, sizeof(addr)) == 0;
    if (probe >= 0) {
        close(probe);
    }
    if (alive) {
        *msg = g_strdup_printf("repl=unix:%s: another luahook is listening there", path);
        return false;
    }
    unlink(path);
    return true;
}

const struct lh_repl_frontend *lh_repl_socket_open(const char *path, char **msg)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    mode_t old_mask;
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        *msg = g_strdup_printf("repl=unix:%s: the path is too long for a socket (%zu bytes at most)",
                               path, sizeof(addr.sun_path) - 1);
        return NULL;
    }
    if (!claim_path(path, msg)) {
        return NULL;
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    old_mask = umask(0177);                /* born 0600: no window for others */
    if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 4) != 0) {
        umask(old_mask);
        *msg = g_strdup_printf("repl=unix:%s: %s", path, g_strerror(errno));
        if (fd >= 0) {
            close(fd);
        }
        return NULL;
    }
    umask(old_mask);
    listen_fd = fd;
    socket_path = g_strdup(path);
    socket_pid = getpid();
    start_accept_thread();
    return &socket_frontend;
}
