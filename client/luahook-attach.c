/*
 * luahook-attach PATH: the REPL client for a guest run with
 * repl=unix:PATH. Attaching stops the guest at its next syscall; the
 * prompt then works as on the terminal (readline editing, history, tab
 * completion from the guest's Lua state); Ctrl-D detaches and the guest
 * continues. Without a terminal on stdin it reads plain lines, for scripts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <readline/history.h>
#include <readline/readline.h>

#include "core/repl_proto.h"

static int server = -1;
static char **matches;         /* the last completion answer, NULL-terminated */

static void die(const char *fmt, const char *arg)
{
    fprintf(stderr, "luahook-attach: ");
    fprintf(stderr, fmt, arg);
    fputc('\n', stderr);
    exit(1);
}

static void free_matches(void)
{
    for (size_t i = 0; matches && matches[i]; i++) {
        free(matches[i]);
    }
    free(matches);
    matches = NULL;
}

/* Asks the plugin for the completions of the line up to the cursor. */
static void fetch_matches(void)
{
    char type, *payload, *p;
    size_t len, n = 0;

    free_matches();
    if (!lh_frame_send(server, LH_FRAME_COMPLETE, rl_line_buffer, (size_t)rl_point)
        || !lh_frame_recv(server, &type, &payload, &len) || type != LH_FRAME_MATCHES) {
        return;
    }
    matches = calloc(len + 2, sizeof(char *));
    for (p = payload; matches && *p; ) {
        char *end = strchr(p, '\n');
        size_t word = end ? (size_t)(end - p) : strlen(p);

        matches[n++] = strndup(p, word);
        p += word + (end ? 1 : 0);
    }
    free(payload);
}

static char *match_generator(const char *text, int state)
{
    (void)text;
    if (state == 0) {
        fetch_matches();
    }
    return matches && matches[state] ? strdup(matches[state]) : NULL;
}

static char **complete(const char *text, int start, int end)
{
    (void)start;
    (void)end;
    rl_attempted_completion_over = 1;
    rl_completion_append_character = '\0';
    return rl_completion_matches(text, match_generator);
}

static char *read_plain_line(const char *prompt)
{
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;

    fputs(prompt, stdout);
    fflush(stdout);
    n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    if (n > 0 && line[n - 1] == '\n') {
        line[n - 1] = '\0';
    }
    fputs(line, stdout);      /* a transcript reads like a terminal session */
    fputc('\n', stdout);
    return line;
}

static int connect_to(const char *path)
{
    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    int fd;

    if (strlen(path) >= sizeof(addr.sun_path)) {
        die("%s: path too long for a socket", path);
    }
    strcpy(addr.sun_path, path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        fprintf(stderr, "luahook-attach: cannot connect to %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return fd;
}

int main(int argc, char **argv)
{
    bool interactive = isatty(STDIN_FILENO);
    char *history_path = NULL;

    if (argc != 2 || argv[1][0] == '-') {
        fprintf(stderr, "usage: luahook-attach PATH   (the guest runs with repl=unix:PATH)\n");
        return argc == 2 && !strcmp(argv[1], "--help") ? 0 : 2;
    }
    server = connect_to(argv[1]);
    if (interactive) {
        const char *home = getenv("HOME");

        rl_readline_name = "luahook";
        rl_attempted_completion_function = complete;
        rl_completer_word_break_characters = (char *)" \t\n\"'><=;|&{(,+-*/%^~[]#";
        if (getenv("LUAHOOK_HISTORY")) {
            history_path = strdup(getenv("LUAHOOK_HISTORY"));
        } else if (home) {
            history_path = malloc(strlen(home) + 32);
            sprintf(history_path, "%s/.luahook_history", home);
        }
        if (history_path && read_history(history_path) != 0) {
            write_history(history_path);
        }
    }
    for (;;) {
        char type, *payload, *line;
        size_t len;

        if (!lh_frame_recv(server, &type, &payload, &len)) {
            break;                    /* the guest ended */
        }
        if (type == LH_FRAME_OUTPUT) {
            fwrite(payload, 1, len, stdout);
            fflush(stdout);
        } else if (type == LH_FRAME_REFUSED) {
            fprintf(stderr, "luahook-attach: %s\n", payload);
            free(payload);
            return 1;
        } else if (type == LH_FRAME_PROMPT) {
            line = interactive ? readline(payload) : read_plain_line(payload);
            if (!line) {
                lh_frame_send(server, LH_FRAME_DETACH, "", 0);
                free(payload);
                break;
            }
            if (interactive && *line) {
                add_history(line);
                if (history_path) {
                    append_history(1, history_path);
                }
            }
            lh_frame_send(server, LH_FRAME_LINE, line, strlen(line));
            free(line);
        }
        free(payload);
    }
    close(server);
    return 0;
}
