-- Generates a Lua module mapping syscall numbers to names from a kernel UAPI
-- header (asm/unistd_32.h, asm/unistd_64.h), so no table is typed by hand.
-- usage: luajit gen_syscalls.lua HEADER ARCH OUT.lua
local header, arch, out = arg[1], arg[2], arg[3]
assert(header and arch and out, "usage: gen_syscalls.lua HEADER ARCH OUT.lua")

local f = assert(io.open(header))
local by_nr, count = {}, 0
for line in f:lines() do
    local name, nr = line:match("^#define%s+__NR_([%w_]+)%s+(%d+)%s*$")
    if name then
        nr = tonumber(nr)
        assert(not by_nr[nr], header .. ": number " .. nr .. " defined twice")
        by_nr[nr] = name
        count = count + 1
    end
end
f:close()
assert(count > 300, header .. ": only " .. count .. " syscalls found; wrong header?")

local nrs = {}
for nr in pairs(by_nr) do nrs[#nrs + 1] = nr end
table.sort(nrs)

local o = assert(io.open(out, "w"))
o:write("-- Generated from ", header:match("[^/]*/[^/]*$"), " by tools/gen_syscalls.lua; do not edit.\n")
o:write("-- Syscall number -> name for ", arch, ".\n")
o:write("return {\n")
for _, nr in ipairs(nrs) do
    o:write(string.format("    [%d] = %q,\n", nr, by_nr[nr]))
end
o:write("}\n")
o:close()
