-- replay.lua: runs a program again exactly as scripts/record.lua recorded
-- it, without its inputs: no files, no server, no terminal.
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/replay.lua,in=run.rec ./prog
--   luahook replay run.rec ./prog
--
-- Options:
--   in=FILE     the recording (required)
--   partial=1   replay a recording whose run did not end (killed, or cut
--               short) up to its last call
-- Each call is checked against the recorded one and answered from the
-- recording, the recorded bytes written into guest memory; calls that
-- change the process itself (memory mappings, threads, signal handling)
-- and output to the descriptors it started with run for real, their
-- results checked. Threads make their calls in the recorded order. A call
-- that differs stops the guest (exit status 70) with a report naming the
-- call and showing both, decoded as trace.lua does; with break= or repl=,
-- the REPL opens there first. A program the guest execs goes on with the
-- recorded calls of its process. What runs for real and what stays
-- nondeterministic: docs/scripts.md.
local lh = require "luahook"
local options = require "luahook.options"

lh.shared.single_state("one replayer imposes the recorded order on every thread")
local opts = options.parse(lh.args, {
    ["in"] = { kind = "string", default = false },
    partial = { kind = "flag", default = false },
})
if not opts["in"] or opts["in"] == "" then
    error("give the recording to replay: in=FILE", 2)
end
require("luahook.recording.replayer").start(opts["in"], opts)
