-- Replaying a recording (scripts/replay.lua). Each guest thread follows
-- the recorded calls of the thread it stands for: a call must be the
-- recorded one (number, values, what it reads), else the replay stops with
-- a report. luahook.recording.rules says which calls are answered from the
-- recording (with the recorded bytes written into guest memory) and which
-- run for real, their results checked.
--
-- Order across threads: a process's calls are numbered in the order they
-- ended when recorded (their turn), and each call notes how many had ended
-- when it began. A call ends only in its turn, and a thread leaves a call
-- only once the others have got as far as they had when the thread began
-- its next one; the waiting happens in core/turns.c, without the core lock.
-- Recorded thread and process ids stand for live ones (ids), learned as
-- threads and processes are made.
local bit = require "bit"
local context = require "luahook._core.context"
local extents = require "luahook.recording.extents"
local format = require "luahook.recording.format"
local host = require "luahook.recording.host"
local lh = require "luahook"
local memory = require "luahook._guest.memory"
local rules = require "luahook.recording.rules"
local view = require "luahook.recording.view"

local replayer = {}

--- QEMU's exit status when a replay stops the guest.
replayer.STOPPED = 70

local CLONE_THREAD, CLONE_CHILD_CLEARTID = 0x10000, 0x200000
local UNREADABLE = 0xffffffff
local NONE = require("luahook.recording.turns").NONE
local F_DUPFD_CLOEXEC = 1030
local QEMU_ERESTARTSYS = -512   -- QEMU makes the call again (linux-user)
local LOWEST_ADDRESS = 0x10000  -- vm.mmap_min_addr's default
local failed = rules.failed

-- Loading -----------------------------------------------------------------

-- Reads and checks `path`; raises a one-line error for a bad one.
local function load(path, partial)
    local f, err = io.open(path, "rb")
    if not f then error("replay: cannot read the recording: " .. err, 0) end
    local data = f:read("*a")
    f:close()
    local recording, why = format.parse(data, lh.arch)
    if not recording then error("replay: " .. path .. ": " .. why, 0) end
    if not recording.complete and not partial then
        error("replay: " .. path .. ": truncated: the recorded run has no end (it was cut "
              .. "short); partial=1 replays it up to its last call", 0)
    end
    return recording
end

