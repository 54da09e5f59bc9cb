/*
 * The REPL on the controlling terminal (repl=tty): GNU readline on
 * /dev/tty, never the guest's stdin or stdout, with history kept across
 * runs and completion from the Lua REPL. Ctrl-C while the guest runs asks
 * for a prompt at its next syscall; a second Ctrl-C within a second acts
 * as it would have without luahook.
 *
 * /dev/tty is opened for each line read or written and closed after: a
 * prompt is open then, and no guest thread makes a syscall meanwhile, so
 * the guest never sees the descriptor nor can take its number.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "repl.h"
#include "signals.h"
#include "state.h"

static char *history_path;
static GPtrArray *pending_matches;     /* completion candidates being handed out */

static struct timespec last_sigint;

static char *match_generator(const char *text, int state)
{
    (void)text;
    if (state == 0) {
        char *line = g_strndup(rl_line_buffer, (gsize)rl_point);

        if (pending_matches) {
            g_ptr_array_free(pending_matches, true);
        }
        pending_matches = lh_repl_complete(line);
        g_free(line);
    }
    if ((guint)state >= pending_matches->len) {
        return NULL;
    }
    /* readline frees what it gets; the Lua REPL returns whole words */
    return strdup(g_ptr_array_index(pending_matches, state));
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;   /* no file-name fallback */
    rl_completion_append_character = '\0'; /* "sc:string" is followed by "(" */
    return rl_completion_matches(text, match_generator);
}

static FILE *open_tty(const char *mode)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    FILE *f = fd >= 0 ? fdopen(fd, mode) : NULL;

    if (fd >= 0 && !f) {
        close(fd);
    }
    return f;
}

static char *tty_read_line(const char *prompt)
{
    FILE *in = open_tty("r"), *out = open_tty("w");
    char *line, *copy;

    if (!in || !out) {
        if (in) {
            fclose(in);
        }
        if (out) {
            fclose(out);
        }
        return NULL;
    }
    rl_instream = in;
    rl_outstream = out;
    line = readline(prompt);
    if (!line) {
        fputc('\n', out);
    }
    fclose(in);
    fclose(out);
    if (!line) {
        return NULL;
    }
    if (*line) {
        add_history(line);
        if (history_path) {
            append_history(1, history_path);
        }
    }
    copy = g_strdup(line);
    free(line);
    return copy;
}

static void tty_write(const char *s, size_t len)
{
    FILE *out = open_tty("w");

    if (out) {
        fwrite(s, 1, len, out);
        fclose(out);
    }
}

static double elapsed_since(const struct timespec *then)
{
    struct timespec now;

    clock_gettime(CLOCK_MONOTONIC, &now);
    return (double)(now.tv_sec - then->tv_sec) + (now.tv_nsec - then->tv_nsec) / 1e9;
}

static _Noreturn void die_of_sigint(void)
{
    struct sigaction dfl = { .sa_handler = SIG_DFL };

    sigaction(SIGINT, &dfl, NULL);
    raise(SIGINT);             /* pending until this handler returns */
    sigset_t none;
    sigemptyset(&none);
    for (;;) {
        sigsuspend(&none);
    }
}

/*
 * Ctrl-C while the guest runs (lh_sigint_policy, from the SIGINT handler):
 * the first asks for a prompt at the next syscall, and goes no further.
 * The second within a second does what it would have done without
 * luahook; at an open prompt the guest cannot take a signal, so it ends
 * QEMU here, with the terminal put back as readline found it.
 */
static bool tty_on_sigint(void)
{
    bool second = last_sigint.tv_sec != 0 && elapsed_since(&last_sigint) < 1.0;
    bool prompt_open = __atomic_load_n(&lh_gate.world_stopped, __ATOMIC_ACQUIRE);

    clock_gettime(CLOCK_MONOTONIC, &last_sigint);
    if (!second) {
        if (!prompt_open) {
            lh_repl_request_stop(LH_STOP_INTERRUPT);
        }
        return false;
    }
    if (prompt_open) {
        rl_deprep_terminal();
        die_of_sigint();
    }
    lh_repl_request_stop(LH_STOP_NONE);    /* the first one's prompt, no more */
    return true;
}

static const struct lh_repl_frontend tty_frontend = {
    .kind = "tty",
    .read_line = tty_read_line,
    .write = tty_write,
};

const struct lh_repl_frontend *lh_repl_tty_open(char **msg)
{
    int fd = open("/dev/tty", O_RDWR | O_CLOEXEC);
    const char *home = getenv("HOME");
    const char *env_history = getenv("LUAHOOK_HISTORY");

    if (fd < 0) {
        *msg = g_strdup_printf("repl=tty: no terminal to talk on (/dev/tty: %s); "
                               "use repl=unix:PATH and luahook-attach", g_strerror(errno));
        return NULL;
    }
    close(fd);                 /* it is there: each prompt line opens it again */
    lh_sigint_policy = tty_on_sigint;
    rl_readline_name = "luahook";
    /* QEMU owns the signal handlers; readline must not replace them */
    rl_catch_signals = 0;
    rl_catch_sigwinch = 0;
    rl_attempted_completion_function = complete;
    /* "sc.na" and "sc:str" complete as one word */
    rl_completer_word_break_characters = (char *)" \t\n\"'><=;|&{(,+-*/%^~[]#";
    if (env_history && *env_history) {
        history_path = g_strdup(env_history);
    } else if (home && *home) {
        history_path = g_build_filename(home, ".luahook_history", NULL);
    }
    if (history_path && read_history(history_path) != 0) {
        write_history(history_path);    /* append_history needs the file to exist */
    }
    return &tty_frontend;
}
