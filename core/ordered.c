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
 * The placing thread sets `placing` with a plain store, and the merge
 * makes every thread pass a memory barrier (membarrier(2)) before it reads
 * them: where the barrier fell before a thread's store, its stamp comes
 * after the barrier, so after `now`; where after, the merge sees the store.
 * That saves a locked instruction per text. Without membarrier every
 * store is fenced instead, and the stamp waits for it.
 */
#include <sched.h>
#include <string.h>
#include <time.h>

#include <glib.h>

#include "core.h"
#include "lock.h"
#include "ordered.h"

/* Texts a thread can have waiting: a merge comes sooner when they fill it. */
#define RING_SIZE (64 * 1024)

/*
 * A text in a ring: this header, then the text, its first lead and its
 * lead, the whole rounded up to a multiple of the header's size. So a
 * record never wraps: where the next one would not fit before the ring's
 * end, a header with WRAP says to go on at the start; and the smallest gap
 * left at the end still holds that header.
 */
struct header {
    uint64_t stamp;
    int32_t tid, cont_tid, cont_serial, opens;
    uint16_t lead_first_len, lead_len;
    uint32_t text_len;
};
#define WRAP UINT16_MAX        /* in lead_first_len */
#define LEAD_MAX (WRAP - 1)

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
static size_t unfinished_len;

/*
 * Stamps: the TSC itself where the kernel's clock is made of it (its
 * clocksource is "tsc", which the kernel keeps only while the TSC is
 * invariant and the same on every CPU: CLOCK_MONOTONIC then promises
 * nothing more), else CLOCK_MONOTONIC: the vDSO's clock took 3.7% of
 * trace.lua's time on threads, the TSC read 2.6%. A text's stamp needs no
 * lfence (which keeps the read after every earlier instruction) where the
 * barrier orders it against a merge (above): and texts one thread makes
 * after another's (a lock handed over between them) are thousands of
 * instructions apart, more than a CPU runs ahead. The merge's `now` has
 * one, as has a stamp that a fenced `placing` must precede.
 */
static bool stamps_from_tsc;
/* Whether merges pass the barrier, so that `placing` needs no fence. */
static bool by_barrier;

static void choose_stamps(void)
{
#if defined(__x86_64__) || defined(__i386__)
    char *source = NULL;

    if (g_file_get_contents("/sys/devices/system/clocksource/clocksource0/current_clocksource",
                            &source, NULL, NULL)) {
        stamps_from_tsc = strcmp(g_strstrip(source), "tsc") == 0;
        g_free(source);
    }
#endif
}

