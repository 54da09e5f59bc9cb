-- The turn counter of core/turns.c (see turns.h), through FFI: request(turn,
-- then, advance) asks this thread to wait once its event is done;
-- advance(), current() and reset(n) act at once. Declared once, for the
-- recorder and the replayer alike.
local ffi = require "ffi"
local context = require "luahook._core.context"

ffi.cdef(context.core.turns_cdef)

return {
    calls = ffi.cast("const struct lh_turns *", context.core.turns),
    --- No turn to wait for; as the turn to wait past, never (LH_TURN_NONE).
    NONE = 0xffffffff,
}
