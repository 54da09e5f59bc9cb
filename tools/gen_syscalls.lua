-- Generates a Lua module mapping syscall numbers to names from a kernel UAPI
-- header (asm/unistd_32.h, asm/unistd_64.h), so no table is typed by hand.
-- usage: luajit gen_syscalls.lua HEADER ARCH OUT.lua
package.path = (arg[0]:match("^(.*)/") or ".") .. "/?.lua;" .. package.path
local cdefs = require "cdefs"
local uapi = require "uapi"

local header, arch, out = arg[1], arg[2], arg[3]
assert(header and arch and out, "usage: gen_syscalls.lua HEADER ARCH OUT.lua")

local by_nr, count = uapi.syscalls(cdefs.read({ header }), header)
assert(count > 300, header .. ": only " .. count .. " syscalls found; wrong header?")

local o = assert(io.open(out, "w"))
o:write("-- Generated from ", header:match("[^/]*/[^/]*$"), " by tools/gen_syscalls.lua; do not edit.\n")
o:write("-- Syscall number -> name for ", arch, ".\n")
o:write("return {\n", table.concat(uapi.syscall_lines(by_nr, "    "), "\n"), "\n}\n")
o:close()
