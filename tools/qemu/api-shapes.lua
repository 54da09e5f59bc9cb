-- Derives qemu-plugin.h headers of upstream QEMU's later plugin API shapes
-- from the reference QEMU's header (API 5 with the syscall filter
-- backported), so that the glue can be compiled and unit-tested against
-- them here, where upstream QEMU cannot be fetched. It changes only what
-- luahook and bench/floor.c use, with the signatures upstream published
-- (docs/internals.md, "Other QEMUs", says where each was read):
--
--   6        QEMU 11.0: qemu_plugin_read_register and _write_register
--            return bool instead of a byte count
--   7-early  API 7 half-way, as upstream's header was at one commit:
--            qemu_plugin_udata_cb_t (the atexit callback) lost the plugin
--            id, the syscall callbacks not yet
--   7        QEMU 11.1: besides, every syscall callback drops the plugin id
--            and takes the registration's userdata last, the filter's
--            result is int64_t *, and each register function takes that
--            userdata
--
-- Usage: luajit tools/qemu/api-shapes.lua SHAPE REFERENCE_HEADER OUT_DIR
-- writes OUT_DIR/qemu-plugin.h. Every change must apply exactly once, so a
-- reference header that no longer looks as expected stops it with a line.

local SYSCALL_ARGS = "int64_t num, uint64_t a1, uint64_t a2, uint64_t a3, uint64_t a4, "
    .. "uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8"

-- Each change: { what, Lua pattern, replacement }.
local CHANGES = {
    registers_bool = {
        { "read_register's result", "\nint(%s+qemu_plugin_read_register%()", "\nbool%1" },
        { "write_register's result", "\nint(%s+qemu_plugin_write_register%()", "\nbool%1" },
    },
    udata_callback = {
        { "qemu_plugin_udata_cb_t", "%(%*qemu_plugin_udata_cb_t%)%([^)]*%)",
          "(*qemu_plugin_udata_cb_t)(void *userdata)" },
    },
    syscall_callbacks = {
        { "qemu_plugin_vcpu_syscall_cb_t", "%(%*qemu_plugin_vcpu_syscall_cb_t%)%([^)]*%)",
          "(*qemu_plugin_vcpu_syscall_cb_t)(unsigned int vcpu_index, " .. SYSCALL_ARGS
              .. ", void *userdata)" },
        { "qemu_plugin_vcpu_syscall_ret_cb_t", "%(%*qemu_plugin_vcpu_syscall_ret_cb_t%)%([^)]*%)",
          "(*qemu_plugin_vcpu_syscall_ret_cb_t)(unsigned int vcpu_index, int64_t num, "
              .. "int64_t ret, void *userdata)" },
        { "qemu_plugin_vcpu_syscall_filter_cb_t",
          "%(%*qemu_plugin_vcpu_syscall_filter_cb_t%)%([^)]*%)",
          "(*qemu_plugin_vcpu_syscall_filter_cb_t)(unsigned int vcpu_index, " .. SYSCALL_ARGS
              .. ", int64_t *sysret, void *userdata)" },
        { "qemu_plugin_register_vcpu_syscall_cb",
          "(qemu_plugin_register_vcpu_syscall_cb%(qemu_plugin_id_t id,[^)]*)%)",
          "%1, void *userdata)" },
        { "qemu_plugin_register_vcpu_syscall_ret_cb",
          "(qemu_plugin_register_vcpu_syscall_ret_cb%(qemu_plugin_id_t id,[^)]*)%)",
          "%1, void *userdata)" },
        { "qemu_plugin_register_vcpu_syscall_filter_cb",
          "(qemu_plugin_register_vcpu_syscall_filter_cb%(qemu_plugin_id_t id,[^)]*)%)",
          "%1, void *userdata)" },
    },
}

local SHAPES = {
    ["6"] = { version = 6, "registers_bool" },
    ["7-early"] = { version = 7, "registers_bool", "udata_callback" },
    ["7"] = { version = 7, "registers_bool", "udata_callback", "syscall_callbacks" },
}

local function fail(msg)
    io.stderr:write("api-shapes: ", msg, "\n")
    os.exit(1)
end

local shape_name, reference, out_dir = ...
local shape = SHAPES[shape_name or ""]
if not (shape and reference and out_dir) then
    fail("usage: luajit tools/qemu/api-shapes.lua 6|7-early|7 REFERENCE_HEADER OUT_DIR")
end

local f = io.open(reference, "rb") or fail("cannot read " .. reference)
local text = f:read("*a")
f:close()

local function apply(what, pattern, replacement)
    local n
    text, n = text:gsub(pattern, replacement)
    if n ~= 1 then
        fail(("%s: %s matched %d times, expected once"):format(reference, what, n))
    end
end

apply("QEMU_PLUGIN_VERSION", "#define QEMU_PLUGIN_VERSION %d+",
      "#define QEMU_PLUGIN_VERSION " .. shape.version)
for _, group in ipairs(shape) do
    for _, change in ipairs(CHANGES[group]) do
        apply(change[1], change[2], change[3])
    end
end

local out = io.open(out_dir .. "/qemu-plugin.h", "wb")
    or fail("cannot write " .. out_dir .. "/qemu-plugin.h")
out:write("/* Plugin API shape ", shape_name, ", derived by tools/qemu/api-shapes.lua from ",
          reference, ": a test header, not QEMU's. */\n", text)
out:close()
