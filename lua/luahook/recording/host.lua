-- What recording and replaying do to the process itself, through the
-- host's C library: linux-user runs the guest in this very process, with
-- the guest's descriptors as its own, so a guest descriptor is a host one.
local ffi = require "ffi"

-- Own names (asm labels): no clash with another module's declarations.
ffi.cdef [[
int lh_rec_fcntl(int fd, int cmd, ...) __asm__("fcntl");
int lh_rec_close(int fd) __asm__("close");
int lh_rec_dup3(int from, int to, int flags) __asm__("dup3");
int lh_rec_memfd_create(const char *name, unsigned int flags) __asm__("memfd_create");
int lh_rec_ftruncate(int fd, int64_t size) __asm__("ftruncate");
intptr_t lh_rec_pread(int fd, void *buf, size_t n, int64_t offset) __asm__("pread");
intptr_t lh_rec_pwrite(int fd, const void *buf, size_t n, int64_t offset) __asm__("pwrite");
intptr_t lh_rec_write(int fd, const void *buf, size_t n) __asm__("write");
int64_t lh_rec_lseek(int fd, int64_t offset, int whence) __asm__("lseek");
int lh_rec_kill(int pid, int sig) __asm__("kill");
int lh_rec_tgkill(int tgid, int tid, int sig) __asm__("tgkill");
]]
local C = ffi.C

local F_GETFD, F_DUPFD_CLOEXEC, O_CLOEXEC, SEEK_CUR = 1, 1030, 0x80000, 1
local MFD_CLOEXEC = 1
-- descriptors the replay keeps aside start here, above the guest's usual ones
local ASIDE = 100

local host = {}

--- Whether descriptor `fd` is open.
---@param fd integer
---@return boolean
function host.is_open(fd)
    return C.lh_rec_fcntl(fd, F_GETFD) >= 0
end

--- The bytes of the file open as `fd` from `offset` on, at most `len` of
--- them (fewer at its end), without moving its file position; nil if it
--- cannot be read.
---@return string?
function host.read_file(fd, offset, len)
    local buf = ffi.new("uint8_t[?]", math.max(len, 1))
    local got = 0
    while got < len do
        local n = tonumber(C.lh_rec_pread(fd, buf + got, len - got, offset + got))
        if n < 0 then return nil end
        if n == 0 then break end
        got = got + n
    end
    return ffi.string(buf, got)
end

--- The file position of `fd` (where a read would start), or nil.
---@return number?
function host.position(fd)
    local at = tonumber(C.lh_rec_lseek(fd, 0, SEEK_CUR))
    return at >= 0 and at or nil
end

--- Writes all of `bytes` to `fd`.
function host.write(fd, bytes)
    local done = 0
    while done < #bytes do
        local n = tonumber(C.lh_rec_write(fd, ffi.cast("const char *", bytes) + done, #bytes - done))
        if n <= 0 then return end
        done = done + n
    end
end

--- Makes descriptor `fd` a file in memory holding `bytes` at `offset`, so
--- that a call on it (a mapping) runs for real; returns what undo needs.
---@return table
function host.stand_in(fd, offset, bytes)
    local aside = C.lh_rec_fcntl(fd, F_DUPFD_CLOEXEC, ffi.cast("int", ASIDE))
    local file = C.lh_rec_memfd_create("luahook-replay", MFD_CLOEXEC)
    C.lh_rec_ftruncate(file, offset + #bytes)
    C.lh_rec_pwrite(file, bytes, #bytes, offset)
    if file ~= fd then            -- fd was free: the new file may have got its number
        C.lh_rec_dup3(file, fd, 0)
        C.lh_rec_close(file)
    end
    return { fd = fd, aside = aside }
end

--- Gives the descriptor a stand_in replaced back what it was.
function host.undo(stand_in)
    if stand_in.aside >= 0 then
        C.lh_rec_dup3(stand_in.aside, stand_in.fd, 0)
        C.lh_rec_close(stand_in.aside)
    else
        C.lh_rec_close(stand_in.fd)
    end
end

--- Makes `to` a copy of descriptor `from`, close-on-exec if asked.
function host.dup(from, to, cloexec)
    C.lh_rec_dup3(from, to, cloexec and O_CLOEXEC or 0)
end

--- Sends `sig` to process `pid` (kill), or to thread `tid` of process
--- `tgid` (tgkill) when tid is given.
function host.signal(sig, pid, tid)
    if tid then
        C.lh_rec_tgkill(pid, tid, sig)
    else
        C.lh_rec_kill(pid, sig)
    end
end

return host
