/*
 * Following the guest's execve (exec.h). When no hook answered an execve
 * or execveat, lua/luahook/_core/follow.lua asks exec_resolve whether the
 * kernel would run the program and what would run (core/binfmt.c, with
 * the arguments read from guest memory here), then, after the exit hooks,
 * exec_start replaces this QEMU with the QEMU for the new program's
 * architecture, loading this plugin with the same arguments
 * (exec_command.c). The guest gets the error the kernel would give, and
 * no exec happens, when resolving fails.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <lauxlib.h>

#include "binfmt.h"
#include "exec.h"
#include "exec_command.h"
#include "guest_lua.h"
#include "output.h"
#include "repl.h"
#include "state.h"

/* More arguments and variables than any stack limit leaves room for. */
#define MAX_STRINGS (1 << 21)
/* The longest argument or variable the kernel takes, NUL included. */
#define MAX_ARG_STRLEN (32 * 4096)

static struct lh_exec_setup setup;
static int start_dir_fd = -1;          /* the directory to go back to */
/* exec.close=: the program's descriptor the exec kept open for QEMU */
static int close_at_start = -1;

/* The exec exec_resolve found, for exec_start. */
static struct {
    bool ready;
    struct lh_binfmt_program prog;
    GPtrArray *envp;
    char *sysroot;
} pending;

/* The plugin's own file, as an absolute path (QEMU may have a relative one). */
static char *plugin_path(void)
{
    Dl_info info;

    if (!dladdr(&setup, &info) || !info.dli_fname) {
        return NULL;
    }
    return realpath(info.dli_fname, NULL);
}

void lh_exec_init(const struct lh_config *cfg)
{
    char *qemu = g_file_read_link("/proc/self/exe", NULL);

    setup.follow = cfg->follow_exec;
    setup.plugin_args = g_new0(char *, cfg->plugin_argc + 1);
    for (int i = 0; i < cfg->plugin_argc; i++) {
        setup.plugin_args[i] = g_strdup(cfg->plugin_argv[i]);
    }
    setup.plugin = plugin_path();
    setup.qemu_dir = qemu ? g_path_get_dirname(qemu) : NULL;
    g_free(qemu);
    setup.start_dir = cfg->exec_dir ? g_strdup(cfg->exec_dir) : g_get_current_dir();
    close_at_start = cfg->exec_close;
    if (cfg->exec_comm) {
        /* the kernel named the process after the QEMU binary: rename it as
         * it would have named the guest's program */
        prctl(PR_SET_NAME, cfg->exec_comm);
    }
    /*
     * Relative paths in the arguments are from where the first QEMU
     * started; should it be gone, they are tried from the guest's.
     */
    if (cfg->exec_dir) {
        start_dir_fd = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (start_dir_fd >= 0 && chdir(cfg->exec_dir) != 0) {
            close(start_dir_fd);
            start_dir_fd = -1;
        }
    }
}

void lh_exec_started(void)
{
    if (start_dir_fd >= 0) {
        if (fchdir(start_dir_fd) != 0) {
            lh_output_error("cannot return to the guest's working directory");
        }
        close(start_dir_fd);
        start_dir_fd = -1;
    }
}

void lh_exec_first_syscall(void)
{
    /* QEMU has loaded the program by now: the guest must not see it open */
    if (close_at_start >= 0) {
        close(close_at_start);
        close_at_start = -1;
    }
}

/*
 * The guest string at `addr` into a new buffer, at most `max` bytes with
 * its NUL: 0, EFAULT, or `too_long` when no NUL came in time.
 */
static int read_string(uint64_t addr, size_t max, int too_long, char **out)
{
    size_t size = 256, have = 0;
    char *buf = g_malloc(size);

    for (;;) {
        int32_t want = (int32_t)MIN(size, max) - (int32_t)have;
        int32_t n = lh_guest_read_string(addr + have, buf + have, want);

        if (n < 0) {
            g_free(buf);
            return EFAULT;
        }
        if (n < want) {
            *out = buf;
            return 0;
        }
        have += (size_t)n;
        if (have >= max) {
            g_free(buf);
            return too_long;
        }
        size *= 2;
        buf = g_realloc(buf, size);
    }
}

/* A guest pointer: the word at addr, in the guest's size and byte order. */
static bool read_pointer(uint64_t addr, uint64_t *value)
{
    unsigned char bytes[8];
    int n = lh_core.word_size;

    if (!lh_core.guest->read(addr, bytes, (size_t)n)) {
        return false;
    }
    *value = 0;
    for (int i = 0; i < n; i++) {
        *value |= (uint64_t)bytes[lh_core.big_endian ? n - 1 - i : i] << (8 * i);
    }
    return true;
}

/*
 * The NULL-terminated list of strings at guest `addr` (NULL: empty) into
 * `list`: 0, or the errno the kernel would give on meeting it (EFAULT,
 * E2BIG), the list then partial.
 */
