-- Recording a run (scripts/record.lua): every syscall of every thread, in
-- the order the calls end, with its arguments, what it read, its result
-- and every byte it wrote into guest memory (luahook.recording.extents),
-- written to luahook's output stream as the run goes
-- (luahook.recording.format). A call also notes how many calls of its
-- process had ended when it began (its lag), so that a replay can let a
-- thread go on from a call when the others have got as far as they had.
--
-- A program the process execs (luahook follows it) goes on with the same
-- recording, from its own recorder, as long as it is of the same
-- architecture.
--
-- luahook's output is buffered and flushed when QEMU exits, the guest
-- execs or forks, or dies of a signal. A QEMU killed from outside
-- (SIGKILL) runs none of that, so the recorder also flushes before a call
-- that may wait (rules.minding: the program may be killed while it
-- waits) and every FLUSH_EVERY seconds or so while calls come: a killed
-- run leaves all but its last moments on file.
local clock = require "luahook.clock"
local context = require "luahook._core.context"
local extents = require "luahook.recording.extents"
local format = require "luahook.recording.format"
local host = require "luahook.recording.host"
local lh = require "luahook"
local memory = require "luahook._guest.memory"
local rules = require "luahook.recording.rules"
local turns = require("luahook.recording.turns").calls

local recorder = {}

local UNREADABLE = 0xffffffff
local FLUSH_EVERY = 0.05
local failed = rules.failed

-- Syscall numbers by what is special about them: calls that never return
-- are written at entry, without a result. Some calls are written at entry
-- too, with their result following when they return ("late"): an exec
-- (which returns only if it failed), and calls whose place among the
-- others is where they began: a futex call (the thread waits there) and a
-- clone or fork (what the new thread or process does comes after).
local function special_calls()
    local special = context.by_nr()
    for _, name in ipairs({ "exit", "exit_group", "rt_sigreturn", "sigreturn" }) do
        if lh.nr(name) then special[lh.nr(name)] = "never" end
    end
    for nr = 0, context.nr_max - 1 do
        local name = lh.name(nr)
        if name == "execve" or name == "execveat" or name == "futex" or name == "futex_time64"
           or rules.makes_task(name) then
            special[nr] = "late"
        end
    end
    return special
end

-- lh.inherited keys: the architecture of the recording a followed exec
-- goes on with ("off": none), and the process's real descriptors then.
local ARCH_KEY, FDS_KEY = "record.arch", "record.fds"

