-- Record and replay (scripts/record.lua, scripts/replay.lua, and the
-- luahook record and luahook replay commands) through the reference QEMU,
-- on i386 and x86_64 guests: a run replayed byte for byte without its
-- inputs, threads in their recorded order, a changed program stopped at
-- its first different call, bad recordings refused before the guest runs.
local command = require "helpers.command"
local qemu = require "helpers.qemu"

local quote, slurp, sh, write_file = qemu.quote, qemu.slurp, qemu.sh, qemu.write_file

local RECORD, REPLAY = "scripts/record.lua", "scripts/replay.lua"
local STOPPED = 70

local function record(arch, rec, guest, args, wrap)
    return qemu.run { arch = arch, guest = guest, args = args, script = RECORD,
                      plugin_args = { "out=" .. rec }, wrap = wrap }
end

-- (a replay that hangs fails the spec, status 124, rather than stopping it)
local function replay(arch, rec, guest, args, extra)
    local plugin_args = { "in=" .. rec }
    for _, a in ipairs(extra or {}) do plugin_args[#plugin_args + 1] = a end
    return qemu.run { arch = arch, guest = guest, args = args, script = REPLAY,
                      plugin_args = plugin_args, wrap = "timeout 60" }
end

-- Starts recplay's server (natively: it is an x86_64 program); returns
-- the port it listens on. It serves one client and exits.
local function start_server()
    local port_file = qemu.tmppath()
    os.execute(string.format("%s serve >%s 2>&1 &", quote(qemu.guest("recplay", "x86_64")),
                             quote(port_file)))
    for _ = 1, 100 do
        local port = (slurp(port_file) or ""):match("^(%d+)\n")
        if port then
            os.remove(port_file)
            return port
        end
        os.execute("sleep 0.05")
    end
    error("recplay serve printed no port")
end

-- `s` as a Lua pattern that matches it literally.
local function literal(s)
    return (s:gsub("%p", "%%%0"))
end

-- The lines of stderr.
local function lines(text)
    return qemu.lines(text or "")
end

-- A file holding `text`, and a path for a recording.
local function temp_file(text)
    local path = qemu.tmppath()
    write_file(path, text)
    return path
end

for _, arch in ipairs({ "i386", "x86_64" }) do
    describe("record and replay, " .. arch, function()
        it("replays a run byte for byte without its file, the producer of its stdin or its server",
           function()
            local file = temp_file("a file that will be gone\n")
            local rec = qemu.tmppath()
            local port = start_server()
            local recorded = record(arch, rec, "recplay", { file, port },
                                    "printf 'from the producer\\n' |")
            assert.are.equal(0, recorded.status, recorded.stderr)
            assert.matches('stdin: "from the producer\n"', recorded.stdout, 1, true)
            assert.matches('file: "a file that will be gone\n"', recorded.stdout, 1, true)
            assert.matches('socket: "hello from server %d+ at %d+%.%d+"', recorded.stdout)
            os.remove(file)
            -- the server served its one client and is gone; stdin is /dev/null
            local live = qemu.run { arch = arch, guest = "recplay", args = { file, port } }
            assert.are_not.equal(0, live.status)
            local replayed = replay(arch, rec, "recplay", { file, port })
            assert.are.equal(0, replayed.status, replayed.stderr)
            assert.are.equal(recorded.stdout, replayed.stdout)
            assert.are.equal("", replayed.stderr)
            os.remove(rec)
        end)

        it("replays the interleaving of threads' output as it was recorded", function()
            local rec = qemu.tmppath()
            local recorded = record(arch, rec, "rethreads", { "6", "6" })
            assert.are.equal(0, recorded.status, recorded.stderr)
            assert.are.equal(37, #lines(recorded.stdout))
            for _ = 1, 3 do
                local replayed = replay(arch, rec, "rethreads", { "6", "6" })
                assert.are.equal(0, replayed.status, replayed.stderr)
                assert.are.equal(recorded.stdout, replayed.stdout)
            end
            os.remove(rec)
        end)

        it("stops a changed program at its first different call, both calls decoded", function()
            local a, b = temp_file("one\n"), temp_file("two\n")
            local rec = qemu.tmppath()
            assert.are.equal(0, record(arch, rec, "recplay", { a, "0" }).status)
            local r = replay(arch, rec, "recplay", { b, "0" })
            assert.are.equal(STOPPED, r.status)
            assert.are.equal("", r.stdout)
            local report = lines(r.stderr)
            assert.are.equal(3, #report, r.stderr)
            assert.matches("^luahook: replay: the program left the recording at call %d+ of "
                           .. literal(rec) .. " %(thread %d+, now %d+, its call %d+%): "
                           .. "what it reads differs$", report[1])
            assert.are.equal('  recorded: openat(AT_FDCWD, "' .. a .. '", O_RDONLY) = 3', report[2])
            assert.are.equal('  now:      openat(AT_FDCWD, "' .. b .. '", O_RDONLY)', report[3])
            os.remove(a); os.remove(b); os.remove(rec)
        end)

        -- A recording of exitwith 5, changed by `damage(bytes)`, replayed.
        local function replay_damaged(damage)
            local rec = qemu.tmppath()
            assert.are.equal(5, record(arch, rec, "exitwith", { "5" }).status)
            write_file(rec, damage(slurp(rec)))
            local r = replay(arch, rec, "exitwith", { "5" })
            os.remove(rec)
            return r, rec
        end

        it("refuses, in one line before the guest runs, a recording cut inside a record", function()
            local r, rec = replay_damaged(function(data) return data:sub(1, #data - 3) end)
            assert.are.equal(1, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("^luahook: replay: " .. literal(rec)
                           .. ": truncated: it ends inside record %d+ %(byte %d+%)\n$", r.stderr)
        end)

        it("refuses, in one line, a recording with a damaged byte", function()
            local r, rec = replay_damaged(function(data)
                local at = math.floor(#data / 2)
                return data:sub(1, at - 1) .. string.char((data:byte(at) + 1) % 256) .. data:sub(at + 1)
            end)
            assert.are.equal(1, r.status)
            assert.matches("^luahook: replay: " .. literal(rec)
                           .. ": corrupted: record %d+ %(byte %d+%) fails its checksum\n$", r.stderr)
        end)

        it("sends the signals a program sends its own child, to the live child", function()
            local rec = qemu.tmppath()
            local recorded = record(arch, rec, "killchild", {})
            assert.are.equal(0, recorded.status, recorded.stderr)
            assert.are.equal("child ended by signal 15\n", recorded.stdout)
            local replayed = replay(arch, rec, "killchild", {})
            assert.are.equal(0, replayed.status, replayed.stderr)
            assert.are.equal(recorded.stdout, replayed.stdout)
            os.remove(rec)
        end)

        it("follows the programs a shell execs, into one recording, and replays them too",
           function()
            local file = temp_file("read by an exec'd cat\n")
            local rec = qemu.tmppath()
            local shell = { "sh", "-c", "od -An -N8 -tx1 /dev/urandom; cat " .. file .. "; echo $$" }
            local busybox = qemu.build .. "/foreign/busybox." .. arch
            local recorded = qemu.run { arch = arch, program = busybox, args = shell,
                                        script = RECORD, plugin_args = { "out=" .. rec } }
            assert.are.equal(0, recorded.status, recorded.stderr)
            assert.matches("read by an exec'd cat\n", recorded.stdout, 1, true)
            -- the exec'd programs' calls go on in the one recording
            local _, headers = slurp(rec):gsub("luahook%-recording ", "")
            assert.are.equal(1, headers)
            os.remove(file)
            local replayed = qemu.run { arch = arch, program = busybox, args = shell,
                                        script = REPLAY, plugin_args = { "in=" .. rec },
                                        wrap = "timeout 60" }
            assert.are.equal(0, replayed.status, replayed.stderr)
            -- the same random bytes, the gone file's text, the recorded pid
            assert.are.equal(recorded.stdout, replayed.stdout)
            os.remove(rec)
        end)

        it("replays a run that killed itself with a signal to the same end", function()
            local rec = qemu.tmppath()
            local recorded = record(arch, rec, "exitwith", { "kill", "11" })
            assert.are.equal(128 + 11, recorded.status)
            local replayed = replay(arch, rec, "exitwith", { "kill", "11" })
            assert.are.equal(128 + 11, replayed.status, replayed.stderr)
            os.remove(rec)
        end)
    end)
end

describe("a recording cut short", function()
    -- recplay blocks reading its stdin (a pipe nobody writes) and is killed
    local function killed_recording()
        local file, rec, pid_file = temp_file("read before the kill\n"), qemu.tmppath(), qemu.tmppath()
        os.execute(string.format("sleep 30 | %s -plugin %s %s %s 0 >/dev/null 2>&1 & echo $! >%s",
                                 quote(qemu.build .. "/qemu/bin/qemu-i386"),
                                 quote(qemu.plugin .. ",script=" .. RECORD .. ",out=" .. rec),
                                 quote(qemu.guest("recplay")), quote(file), quote(pid_file)))
        -- the recorder writes its file before a call that may wait: the read
        for _ = 1, 100 do
            if (slurp(rec) or ""):find("read before the kill", 1, true) then break end
            os.execute("sleep 0.05")
        end
        os.execute("sleep 0.2")
        os.execute("kill -9 " .. slurp(pid_file))
        os.remove(pid_file)
        return rec, file
    end

    it("holds the calls up to the kill, refused without partial=1", function()
        local rec, file = killed_recording()
        local r = replay("i386", rec, "recplay", { file, "0" })
        assert.are.equal(1, r.status)
        assert.matches(": truncated: the recorded run has no end %(it was cut short%); partial=1 "
                       .. "replays it up to its last call\n$", r.stderr)
        os.remove(rec); os.remove(file)
    end)

    it("is replayed up to its last call with partial=1, then the guest is stopped", function()
        local rec, file = killed_recording()
        os.remove(file)
        local r = replay("i386", rec, "recplay", { file, "0" }, { "partial=1" })
        assert.are.equal(STOPPED, r.status)
        assert.matches("^luahook: replay: the recording " .. literal(rec)
                       .. " ends before this call of thread %d+ %(now %d+%): read%(0, ", r.stderr)
        os.remove(rec)
    end)
end)

describe("a replay that stops with the REPL", function()
    it("opens the prompt at the different call when repl= is given", function()
        local a, b = temp_file("one\n"), temp_file("two\n")
        local rec, sock = qemu.tmppath(), qemu.tmppath() .. ".sock"
        assert.are.equal(0, record("i386", rec, "recplay", { a, "0" }).status)
        local job = qemu.start { guest = "recplay", args = { b, "0" }, script = REPLAY,
                                 plugin_args = { "in=" .. rec, "repl=unix:" .. sock } }
        local waited = 0
        while not (slurp(job.err) or ""):find("waiting for a REPL client", 1, true) and waited < 200 do
            os.execute("sleep 0.05")
            waited = waited + 1
        end
        local input = temp_file("sc:string(2)\nc\n")
        local transcript = sh(string.format("timeout 20 %s %s <%s",
                                            quote(qemu.build .. "/luahook-attach"), quote(sock),
                                            quote(input)))
        local r = qemu.finish(job)
        assert.matches("left the recording: %[tid %d+%] openat%(", transcript)
        assert.matches('"' .. literal(b) .. '"\tfalse', transcript)
        assert.are.equal(STOPPED, r.status)
        assert.matches("recorded: openat%(AT_FDCWD, \"" .. literal(a), r.stderr)
        for _, f in ipairs({ a, b, rec, input }) do os.remove(f) end
    end)
end)

describe("luahook record and luahook replay", function()
    local luahook = command.luahook

    it("record -o FILE, then replay FILE, give the same output", function()
        local rec, file = qemu.tmppath(), temp_file("for the command\n")
        local recorded = command.run({ luahook, "record", "-o", rec, qemu.guest("recplay", "x86_64"),
                                       file, "0" }, { input = file })
        assert.are.equal(0, recorded.status, recorded.stderr)
        os.remove(file)
        local replayed = command.run({ luahook, "replay", rec, qemu.guest("recplay", "x86_64"),
                                       file, "0" })
        assert.are.equal(0, replayed.status, replayed.stderr)
        assert.are.equal(recorded.stdout, replayed.stdout)
        os.remove(rec)
    end)

    it("replay -s trace traces the replayed run, up to the first different call", function()
        local a, b = temp_file("one\n"), temp_file("two\n")
        local rec = qemu.tmppath()
        assert.are.equal(0, command.run({ luahook, "record", "-o", rec, qemu.guest("recplay"),
                                          a, "0" }).status)
        local r = command.run({ luahook, "replay", "-s", "trace", rec, qemu.guest("recplay"), b, "0" })
        assert.are.equal(STOPPED, r.status)
        local call = tonumber(r.stderr:match("left the recording at call (%d+)"))
        local traced = 0
        for line in r.stderr:gmatch("[^\n]+") do
            if line:match("^[%w_]+%(.*%) = ") then traced = traced + 1 end
        end
        -- every call before the different one was replayed, and traced
        assert.are.equal(call - 1, traced)
        -- getpid answered with the recorded process's id, not this one's
        local recorded, now = r.stderr:match("%(thread (%d+), now (%d+),")
        assert.are_not.equal(recorded, now)
        assert.matches("\ngetpid%(%) = " .. recorded .. "\n", r.stderr)
        for _, f in ipairs({ a, b, rec }) do os.remove(f) end
    end)

    it("replays dynamically linked programs, which map their libraries, without their input",
       function()
        local file = temp_file("pear\napple\n")
        local programs = {
            { qemu.build .. "/examples/startup-dynamic" },   -- i386, the cross sysroot's glibc
            { "/usr/bin/sort", file },                        -- the host's x86_64 programs
            { "/bin/cat", file },                             -- copy_file_range to its output
        }
        local recorded = {}
        for i, argv in ipairs(programs) do
            recorded[i] = { rec = qemu.tmppath() }
            local r = command.run({ luahook, "record", "-o", recorded[i].rec, unpack(argv) })
            assert.are.equal(0, r.status, r.stderr)
            recorded[i].stdout = r.stdout
        end
        assert.are.equal("apple\npear\n", recorded[2].stdout)
        assert.are.equal("pear\napple\n", recorded[3].stdout)
        os.remove(file)
        for i, argv in ipairs(programs) do
            local r = command.run({ luahook, "replay", recorded[i].rec, unpack(argv) })
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal(recorded[i].stdout, r.stdout)
            os.remove(recorded[i].rec)
        end
    end)

    it("replays a forked child's calls in the child", function()
        local rec = qemu.tmppath()
        local program = qemu.build .. "/examples/pipefork"
        local recorded = command.run({ luahook, "record", "-o", rec, program })
        assert.are.equal(0, recorded.status, recorded.stderr)
        local replayed = command.run({ luahook, "replay", rec, program })
        assert.are.equal(0, replayed.status, replayed.stderr)
        assert.are.equal(recorded.stdout, replayed.stdout)
        os.remove(rec)
    end)

    it("records an exec into another architecture up to the exec, and replays it so, the new "
       .. "program running for real", function()
        local rec = qemu.tmppath()
        local argv = { qemu.guest("execer"), "exec", qemu.guest("execer", "x86_64"), "ZERO", "show" }
        local recorded = command.run({ luahook, "record", "-o", rec, unpack(argv) })
        assert.are.equal(0, recorded.status, recorded.stderr)
        assert.matches("^argv%[0%]=ZERO\n", recorded.stdout)
        assert.matches("luahook: record: [^\n]*execer%.x86_64 is an x86_64 program, which this "
                       .. "i386 recording cannot hold: process %d+ is recorded up to its exec\n",
                       recorded.stderr)
        local replayed = command.run({ luahook, "replay", rec, unpack(argv) })
        assert.are.equal(0, replayed.status, replayed.stderr)
        assert.are.equal(recorded.stdout, replayed.stdout)
        assert.matches("luahook: replay: [^\n]*execer%.x86_64 runs for real: a recording of "
                       .. "i386 calls has none of x86_64 programs\n", replayed.stderr)
        os.remove(rec)
    end)

    it("record without -o and replay without a program are usage errors, in one line", function()
        local r = command.run({ luahook, "record", qemu.guest("getpid") })
        assert.are.equal(64, r.status)
        assert.are.equal("luahook: record needs the file to record into: luahook record -o FILE "
                         .. "PROGRAM [ARGS...] (see luahook --help)\n", r.stderr)
        r = command.run({ luahook, "replay", "/nonexistent.rec", qemu.guest("getpid") })
        assert.are.equal(66, r.status)
        assert.are.equal("luahook: cannot read the recording /nonexistent.rec: No such file or "
                         .. "directory\n", r.stderr)
        r = command.run({ luahook, "replay", qemu.guest("getpid") })
        assert.are.equal(64, r.status)
    end)
end)

describe("what a recording holds", function()
    it("has a role for every argument kind of every signature, on both guests", function()
        local script = qemu.script('print(require("luahook.recording.extents").check())')
        for arch, expected in pairs({ i386 = 325, x86_64 = 273 }) do
            local r = qemu.run { arch = arch, guest = "exitwith", args = { "0" }, script = script }
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal(expected .. "\n", r.stderr)
        end
        os.remove(script)
    end)

    it("refuses a recording of the other architecture", function()
        local rec = qemu.tmppath()
        assert.are.equal(5, record("i386", rec, "exitwith", { "5" }).status)
        local r = replay("x86_64", rec, "exitwith", { "5" })
        assert.are.equal(1, r.status)
        assert.are.equal("luahook: replay: " .. rec .. ": recorded from an i386 guest; this guest "
                         .. "is x86_64\n", r.stderr)
        os.remove(rec)
    end)

    it("is refused by record.lua without a file to go to", function()
        local r = qemu.run { guest = "exitwith", args = { "0" }, script = RECORD }
        assert.are.equal(1, r.status)
        assert.are.equal("luahook: record.lua writes the recording to luahook's output: give it "
                         .. "a file with out=FILE (luahook record -o FILE)\n", r.stderr)
    end)
end)
