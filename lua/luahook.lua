-- The public API scripts use: `local lh = require "luahook"` (also the
-- global `luahook`). Documented in docs/api.md; the annotations below let
-- LuaLS-aware editors complete and check scripts.
local ffi = require "ffi"
local context = require "luahook._core.context"
local errno = require "luahook._guest.errno"
local format = require "luahook._guest.format"
local hooks = require "luahook._core.hooks"
local memory = require "luahook._guest.memory"
local registers = require "luahook._guest.registers"
local repl = require "luahook._core.repl"
local syscalls = require "luahook.syscalls"
local types = require "luahook._guest.types"

---@class luahook
local lh = {}

--- The guest's architecture (QEMU's name): "i386", "x86_64", "aarch64",
--- "arm", "riscv64", "mips" or "mipsel".
lh.arch = context.arch

--- Plugin arguments that are not luahook's own, as { key = "value" }.
--- `-plugin luahook.so,script=s.lua,path=/tmp` gives lh.args.path == "/tmp".
---@type table<string, string>
lh.args = context.args

--- Guest errno values by name: `return -lh.errno.EACCES` fails a syscall.
--- An unknown name is an error, so a typo cannot silently become nil.
---@type table<string, integer>
lh.errno = errno.codes

--- Guest memory, inside hooks (docs/api.md "Guest memory"). Every function
--- returns nil and a message for a bad address.
lh.mem = {
    read = memory.read,
    write = memory.write,
    string = memory.string,
    int = memory.int,
    write_int = memory.write_int,
    struct = memory.struct,
    --- The most bytes lh.mem.string reads, whatever its `max` (1 MiB).
    STRING_MAX = memory.STRING_MAX,
}

--- The FFI ctype of the guest structure `name` ("stat", "timespec",
--- "sockaddr_in", ...) in the guest architecture's layout, e.g. for ffi.new.
---@param name string
---@return ffi.ctype*
function lh.ctype(name)
    local ctype, err = types.ctype(name)
    if not ctype then
        error(err, 2)
    end
    return ctype
end

--- Guest registers by name, inside hooks: `lh.regs.eax`, `lh.regs.rip = v`,
--- and the portable `nr`, `arg1`..`arg6`, `ret`, `pc`, `sp`.
lh.regs = registers.proxy

--- The guest's register names.
---@return string[]
function lh.register_names()
    return registers.names()
end

ffi.cdef [[ int getpid(void); ]]

--- The process id of this QEMU, which is the guest process's id: after a
--- guest fork, parent and child each see their own.
---@return integer
function lh.pid()
    return ffi.C.getpid()
end

---@alias luahook.Selector string|integer|(string|integer)[]

-- "file:line" of the script line that called lh.on or lh.after (via register).
-- `level`: the script's frame counted from caller_site's (default: a
-- script calling lh.on, which calls register, which calls this).
local function caller_site(level)
    local info = debug.getinfo(level or 4, "Sl")
    if not info or info.currentline < 0 then
        return "?"
    end
    return info.short_src .. ":" .. info.currentline
end

-- The records lh.on, lh.after, lh.on_exit, lh.on_exec and lh.on_signal
-- handed out, for lh.hooks: luahook's own hooks (following exec, the
-- REPL's, signal tracking) are not listed.
local handed_out = setmetatable({}, { __mode = "k" })
local function hand_out(rec)
    handed_out[rec] = true
    return rec
end

local function register(kind, fname, what, fn)
    local selection, err = syscalls.select(what)
    if not selection then
        error(fname .. "(): " .. err, 3)
    end
    local callable = type(fn) == "function"
        or (getmetatable(fn) ~= nil and getmetatable(fn).__call ~= nil)
    if not callable then
        error(fname .. "(): the hook must be a function, got " .. type(fn), 3)
    end
    return hand_out(hooks.add(kind, selection, fn, caller_site()))
end

