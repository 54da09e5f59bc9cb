/*
 * luahook record and luahook replay: a run with scripts/record.lua or
 * scripts/replay.lua, spelled as a command.
 *
 *   luahook record -o FILE [OPTIONS] PROGRAM [ARGS...]
 *   luahook replay [OPTIONS] FILE PROGRAM [ARGS...]
 *
 * The recorder goes first among the scripts, so that it sees every call
 * before another script answers it; the replayer last, so that the other
 * scripts' hooks see each call before it answers (luahook replay -s trace
 * traces the replayed run). The recording's file reaches the replayer
 * alone, as its own in=FILE (struct source's arg).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "invocation.h"

bool recording_subcommand(const char *word)
{
    return !strcmp(word, "record") || !strcmp(word, "replay");
}

/* Adds a bundled script at `at` (0: first, n_sources: last). */
static void add_source(struct invocation *inv, int at, const char *name, const char *arg)
{
    struct source *sources = calloc((size_t)inv->n_sources + 1, sizeof(*sources));

    if (!sources) {
        lh_fail(EXIT_FAILURE, "out of memory");
    }
    memcpy(sources, inv->sources, (size_t)at * sizeof(*sources));
    memcpy(sources + at + 1, inv->sources + at, (size_t)(inv->n_sources - at) * sizeof(*sources));
    sources[at] = (struct source){ .is_code = false, .text = name, .arg = arg };
    inv->sources = sources;
    inv->n_sources++;
}

void recording_complete(struct invocation *inv, const char *subcommand)
{
    const char *file;

    if (!strcmp(subcommand, "record")) {
        if (!inv->out) {
            lh_fail(EXIT_USAGE, "record needs the file to record into: "
                     "luahook record -o FILE PROGRAM [ARGS...] (see luahook --help)");
        }
        add_source(inv, 0, "record", NULL);
        return;
    }
    if (inv->n_rest < 2) {
        lh_fail(EXIT_USAGE, "replay needs a recording and a program: "
                 "luahook replay FILE PROGRAM [ARGS...] (see luahook --help)");
    }
    file = inv->rest[0];
    if (access(file, R_OK) != 0) {
        lh_fail(EXIT_NO_INPUT, "cannot read the recording %s: %s", file, strerror(errno));
    }
    inv->rest++;
    inv->n_rest--;
    add_source(inv, inv->n_sources, "replay", cmd_printf("in=%s", file));
}
