/*
 * Turns (turns.h): one counter per process, the number of turns taken so
 * far, which threads wait on with a futex. Lua, holding the core lock,
 * asks for a wait and passes turns on through FFI (struct lh_turns); the
 * waiting happens in lh_turns_wait, once the event is done and the lock
 * released, so waiting threads never hold up the others' hooks.
 */
#include <limits.h>
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <lauxlib.h>

#include "turns.h"

static uint32_t turn;
static uint32_t sleepers;      /* threads inside FUTEX_WAIT on turn */

LH_THREAD_LOCAL struct lh_turn_request lh_turn_request;

#define LH_TURNS_FIELDS                                                    \
    void (*request)(uint32_t turn, uint32_t then, int32_t advance);       \
    void (*advance)(void);                                                \
    uint32_t (*current)(void);                                            \
    void (*reset)(uint32_t turn);
struct lh_turns {
    LH_TURNS_FIELDS
};
#define LH_TURNS_CDEF "struct lh_turns { " G_STRINGIFY(LH_TURNS_FIELDS) " };"

static void wake_sleepers(void)
{
    if (__atomic_load_n(&sleepers, __ATOMIC_SEQ_CST)) {
        syscall(SYS_futex, &turn, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
    }
}

/* turns.advance(): the turn is taken; the next one may go. */
static void advance(void)
{
    __atomic_add_fetch(&turn, 1, __ATOMIC_SEQ_CST);
    wake_sleepers();
}

/* turns.current(): turns taken so far. */
static uint32_t current(void)
{
    return __atomic_load_n(&turn, __ATOMIC_SEQ_CST);
}

/* turns.reset(n): a forked child counts its own process's turns. */
static void reset(uint32_t n)
{
    __atomic_store_n(&turn, n, __ATOMIC_SEQ_CST);
    wake_sleepers();
}

/*
 * turns.request(turn, then, advance): once this event is done, wait until
 * `turn` turns were taken (unless it is LH_TURN_NONE), take this one if
 * `advance`, then wait until at least `then` were (LH_TURN_NONE: forever).
 * Asked inside an event only, by the thread that has it.
 */
static void request(uint32_t at, uint32_t then, int32_t take)
{
    lh_turn_request = (struct lh_turn_request){
        .pending = true, .advance = take != 0, .turn = at, .then = then,
    };
}

/* Sleeps until `done(turn)` holds. */
static void wait_until(bool (*done)(uint32_t now, uint32_t goal), uint32_t goal)
{
    for (;;) {
        uint32_t now = __atomic_load_n(&turn, __ATOMIC_SEQ_CST);

        if (done(now, goal)) {
            return;
        }
        __atomic_add_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
        /* the kernel compares turn with `now` again: no wake-up is lost */
        syscall(SYS_futex, &turn, FUTEX_WAIT_PRIVATE, now, NULL, NULL, 0);
        __atomic_sub_fetch(&sleepers, 1, __ATOMIC_SEQ_CST);
    }
}

static bool reached(uint32_t now, uint32_t goal)
{
    return now == goal;
}

static bool passed(uint32_t now, uint32_t goal)
{
    return now >= goal;
}

void lh_turns_wait(void)
{
    struct lh_turn_request r = lh_turn_request;

    lh_turn_request.pending = false;
    if (r.turn != LH_TURN_NONE) {
        wait_until(reached, r.turn);
    }
    if (r.advance) {
        advance();
    }
    wait_until(passed, r.then);
}

void lh_turns_lua_register(lua_State *L)
{
    static const struct lh_turns turns = {
        .request = request,
        .advance = advance,
        .current = current,
        .reset = reset,
    };

    lua_pushlightuserdata(L, (void *)&turns);
    lua_setfield(L, -2, "turns");
    lua_pushstring(L, LH_TURNS_CDEF);
    lua_setfield(L, -2, "turns_cdef");
}