-- lh.on's options: { on_error = ANSWER }, checked as an answer is.
local function entry_options(opts)
    if opts == nil then
        return nil
    end
    if type(opts) ~= "table" then
        error("on(): options must be a table, got " .. type(opts), 3)
    end
    for key in pairs(opts) do
        if key ~= "on_error" then
            error("on(): unknown option '" .. tostring(key) .. "' (known: on_error)", 3)
        end
    end
    local answer = opts.on_error
    if answer ~= nil and answer ~= lh.AGAIN then
        local why = require("luahook._guest.int").answer_problem(answer, context.word_size * 8)
        if why then
            error("on(): on_error: " .. why, 3)
        end
    end
    return answer
end

--- Runs `fn(sc)` when the guest is about to make a syscall that `what`
--- selects: a name ("openat"), a number, a class ("%file"), a list of
--- them, or "*" for all.
--- Returning nothing lets QEMU run the syscall; returning an integer makes
--- it the syscall's result and QEMU skips the syscall (return `-lh.errno.X`
--- to fail it). Hooks run in registration order until one returns a result.
--- opts.on_error: the answer the call gets should `fn` fail (a sandbox
--- fails closed with `-lh.errno.EPERM`); by default the failure is
--- reported and the next hook, or QEMU, goes on with the call.
---@param what luahook.Selector
---@param fn fun(sc: luahook.Syscall): integer?
---@param opts? { on_error: integer? }
---@return table handle for lh.off
function lh.on(what, fn, opts)
    local on_error = entry_options(opts)
    local handle = register("entry", "on", what, fn)
    handle.on_error = on_error
    return handle -- not a tail call: register's error levels count this frame
end

--- Runs `fn(sc, ret)` once the syscall's result exists, whether QEMU ran
--- it or a hook returned it. `sc` is the same object the entry hooks saw.
--- Syscalls that do not return (exit, a successful execve) never get here.
---@param what luahook.Selector
---@param fn fun(sc: luahook.Syscall, ret: integer)
---@return table handle for lh.off
function lh.after(what, fn)
    local handle = register("after", "after", what, fn)
    return handle
end

--- Removes a hook (from lh.on, lh.after, lh.on_exit, lh.on_exec or
--- lh.on_signal); false if it was not registered.
---@param handle table
---@return boolean
function lh.off(handle)
    return hooks.remove(handle)
end

