/*
 * Texts of several threads, stamped and merged in the order of their
 * events (ordered.h). Placing a text used to take the stream's lock and
 * copy it into the stream's buffer: with four threads on two cores a
 * fifth of trace.lua's time went to the lock word, the buffer's length
 * and its last lines moving from core to core on every line. A ring per
 * thread keeps a text on its own core until a merge reads many at once.
 *
 * A ring has one writer, its thread, and one reader, whoever merges (the
 * stream's lock held): the writer moves `tail`, the reader `head`. For the
 * merge to put texts in stamp order it must never write one stamped after
 * another that is yet to appear in a ring: so it takes `now` first, waits
 * for every thread that is placing a text at that moment (`placing`, set
 * before its stamp is taken), and writes only texts stamped up to `now`.
 * A thread that starts placing later stamps its text later than `now`.
 */
#include <sched.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "core.h"
#include "ordered.h"

/* Texts a thread can have waiting: a merge comes sooner when they fill it. */
#define RING_SIZE (64 * 1024)

/* A text in a ring, followed by its first lead, its lead and itself. */
struct header {
    uint64_t stamp;
    int32_t tid, cont_tid, cont_serial, opens;
    uint32_t lead_first_len, lead_len, text_len;
};

struct ring {
    uint64_t tail;             /* written by the thread */
    int placing;               /* the thread is between its stamp and `tail` */
    _Alignas(LH_CACHE_LINE) uint64_t head;   /* written by the merge */
    _Alignas(LH_CACHE_LINE) char data[RING_SIZE];
};

static LH_THREAD_LOCAL struct ring *own;
static GPtrArray *rings;       /* every thread's, changed with the lock held */

/* The rule's state: luahook.order's page once it says so. */
static int32_t no_page[3];
static int32_t *open_tid = &no_page[0], *open_serial = &no_page[1], *started = &no_page[2];
static char *unfinished;

void lh_ordered_use(int32_t *tid, int32_t *serial, int32_t *first_done, const char *text)
{
    open_tid = tid;
    open_serial = serial;
    started = first_done;
    g_free(unfinished);
    unfinished = g_strdup(text);
}

static uint64_t stamp(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Copies `len` bytes in at ring offset `at` (a count that only grows). */
static uint64_t copy_in(struct ring *r, uint64_t at, const void *s, size_t len)
{
    size_t pos = at % RING_SIZE, first = MIN(len, RING_SIZE - pos);

    memcpy(r->data + pos, s, first);
    memcpy(r->data, (const char *)s + first, len - first);
    return at + len;
}

/* A piece of text, in at most two parts (a ring wraps). */
struct span {
    const char *p[2];
    size_t n[2];
};

static struct span ring_span(struct ring *r, uint64_t at, size_t len)
{
    size_t pos = at % RING_SIZE, first = MIN(len, RING_SIZE - pos);

    return (struct span){ { r->data + pos, r->data }, { first, len - first } };
}

static struct span flat_span(const char *s, size_t len)
{
    return (struct span){ { s, NULL }, { len, 0 } };
}

static void put_span(lh_ordered_sink sink, struct span s)
{
    for (int i = 0; i < 2; i++) {
        if (s.n[i] > 0) {
            sink(s.p[i], s.n[i]);
        }
    }
}

/* The rule: a text, its leads and what the open line then is. */
static void emit(lh_ordered_sink sink, const struct header *h, struct span lead_first,
                 struct span lead, struct span text)
{
    bool continues = h->cont_serial != 0 && *open_tid == h->cont_tid
                     && *open_serial == h->cont_serial;

    if (!continues) {
        if (*open_tid != 0 && unfinished) {
            sink(unfinished, strlen(unfinished));
        }
        if (h->lead_first_len > 0 || h->lead_len > 0) {
            put_span(sink, *started ? lead : lead_first);
            *started = 1;
        }
    }
    put_span(sink, text);
    if (h->opens != 0) {
        *open_tid = h->tid;
        *open_serial = h->opens;
    } else if (*open_tid != 0) {
        *open_tid = 0;
    }
}

static struct header header_of(const struct lh_ordered_text *t, size_t len, uint64_t when)
{
    return (struct header){ when, t->tid, t->cont_tid, t->cont_serial, t->opens,
                            (uint32_t)t->lead_first_len, (uint32_t)t->lead_len, (uint32_t)len };
}

bool lh_ordered_put(const struct lh_ordered_text *t, const char *text, size_t len)
{
    struct ring *r = own;
    size_t need = sizeof(struct header) + t->lead_first_len + t->lead_len + len;
    struct header h;
    uint64_t at;

    if (!r || need > RING_SIZE) {
        return false;
    }
    /* seen by a merge before the stamp is taken: see the top */
    __atomic_store_n(&r->placing, 1, __ATOMIC_SEQ_CST);
    at = r->tail;
    if (at + need - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) > RING_SIZE) {
        __atomic_store_n(&r->placing, 0, __ATOMIC_RELEASE);
        return false;
    }
    h = header_of(t, len, stamp());
    at = copy_in(r, at, &h, sizeof(h));
    at = copy_in(r, at, t->lead_first, t->lead_first_len);
    at = copy_in(r, at, t->lead, t->lead_len);
    at = copy_in(r, at, text, len);
    __atomic_store_n(&r->tail, at, __ATOMIC_RELEASE);
    __atomic_store_n(&r->placing, 0, __ATOMIC_RELEASE);
    return true;
}

