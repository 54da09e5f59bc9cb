/*
 * luahook's own descriptors, out of the guest's reach (own_fds.h).
 *
 * Linux gives each thread the descriptor table it shares or unshares: the
 * keeping thread calls unshare(CLONE_FILES) and from then on has a table
 * no guest thread sees. Descriptors move between the two tables as
 * SCM_RIGHTS messages over an abstract Unix socket the keeping thread
 * listens on, which needs no descriptor in the guest's table beforehand.
 * A connection proves itself with a cookie luahook made for that transfer,
 * so another process (or a guest thread guessing the socket's name) gets
 * nothing.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "own_fds.h"
#include "threads.h"

struct job {
    void (*fn)(void *);
    void *arg;
};

static pthread_mutex_t turn = PTHREAD_MUTEX_INITIALIZER;  /* callers, one at a time */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;  /* guards posted, done */
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static struct job *posted;
static bool done;
static bool running;
static pthread_t keeper;
static int control_fd = -1;            /* in luahook's table */
static struct sockaddr_un control_addr;
static socklen_t control_len;

static void *keep_descriptors(void *started);

void lh_own_run(void (*fn)(void *), void *arg)
{
    struct job job = { fn, arg };

    if (!running || pthread_equal(pthread_self(), keeper)) {
        fn(arg);
        return;
    }
    pthread_mutex_lock(&turn);
    pthread_mutex_lock(&lock);
    posted = &job;
    done = false;
    pthread_cond_broadcast(&changed);
    while (!done) {
        pthread_cond_wait(&changed, &lock);
    }
    pthread_mutex_unlock(&lock);
    pthread_mutex_unlock(&turn);
}

static void serve(void)
{
    pthread_mutex_lock(&lock);
    for (;;) {
        struct job *job;

        while (!posted) {
            pthread_cond_wait(&changed, &lock);
        }
        job = posted;
        pthread_mutex_unlock(&lock);
        job->fn(job->arg);
        pthread_mutex_lock(&lock);
        posted = NULL;
        done = true;
        pthread_cond_broadcast(&changed);
    }
}

struct start {
    pthread_mutex_t lock;
    pthread_cond_t ready;
    bool finished;
    const char *failed;        /* what failed, or NULL */
    int error;
};

/* The socket descriptors cross: abstract, so it needs no file. */
static bool listen_for_transfers(void)
{
    struct sockaddr_un autobind = { .sun_family = AF_UNIX };

    control_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    control_len = sizeof(control_addr);
    /* an address of the family alone: the kernel picks an unused abstract name */
    return control_fd >= 0
           && bind(control_fd, (struct sockaddr *)&autobind, sizeof(sa_family_t)) == 0
           && listen(control_fd, 4) == 0
           && getsockname(control_fd, (struct sockaddr *)&control_addr, &control_len) == 0;
}

static void *keep_descriptors(void *arg)
{
    struct start *start = arg;
    const char *failed = NULL;

    if (unshare(CLONE_FILES) != 0) {
        failed = "unshare(CLONE_FILES)";
    } else {
        /* the copy of the guest's table it started with is not luahook's */
        syscall(SYS_close_range, 0U, ~0U, 0);
        if (!listen_for_transfers()) {
            failed = "its transfer socket";
        }
    }
    pthread_mutex_lock(&start->lock);
    start->failed = failed;
    start->error = errno;
    start->finished = true;
    pthread_cond_signal(&start->ready);
    pthread_mutex_unlock(&start->lock);
    if (!failed) {
        serve();
    }
    return NULL;
}

bool lh_own_start(char **msg)
{
    struct start start = {
        .lock = PTHREAD_MUTEX_INITIALIZER,
        .ready = PTHREAD_COND_INITIALIZER,
    };
    int err = lh_thread_start(&keeper, keep_descriptors, &start);

    if (err != 0) {
        *msg = g_strdup_printf("cannot start luahook's descriptor thread: %s", g_strerror(err));
        return false;
    }
    pthread_mutex_lock(&start.lock);
    while (!start.finished) {
        pthread_cond_wait(&start.ready, &start.lock);
    }
    pthread_mutex_unlock(&start.lock);
    if (start.failed) {
        pthread_join(keeper, NULL);
        *msg = g_strdup_printf("cannot keep luahook's descriptors apart (%s: %s)",
                               start.failed, g_strerror(start.error));
        return false;
    }
    pthread_detach(keeper);
    running = true;
    return true;
}

void lh_own_forked(void)
{
    /* only the forking thread lives on here: whatever the others held is void */
    pthread_mutex_init(&turn, NULL);
    pthread_mutex_init(&lock, NULL);
    pthread_cond_init(&changed, NULL);
    posted = NULL;
    running = false;
    control_fd = -1;
}

