/*
 * The luahook command's options: parsing them into a struct invocation and
 * the --help text. Options stop at the program's name, so the program's own
 * options pass through untouched.
 */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd.h"
#include "invocation.h"

enum {
    OPT_BREAK = 256,
    OPT_REPL,
    OPT_QEMU,
    OPT_WATCH,
    OPT_NO_FOLLOW,
    OPT_PARALLEL,
    OPT_LIST_SYSCALLS,
};

static const struct option long_options[] = {
    { "script", required_argument, NULL, 's' },
    { "eval", required_argument, NULL, 'e' },
    { "output", required_argument, NULL, 'o' },
    { "arg", required_argument, NULL, 'a' },
    { "break", required_argument, NULL, OPT_BREAK },
    { "repl", required_argument, NULL, OPT_REPL },
    { "qemu", required_argument, NULL, OPT_QEMU },
    { "sysroot", required_argument, NULL, 'L' },
    { "watch", no_argument, NULL, OPT_WATCH },
    { "no-follow", no_argument, NULL, OPT_NO_FOLLOW },
    { "parallel", no_argument, NULL, OPT_PARALLEL },
    { "dry-run", no_argument, NULL, 'n' },
    { "list-syscalls", optional_argument, NULL, OPT_LIST_SYSCALLS },
    { "help", no_argument, NULL, 'h' },
    { "version", no_argument, NULL, 'V' },
    { NULL, 0, NULL, 0 },
};

/*
 * '+' keeps getopt from reordering, so options end at PROGRAM; ':' tells a
 * missing argument apart from an unknown option.
 */
static const char short_options[] = "+:s:e:o:a:L:nhV";

void print_help(void)
{
    fputs(
"usage: luahook [OPTIONS] [--] PROGRAM [ARGS...]\n"
"       luahook record -o FILE [OPTIONS] [--] PROGRAM [ARGS...]\n"
"       luahook replay [OPTIONS] [--] FILE PROGRAM [ARGS...]\n"
"       luahook attach PATH\n"
"       luahook --list-syscalls [ARCH]\n"
"\n"
"Runs PROGRAM (a Linux ELF program, or a #! script) under QEMU with the\n"
"luahook plugin, which hands its system calls to Lua hooks. The QEMU is\n"
"chosen for i386, x86_64, aarch64, arm (EABI5 hard-float), riscv64, mips\n"
"and mipsel (o32) programs; the plugin runs i386 and x86_64 ones so far.\n"
"Programs PROGRAM starts with execve run under luahook too.\n"
"\n"
"  -s, --script SCRIPT    run a Lua script; a name like 'trace' is a bundled\n"
"                         script, a path (with '/' or ending in .lua) a file\n"
"  -e, --eval CODE        run a line of Lua with the luahook API as globals:\n"
"                         -e 'on(\"openat\", function(sc) print(sc:string(2)) end)'\n"
"  -a, --arg KEY=VALUE    a script argument (luahook.args.KEY)\n"
"  -o, --output FILE      luahook's output goes to FILE instead of stderr\n"
"      --watch            reload a -s script when its file changes\n"
"      --no-follow        programs PROGRAM starts with execve run without\n"
"                         luahook (plugin argument follow_exec=0)\n"
"      --parallel         a Lua state per guest thread: hooks of different\n"
"                         threads run at once (plugin argument parallel=1)\n"
"      --break SYSCALL    open the REPL when the guest makes SYSCALL\n"
"      --repl tty|unix:PATH  where the REPL talks (see luahook attach)\n"
"      --qemu PATH        the qemu-ARCH binary, or the directory of them\n"
"  -L, --sysroot DIR      where QEMU finds a dynamic program's libraries\n"
"  -n, --dry-run          print the QEMU command line instead of running it\n"
"      --list-syscalls [ARCH]  print ARCH's syscall numbers and names\n"
"                         (i386, x86_64, aarch64, arm, riscv64, mips,\n"
"                         mipsel; default x86_64)\n"
"  -h, --help             this help\n"
"  -V, --version          luahook's version\n"
"\n"
"  record -o FILE         record the run into FILE (scripts/record.lua)\n"
"  replay FILE            run PROGRAM again as FILE recorded it, without its\n"
"                         inputs (scripts/replay.lua); -a partial=1 for a\n"
"                         recording cut short\n"
"  attach PATH            connect to a guest started with --repl unix:PATH\n"
"\n"
"Options may repeat, except -o, --repl, --qemu and -L. Scripts and -e code\n"
"run in the order given.\n"
"\n"
"Exit status: PROGRAM's own (128+N if signal N killed it), or\n"
"  1   QEMU or luahook refused to start (e.g. an error in a script)\n"
"  64  bad usage: unknown option, bad option value, no PROGRAM\n"
"  65  PROGRAM is not an ELF program of those architectures and ABIs\n"
"      (nor a #! script whose interpreter is one)\n"
"  66  PROGRAM or a script cannot be read\n"
"  69  QEMU, the plugin, or luahook-attach is missing\n"
"  70  replay: the program left the recording (the report says where)\n"
"\n"
"Environment: LUAHOOK_QEMU_DIR, the directory of qemu-i386 and qemu-x86_64.\n"
"See luahook(1).\n", stdout);
}

