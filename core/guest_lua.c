/*
 * The guest primitives the runtime gets: memory and registers, as byte
 * strings. Lua decides what the bytes mean. The guest is reachable only
 * from a vCPU handling an event (QEMU asserts otherwise), so outside one
 * each primitive refuses with a reason instead.
 */
#include <string.h>

#include <lauxlib.h>

#include "guest_lua.h"
#include "state.h"

#define GUEST_ADDRESS_LIMIT 18446744073709551616.0 /* 2^64 */
#define UNREACHABLE "the guest is reachable only inside a hook"

static int fail(lua_State *L, const char *reason)
{
    lua_pushnil(L);
    lua_pushstring(L, reason);
    return 2;
}

/* NULL when the guest can be reached, else why not. */
static const char *unreachable(void)
{
    return lh_here->in_event ? NULL : UNREACHABLE;
}

static bool check_address(lua_State *L, int index, uint64_t *addr)
{
    lua_Number n = luaL_checknumber(L, index);

    if (n < 0 || n >= GUEST_ADDRESS_LIMIT || n != (lua_Number)(uint64_t)n) {
        return false;
    }
    *addr = (uint64_t)n;
    return true;
}

/*
 * A guest string is read in pieces of this many bytes, each within one
 * page: a path is short, the rest of its page may be four kilobytes.
 */
#define STRING_PIECE 128
#define GUEST_PAGE 4096        /* i386's and x86_64's */

int32_t lh_guest_read_string(uint64_t addr, char *buf, int32_t max)
{
    int32_t total = 0;

    if (unreachable()) {
        return LH_READ_UNREACHABLE;
    }
    while (total < max) {
        uint64_t at = addr + total;
        size_t n = GUEST_PAGE - at % GUEST_PAGE;
        const char *nul;

        n = MIN(n, MIN((size_t)STRING_PIECE, (size_t)(max - total)));
        if (!lh_core.guest->read(at, buf + total, n)) {
            return LH_READ_UNMAPPED;
        }
        nul = memchr(buf + total, 0, n);
        if (nul) {
            return (int32_t)(nul - buf);
        }
        total += (int32_t)n;
    }
    return max;
}

/* read(addr, len) -> bytes | nil, reason */
static int prim_read(lua_State *L)
{
    uint64_t addr;
    lua_Integer len = luaL_checkinteger(L, 2);
    char stack_buf[4096];
    char *buf = stack_buf;
    const char *reason = unreachable();

    if (!reason && !check_address(L, 1, &addr)) {
        reason = "not a guest address";
    } else if (!reason && len < 0) {
        reason = "negative length";
    } else if (!reason && (size_t)len > sizeof(stack_buf) && !(buf = g_try_malloc((size_t)len))) {
        reason = "out of memory";
    } else if (!reason && !lh_core.guest->read(addr, buf, (size_t)len)) {
        reason = "not mapped";
    }
    if (!reason) {
        lua_pushlstring(L, buf, (size_t)len);
    }
    if (buf != stack_buf) {
        g_free(buf);
    }
    return reason ? fail(L, reason) : 1;
}

/* write_mem(addr, bytes) -> true | nil, reason; all bytes or none */
static int prim_write_mem(lua_State *L)
{
    uint64_t addr;
    size_t len;
    const char *bytes = luaL_checklstring(L, 2, &len);
    const char *reason = unreachable();

    if (reason) {
        return fail(L, reason);
    }
    if (!check_address(L, 1, &addr)) {
        return fail(L, "not a guest address");
    }
    if (!lh_core.guest->write(addr, bytes, len)) {
        return fail(L, "not mapped");
    }
    lua_pushboolean(L, 1);
    return 1;
}

/* reg_read(name) -> bytes (little-endian) | nil, reason */
static int prim_reg_read(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    char buf[LH_REG_MAX_SIZE];
    const char *reason = unreachable();
    int size;

    if (reason) {
        return fail(L, reason);
    }
    size = lh_core.guest->reg_read(name, buf);
    if (size < 0) {
        return fail(L, "no such register");
    }
    lua_pushlstring(L, buf, (size_t)size);
    return 1;
}

/* reg_write(name, bytes) -> true | nil, reason */
static int prim_reg_write(lua_State *L)
{
    const char *name = luaL_checkstring(L, 1);
    size_t len;
    const char *bytes = luaL_checklstring(L, 2, &len);
    const char *reason = unreachable();

    if (reason) {
        return fail(L, reason);
    }
    if (!lh_core.guest->reg_write(name, bytes, len)) {
        return fail(L, "no such register");
    }
    lua_pushboolean(L, 1);
    return 1;
}

static void append_name(const char *name, void *opaque)
{
    lua_State *L = opaque;

    lua_pushstring(L, name);
    lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
}

/* reg_names() -> { name, ... } | nil, reason */
static int prim_reg_names(lua_State *L)
{
    const char *reason = unreachable();

    if (reason) {
        return fail(L, reason);
    }
    lua_newtable(L);
    lh_core.guest->reg_names(append_name, L);
    return 1;
}

void lh_guest_lua_register(lua_State *L)
{
    static const luaL_Reg fns[] = {
        { "read", prim_read },
        { "write_mem", prim_write_mem },
        { "reg_read", prim_reg_read },
        { "reg_write", prim_reg_write },
        { "reg_names", prim_reg_names },
        { NULL, NULL },
    };

    luaL_register(L, NULL, fns);
    /* why lh_guest_read_string failed, by its negative result */
    lua_newtable(L);
    lua_pushliteral(L, UNREACHABLE);
    lua_rawseti(L, -2, LH_READ_UNREACHABLE);
    lua_pushliteral(L, "not mapped");
    lua_rawseti(L, -2, LH_READ_UNMAPPED);
    lua_setfield(L, -2, "read_failures");
}
