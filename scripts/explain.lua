-- explain.lua: a trace for learning. Each syscall is shown as trace.lua
-- shows it, followed the first time by a sentence in plain words saying
-- what the program asked for and what the kernel answered, with this
-- call's own paths, descriptors and numbers:
--   openat(AT_FDCWD, "/etc/passwd", O_RDONLY) = 3
--     # Opens /etc/passwd for reading; the kernel answers with file descriptor 3, ...
-- It follows the process's descriptors and memory mappings as it runs and
-- prints a summary when the program ends (its exit, or an execve that
-- replaces it): files named, bytes through each descriptor, memory
-- mapped, child processes, exit status.
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/explain.lua[,OPTION=VALUE...] ./prog
--
-- Options (plugin arguments; lists use "+", QEMU takes the commas):
--   verbose=1   explain every call, not only the first of each kind
--   trace=SET   show only these calls (names, numbers, %classes joined with
--               "+"); the summary still counts every call
--   strsize=N   bytes of strings and buffers shown in the lines (default 32)
--   summary=0   no summary at the end
-- The explanations are data: lua/luahook/explain/sentences.lua. Output goes to
-- luahook's stream (stderr, or out=FILE).
local lh = require "luahook"
local decode = require "luahook.decode"
local options = require "luahook.options"
local process = require "luahook.explain.process"
local render = require "luahook.explain.render"
local summary = require "luahook.explain.summary"
local syscalls = require "luahook.syscalls"

lh.shared.single_state("it keeps one model of the process's descriptors and memory")
local opts = options.parse(lh.args, {
    verbose = { kind = "flag", default = false },
    trace = { kind = "string", default = "*" },
    strsize = { kind = "integer", default = 32, min = 0 },
    summary = { kind = "flag", default = true },
})

-- The names of the calls to show (sub-calls of i386's multiplexers by
-- their own names), or nil for all.
local function shown_names(text)
    if text == "*" or text == "all" then
        return nil
    end
    local subcalls, names = decode.subcalls(), {}
    for _, item in ipairs(syscalls.split(text)) do
        if subcalls[item] then
            names[item] = true
        else
            local set, err = syscalls.select(item)
            if not set then
                error("trace=" .. text .. ": " .. err, 2)
            end
            for nr in pairs(set) do names[syscalls.name(nr)] = true end
        end
    end
    return names
end

local shown = shown_names(opts.trace)
local decoder = decode.new { strsize = opts.strsize }
local state = process.new(lh.pid())
local explained = {}

-- Lines start with "[pid TID] " once a second thread or process exists
-- (luahook.tasks; tracked before the hooks below are registered).
local tasks = require "luahook.tasks"
local family = tasks.track()

local function visible(sc, call)
    return not shown or shown[call.name] or shown[sc.name]
end

-- Writes a call's line and, once per path it takes (unless verbose), its
-- explanation: one piece of output, so processes writing to the same
-- terminal do not cut into each other's lines.
local function emit(sc, line, call, ret)
    local head = family:prefix(sc)
    local text = head .. line .. "\n"
    local ok, sentence, key = pcall(render.explain, call.name, {
        a = call.regs, ret = ret, call = call, fds = state.fds, maps = state.maps,
    })
    if not ok then
        text = text .. head .. "  # (" .. call.name .. " cannot be explained: " .. tostring(sentence) .. ")\n"
    elseif sentence and (opts.verbose or not explained[key]) then
        explained[key] = true
        text = text .. head .. "  # " .. sentence .. "\n"
    end
    lh.out(text)
end

local NEVER_RETURN = { exit = true, exit_group = true }
local EXEC = { execve = true, execveat = true }
local FORKS = tasks.FORKS

lh.on("*", function(sc)
    local call = decoder:enter(sc)
    sc.explain = call
    if NEVER_RETURN[sc.name] then
        state:ending_with(sc:int(1))
    elseif EXEC[sc.name] then
        state:executing(sc:string(sc.name == "execve" and 1 or 2) or "?")
    else
        return
    end
    if EXEC[sc.name] and lh.follow_exec then
        return -- its line when it is sure to succeed (on_exec), or once it failed
    end
    if visible(sc, call) then
        local tail = NEVER_RETURN[sc.name] and ") = ?" or " <unfinished ...>"
        emit(sc, call.name .. "(" .. decode.args_text(call) .. tail, call, nil)
    end
    if EXEC[sc.name] and opts.summary then
        -- a successful exec replaces QEMU, so the summary cannot wait for the end
        lh.out(summary.text(state))
    end
end)

-- A followed exec: its line, before the summary (an exit hook) and the new
-- program's lines.
lh.on_exec(function(sc)
    local call = sc.explain
    if call and visible(sc, call) then
        emit(sc, call.name .. "(" .. decode.args_text(call) .. ") = 0", call, 0)
    end
end)

lh.after("*", function(sc, ret)
    local call = sc.explain
    if not call then
        return
    end
    local result = decoder:finish(call, ret)
    if FORKS[sc.name] and ret == 0 then
        -- the child's side of a fork: a new process with its own summary
        if lh.pid() ~= state.pid then
            state:forked_as(lh.pid())
        end
        return
    end
    if EXEC[sc.name] then
        state:executing(nil) -- it returned: it failed
    end
    if visible(sc, call) then
        if EXEC[sc.name] and not lh.follow_exec then
            emit(sc, "<... " .. call.name .. " resumed>) = " .. result, call, ret)
        else
            emit(sc, call.name .. "(" .. decode.args_text(call) .. ") = " .. result, call, ret)
        end
    end
    state:observe(call.name, call.regs, ret)
end)

if opts.summary then
    lh.on_exit(function()
        lh.out(summary.text(state))
    end)
end
