-- What the C core hands the runtime at boot: its primitives, the event
-- record, the want table and the guest's architecture. Filled once by
-- luahook._core.runtime, then read by the other modules.
local ffi = require "ffi"

local context = {}

---@param core table the primitives table built by core/engine.c
function context.init(core)
    ffi.cdef(core.event_cdef)
    ffi.cdef(core.calls_cdef)
    context.core = core
    context.arch = core.arch
    context.word_size = core.word_size
    context.big_endian = core.big_endian
    context.arg_count = core.arg_count
    -- bits of a want-table slot
    context.WANT_ENTRY, context.WANT_RETURN = core.wants.entry, core.wants["return"]
    context.WANT_FLUSH, context.WANT_REARM = core.wants.flush, core.wants.rearm
    context.WANT_ARGS = core.wants.args
    context.args = core.args
    context.inherited = core.inherited
    context.script = core.script
    context.event = ffi.cast("struct lh_event *", core.event)
    -- C functions to call through FFI (see struct lh_calls in core/contract.h)
    context.calls = ffi.cast("const struct lh_calls *", core.calls)
    context.want = ffi.cast("uint8_t *", core.want)
    context.nr_max = core.nr_max
end

local new_table = require "table.new"

-- Tables indexed by syscall number or vCPU index are read on every event:
-- made with an array part from index 0 on, a lookup in compiled code is a
-- bounds check and a load instead of a hash search.

--- An empty table for values by syscall number.
function context.by_nr()
    return new_table(context.nr_max, 0)
end

--- An empty table for values by vCPU index (more vCPUs still fit, slower).
function context.by_vcpu()
    return new_table(64, 0)
end

--- The runtime's own answers, which it puts here at boot (the modules
--- above it ask through here, so nothing requires the runtime back):
--- current() -> the syscall being dispatched, "entry" or "return" and the
--- result, nothing outside an event; stats() -> { entries, returns };
--- on_unwind(fn): fn() runs whenever a hook is cut short (set as the
--- runtime loads, before the facade exists: luahook.order and lh.shared
--- let go of their locks with it).
context.current, context.stats, context.on_unwind = nil, nil, nil

--- What os.exit raises to unwind the hook (or the script, or the prompt)
--- that called it: QEMU then exits once the event is done. Never reported.
context.EXIT = setmetatable({}, { __tostring = function() return "os.exit" end })

-- The answer that has QEMU make the guest's syscall instruction again, with
-- the registers as the hook left them (lh.AGAIN, docs/api.md): a value of
-- its own, so that a hook returning QEMU's own code by mistake is refused.
context.AGAIN = setmetatable({}, { __tostring = function() return "luahook.AGAIN" end })

return context