--- Every hook registered now, oldest first, as the handles lh.on,
--- lh.after, lh.on_exit, lh.on_exec and lh.on_signal returned (not
--- luahook's own hooks): `handle.fn` is its function, `handle.site` the
--- "file:line" that registered it. A new list each call.
---@return table[]
function lh.hooks()
    local list = {}
    for _, rec in ipairs(hooks.all()) do
        if handed_out[rec] then list[#list + 1] = rec end
    end
    return list
end

--- Stops the guest at the entry of the syscalls `what` selects and opens
--- the REPL (plugin argument repl=tty or repl=unix:PATH), if `cond` — a
--- function of sc, or a Lua expression string using sc — is true or absent.
---@param what luahook.Selector
---@param cond? string|fun(sc: luahook.Syscall): boolean
---@return integer id the breakpoint's number at the prompt
function lh.breakpoint(what, cond)
    if not context.core.repl_kind then
        error("breakpoint(): no REPL to open; add the plugin argument repl=tty or repl=unix:PATH", 2)
    end
    local id = repl.add_breakpoint(what, cond, 2)
    return id
end

--- Opens the REPL at the syscall being handled, from inside a hook. In an
--- entry hook, `return lh.repl()` hands the guest a result chosen with ret(v).
---@return integer? result
function lh.repl()
    local sc, phase, result = context.current()
    if not sc then
        error("repl(): only inside a hook", 2)
    end
    if phase == "return" then
        repl.stop_at_return(sc, result)
        return nil
    end
    local answer = repl.stop(sc, "repl()")
    return answer
end

--- A hook's answer that makes the guest run its syscall instruction again,
--- with the registers as the hook left them: `return lh.AGAIN` after
--- rewriting them makes the guest make another syscall, or the same one
--- once something it waits for has happened. QEMU's own restart
--- (QEMU_ERESTARTSYS); the entry's after-hooks do not run for it.
lh.AGAIN = context.AGAIN

--- Runs `fn(how, sc, program)` when this program image ends: `how` is
--- "exit" when QEMU exits, after the guest's last syscall, or "exec" when a
--- followed execve is about to replace it (`sc` is that call, `program`
--- what it runs: { path, arch, argv }). With parallel=1 it is this
--- state's end: "thread" when its thread exits, or when the process ends
--- from another thread (whose state's hooks run after).
---@param fn fun(how: "exit"|"exec"|"thread", sc?: luahook.Syscall, program?: luahook.ExecProgram)
---@return table handle for lh.off
function lh.on_exit(fn)
    if type(fn) ~= "function" then
        error("on_exit(): expected a function, got " .. type(fn), 2)
    end
    return hand_out(hooks.add("exit", nil, fn, caller_site(3)))
end

---@class luahook.ExecProgram
---@field path string the ELF program QEMU runs (after #! scripts: the interpreter)
---@field arch string its QEMU target: "i386", "x86_64", ...
---@field argv string[] its arguments (a script's rewritten as the kernel does)

--- Runs `fn(sc, program)` when a followed execve `sc` is about to replace
--- this image with `program` (as lh.on_exit's "exec"; in the same order as
--- the exit hooks). Never for an exec that fails, or with follow_exec=0.
---@param fn fun(sc: luahook.Syscall, program: luahook.ExecProgram)
---@return table handle for lh.off
function lh.on_exec(fn)
    if type(fn) ~= "function" then
        error("on_exec(): expected a function, got " .. type(fn), 2)
    end
    return hand_out(hooks.add("exit", nil, function(how, sc, program)
        if how == "exec" then fn(sc, program) end
    end, caller_site(3)))
end

--- Runs `fn(how, sc, program)` once the image ends, after every exit
--- hook: with parallel=1, after every thread's state ran its exit hooks,
--- and only in the state that ends the process (or execs), so it can merge
--- what they left in lh.shared (wrk's `done`). The same in the default
--- mode, after the one state's exit hooks.
---@param fn fun(how: "exit"|"exec", sc?: luahook.Syscall, program?: luahook.ExecProgram)
---@return table handle for lh.off
function lh.on_done(fn)
    if type(fn) ~= "function" then
        error("on_done(): expected a function, got " .. type(fn), 2)
    end
    return hooks.add("done", nil, fn, caller_site(3))
end

--- What the Lua states of this process share (docs/api.md "Threads in parallel").
lh.shared = require "luahook._core.shared"

--- Whether execve is followed (plugin argument follow_exec, default 1).
---@type boolean
lh.follow_exec = context.core.follow_exec

--- Strings kept across a followed execve: what a script stores here, the
--- scripts of the program it starts find here (a forked child has a copy).
--- Keys are letters, digits, "_", "." and "-"; values strings without NUL
--- bytes (numbers are stored as strings). Read it by key: pairs() does not
--- see the values.
---@type table<string, string>
lh.inherited = setmetatable({}, {
    __index = context.inherited,
    __newindex = function(_, key, value)
        if type(key) ~= "string" or not key:match("^[%w_.-]+$") then
            error("inherited: keys are names of letters, digits, '_', '.' and '-'", 2)
        end
        if value ~= nil and type(value) ~= "string" and type(value) ~= "number" then
            error("inherited." .. key .. ": values are strings, not " .. type(value), 2)
        end
        if type(value) == "string" and value:find("\0", 1, true) then
            error("inherited." .. key .. ": a value cannot hold a NUL byte (it travels as an argument)", 2)
        end
        context.inherited[key] = value ~= nil and tostring(value) or nil
    end,
})

--- Calls fn(signal) each time the guest's handler of a signal starts: a
--- signal delivered. `signal`: signo (its number), info (the address of
--- the siginfo QEMU wrote into the handler's frame, for an action with
--- SA_SIGINFO; nil otherwise), handler, vcpu, tid. Signals that reach no
--- handler of the guest (ignored, or taken by their default action) are
--- not seen (docs/api.md).
---@param fn fun(signal: table)
---@return table handle for lh.off
function lh.on_signal(fn)
    if type(fn) ~= "function" then
        error("on_signal(): expected a function, got " .. type(fn), 2)
    end
    -- loaded only now: a script without one pays nothing for it
    return hand_out(require("luahook._core.delivery").listen(fn, caller_site(3)))
end

--- In an on_exit function: the number of the signal ending the process,
--- and whether it dumps core (as the kernel reports it to the parent); nil
--- when the process ends otherwise, or of a signal luahook cannot see
--- (docs/api.md, "Signals").
---@return integer? signo
---@return boolean? core_dumped
function lh.killed_by()
    return require("luahook._core.delivery").death()
end

--- One more than the highest syscall number the guest's architecture
--- has a name for: every numbered syscall lies in 0 .. lh.nr_max - 1
--- (mips' start at 4000).
---@type integer
lh.nr_max = context.nr_max

--- The number of the syscall called `name` on this guest, or nil.
---@param name string
---@return integer?
function lh.nr(name)
    return syscalls.number(name)
end

--- The name of syscall number `nr` on this guest ("syscall_NR" if unnamed).
---@param nr integer
---@return string
function lh.name(nr)
    return syscalls.name(nr)
end

--- Writes strings to luahook's output (stderr, or the file given as out=),
--- never to the guest's stdout.
---@param ... string
local write = context.calls.write

function lh.out(...)
    for i = 1, select("#", ...) do
        local s = tostring((select(i, ...)))
        write(s, #s)
    end
end

--- Writes one string (a number is made one): lh.out with one argument,
--- without its loop. For scripts that write a line in many pieces.
---@param s string|number
function lh.put(s)
    s = tostring(s)
    write(s, #s)
end

--- lh.out(string.format(fmt, ...)).
---@param fmt string
function lh.printf(fmt, ...)
    local s = string.format(fmt, ...)
    write(s, #s)
end

--- Like Lua's print, to luahook's output; scripts' print() is this.
function lh.print(...)
    local n = select("#", ...)
    local parts = {}
    for i = 1, n do
        parts[i] = tostring((select(i, ...)))
    end
    local s = table.concat(parts, "\t") .. "\n"
    write(s, #s)
end

--- What guest address `addr` is: { pc=, module=, symbol=, offset=, file=,
--- line= } (docs/api.md "Stack traces"); inside a hook only.
---@param addr integer
---@return luahook.Frame? frame
---@return string? reason
function lh.symbol(addr)
    local frame, err = require("luahook.backtrace").symbol(addr)
    return frame, err
end

--- The program QEMU loaded for this process: { path = its host path,
--- start_code = its first code address, entry = the entry point QEMU
--- started at }; inside a hook only (nil and a message outside).
---@return { path: string, start_code: integer, entry: integer }? program
---@return string? reason
function lh.program()
    local program, err = context.core.guest_program()
    return program, err
end

--- How often QEMU's callbacks entered Lua so far: { entries = N, returns = N }.
--- Syscalls no hook selects never enter Lua, so these count only wanted events.
---@return { entries: integer, returns: integer }
function lh.stats()
    return context.stats()
end

--- A guest integer as "0x..." hex, exact for 64-bit values.
lh.hex = format.hex

--- A syscall result as strace shows it: "3" or "-1 ENOENT (No such file or directory)".
lh.result = format.result

--- The syscall `sc` as strace shows it, `openat(AT_FDCWD, "/etc/passwd",
--- O_RDONLY)`, and with its result `ret` (in an after-hook) ` = 3`, what
--- the call wrote decoded too. Strings are cut at 32 bytes.
---@param sc luahook.Syscall
---@param ret? integer|ffi.cdata*
---@return string
function lh.format_call(sc, ret)
    return require("luahook.decode").format_call(sc, ret)
end

return lh