--- Starts recording into luahook's output, which must be a file. In a
--- program a followed exec started, the process's recording goes on
--- (no new header) when the program is of the recording's architecture;
--- one of another is not recorded, nor what it execs.
function recorder.start()
    if not context.core.out then
        error("record.lua writes the recording to luahook's output: give it a file with "
              .. "out=FILE (luahook record -o FILE)", 0)
    end
    local recording_arch = lh.inherited[ARCH_KEY]
    if recording_arch and recording_arch ~= lh.arch then
        lh.inherited[ARCH_KEY] = "off"
        return
    end
    lh.inherited[ARCH_KEY] = lh.arch
    local write, flush = context.calls.write, context.core.flush
    local unflushed, flushed_at, since_check = false, clock.now(), 0
    local function flush_now()
        flush()
        unflushed, flushed_at = false, clock.now()
    end
    local writer = format.writer(lh.arch, function(p, len)
        write(p, len)
        unflushed = true
        -- the clock every so many records: reading it costs as much as a record
        since_check = since_check + 1
        if since_check >= 64 then
            since_check = 0
            if clock.now() - flushed_at >= FLUSH_EVERY then flush_now() end
        end
    end)
    if not recording_arch then lh.out(format.header(lh.arch)) end
    local special = special_calls()
    local minding = {}                -- rules.minding by name
    local ended = 0                   -- calls of this process recorded so far
    local entries = context.by_vcpu() -- what each vCPU's call read at its entry
    local fds = rules.descriptors(lh.inherited[FDS_KEY])
    -- Calls that must run alone (rules.serialized) take tickets, served in
    -- turn (core/turns.c); a thread holds its ticket until its next return.
    local tickets = turns.current()

    local function write_call(tid, sc, e, result, flags)
        writer:begin_call(tid, sc.nr, ended - e.entered, sc.args,
                          e.args ~= sc.args and e.args or nil, result, flags)
        local inputs = e.inputs
        for k = 1, #inputs do
            local r = inputs[k]
            writer:region(r.role, r.addr, r.len, r.hash, r.bytes)
        end
        if result ~= nil and not failed(result) then
            local out = extents.outputs(e.plan, e.args, result)
            for k = 1, #out, 2 do
                local bytes = memory.read(out[k], out[k + 1])
                writer:region("o", out[k], bytes and #bytes or UNREADABLE, 0, bytes or "")
            end
            -- the bytes of a mapped file, or of a copy to a descriptor the
            -- program started with: a replay has no files to read them from
            local fd, offset, len
            if e.copy_from then
                fd, offset, len = e.copy_from, e.copy_at, tonumber(result)
            elseif e.mind.maps then
                fd, offset, len = rules.mapped_file(e.plan.name, e.args)
            end
            local bytes = fd and offset and host.read_file(fd, offset, len)
            if bytes then writer:region("f", offset, #bytes, 0, bytes) end
        end
        writer:end_call()
        ended = ended + 1
    end

    -- A copy to a descriptor the program started with: where it reads.
    local function note_copy(e, copy)
        local from, at = e.args[copy.from], e.args[copy.offset]
        e.copy_from = from
        e.copy_at = at ~= 0 and tonumber(memory.int(at, copy.size == 8 and "i64" or "long"))
                    or host.position(from)
    end

    lh.on("*", function(sc)
        local e = entries[sc.vcpu]
        if not e then
            e = {}
            entries[sc.vcpu] = e
        end
        local plan, a = extents.plan(sc.nr, sc.args)
        local mind = minding[plan.name]
        if not mind then
            mind = rules.minding(plan.name)
            minding[plan.name] = mind
        end
        e.nr, e.plan, e.args, e.entered, e.mind = sc.nr, plan, a or sc.args, ended, mind
        e.inputs = a and extents.capture(plan, a) or extents.capture(plan, sc.args)
        e.late, e.copy_from = false, nil
        if unflushed and mind.waits then flush_now() end
        if mind.output then
            local copy = rules.copy_out(plan.name, e.args, fds.real)
            if copy then note_copy(e, copy) end
        end
        if e.ticket or (mind.output and rules.serialized(plan.name, e.args, fds.real)) then
            if not e.ticket then
                e.ticket, tickets = tickets, tickets + 1
            end
            turns.request(e.ticket, 0, 0)
        end
        local kind = special[sc.nr]
        if kind == "never" then
            write_call(sc.tid, sc, e, nil, 0)
            if e.ticket then    -- a thread that ends cannot hold up the others
                turns.request(e.ticket, 0, 1)
                e.ticket = nil
            end
        elseif kind == "late" then
            write_call(sc.tid, sc, e, nil, format.PENDING)
            e.late = true
        end
    end)

    lh.after("*", function(sc, ret)
        local e = entries[sc.vcpu]
        if not e or e.nr ~= sc.nr then
            return
        end
        if e.mind.descriptors then fds:update(e.plan.name, e.args, ret) end
        if ret == 0 and special[sc.nr] == "late" and rules.makes_task(e.plan.name) then
            -- the child's side of a fork: a process of its own, whose calls
            -- (and tickets) count from here, starting with this return
            ended, e.entered, tickets = 0, 0, 0
            turns.reset(0)
            write_call(lh.pid(), sc, e, ret, 0)
        elseif e.late then
            writer:late_result(sc.tid, ret)
        else
            write_call(sc.tid, sc, e, ret, 0)
        end
        e.late = false
        if e.ticket then
            turns.request(e.ticket, 0, 1)
            e.ticket = nil
        end
    end)

    lh.on_exit(function(how, _, program)
        if how == "exec" then
            lh.inherited[FDS_KEY] = fds:carry()
            -- the process's calls go on in the new program's recorder
            if program.arch == lh.arch then return end
            context.core.error(string.format(
                "record: %s is an %s program, which this %s recording cannot hold: "
                .. "process %d is recorded up to its exec", program.path, program.arch,
                lh.arch, lh.pid()))
        end
        writer:process_end(lh.pid())
    end)
end

return recorder
