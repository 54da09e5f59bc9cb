-- Generates the errno table (name, number) from the kernel's asm-generic
-- errno headers, which i386 and x86_64 guests both use.
-- usage: luajit gen_errno.lua OUT.lua HEADER...
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local cdefs = require "cdefs"
local uapi = require "uapi"

local out = arg[1]
assert(out and arg[2], "usage: gen_errno.lua OUT.lua HEADER...")

local entries = uapi.errno(cdefs.read({ unpack(arg, 2) }))
assert(#entries > 100, "only " .. #entries .. " errno values found; wrong headers?")

local o = assert(io.open(out, "w"))
o:write("-- Generated from asm-generic/errno*.h by tools/gen_errno.lua; do not edit.\n")
o:write("-- Each entry: { name, number }, by number; aliases follow their target.\n")
o:write("return {\n", table.concat(uapi.numbered_lines(entries, "    "), "\n"), "\n}\n")
o:close()
