-- The REPL's socket protocol (core/repl_proto.c, core/repl_socket.c)
-- without QEMU: build/fake_guest (spec/fake/fake_guest.c) stands in for the
-- plugin under repl=unix:SOCK, and the spec is the client, frame by frame
-- (spec/helpers/frames.lua). The client connects once the fake says, on
-- its stderr (a FIFO the spec reads), that a prompt waits for one: every
-- step is a blocking read, nothing depends on timing.
local frames = require "helpers.frames"
local qemu = require "helpers.qemu"

local FAKE = qemu.build .. "/fake_guest"
local GETPID = 39 -- x86_64's

-- Starts the fake on x86_64 with `source` as the script over `events`,
-- repl=unix:SOCK and `args`; returns the session: sock, the stderr FIFO
-- (read it with session:line()), and finish() for stdout, stderr and the
-- status.
local function start(source, events, args)
    local s = { sock = qemu.tmppath() .. ".sock", script = qemu.script(source),
                input = qemu.tmppath(), fifo = qemu.tmppath(), out = qemu.tmppath() }
    qemu.write_file(s.input, table.concat(events, "\n") .. "\n")
    qemu.sh("mkfifo " .. qemu.quote(s.fifo))
    -- `timeout`: a fake whose prompt waited for a client forever would hang
    -- the run; it is a guard, no result depends on it
    local words = { "timeout 60", qemu.quote(FAKE), "x86_64", qemu.quote(s.script),
                    qemu.quote("repl=unix:" .. s.sock) }
    for _, a in ipairs(args or {}) do words[#words + 1] = qemu.quote(a) end
    -- the status is the FIFO's last line, so its end means the fake is done
    os.execute(string.format("{ %s <%s >%s 2>&3; echo \"exit $?\" >&3; } 3>%s &",
                             table.concat(words, " "), qemu.quote(s.input), qemu.quote(s.out),
                             qemu.quote(s.fifo)))
    s.err = assert(io.open(s.fifo, "r")) -- once the fake has it open
    s.stderr = {}
    -- the next line of the fake's stderr, kept in s.stderr
    function s:line()
        local l = self.err:read("*l")
        if l then self.stderr[#self.stderr + 1] = l end
        return l
    end
    -- reads stderr until a prompt waits for a client; then connects
    function s:attach()
        repeat
            local l = self:line()
        until not l or l:match("waiting for a REPL client")
        return assert(frames.connect(self.sock))
    end
    function s:finish()
        while self:line() do end
        self.err:close()
        local status = table.remove(self.stderr)
        local r = { stdout = qemu.slurp(self.out), stderr = table.concat(self.stderr, "\n"),
                    status = tonumber(status:match("^exit (%d+)$")) }
        for _, path in ipairs({ self.script, self.input, self.fifo, self.out, self.sock }) do
            os.remove(path)
        end
        return r
    end
    return s
end

local PROMPT = "P:luahook> "

describe("the REPL's socket protocol, over the core without QEMU", function()
    it("shows a breakpoint's stop as output, then a prompt; answers a line with output and "
       .. "the next prompt, a completion with its candidates; lets the guest go on at detach",
       function()
        local s = start("", { "entry " .. GETPID .. " 7" }, { "break=getpid" })
        local client = s:attach()
        local seen = client:until_frame("P")
        assert.are.equal(2, #seen)
        assert.matches("^O:breakpoint 1: %[tid %d+%] getpid%(%)\n$", seen[1])
        assert.are.equal(PROMPT, seen[2])
        client:send("L", "sc.name .. ' ' .. sc.args[1]")
        assert.are.same({ 'O:"getpid 7"\n', PROMPT }, (client:until_frame("P")))
        client:send("C", "sc.na")
        assert.are.same({ "M", "sc.name\n" }, { client:receive() })
        client:send("D")
        assert.are.same({}, client:rest())
        client:close()
        local r = s:finish()
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("watching returns\nrun\n", r.stdout)
    end)

    it("hands the guest the result a line chose with ret(v), from a prompt lh.repl() opened",
       function()
        local s = start([[
            local lh = require "luahook"
            lh.on("getpid", function() return lh.repl() end)
        ]], { "entry " .. GETPID, "entry " .. GETPID })
        local client = s:attach()
        local seen = client:until_frame("P")
        assert.matches("getpid%(%)\n$", seen[1])
        client:send("L", "ret(4242)")
        local rest = client:until_frame("P") -- the next call's prompt
        assert.matches("getpid%(%)\n$", rest[#rest - 1])
        client:send("L", "c")
        client:close()
        local r = s:finish()
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("watching returns\nanswer 4242\nrun\n", r.stdout)
    end)

    it("refuses a second client with one frame saying why, and keeps the first", function()
        local s = start("", { "entry " .. GETPID }, { "break=getpid" })
        local first = s:attach()
        first:until_frame("P") -- the first is the one attached now
        local second = assert(frames.connect(s.sock))
        assert.are.same({ "R:another client is attached to this guest" }, second:rest())
        second:close()
        first:send("L", "1 + 1")
        assert.are.same({ "O:2 (0x2)\n", PROMPT }, (first:until_frame("P")))
        first:send("D")
        first:close()
        assert.are.equal("watching returns\nrun\n", s:finish().stdout)
    end)

    for _, case in ipairs({
        { "a frame longer than the maximum", "L\255\255\255\255" },
        { "a frame of no type the protocol has", "X\0\0\0\0" },
        { "a connection closed in mid-frame", "L\0\0\0\9sc." },
        { "a connection closed between frames", "" },
    }) do
        it("takes " .. case[1] .. " as the client leaving: the guest goes on", function()
            local s = start("", { "entry " .. GETPID }, { "break=getpid" })
            local client = s:attach()
            client:until_frame("P")
            if case[2] ~= "" then client:send_raw(case[2]) end
            if case[1]:match("closed") then
                client:close()
            else
                assert.are.same({}, client:rest()) -- the plugin hung up
                client:close()
            end
            local r = s:finish()
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("watching returns\nrun\n", r.stdout)
        end)
    end
end)