/*
 * Waits for a thread between its stamp and its text's place in the ring:
 * a copy, unless the thread lost its core meanwhile. This thread's own is
 * not waited for: a crash's handler may merge in the middle of a put.
 */
static void wait_placed(struct ring *r)
{
    for (int spins = 0; r != own && __atomic_load_n(&r->placing, __ATOMIC_SEQ_CST); spins++) {
        if (spins > 100) {
            sched_yield();
        }
    }
}

/*
 * Where a merge is in one ring: its next text's header (if `at` < `end`),
 * up to the tail it found once every thread had placed what it stamped.
 */
struct cursor {
    struct ring *r;
    uint64_t at, end;
    struct header h;
};
static struct cursor *cursors;   /* the merge's, the lock held */
static guint cursors_cap;

static void read_header(struct cursor *c)
{
    struct span s = ring_span(c->r, c->at, sizeof(c->h));

    memcpy(&c->h, s.p[0], s.n[0]);
    memcpy((char *)&c->h + s.n[0], s.p[1], s.n[1]);
}

void lh_ordered_merge(lh_ordered_sink sink)
{
    guint n = rings ? rings->len : 0;
    uint64_t now;

    if (n == 0) {
        return;
    }
    now = stamp();
    /*
     * `placing` is read after the clock (see the top): on x86 a load may
     * run before an earlier rdtsc, which lfence waits for
     */
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_lfence();
#endif
    __atomic_thread_fence(__ATOMIC_SEQ_CST);
    if (n > cursors_cap) {
        cursors_cap = n * 2;
        cursors = g_renew(struct cursor, cursors, cursors_cap);
    }
    for (guint i = 0; i < n; i++) {
        struct cursor *c = &cursors[i];

        c->r = g_ptr_array_index(rings, i);
        wait_placed(c->r);
        /* what is stamped up to now is in by now; anything later is later */
        c->at = c->r->head;
        c->end = __atomic_load_n(&c->r->tail, __ATOMIC_ACQUIRE);
        if (c->at < c->end) {
            read_header(c);
        }
    }
    for (;;) {
        struct cursor *best = NULL;
        const struct header *h;
        uint64_t at;

        for (guint i = 0; i < n; i++) {
            struct cursor *c = &cursors[i];

            if (c->at < c->end && c->h.stamp <= now && (!best || c->h.stamp < best->h.stamp)) {
                best = c;
            }
        }
        if (!best) {
            break;
        }
        h = &best->h;
        at = best->at + sizeof(*h);
        emit(sink, h, ring_span(best->r, at, h->lead_first_len),
             ring_span(best->r, at + h->lead_first_len, h->lead_len),
             ring_span(best->r, at + h->lead_first_len + h->lead_len, h->text_len));
        best->at = at + h->lead_first_len + h->lead_len + h->text_len;
        if (best->at < best->end) {
            read_header(best);
        }
    }
    for (guint i = 0; i < n; i++) {
        __atomic_store_n(&cursors[i].r->head, cursors[i].at, __ATOMIC_RELEASE);
    }
}

void lh_ordered_write(lh_ordered_sink sink, const struct lh_ordered_text *t,
                      const char *text, size_t len)
{
    struct header h = header_of(t, len, 0);

    emit(sink, &h, flat_span(t->lead_first, t->lead_first_len), flat_span(t->lead, t->lead_len),
         flat_span(text, len));
    if (!own) {
        /* this thread's next texts wait in a ring */
        own = g_aligned_alloc0(1, sizeof(*own), LH_CACHE_LINE);
        if (!rings) {
            rings = g_ptr_array_new();
        }
        g_ptr_array_add(rings, own);
    }
}

void lh_ordered_thread_done(void)
{
    if (own) {
        g_ptr_array_remove_fast(rings, own);
        g_aligned_free(own);
        own = NULL;
    }
}

void lh_ordered_forked(void)
{
    for (guint i = 0; rings && i < rings->len; i++) {
        if (g_ptr_array_index(rings, i) != own) {
            g_aligned_free(g_ptr_array_index(rings, i));
        }
    }
    if (rings) {
        g_ptr_array_set_size(rings, 0);
        if (own) {
            g_ptr_array_add(rings, own);
        }
    }
}
