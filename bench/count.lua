-- A catch-all hook that counts every syscall: the cost of entering Lua.
local calls = 0
luahook.on("*", function() calls = calls + 1 end)
luahook.on_exit(function() luahook.printf("%d syscalls\n", calls) end)
