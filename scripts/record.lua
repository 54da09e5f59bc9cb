-- record.lua: records a run so that scripts/replay.lua can run the program
-- again exactly as it ran: every syscall of every thread, in order, with
-- its arguments, its result and every byte the kernel wrote into guest
-- memory (read buffers, stat structures, random bytes, clocks, socket
-- addresses, pipe's descriptors, ...).
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/record.lua,out=run.rec ./prog
--   luahook record -o run.rec ./prog
--
-- The recording is luahook's output stream (out=FILE, which it needs), a
-- binary format described in docs/scripts.md, written as the run goes: a
-- run that crashes leaves a recording up to the crash. Forked processes
-- and the programs they exec (luahook follows them) go on in the same
-- recording, unless a program is of another architecture. Other scripts
-- that print to luahook's output would mix their text into it. No options.
local lh = require "luahook"
local options = require "luahook.options"

lh.shared.single_state("one recording holds the order of every thread's calls")
options.parse(lh.args, {})
require("luahook.recording.recorder").start()
