-- Generates the errno table (name, number) from the kernel's asm-generic
-- errno headers, which i386 and x86_64 guests both use.
-- usage: luajit gen_errno.lua OUT.lua HEADER...
local out = arg[1]
assert(out and arg[2], "usage: gen_errno.lua OUT.lua HEADER...")

local entries, seen = {}, {}
for i = 2, #arg do
    local f = assert(io.open(arg[i]))
    for line in f:lines() do
        local name, value = line:match("^#define%s+(E[%u%d]+)%s+(%w+)")
        if name and not seen[name] then
            seen[name] = true
            entries[#entries + 1] = { name = name, value = value }
        end
    end
    f:close()
end
assert(#entries > 100, "only " .. #entries .. " errno values found; wrong headers?")

-- Aliases (EWOULDBLOCK = EAGAIN) name another constant instead of a number.
local number = {}
for _, e in ipairs(entries) do
    number[e.name] = tonumber(e.value)
end
for _, e in ipairs(entries) do
    if not number[e.name] then
        number[e.name] = assert(number[e.value], "unresolved errno alias " .. e.name)
    end
end

local o = assert(io.open(out, "w"))
o:write("-- Generated from asm-generic/errno*.h by tools/gen_errno.lua; do not edit.\n")
o:write("-- Each entry: { name, number }; aliases follow their target.\n")
o:write("return {\n")
for _, e in ipairs(entries) do
    o:write(string.format("    { %q, %d },\n", e.name, number[e.name]))
end
o:write("}\n")
o:close()
