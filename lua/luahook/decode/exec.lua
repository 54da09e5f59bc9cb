-- Whether an execve or execveat the guest makes will succeed, asked of the
-- host before the call runs. A tracer must print a successful exec's line
-- at its entry (the process is replaced and the call never returns), a
-- failed one's when it returns, on one line as strace does. QEMU's
-- linux-user hands the call to the host kernel with the guest's own
-- paths and descriptors (same process, same directory), so the host's
-- answer to "is this an executable regular file?" is the kernel's, but
-- for what only the exec itself finds out (a file in a format no binary
-- handler takes, too many arguments).
local bit = require "bit"
local ffi = require "ffi"
local values = require "luahook.decode.values"

ffi.cdef [[
int lh_exec_statx(int dirfd, const char *path, int flags, unsigned int mask, uint8_t *buf)
    __asm__("statx");
int lh_exec_faccessat(int dirfd, const char *path, int mode, int flags) __asm__("faccessat");
]]

local exec = {}

local AT_FDCWD, AT_SYMLINK_NOFOLLOW, AT_EACCESS, AT_EMPTY_PATH = -100, 0x100, 0x200, 0x1000
local STATX_TYPE, X_OK, S_IFMT, S_IFREG = 0x1, 1, 0xf000, 0x8000
local STATX_MODE_AT = 28 -- stx_mode's offset in struct statx, the same everywhere
local statx_buf = ffi.new("uint8_t[256]")

--- Whether exec of `path` (relative to descriptor `dirfd`, with execveat's
--- `flags`) is expected to succeed; false when the path cannot be read.
---@param dirfd integer
---@param path string?
---@param flags integer
---@return boolean
function exec.will_succeed(dirfd, path, flags)
    if not path then
        return false
    end
    local at = bit.band(flags, AT_SYMLINK_NOFOLLOW + AT_EMPTY_PATH)
    if ffi.C.lh_exec_statx(dirfd, path, at, STATX_TYPE, statx_buf) ~= 0 then
        return false
    end
    local mode = statx_buf[STATX_MODE_AT] + 256 * statx_buf[STATX_MODE_AT + 1]
    if bit.band(mode, S_IFMT) ~= S_IFREG then
        return false
    end
    return ffi.C.lh_exec_faccessat(dirfd, path, X_OK,
                                   AT_EACCESS + bit.band(at, AT_EMPTY_PATH)) == 0
end

--- The same for the exec call `sc` (execve or execveat).
---@param sc luahook.Syscall
---@return boolean
function exec.call_will_succeed(sc)
    if sc.name == "execveat" then
        return exec.will_succeed(values.i32(sc.args[1]), sc:string(2), values.u32(sc.args[5]))
    end
    return exec.will_succeed(AT_FDCWD, sc:string(1), 0)
end

return exec