-- Which process each recorded thread belongs to: the first thread's,
-- then along the clones (a clone without CLONE_THREAD, or a fork, starts
-- a process of its own).
local function processes(records)
    local links = {}
    for _, rec in ipairs(records) do
        local name = rec.kind == "C" and lh.name(rec.nr)
        if name and rules.makes_task(name) and type(rec.result) == "number" and rec.result > 0 then
            local thread = name == "clone" and bit.band(rec.regs[1], CLONE_THREAD) ~= 0
            links[#links + 1] = { parent = rec.tid, child = rec.result, thread = thread }
        end
    end
    local first = records[1].tid
    local process_of = { [first] = first }
    local changed = true
    while changed do
        changed = false
        for _, l in ipairs(links) do
            if process_of[l.parent] and not process_of[l.child] then
                process_of[l.child] = l.thread and process_of[l.parent] or l.child
                changed = true
            end
        end
    end
    return process_of
end

-- The key of a futex word and the value a wait expects there.
local function wait_key(addr, value)
    return tostring(addr) .. "/" .. tostring(value)
end

local FUTEX_WAIT, FUTEX_WAIT_BITSET = 0, 9

-- Indexes the calls: per recorded thread, its calls in order; per call,
-- its number in the recording (call), in its thread (nth), its turn in its
-- process (rank), the turn it began at (entered), its inputs and outputs.
-- Also the last turn of a futex wait on each word and value (waits).
local function index(recording)
    -- a result recorded apart (the call was written at its entry) joins its call
    local last = {}
    for _, rec in ipairs(recording.records) do
        if rec.kind == "C" then
            last[rec.tid] = rec
        elseif rec.kind == "R" and last[rec.tid] and last[rec.tid].pending then
            last[rec.tid].result = rec.result
        end
    end
    local streams, calls, turns_of, waits = {}, 0, {}, {}
    local process_of = processes(recording.records)
    for _, rec in ipairs(recording.records) do
        local stream = streams[rec.tid]
        if rec.kind == "C" then
            if not stream then
                stream = {}
                streams[rec.tid] = stream
            end
            calls = calls + 1
            stream[#stream + 1] = rec
            rec.call, rec.nth = calls, #stream
            local process = process_of[rec.tid] or rec.tid
            rec.rank = turns_of[process] or 0
            rec.entered = rec.rank - rec.lag
            turns_of[process] = rec.rank + 1
            local name = lh.name(rec.nr)
            if name == "futex" or name == "futex_time64" then
                local cmd = bit.band(rec.regs[2], 0x7f)
                if cmd == FUTEX_WAIT or cmd == FUTEX_WAIT_BITSET then
                    waits[wait_key(rec.regs[1], rec.regs[3])] = rec.rank
                end
            end
            rec.inputs, rec.outputs = {}, {}
            for _, r in ipairs(rec.regions) do
                local list = r.role == "o" and rec.outputs or r.role == "i" and rec.inputs
                if list then list[#list + 1] = r end
                if r.role == "f" then rec.file = r end
            end
        end
    end
    return streams, waits, process_of
end

-- Replaying -----------------------------------------------------------------

-- lh.inherited keys, for the program a followed exec starts: where the
-- process stands ("PID CALL": the recorded process and the call number of
-- its exec; "off": not replayed), its recorded ids and their live ones
-- ("RECORDED:LIVE,..."), and its real descriptors (rules.descriptors).
local AT_KEY, IDS_KEY, FDS_KEY = "replay.at", "replay.ids", "replay.fds"

-- Where the program a followed exec started goes on in the recording: the
-- recorded process's stream and the first of its calls after the exec;
-- nil when the recording has none (the program then runs for real).
local function continuation(streams, at)
    local pid, call = at:match("^(%d+) (%d+)$")
    local stream = streams[tonumber(pid)] or {}
    for pos, rec in ipairs(stream) do
        if rec.call > tonumber(call) then return tonumber(pid), pos, rec end
    end
end

--- Replays the recording at `path`: from the next syscall on, the guest's
--- calls are checked against it and answered from it. opts.partial: accept
--- a recording whose run did not end (up to its last call). In a program a
--- followed exec started, the replay goes on with the process's calls
--- after that exec, if the recording has them.
---@param path string
---@param opts { partial: boolean }
function replayer.start(path, opts)
    local core = context.core
    local at = lh.inherited[AT_KEY]
    if at == "off" then return end
    local recording = load(path, opts.partial)
    local streams, waits, process_of = index(recording)
    local turns = require("luahook.recording.turns").calls

    local main_tid, first_pos = recording.records[1].tid, 1
    if at then
        local first
        main_tid, first_pos, first = continuation(streams, at)
        if not first then
            core.error(string.format("replay: %s has no calls of process %s after its exec: "
                                     .. "the program it started runs for real", path,
                                     at:match("^%d+")))
            lh.inherited[AT_KEY] = "off"
            return
        end
        turns.reset(first.rank)
    end
    -- A thread's clear: the word its exit clears, { live = addr, recorded = addr }.
    local threads = {}      -- [live tid] = { rtid, stream, pos, pending, clear }
    local ids = {}          -- [recorded tid or pid] = live one
    local born = {}         -- [live tid] = { rtid, clear }: made, not seen yet
    local cloning = {}      -- [turn] = { rtid, clear }: a clone under way
    local started = false
    local fds = rules.descriptors(at and lh.inherited[FDS_KEY])
    for rid, live in (at and lh.inherited[IDS_KEY] or ""):gmatch("(%d+):(%d+)") do
        ids[tonumber(rid)] = tonumber(live)
    end
    local function live_id(rid) return ids[rid] end

    -- The thread making `sc`'s call: the first one is the recording's
    -- first; later ones were made by a clone, which has returned (born) or
    -- is still running, in its turn (cloning).
    local function thread_of(sc)
        local t = threads[sc.tid]
        if t then return t end
        local made = { rtid = not started and main_tid or nil, pos = first_pos }
        if not started then
            started = true
        elseif born[sc.tid] then
            made, born[sc.tid] = born[sc.tid], nil
        else
            made = cloning[turns.current()] or made
        end
        local rtid = made.rtid
        if not rtid then return nil end
        t = { rtid = rtid, stream = streams[rtid] or {}, pos = made.pos or 1, clear = made.clear }
        threads[sc.tid], ids[rtid] = t, sc.tid
        return t
    end

    -- The turn a thread's next call began at: it leaves this one then.
    local function next_entered(t)
        local rec = t.stream[t.pos]
        return rec and math.max(rec.entered, 0) or 0
    end

    -- Reports and stops the guest; the REPL opens first if there is one.
    local function stop(sc, phase, ret, text)
        core.error(text)
        if core.repl_kind then
            local repl = require "luahook._core.repl"
            if phase == "return" then
                repl.stop_at_return(sc, ret)
            else
                repl.stop(sc, "left the recording")
            end
        end
        core.request_exit(replayer.STOPPED)
    end

    local function diverge(sc, t, rec, why, phase, ret)
        local now = phase == "return" and lh.format_call(sc, ret) or lh.format_call(sc)
        stop(sc, phase, ret, string.format(
            "replay: the program left the recording at call %d of %s (thread %d, now %d, "
            .. "its call %d): %s\n  recorded: %s\n  now:      %s",
            rec.call, path, t.rtid, sc.tid, rec.nth, why, view.call(rec, sc.vcpu), now))
    end

    local function same(live, recorded)
        return live == recorded or ids[recorded] == live
    end

    -- Why call `sc` is not recorded call `rec`, or nil; and its plan and arguments.
    local function differs(sc, rec)
        if sc.nr ~= rec.nr then
            return "another call", extents.plan(sc.nr, sc.args)
        end
        local plan, a = extents.plan(sc.nr, sc.args)
        if not a or (a ~= sc.args and not rec.args) then
            return "its arguments cannot be read", plan, sc.args
        end
        local ra = a == sc.args and rec.regs or rec.args
        if a ~= sc.args and not plan.indirect and not same(sc.args[1], rec.regs[1]) then
            return "another call", plan, a
        end
        for _, reg in ipairs(plan.values) do
            -- without a signature, a register may hold an address: only
            -- values below the lowest one Linux maps are compared
            local comparable = not plan.raw or a[reg] < LOWEST_ADDRESS or ra[reg] < LOWEST_ADDRESS
            if comparable and not same(a[reg], ra[reg]) then
                return "argument " .. reg .. " differs", plan, a
            end
        end
        local inputs = extents.capture(plan, a)
        local k = 0
        for _, r in ipairs(inputs) do
            if r.role == "i" then
                k = k + 1
                local recorded = rec.inputs[k]
                if not recorded or recorded.len ~= r.len or recorded.hash ~= r.hash then
                    return "what it reads differs", plan, a
                end
            end
        end
        if k ~= #rec.inputs then return "what it reads differs", plan, a end
        return nil, plan, a
    end

    -- Writes what the recorded call wrote, where this call has it; false
    -- when the two do not fit (the call would write elsewhere or other sizes).
    local function write_outputs(plan, a, result, rec)
        local bytes = {}
        for k, r in ipairs(rec.outputs) do bytes[k] = r.bytes end
        local list = extents.outputs(plan, a, result, bytes)
        if #list ~= 2 * #rec.outputs then return false end
        for k, r in ipairs(rec.outputs) do
            if r.len ~= UNREADABLE then
                if list[2 * k] ~= #r.bytes then return false end
                memory.write(list[2 * k - 1], r.bytes)
            end
        end
        return true
    end

    -- The live thread or process an id in a call stands for: the program
    -- has recorded ids (getpid) and live ones (what fork returned); nil
    -- for one of neither (another process).
    local function live_target(id)
        if ids[id] then return ids[id] end
        for _, live in pairs(ids) do
            if live == id then return id end
        end
    end

    -- The effect on the real process of an answered call: the descriptor
    -- number dup made, a signal to a thread or process of this replay.
    local function mirror(name, a, result)
        if failed(result) then return end
        if name == "dup" or name == "fcntl" or name == "fcntl64" then
            host.dup(a[1], result, name ~= "dup" and a[2] == F_DUPFD_CLOEXEC)
            return
        end
        local sig = a[name == "tgkill" and 3 or 2]
        local target = live_target(a[name == "tgkill" and 2 or 1])
        if sig == 0 or not target then return end
        if name == "kill" then
            host.signal(sig, target)
        elseif name == "tkill" then
            host.signal(sig, lh.pid(), target)
        elseif live_target(a[1]) then
            host.signal(sig, live_target(a[1]), target)
        end
    end

    -- A thread made a call its recorded thread did not make.
    local function past_end(sc, t)
        if recording.complete then
            -- it was still inside this call when the recorded run ended
            turns.request(NONE, NONE, 0)
            return nil
        end
        stop(sc, "entry", nil, string.format(
            "replay: the recording %s ends before this call of thread %d (now %d): %s",
            path, t.rtid, sc.tid, lh.format_call(sc)))
    end

    -- The child's side of a fork, in the new process: it becomes the
    -- recorded child, whose first call is this fork's return.
    local function become_child(sc, rec)
        local rtid = rec.result
        for k in pairs(threads) do threads[k] = nil end
        local t = { rtid = rtid, stream = streams[rtid] or {}, pos = 1 }
        threads[lh.pid()], ids[rtid] = t, lh.pid()
        turns.reset(0)
        local first = t.stream[1]
        if not first or first.nr ~= sc.nr or first.result ~= 0 then
            return past_end(sc, t)
        end
        t.pos = 2
        turns.request(first.rank, next_entered(t), 1)
    end

    -- A followed exec: the new program's replayer goes on from here.
    lh.on_exec(function(sc, program)
        local t = threads[sc.tid]
        local rec = t and t.stream[t.pos - 1]
        if program.arch ~= lh.arch or not rec or not rules.is_exec(lh.name(rec.nr)) then
            core.error(string.format("replay: %s runs for real: %s", program.path,
                                     program.arch ~= lh.arch
                                     and "a recording of " .. lh.arch .. " calls has none of "
                                         .. program.arch .. " programs"
                                     or "the recording has no exec here"))
            lh.inherited[AT_KEY] = "off"
            return
        end
        local pairs_text = {}
        for rid, live in pairs(ids) do pairs_text[#pairs_text + 1] = rid .. ":" .. live end
        lh.inherited[AT_KEY] = string.format("%d %d", process_of[t.rtid] or t.rtid, rec.call)
        lh.inherited[IDS_KEY] = table.concat(pairs_text, ",")
        lh.inherited[FDS_KEY] = fds:carry()
    end)

    lh.on("*", function(sc)
        local t = thread_of(sc)
        if not t then
            return stop(sc, "entry", nil, "replay: a thread the recording does not have: "
                        .. lh.format_call(sc))
        end
        local rec = t.pending or t.stream[t.pos]
        if not rec then return past_end(sc, t) end
        local why, plan, a = differs(sc, rec)
        if why then return diverge(sc, t, rec, why, "entry") end
        local name = plan.name
        local action = rules.action(name, a, fds.real, rec.pending and rec.result ~= nil)

        if action == "answer_output" then
            if turns.current() ~= rec.rank then
                -- its output goes out in its turn: wait for it, then the
                -- guest makes the call again
                turns.request(rec.rank, 0, 0)
                return QEMU_ERESTARTSYS
            end
            if rec.file then host.write(a[rules.copy_out(name, a, fds.real).out], rec.file.bytes) end
        end
        if action == "answer" or action == "answer_mirror" or action == "answer_output" then
            t.pos = t.pos + 1
            local result = rec.result
            if not failed(result) and not write_outputs(plan, a, result, rec) then
                return diverge(sc, t, rec, "it writes elsewhere", "entry")
            end
            if action == "answer_mirror" then mirror(name, a, result) end
            fds:update(name, a, result)
            turns.request(rec.rank, next_entered(t), 1)
            return result
        elseif action == "final" then
            t.pos = t.pos + 1
            local waited = name == "exit" and t.clear
                           and waits[wait_key(t.clear.recorded, t.rtid)] or -1
            if waited > rec.rank then
                -- a thread recorded waiting for this one to be gone after
                -- its exit began: the exit (which clears the word it waits
                -- on) goes on once that wait has begun
                turns.request(rec.rank, waited + 1, 1)
            else
                -- gone at once for a thread that looks, as it did when recorded
                if t.clear and turns.current() == rec.rank then
                    memory.write(t.clear.live, "\0\0\0\0")
                end
                turns.request(rec.rank, 0, 1)
            end
            return nil
        end
        t.pending = rec
        if action == "in_order" then
            if rules.makes_task(name) then
                local child_tid = lh.arch == "x86_64" and 4 or 5
                cloning[rec.rank] = { rtid = rec.result }
                if name == "clone" and bit.band(a[1], CLONE_CHILD_CLEARTID) ~= 0 then
                    cloning[rec.rank].clear = { live = a[child_tid], recorded = rec.regs[child_tid] }
                end
            end
            local fd = rules.mapped_file(name, a)
            if fd and rec.file and not fds.real(fd) then
                -- the file is not there: one in memory with the recorded bytes
                t.stand_in = host.stand_in(fd, rec.file.addr, rec.file.bytes)
            end
            turns.request(rec.rank, 0, 0)
        else
            -- waits for others (a futex call): its turn is where it began,
            -- or, recorded at its end, where it ended
            t.turn_taken = rec.pending
            if rec.pending then turns.request(rec.rank, 0, 1) end
        end
        return nil
    end)

    lh.after("*", function(sc, ret)
        local t = threads[sc.tid]
        local rec = t and t.pending
        if not rec then return end
        local plan, a = extents.plan(sc.nr, sc.args)
        local name = plan.name
        if ret == 0 and rules.makes_task(name) and type(rec.result) == "number" and rec.result > 0 then
            return become_child(sc, rec)
        end
        t.pending = nil
        t.pos = t.pos + 1
        if t.stand_in then
            host.undo(t.stand_in)
            t.stand_in = nil
        end
        if not rules.same_result(name, ret, rec.result, live_id) then
            return diverge(sc, t, rec, "it ran and returned " .. lh.result(ret), "return", ret)
        end
        if rules.makes_task(name) then
            local c = cloning[rec.rank]
            cloning[rec.rank] = nil
            if not failed(ret) then
                ids[rec.result] = ret
                if not threads[ret] then born[ret] = c or { rtid = rec.result } end
            end
        elseif name == "set_tid_address" then
            t.clear = { live = a[1], recorded = rec.regs[1] }
        end
        fds:update(name, a, ret)
        if not failed(ret) and not write_outputs(plan, a, rec.result, rec) then
            return diverge(sc, t, rec, "it writes elsewhere", "return", ret)
        end
        if t.turn_taken then
            t.turn_taken = false
            turns.request(NONE, next_entered(t), 0)
        else
            turns.request(rec.rank, next_entered(t), 1)
        end
    end)
end

return replayer
