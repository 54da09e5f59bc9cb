/*
 * The unwinder's primitives for the Lua runtime (lua/luahook/modmap.lua and
 * lua/luahook/backtrace.lua): the module list, stack traces, symbols, and
 * what QEMU says about the program it loaded. libdwfl starts at the first
 * call, so a script that never asks costs nothing. Like the guest
 * primitives, each refuses outside an event.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <lauxlib.h>

#include "state.h"
#include "unwind.h"
#include "unwind_lua.h"

#define MAX_FRAMES 1024
#define UNREACHABLE "the guest is reachable only inside a hook"

static const char *arch_name;
static enum { NOT_STARTED, STARTED, FAILED } status;
static const char *start_error;

/* NULL when the unwinder can be used now, else why not. */
static const char *unusable(void)
{
    const struct lh_unwind_arch *arch;

    if (!lh_here->in_event) {
        return UNREACHABLE;
    }
    if (status == NOT_STARTED) {
        arch = lh_unwind_arch_find(arch_name);
        status = FAILED;
        start_error = "stack traces are not supported on this architecture";
        if (arch && lh_unwind_init(arch, &start_error)) {
            status = STARTED;
        }
    }
    return status == STARTED ? NULL : start_error;
}

static int fail(lua_State *L, const char *reason)
{
    lua_pushnil(L);
    lua_pushstring(L, reason);
    return 2;
}

static uint64_t check_address(lua_State *L, int index)
{
    lua_Number n = luaL_checknumber(L, index);

    luaL_argcheck(L, n >= 0 && n < 18446744073709551616.0 && n == (lua_Number)(uint64_t)n,
                  index, "not a guest address");
    return (uint64_t)n;
}

static void set_string(lua_State *L, const char *key, const char *value)
{
    if (value) {
        lua_pushstring(L, value);
        lua_setfield(L, -2, key);
    }
}

static void set_number(lua_State *L, const char *key, lua_Number value)
{
    lua_pushnumber(L, value);
    lua_setfield(L, -2, key);
}

/* A frame as a table: pc, module, symbol, offset, file, line, fp. */
static void push_frame(lua_State *L, const struct lh_frame *f)
{
    lua_createtable(L, 0, 7);
    set_number(L, "pc", (lua_Number)f->pc);
    set_string(L, "module", f->module);
    if (f->symbol) {
        /* without its version: "__libc_start_main", not "...@@GLIBC_2.34" */
        lua_pushlstring(L, f->symbol, strcspn(f->symbol, "@"));
        lua_setfield(L, -2, "symbol");
    }
    if (f->module) {
        set_number(L, "offset", (lua_Number)f->offset);
    }
    set_string(L, "file", f->file);
    if (f->file && f->line > 0) {
        set_number(L, "line", f->line);
    }
    if (f->guessed) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, "fp");
    }
}

/*
 * libdwfl's session is the process's: with parallel=1, states on several
 * threads would use it at once. Taken after a primitive has checked its
 * arguments (a Lua error there would leave it held).
 */
static GMutex unwind_lock;

/*
 * unwind_modules(list) -> { [i] = reason } | nil, reason
 * Replaces the module list: each entry { name=, path=, bias= } (an ELF
 * file) or { name=, image= } (an ELF image in guest memory at that
 * address). The result says which entries could not be used, and why.
 */
static int prim_unwind_modules(lua_State *L)
{
    const char *reason = unusable();
    int n;

    luaL_checktype(L, 1, LUA_TTABLE);
    if (reason) {
        return fail(L, reason);
    }
    g_mutex_lock(&unwind_lock);
    n = (int)lua_objlen(L, 1);
    lua_newtable(L);
    lh_unwind_begin();
    for (int i = 1; i <= n; i++) {
        const char *name, *path;

        lua_rawgeti(L, 1, i);
        lua_getfield(L, -1, "name");
        lua_getfield(L, -2, "path");
        lua_getfield(L, -3, "bias");
        lua_getfield(L, -4, "image");
        name = lua_tostring(L, -4);
        path = lua_tostring(L, -3);
        reason = !name ? "no name"
                 : path ? lh_unwind_report_file(name, path, (uint64_t)lua_tonumber(L, -2))
                 : lh_unwind_report_image(name, (uint64_t)lua_tonumber(L, -1));
        lua_pop(L, 5);
        if (reason) {
            lua_pushstring(L, reason);
            lua_rawseti(L, -2, i);
        }
    }
    lh_unwind_end();
    g_mutex_unlock(&unwind_lock);
    return 1;
}

/* backtrace(max) -> { frame, ... } | nil, reason */
static int prim_backtrace(lua_State *L)
{
    static struct lh_frame frames[MAX_FRAMES];
    lua_Integer max = luaL_checkinteger(L, 1);
    const char *reason = unusable();
    int n;

    if (reason) {
        return fail(L, reason);
    }
    g_mutex_lock(&unwind_lock);
    n = lh_unwind_backtrace(frames, (int)MIN(MAX(max, 0), MAX_FRAMES), &reason);
    if (n >= 0) {
        lua_createtable(L, n, 0);
        for (int i = 0; i < n; i++) {
            push_frame(L, &frames[i]);
            lua_rawseti(L, -2, i + 1);
        }
    }
    g_mutex_unlock(&unwind_lock);
    return n < 0 ? fail(L, reason) : 1;
}

