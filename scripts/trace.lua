-- trace.lua: one line per guest syscall, in strace's shape:
--   openat(0xffffff9c, 0x80b7010, 0x0, ...) = -1 ENOENT (No such file or directory)
-- Arguments are the raw register values in hex; results are decoded.
--
--   qemu-i386 -plugin build/luahook.so,script=scripts/trace.lua ./prog
local lh = require "luahook"

-- These end the process: no result ever comes back.
lh.on({ "exit", "exit_group" }, function(sc)
    lh.printf("%s = ?\n", tostring(sc))
end)

-- A successful exec replaces the process, so announce it on entry; if it
-- fails, the result line follows as for any other call.
lh.on({ "execve", "execveat" }, function(sc)
    lh.printf("%s <unfinished ...>\n", tostring(sc))
end)

lh.after("*", function(sc, ret)
    lh.printf("%s = %s\n", tostring(sc), lh.result(ret))
end)