static int read_list(uint64_t addr, GPtrArray *list)
{
    for (uint64_t at = addr; addr; at += (uint64_t)lh_core.word_size) {
        uint64_t pointer;
        char *s;
        int err;

        if (!read_pointer(at, &pointer)) {
            return EFAULT;
        }
        if (!pointer) {
            return 0;
        }
        if (list->len >= MAX_STRINGS) {
            return E2BIG;
        }
        err = read_string(pointer, MAX_ARG_STRLEN, E2BIG, &s);
        if (err) {
            return err;
        }
        g_ptr_array_add(list, s);
    }
    return 0;
}

static void forget_pending(void)
{
    if (pending.ready) {
        lh_binfmt_program_free(&pending.prog);
        g_ptr_array_free(pending.envp, true);
        g_free(pending.sysroot);
        pending.ready = false;
    }
}

/* nil, errno, why (a one-line reason, or nil) */
static int fail(lua_State *L, int err, const char *why)
{
    lua_pushnil(L);
    lua_pushinteger(L, err);
    if (why) {
        lua_pushstring(L, why);
    } else {
        lua_pushnil(L);
    }
    return 3;
}

static void push_result(lua_State *L, const struct lh_binfmt_program *prog)
{
    lua_createtable(L, 0, 3);
    lua_pushstring(L, prog->path);
    lua_setfield(L, -2, "path");
    lua_pushstring(L, prog->elf.arch);
    lua_setfield(L, -2, "arch");
    lua_newtable(L);
    for (int i = 0; prog->argv[i]; i++) {
        lua_pushstring(L, prog->argv[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "argv");
}

/*
 * Whether the new program can run here: the kernel's checks passed; what
 * is left is a QEMU and this plugin for its architecture, and the dynamic
 * loader it names (missing, the kernel's execve fails with ENOENT).
 */
static int check_runnable(const struct lh_binfmt_program *prog, const char *sysroot,
                          char **why)
{
    const char *arch = prog->elf.arch;
    g_autofree char *qemu = lh_exec_qemu_path(&setup, arch);

    if (!setup.plugin) {
        *why = g_strdup_printf("%s cannot be followed: the luahook plugin's own file is not "
                               "known", prog->path);
        return ENOEXEC;
    }
    if (!lh_arch_supported(arch)) {
        *why = g_strdup_printf("%s is an %s program, which the luahook plugin does not run "
                               "yet (it runs " LH_ARCHES " programs)", prog->path, arch);
        return ENOEXEC;
    }
    if (!qemu || access(qemu, X_OK) != 0) {
        *why = g_strdup_printf("%s is an %s program, but there is no qemu-%s beside this "
                               "QEMU (in %s)", prog->path, arch, arch,
                               setup.qemu_dir ? setup.qemu_dir : "an unknown directory");
        return ENOEXEC;
    }
    if (prog->elf.interp) {
        g_autofree char *in_root = sysroot ? g_strconcat(sysroot, prog->elf.interp, NULL) : NULL;

        if ((!in_root || access(in_root, R_OK) != 0) && access(prog->elf.interp, R_OK) != 0) {
            return ENOENT;
        }
    }
    return 0;
}

/*
 * The path at argument `arg`: read from the guest address given, or the
 * string given (a copy a hook judged), as read_string says.
 */
static int take_path(lua_State *L, int arg, char **out)
{
    size_t len;
    const char *given = lua_type(L, arg) == LUA_TSTRING ? lua_tolstring(L, arg, &len) : NULL;

    if (!given) {
        return read_string((uint64_t)luaL_checknumber(L, arg), PATH_MAX, ENAMETOOLONG, out);
    }
    if (len >= PATH_MAX) {
        return ENAMETOOLONG;
    }
    *out = g_strdup(given);
    return 0;
}

/* The list at argument `arg`: from the guest address given, or a list of strings, as read_list. */
static int take_list(lua_State *L, int arg, GPtrArray *list)
{
    if (lua_type(L, arg) != LUA_TTABLE) {
        return read_list((uint64_t)luaL_checknumber(L, arg), list);
    }
    for (int i = 1;; i++) {
        size_t len;
        const char *s;

        lua_rawgeti(L, arg, i);
        s = lua_tolstring(L, -1, &len);
        if (!s || list->len >= MAX_STRINGS || len >= MAX_ARG_STRLEN) {
            lua_pop(L, 1);
            return !s ? 0 : E2BIG;
        }
        g_ptr_array_add(list, g_strdup(s));
        lua_pop(L, 1);
    }
}

/*
 * exec_resolve(path, argv, envp, dirfd, flags, sysroot) -> { path, arch,
 * argv } | nil, errno, why: what the exec call would run, kept for
 * exec_start. path, argv and envp are the call's guest addresses, or the
 * strings themselves (a hook's copy); dirfd nil for execve.
 */
static int prim_exec_resolve(lua_State *L)
{
    g_autofree char *path = NULL, *self_exe = NULL, *why = NULL;
    struct lh_binfmt_failure failure = { 0 };
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    GPtrArray *envp = g_ptr_array_new_with_free_func(g_free);
    struct lh_binfmt_request req = {
        .dirfd = (int)luaL_optinteger(L, 4, AT_FDCWD),
        .flags = (int)luaL_checkinteger(L, 5),
    };
    uint64_t start, entry;
    int err;

    forget_pending();
    err = take_path(L, 1, &path);
    if (!err) {
        req.args_error = take_list(L, 2, argv);
        if (!req.args_error) {
            req.args_error = take_list(L, 3, envp);
        }
        g_ptr_array_add(argv, NULL);
        g_ptr_array_add(envp, NULL);
        req.path = path;
        req.argv = (char *const *)argv->pdata;
        req.envp = (char *const *)envp->pdata;
        if (lh_core.guest->program && lh_core.guest->program(&self_exe, &start, &entry)) {
            req.self_exe = self_exe;
        }
        err = lh_binfmt_resolve(&req, &pending.prog, &failure);
        why = g_strdup(failure.why);
        lh_binfmt_failure_free(&failure);
    }
    if (!err) {
        pending.ready = true;
        pending.envp = envp;
        envp = NULL;
        pending.sysroot = lh_exec_absolute(&setup, luaL_optstring(L, 6, NULL));
        err = check_runnable(&pending.prog, pending.sysroot, &why);
    }
    if (envp) {
        g_ptr_array_free(envp, true);
    }
    if (err) {
        forget_pending();
        return fail(L, err, why);
    }
    push_result(L, &pending.prog);
    return 1;
}

/* Clears `fd`'s close-on-exec flag: the new QEMU inherits it. */
static void inherit(int fd)
{
    int flags = fcntl(fd, F_GETFD);

    if (flags >= 0) {
        fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
    }
}

/*
 * exec_start(inherited) -> errno: replaces this QEMU with the exec
 * exec_resolve found (`inherited`: lh.inherited, { key = "value" }).
 * Returns only when the host's execve fails, or with 0, doing nothing,
 * when something asked to stop QEMU meanwhile (an exit hook's os.exit):
 * it stops once this event is done.
 */
static int prim_exec_start(lua_State *L)
{
    g_autoptr(GPtrArray) keep = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *repl_socket = NULL;
    struct lh_exec_target target = { .inherited = keep };
    struct lh_exec_command cmd;
    int nowhere, err;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (!pending.ready) {
        return luaL_error(L, "exec_start(): no exec was resolved");
    }
    if (lh_core.quit_request != LH_QUIT_NONE) {
        forget_pending();
        lua_pushinteger(L, 0);
        return 1;
    }
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -2) == LUA_TSTRING && lua_type(L, -1) == LUA_TSTRING) {
            g_ptr_array_add(keep, g_strdup_printf("%s=%s", lua_tostring(L, -2),
                                                  lua_tostring(L, -1)));
        }
        lua_pop(L, 1);
    }
    target.prog = &pending.prog;
    target.envp = (char **)pending.envp->pdata;
    target.sysroot = pending.sysroot;
    repl_socket = lh_repl_socket_path(&target.repl_forked);
    target.repl_socket = repl_socket;
    /*
     * luahook's descriptors are in a table the exec ends (own_fds.h):
     * copies in the guest's, for the new QEMU to take into its own. A
     * stream that failed hands over one that goes nowhere.
     */
    lh_output_copies_make(&target.out_fd, &target.err_fd);
    nowhere = target.out_fd < 0 ? open("/dev/null", O_WRONLY | O_CLOEXEC) : -1;
    if (nowhere >= 0) {
        target.out_fd = nowhere;
    }
    lh_exec_command_build(&cmd, &setup, &target);
    for (guint i = 0; i < cmd.dropped->len; i++) {
        g_autofree char *line = g_strdup_printf(
            "luahook: execve of %s: %s has a comma, which QEMU cannot pass to the new "
            "program (-E); it runs without it\n", pending.prog.path,
            (char *)g_ptr_array_index(cmd.dropped, i));

        lh_output_write(line, strlen(line));
    }
    lh_output_flush();
    inherit(target.out_fd);
    if (target.err_fd >= 0) {
        inherit(target.err_fd);
    }
    if (pending.prog.fd >= 0) {
        inherit(pending.prog.fd);
    }
    execve(cmd.argv[0], cmd.argv, cmd.envp);
    err = errno;
    lh_output_copies_drop();
    if (nowhere >= 0) {
        close(nowhere);
    }
    lh_exec_command_free(&cmd);
    forget_pending();
    lua_pushinteger(L, err);
    return 1;
}

void lh_exec_lua_register(lua_State *L)
{
    lua_pushcfunction(L, prim_exec_resolve);
    lua_setfield(L, -2, "exec_resolve");
    lua_pushcfunction(L, prim_exec_start);
    lua_setfield(L, -2, "exec_start");
    lua_pushboolean(L, setup.follow);
    lua_setfield(L, -2, "follow_exec");
}