/* resolve(addr) -> frame | nil, reason */
static int prim_resolve(lua_State *L)
{
    uint64_t addr = check_address(L, 1);
    const char *reason = unusable();
    struct lh_frame f;

    if (reason) {
        return fail(L, reason);
    }
    g_mutex_lock(&unwind_lock);
    lh_unwind_resolve(addr, false, &f);
    push_frame(L, &f);
    g_mutex_unlock(&unwind_lock);
    return 1;
}

/* probe_image(addr) -> soname ("" without one) | nil: an ELF header there? */
static int prim_probe_image(lua_State *L)
{
    uint64_t addr = check_address(L, 1);
    const char *reason = unusable();
    char soname[256];
    bool found;

    if (reason) {
        return fail(L, reason);
    }
    g_mutex_lock(&unwind_lock);
    found = lh_unwind_probe_image(addr, soname, sizeof(soname));
    g_mutex_unlock(&unwind_lock);
    if (!found) {
        return 0;
    }
    lua_pushstring(L, soname);
    return 1;
}

/* guest_program() -> { path=, start_code=, entry= } | nil, reason */
static int prim_guest_program(lua_State *L)
{
    char *path;
    uint64_t start_code, entry;

    if (!lh_here->in_event) {
        return fail(L, UNREACHABLE);
    }
    if (!lh_core.guest->program(&path, &start_code, &entry)) {
        return fail(L, "QEMU does not say which program it loaded");
    }
    lua_createtable(L, 0, 3);
    set_string(L, "path", path);
    set_number(L, "start_code", (lua_Number)start_code);
    set_number(L, "entry", (lua_Number)entry);
    g_free(path);
    return 1;
}

static const char *elf_type_name(GElf_Half type)
{
    switch (type) {
    case ET_EXEC:
        return "exec";
    case ET_DYN:
        return "dyn";
    default:
        return "other";
    }
}

/* A PT_LOAD segment as a table: vaddr, offset, filesz, exec. */
static void push_load(lua_State *L, const GElf_Phdr *ph)
{
    lua_createtable(L, 0, 4);
    set_number(L, "vaddr", (lua_Number)ph->p_vaddr);
    set_number(L, "offset", (lua_Number)ph->p_offset);
    set_number(L, "filesz", (lua_Number)ph->p_filesz);
    lua_pushboolean(L, (ph->p_flags & PF_X) != 0);
    lua_setfield(L, -2, "exec");
}

/* The interpreter a PT_INTERP segment names, or NULL. */
static const char *interpreter(Elf *elf, const GElf_Phdr *ph)
{
    size_t size;
    const char *file = elf_rawfile(elf, &size);

    if (!file || ph->p_filesz == 0 || ph->p_offset + ph->p_filesz > size
        || file[ph->p_offset + ph->p_filesz - 1] != 0) {
        return NULL;
    }
    return file + ph->p_offset;
}

/* elf_file's table for an open ELF file. */
static void push_elf(lua_State *L, Elf *elf, const GElf_Ehdr *ehdr)
{
    size_t phnum = 0;
    const char *interp = NULL;
    lua_Number dynamic = -1;

    lua_createtable(L, 0, 5);
    lua_pushstring(L, elf_type_name(ehdr->e_type));
    lua_setfield(L, -2, "type");
    set_number(L, "entry", (lua_Number)ehdr->e_entry);
    elf_getphdrnum(elf, &phnum);
    lua_newtable(L);
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;

        if (!gelf_getphdr(elf, (int)i, &ph)) {
            continue;
        }
        if (ph.p_type == PT_LOAD) {
            push_load(L, &ph);
            lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
        } else if (ph.p_type == PT_DYNAMIC) {
            dynamic = (lua_Number)ph.p_vaddr;
        } else if (ph.p_type == PT_INTERP) {
            interp = interpreter(elf, &ph);
        }
    }
    lua_setfield(L, -2, "loads");
    set_string(L, "interp", interp);
    if (dynamic >= 0) {
        set_number(L, "dynamic", dynamic);
    }
}

/*
 * elf_file(path) -> { type=, entry=, interp=, dynamic=, loads={...} } | nil, reason
 * What the ELF file at host `path` says about loading it: its type ("exec",
 * "dyn", "other"), entry point, interpreter, the address of its dynamic
 * section, and its PT_LOAD segments. Its descriptor is closed before this
 * returns, so the guest never sees it.
 */
static int prim_elf_file(lua_State *L)
{
    const char *path = luaL_checkstring(L, 1);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    Elf *elf;
    GElf_Ehdr ehdr;
    const char *reason = NULL;

    if (fd < 0) {
        return fail(L, g_strerror(errno));
    }
    elf_version(EV_CURRENT);
    elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &ehdr)) {
        reason = "not an ELF file";
    } else {
        push_elf(L, elf, &ehdr);
    }
    elf_end(elf);
    close(fd);
    return reason ? fail(L, reason) : 1;
}

void lh_unwind_lua_register(lua_State *L, const char *arch)
{
    static const luaL_Reg fns[] = {
        { "unwind_modules", prim_unwind_modules },
        { "backtrace", prim_backtrace },
        { "resolve", prim_resolve },
        { "probe_image", prim_probe_image },
        { "guest_program", prim_guest_program },
        { "elf_file", prim_elf_file },
        { NULL, NULL },
    };

    arch_name = g_strdup(arch);
    luaL_register(L, NULL, fns);
}
