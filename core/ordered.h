/*
 * Texts of several threads put in the order of the events that made them
 * (parallel=1): each thread places its texts, stamped with a clock every
 * CPU shares (ordered.c), in a ring of its own, without a lock; whoever next writes the
 * output stream out, holding its lock, merges every ring in stamp order.
 * What goes before a text is decided as it is merged, by luahook.order's
 * rule for lines that calls start at entry and end at return: a text that
 * continues the line still open is written as it is; otherwise the open
 * line is ended first (" <unfinished ...>"), then the text's lead comes
 * (its first-of-the-run form if nothing was written yet). core/output.c
 * holds the lock and owns the stream; this file never takes a lock.
 */
#ifndef LUAHOOK_ORDERED_H
#define LUAHOOK_ORDERED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What a text is, for the rule: filled by luahook.order (lh_output_place). */
struct lh_ordered_text {
    int32_t tid;               /* whose text */
    int32_t cont_tid;          /* the open line it continues, if any */
    int32_t cont_serial;       /* (0: it starts something new) */
    int32_t opens;             /* the serial of the line it leaves open, or 0 */
    const char *lead_first;    /* before it if it does not continue a line: */
    size_t lead_first_len;     /* when it is the run's first text */
    const char *lead;          /* and otherwise */
    size_t lead_len;
};

/* Where the rule keeps its state: luahook.order's page, shared with forks. */
void lh_ordered_use(int32_t *open_tid, int32_t *open_serial, int32_t *started,
                    const char *unfinished);

/*
 * Into this thread's ring, stamped now: false, placing nothing, when it
 * does not fit (the caller merges, then writes it at once: lh_ordered_write).
 */
bool lh_ordered_put(const struct lh_ordered_text *t, const char *text, size_t len);

/* Where merged texts go: the stream's buffer. */
typedef void (*lh_ordered_sink)(const char *s, size_t len);

/*
 * The stream's lock held: every ring's texts stamped up to now into
 * `sink`, in stamp order, each preceded as the rule says. Texts stamped
 * later stay for the next.
 */
void lh_ordered_merge(lh_ordered_sink sink);
/*
 * The lock held, after a merge: text `t` into `sink` as if stamped now;
 * with `ring_next`, this thread's next texts may wait in a ring (not on a
 * terminal, where each is written at once).
 */
void lh_ordered_write(lh_ordered_sink sink, const struct lh_ordered_text *t,
                      const char *text, size_t len, bool ring_next);

/* The lock held: this thread's ring, merged, is gone (its thread ends). */
void lh_ordered_thread_done(void);
/* In a forked child: the other threads' rings are the parent's to write. */
void lh_ordered_forked(void);

#endif
