-- What QEMU's linux-user does to a guest's path-taking syscalls before
-- (or instead of) the host kernel, so that the sandbox, making such a call
-- itself, gets the result QEMU would have: the open flags it translates,
-- the /proc/self files it answers itself (linux-user/syscall.c,
-- maybe_do_fake_open and is_proc_myself), the -L prefix it puts before
-- absolute paths (util/path.c), the program /proc/self/exe stands for, and
-- i386's 16-bit user ids.
local bit = require "bit"
local ffi = require "ffi"
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local host = require "luahook._host.host"

local linuxuser = {}

ffi.cdef [[ int lh_linuxuser_getpid(void) __asm__("getpid"); ]]

-- Open flags: rows { guest mask, guest bits, host bits } as QEMU's
-- fcntl_flags_tbl has them; a flag whose guest bits are set under the mask
-- becomes the host bits, and any other bit is dropped. The guest's values
-- by name from its kernel headers (mips' O_CREAT is 0x100); the access
-- mode is a two-bit field, and O_SYNC contains O_DSYNC's bit.
local OPEN_FLAGS = {}
do
    local guest = arch.constants()
    local sync = guest.O_SYNC or host.O_SYNC
    local function row(name, mask)
        local bits = guest[name] or host[name]
        OPEN_FLAGS[#OPEN_FLAGS + 1] = { mask or bits, bits, host[name] }
    end
    row("O_WRONLY", 0x3)
    row("O_RDWR", 0x3)
    row("O_DSYNC", sync)
    row("O_SYNC", sync)
    -- the headers call O_ASYNC FASYNC
    OPEN_FLAGS[#OPEN_FLAGS + 1] = { guest.FASYNC, guest.FASYNC, host.O_ASYNC }
    for _, name in ipairs({ "O_CREAT", "O_EXCL", "O_NOCTTY", "O_TRUNC", "O_APPEND", "O_NONBLOCK",
                            "O_DIRECTORY", "O_NOFOLLOW", "O_DIRECT", "O_NOATIME",
                            "O_CLOEXEC", "O_PATH", "O_TMPFILE" }) do
        row(name)
    end
    -- O_LARGEFILE: a 64-bit host has no such bit; its kernel implies it
end

local translated = {} -- guest flags -> host flags: programs use few sets

--- The host's open flags for the guest's `flags` (the low 32 bits count,
--- as QEMU reads them).
---@param flags integer
---@return integer
function linuxuser.open_flags(flags)
    flags = bit.tobit(tonumber(bit.band(flags, 0xffffffff)) or 0)
    local out = translated[flags]
    if not out then
        out = 0
        for _, row in ipairs(OPEN_FLAGS) do
            if bit.band(flags, row[1]) == row[2] then
                out = bit.bor(out, row[3])
            end
        end
        translated[flags] = out
    end
    return out
end

-- QEMU's options that take a value (linux-user/main.c, arg_table): needed
-- to find where its own arguments end and the program begins.
local OPTIONS_WITH_VALUE = {
    g = true, L = true, s = true, cpu = true, E = true, U = true, ["0"] = true,
    r = true, B = true, R = true, t = true, d = true, dfilter = true, D = true,
    ["tb-size"] = true, seed = true, trace = true, plugin = true,
}
-- configure's default interpreter prefix, /usr/gnemul/qemu-%M
local DEFAULT_PREFIX = "/usr/gnemul/qemu-"

local started -- { program = path, prefix = dir or nil }

-- Reads QEMU's command line the way its parse_args does: the -L prefix
-- (QEMU_LD_PREFIX first, the option over it) and the program.
local function read_command_line()
    local f = io.open("/proc/self/cmdline", "rb")
    local text = f and f:read("*a") or ""
    if f then f:close() end
    local argv = {}
    for arg in text:gmatch("([^%z]*)%z") do argv[#argv + 1] = arg end
    local prefix = os.getenv("QEMU_LD_PREFIX") or (DEFAULT_PREFIX .. context.arch)
    local i = 2
    while i <= #argv and argv[i]:sub(1, 1) == "-" do
        local opt = argv[i]:sub(2)
        i = i + 1
        if opt == "-" then break end
        if opt:sub(1, 1) == "-" then opt = opt:sub(2) end
        if OPTIONS_WITH_VALUE[opt] then
            if opt == "L" then prefix = argv[i] end
            i = i + 1
        end
    end
    local program = argv[i]
    started = { program = program and (host.realpath(program) or program) }
    -- util/path.c: no prefix for "" or "/"; a relative one is from the cwd.
    -- One that does not exist puts nothing before any path.
    if prefix and prefix ~= "" and prefix ~= "/" then
        if prefix:sub(1, 1) ~= "/" then
            prefix = (require("luahook.hostpath").cwd() or "") .. "/" .. prefix
        end
        prefix = prefix:gsub("/+$", "")
        if host.exists(prefix) then started.prefix = prefix end
    end
end

-- Read when the module loads, before the guest runs: QEMU resolved both
-- against the working directory it started in.
read_command_line()

--- The guest program, as QEMU opens it for /proc/self/exe (its real path).
---@return string?
function linuxuser.program()
    return started.program
end

--- The path QEMU's path() makes of `text`: under the -L prefix when it
--- exists there. QEMU remembers the first answer for each path; this asks
--- again each time (they differ only when the prefix's tree changes).
---@param text string
---@return string
function linuxuser.prefixed(text)
    if not started.prefix or text:sub(1, 1) ~= "/" then
        return text
    end
    local full = started.prefix .. "/" .. text:gsub("^/+", "")
    if host.exists(full) then
        return full
    end
    return text
end

-- Whether `name` is /proc/self/ENTRY or /proc/PID/ENTRY for this process
-- (is_proc_myself: by the text, "/proc/self/./exe" is not).
local function proc_myself(name, entry)
    local rest = name:match("^/proc/(.*)$")
    if not rest then return false end
    if rest:sub(1, 5) == "self/" then
        rest = rest:sub(6)
    elseif rest:match("^[1-9]") then
        local mine = tostring(ffi.C.lh_linuxuser_getpid()) .. "/"
        if rest:sub(1, #mine) ~= mine then return false end
        rest = rest:sub(#mine + 1)
    else
        return false
    end
    return rest == entry
end
linuxuser.is_proc_myself = proc_myself

local FAKE_FILES = { "maps", "smaps", "stat", "auxv", "cmdline" }

--- Whether QEMU opens the guest's program for `text` (open, openat,
--- openat2 of /proc/self/exe, by its text: maybe_do_fake_open).
---@param text string
---@return boolean
function linuxuser.opens_program(text)
    return proc_myself(text, "exe")
end

--- The /proc/self file QEMU makes up from its own state, instead of
--- opening it, when the guest opens `text` from directory descriptor
--- `dirfd`; nil for a real open. `reached` is what the path leads to
--- from `dirfd` (nil when nothing): QEMU decides by realpath() from the
--- cwd, which leads to the same place unless `text` is relative to
--- another directory, so realpath() is asked only when it could differ.
---@param text string
---@param dirfd integer
---@param reached string?
---@return string?
function linuxuser.made_up_file(text, dirfd, reached)
    local name = text
    if text:sub(1, 1) ~= "/" and dirfd ~= host.AT_FDCWD then
        local real = host.realpath(text)
        if real and real:sub(1, 6) == "/proc/" then name = real end
    elseif reached and reached:sub(1, 6) == "/proc/" then
        name = reached
    end
    for _, entry in ipairs(FAKE_FILES) do
        if proc_myself(name, entry) then
            return entry
        end
    end
    return nil
end

--- A user or group id as QEMU passes it on: i386's 16-bit calls (chown,
--- lchown, fchownat) turn 0xffff ("no change") into -1.
---@param id integer the guest's argument
---@return integer
function linuxuser.id16(id)
    id = tonumber(bit.band(id, 0xffffffff)) or 0
    if context.arch == "i386" and bit.band(id, 0xffff) == 0xffff then
        return -1
    end
    return id
end

return linuxuser