static _Noreturn void usage_error(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static void usage_error(const char *fmt, ...)
{
    char msg[512];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    lh_fail(EXIT_USAGE, "%s (see luahook --help)", msg);
}

static void check_script_arg(const char *kv)
{
    const char *eq = strchr(kv, '=');
    size_t key_len = eq ? (size_t)(eq - kv) : 0;

    if (!key_len || memchr(kv, ',', key_len)) {
        usage_error("-a %s: expected KEY=VALUE with a KEY without commas", kv);
    }
    if ((key_len == 6 && !strncmp(kv, "script", 6)) || (key_len == 3 && !strncmp(kv, "out", 3))) {
        usage_error("-a %s: use -s for scripts and -o for the output file", kv);
    }
    if (kv[0] == '_') {
        usage_error("-a %s: keys starting with '_' are the command's own", kv);
    }
}

static void check_repl(const char *spec)
{
    if (strcmp(spec, "tty") && (strncmp(spec, "unix:", 5) || !spec[5])) {
        usage_error("--repl %s: expected --repl tty or --repl unix:PATH", spec);
    }
}

/* --list-syscalls takes its ARCH as --list-syscalls=ARCH or the next word. */
static const char *list_syscalls_arch(int argc, char **argv)
{
    if (optarg) {
        return optarg;
    }
    if (optind < argc && argv[optind][0] != '-') {
        return argv[optind++];
    }
    return "x86_64";
}

static void set_once(const char **slot, const char *value, const char *option)
{
    if (*slot) {
        usage_error("%s given twice", option);
    }
    *slot = value;
}

static bool has_script_file(const struct invocation *inv)
{
    for (int i = 0; i < inv->n_sources; i++) {
        if (!inv->sources[i].is_code) {
            return true;
        }
    }
    return false;
}

void parse_invocation(int argc, char **argv, struct invocation *inv)
{
    const char *subcommand = NULL;
    int c;

    memset(inv, 0, sizeof(*inv));
    inv->action = ACTION_RUN;
    if (argc > 1 && !strcmp(argv[1], "attach")) {
        inv->action = ACTION_ATTACH;
        inv->rest = argv + 2;
        inv->n_rest = argc - 2;
        return;
    }
    if (argc > 1 && recording_subcommand(argv[1])) {
        subcommand = argv[1];
        argc--;
        argv++;
    }
    /* each option takes at most one argument: argc bounds every list */
    inv->sources = calloc((size_t)argc, sizeof(*inv->sources));
    inv->script_args = calloc((size_t)argc, sizeof(*inv->script_args));
    inv->breaks = calloc((size_t)argc, sizeof(*inv->breaks));
    if (!inv->sources || !inv->script_args || !inv->breaks) {
        lh_fail(EXIT_FAILURE, "out of memory");
    }
    opterr = 0;
    while ((c = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        switch (c) {
        case 's':
        case 'e':
            inv->sources[inv->n_sources].is_code = c == 'e';
            inv->sources[inv->n_sources++].text = optarg;
            break;
        case 'a':
            check_script_arg(optarg);
            inv->script_args[inv->n_script_args++] = optarg;
            break;
        case 'o':
            if (!*optarg) {
                usage_error("-o needs a file name");
            }
            set_once(&inv->out, optarg, "-o");
            break;
        case OPT_BREAK:
            if (!*optarg) {
                usage_error("--break needs a syscall name");
            }
            inv->breaks[inv->n_breaks++] = optarg;
            break;
        case OPT_REPL:
            check_repl(optarg);
            set_once(&inv->repl, optarg, "--repl");
            break;
        case OPT_QEMU:
            set_once(&inv->qemu, optarg, "--qemu");
            break;
        case 'L':
            set_once(&inv->sysroot, optarg, "-L");
            break;
        case OPT_WATCH:
            inv->watch = true;
            break;
        case OPT_NO_FOLLOW:
            inv->no_follow = true;
            break;
        case OPT_PARALLEL:
            inv->parallel = true;
            break;
        case 'n':
            inv->dry_run = true;
            break;
        case OPT_LIST_SYSCALLS:
            inv->action = ACTION_LIST_SYSCALLS;
            inv->arch = list_syscalls_arch(argc, argv);
            break;
        case 'h':
            inv->action = ACTION_HELP;
            break;
        case 'V':
            inv->action = ACTION_VERSION;
            break;
        case ':':
            usage_error("option %s needs an argument", argv[optind - 1]);
        default:
            if (optopt) {
                usage_error("unknown option -%c", optopt);
            }
            usage_error("unknown option %s", argv[optind - 1]);
        }
    }
    inv->rest = argv + optind;
    inv->n_rest = argc - optind;
    if (inv->action != ACTION_RUN) {
        if (inv->n_rest) {
            usage_error("unexpected argument %s", inv->rest[0]);
        }
        return;
    }
    if (subcommand) {
        recording_complete(inv, subcommand);
    }
    if (!inv->n_rest) {
        usage_error("no PROGRAM to run");
    }
    if (!inv->n_sources && !inv->n_breaks && !inv->repl) {
        usage_error("nothing to do: give a script (-s), code (-e), --break or --repl");
    }
    if (inv->watch && !has_script_file(inv)) {
        usage_error("--watch needs a script file (-s)");
    }
}