/* A transfer: who proves it is luahook's, and the descriptor that moves. */
struct transfer {
    uint64_t cookie;
    int fd;                    /* the one to send, or the one received */
};

/* One message: the cookie, and with it a descriptor when fd >= 0. */
static bool send_message(int sock, uint64_t cookie, int fd)
{
    char control[CMSG_SPACE(sizeof(int))] = { 0 };
    struct iovec iov = { &cookie, sizeof(cookie) };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1 };

    if (fd >= 0) {
        struct cmsghdr *c;

        m.msg_control = control;
        m.msg_controllen = sizeof(control);
        c = CMSG_FIRSTHDR(&m);
        c->cmsg_level = SOL_SOCKET;
        c->cmsg_type = SCM_RIGHTS;
        c->cmsg_len = CMSG_LEN(sizeof(int));
        memcpy(CMSG_DATA(c), &fd, sizeof(int));
    }
    return sendmsg(sock, &m, MSG_NOSIGNAL) == (ssize_t)sizeof(cookie);
}

/* Receives a message: its cookie, and the descriptor it carried (or -1). */
static bool receive_message(int sock, uint64_t *cookie, int *fd)
{
    char control[CMSG_SPACE(sizeof(int))];
    struct iovec iov = { cookie, sizeof(*cookie) };
    struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1,
                        .msg_control = control, .msg_controllen = sizeof(control) };
    struct cmsghdr *c;
    ssize_t n;

    do {
        n = recvmsg(sock, &m, MSG_CMSG_CLOEXEC);
    } while (n < 0 && errno == EINTR);
    *fd = -1;
    c = CMSG_FIRSTHDR(&m);
    if (n >= 0 && c && c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
        memcpy(fd, CMSG_DATA(c), sizeof(int));
    }
    return n == (ssize_t)sizeof(*cookie);
}

/*
 * On the keeping thread: the next connection that shows `t->cookie`;
 * strangers are hung up on. Its first message is left in *fd (-1 if none).
 */
static int accept_ours(const struct transfer *t, int *fd)
{
    for (;;) {
        int conn = accept4(control_fd, NULL, NULL, SOCK_CLOEXEC);
        uint64_t cookie;

        if (conn < 0) {
            if (errno == EINTR || errno == ECONNABORTED) {
                continue;
            }
            return -1;
        }
        if (receive_message(conn, &cookie, fd) && cookie == t->cookie) {
            return conn;
        }
        if (*fd >= 0) {
            close(*fd);
        }
        close(conn);
    }
}

static void receive_job(void *arg)
{
    struct transfer *t = arg;
    int fd;
    int conn = accept_ours(t, &fd);

    t->fd = fd;
    if (conn >= 0) {
        close(conn);
    }
}

static void send_job(void *arg)
{
    struct transfer *t = arg;
    int unused;
    int conn = accept_ours(t, &unused);

    if (conn >= 0) {
        send_message(conn, t->cookie, t->fd);
        close(conn);
    }
}

/* A connection to the keeping thread's socket, in the caller's table. */
static int connect_to_keeper(void)
{
    int sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (sock >= 0 && connect(sock, (struct sockaddr *)&control_addr, control_len) != 0) {
        close(sock);
        return -1;
    }
    return sock;
}

static uint64_t new_cookie(void)
{
    return ((uint64_t)g_random_int() << 32) | g_random_int();
}

int lh_own_adopt(int fd)
{
    struct transfer t = { new_cookie(), -1 };
    int sock;

    if (!running) {
        return fd;             /* no table of luahook's: it stays here */
    }
    sock = connect_to_keeper();
    /* the message waits in the connection until the keeper accepts it */
    if (sock < 0 || !send_message(sock, t.cookie, fd)) {
        if (sock >= 0) {
            close(sock);
        }
        close(fd);
        return -1;
    }
    close(fd);
    lh_own_run(receive_job, &t);
    close(sock);
    return t.fd;
}

int lh_own_fetch(int fd)
{
    struct transfer t = { new_cookie(), fd };
    uint64_t cookie;
    int sock, got = -1;

    if (!running) {
        return fcntl(fd, F_DUPFD_CLOEXEC, 0);
    }
    sock = connect_to_keeper();
    if (sock < 0 || !send_message(sock, t.cookie, -1)) {
        if (sock >= 0) {
            close(sock);
        }
        return -1;
    }
    lh_own_run(send_job, &t);
    if (!receive_message(sock, &cookie, &got) || cookie != t.cookie) {
        if (got >= 0) {
            close(got);
        }
        got = -1;
    }
    close(sock);
    return got;
}