/* `ordered`: taken only once every earlier instruction is done. */
static uint64_t stamp(bool ordered)
{
    struct timespec ts;

#if defined(__x86_64__) || defined(__i386__)
    if (stamps_from_tsc) {
        if (ordered) {
            __builtin_ia32_lfence();
        }
        return __builtin_ia32_rdtsc();
    }
#endif
    (void)ordered;             /* the vDSO's clock orders its own reads */
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void lh_ordered_use(int32_t *tid, int32_t *serial, int32_t *first_done, const char *text)
{
    open_tid = tid;
    open_serial = serial;
    started = first_done;
    g_free(unfinished);
    unfinished = g_strdup(text);
    unfinished_len = strlen(text);
    choose_stamps();
    by_barrier = lh_barrier_ready();
}

/* A record's room in a ring, header included. */
static size_t room(size_t payload)
{
    size_t h = sizeof(struct header);

    return (h + payload + h - 1) / h * h;
}

static struct header *header_at(struct ring *r, uint64_t at)
{
    return (struct header *)(r->data + at % RING_SIZE);
}

/* The rule: a text, its leads and what the open line then is. */
static void emit(lh_ordered_sink sink, const struct header *h, const char *text,
                 const char *lead_first, size_t lead_first_len, const char *lead, size_t lead_len)
{
    bool continues = h->cont_serial != 0 && *open_tid == h->cont_tid
                     && *open_serial == h->cont_serial;

    if (!continues) {
        if (*open_tid != 0 && unfinished_len > 0) {
            sink(unfinished, unfinished_len);
        }
        if (lead_first_len > 0 || lead_len > 0) {
            if (*started) {
                sink(lead, lead_len);
            } else {
                sink(lead_first, lead_first_len);
            }
            *started = 1;
        }
    }
    if (h->text_len > 0) {
        sink(text, h->text_len);
    }
    if (h->opens != 0) {
        *open_tid = h->tid;
        *open_serial = h->opens;
    } else if (*open_tid != 0) {
        *open_tid = 0;
    }
}

bool lh_ordered_put(const struct lh_ordered_text *t, const char *text, size_t len)
{
    struct ring *r = own;
    size_t need = room(len + t->lead_first_len + t->lead_len);
    size_t pos, gap;
    uint64_t at;
    struct header *h;
    char *p;

    if (!r || need > RING_SIZE / 2 || t->lead_first_len > LEAD_MAX || t->lead_len > LEAD_MAX) {
        return false;
    }
    at = r->tail;
    pos = at % RING_SIZE;
    gap = RING_SIZE - pos < need ? RING_SIZE - pos : 0;
    if (at + gap + need - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) > RING_SIZE) {
        return false;
    }
    /* seen by a merge before the stamp is taken: see the top */
    if (by_barrier) {
        __atomic_store_n(&r->placing, 1, __ATOMIC_RELAXED);
        __atomic_signal_fence(__ATOMIC_SEQ_CST);
    } else {
        __atomic_store_n(&r->placing, 1, __ATOMIC_SEQ_CST);
    }
    if (gap > 0) {
        header_at(r, at)->lead_first_len = WRAP;
        at += gap;
    }
    h = header_at(r, at);
    *h = (struct header){ stamp(!by_barrier), t->tid, t->cont_tid, t->cont_serial, t->opens,
                          (uint16_t)t->lead_first_len, (uint16_t)t->lead_len, (uint32_t)len };
    p = (char *)(h + 1);
    memcpy(p, text, len);
    if (t->lead_first_len > 0 || t->lead_len > 0) {
        memcpy(p + len, t->lead_first, t->lead_first_len);
        memcpy(p + len + t->lead_first_len, t->lead, t->lead_len);
    }
    __atomic_store_n(&r->tail, at + need, __ATOMIC_RELEASE);
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
 * Where a merge is in one ring: its next text (if `at` < `end`), up to the
 * tail it found once every thread had placed what it stamped.
 */
struct cursor {
    struct ring *r;
    uint64_t at, end;
    const struct header *h;
};
static struct cursor *cursors;   /* the merge's, the lock held */
static guint cursors_cap;

/* The cursor's next text, past a WRAP; NULL at the end. */
static void next_text(struct cursor *c)
{
    if (c->at < c->end && header_at(c->r, c->at)->lead_first_len == WRAP) {
        c->at += RING_SIZE - c->at % RING_SIZE;
    }
    c->h = c->at < c->end ? header_at(c->r, c->at) : NULL;
}

/*
 * Whether any of the `n` rings has a text, or a thread placing one; if
 * none, a text of a thread placing one unseen is as concurrent with the
 * caller's as can be, and either may come first. A merge then saves the
 * barrier: the stream's lock is taken for every other text too (a
 * terminal's, a stray `lh.out` at an event's end).
 */
static bool pending(guint n)
{
    for (guint i = 0; i < n; i++) {
        struct ring *r = g_ptr_array_index(rings, i);

        if (__atomic_load_n(&r->placing, __ATOMIC_RELAXED)
            || __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) != r->head) {
            return true;
        }
    }
    return false;
}

void lh_ordered_merge(lh_ordered_sink sink)
{
    guint n = rings ? rings->len : 0;
    uint64_t now;

    if (!pending(n)) {
        return;
    }
    now = stamp(true);
    /*
     * `placing` is read after the clock (see the top): on x86 a load may
     * run before an earlier rdtsc, which lfence waits for
     */
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_lfence();
#endif
    if (by_barrier) {
        lh_barrier_everywhere();
    } else {
        __atomic_thread_fence(__ATOMIC_SEQ_CST);
    }
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
        next_text(c);
    }
    for (;;) {
        struct cursor *best = NULL;
        const struct header *h;
        const char *text;

        for (guint i = 0; i < n; i++) {
            struct cursor *c = &cursors[i];

            if (c->h && c->h->stamp <= now && (!best || c->h->stamp < best->h->stamp)) {
                best = c;
            }
        }
        if (!best) {
            break;
        }
        h = best->h;
        text = (const char *)(h + 1);
        emit(sink, h, text, text + h->text_len, h->lead_first_len,
             text + h->text_len + h->lead_first_len, h->lead_len);
        best->at += room(h->text_len + h->lead_first_len + h->lead_len);
        next_text(best);
    }
    for (guint i = 0; i < n; i++) {
        __atomic_store_n(&cursors[i].r->head, cursors[i].at, __ATOMIC_RELEASE);
    }
}

void lh_ordered_write(lh_ordered_sink sink, const struct lh_ordered_text *t,
                      const char *text, size_t len, bool ring_next)
{
    struct header h = { 0, t->tid, t->cont_tid, t->cont_serial, t->opens, 0, 0, (uint32_t)len };

    emit(sink, &h, text, t->lead_first, t->lead_first_len, t->lead, t->lead_len);
    if (!own && ring_next) {
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
