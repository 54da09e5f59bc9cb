-- no-memory.lua (lesson 5): once the program has written its first line
-- to standard output, the kernel seems to have no memory left for it:
-- brk refuses to grow the heap and mmap refuses new anonymous memory.
-- Before that line the C library sets itself up, and it needs memory to
-- reach main at all.
--
--   build/cmd/luahook -s examples/05-no-memory/no-memory.lua build/examples/grow
--
-- Option: from=start refuses memory from the program's first call on. Other
-- plugin arguments are left alone (not refused), so explain.lua's options
-- can be given when both scripts run.
-- Each refusal is one line on luahook's output. brk says no the way the
-- kernel does, by answering the old end of the heap (it has no error
-- result); mmap answers ENOMEM.
local bit = require "bit"
local lh = require "luahook"
local from = lh.args.from or "output"
if from ~= "output" and from ~= "start" then
    error("from=" .. from .. ": expected output or start")
end

local MAP_ANONYMOUS = 0x20

local armed = from == "start"
local heap_end -- the end of the heap, from brk's answers

lh.after("write", function(sc, ret)
    if sc.args[1] == 1 and ret > 0 and not armed then
        armed = true
        lh.printf("no-memory: the program has written to standard output: no more memory from now on\n")
    end
end)

lh.on("brk", function(sc)
    if armed and heap_end and sc.args[1] > heap_end then
        lh.printf("no-memory: brk(%s) refused: the heap stays at %s\n", lh.hex(sc.args[1]), lh.hex(heap_end))
        return heap_end
    end
end)

lh.after("brk", function(sc, ret)
    heap_end = ret
end)

-- glibc maps memory with mmap2 on i386 (the old mmap there takes its
-- arguments from memory) and mmap on x86_64
local mmap = lh.arch == "i386" and "mmap2" or "mmap"
lh.on(mmap, function(sc)
    if armed and bit.band(sc.args[4], MAP_ANONYMOUS) ~= 0 then
        lh.printf("no-memory: %s of %d bytes refused with ENOMEM\n", sc.name, sc.args[2])
        return -lh.errno.ENOMEM
    end
end)
