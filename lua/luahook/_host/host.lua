-- System calls luahook makes on the host itself, through LuaJIT FFI to
-- libc: the sandbox (scripts/sandbox.lua) makes a checked call with its own
-- copy of the path instead of letting QEMU read the guest's memory again.
-- In linux-user the guest's descriptors, working directory and credentials
-- are QEMU's, so a host call made here on the guest thread's behalf is the
-- call the guest asked for. Each function returns the call's result, or nil
-- and the errno, in the guest's numbering (luahook._guest.errno.from_host: mips
-- numbers many errors its own way), ready to give the guest.
--
-- The structures are those of a 64-bit Linux host (LP64: statx is the same
-- everywhere, statfs and timespec are made of longs), and the flag values
-- below are x86_64's (also those of most architectures; an arm64 host would
-- need its O_DIRECTORY and O_NOFOLLOW here).
local ffi = require "ffi"
local bit = require "bit"
local from_host = require("luahook._guest.errno").from_host

ffi.cdef [[
struct lh_host_statx_timestamp { int64_t tv_sec; uint32_t tv_nsec; int32_t __reserved; };
struct lh_host_statx {
    uint32_t stx_mask; uint32_t stx_blksize; uint64_t stx_attributes;
    uint32_t stx_nlink; uint32_t stx_uid; uint32_t stx_gid;
    uint16_t stx_mode; uint16_t __spare0;
    uint64_t stx_ino; uint64_t stx_size; uint64_t stx_blocks; uint64_t stx_attributes_mask;
    struct lh_host_statx_timestamp stx_atime, stx_btime, stx_ctime, stx_mtime;
    uint32_t stx_rdev_major; uint32_t stx_rdev_minor;
    uint32_t stx_dev_major; uint32_t stx_dev_minor;
    uint64_t __spare2[14];
};
struct lh_host_statfs {
    long f_type; long f_bsize;
    unsigned long f_blocks; unsigned long f_bfree; unsigned long f_bavail;
    unsigned long f_files; unsigned long f_ffree;
    int f_fsid[2];
    long f_namelen; long f_frsize; long f_flags; long f_spare[4];
};
struct lh_host_timespec { long tv_sec; long tv_nsec; };
struct lh_host_open_how { uint64_t flags; uint64_t mode; uint64_t resolve; };
struct lh_host_file_handle { unsigned int handle_bytes; int handle_type; unsigned char f_handle[128]; };

int lh_host_openat(int dirfd, const char *path, int flags, ...) __asm__("openat");
long lh_host_syscall(long nr, ...) __asm__("syscall");
int lh_host_close(int fd) __asm__("close");
int lh_host_fcntl(int fd, int cmd, ...) __asm__("fcntl");
long lh_host_readlinkat(int dirfd, const char *path, char *buf, size_t size) __asm__("readlinkat");
int lh_host_statx(int dirfd, const char *path, int flags, unsigned int mask,
                  struct lh_host_statx *buf) __asm__("statx");
int lh_host_fstatfs(int fd, struct lh_host_statfs *buf) __asm__("fstatfs");
int lh_host_faccessat(int dirfd, const char *path, int mode, int flags) __asm__("faccessat");
int lh_host_truncate(const char *path, int64_t length) __asm__("truncate");
int lh_host_fchdir(int fd) __asm__("fchdir");
int lh_host_fchmodat(int dirfd, const char *path, unsigned int mode, int flags) __asm__("fchmodat");
int lh_host_fchownat(int dirfd, const char *path, unsigned int uid, unsigned int gid, int flags)
    __asm__("fchownat");
int lh_host_utimensat(int dirfd, const char *path, const struct lh_host_timespec *times, int flags)
    __asm__("utimensat");
long lh_host_getxattr(const char *path, const char *name, void *value, size_t size) __asm__("getxattr");
long lh_host_listxattr(const char *path, char *list, size_t size) __asm__("listxattr");
int lh_host_setxattr(const char *path, const char *name, const void *value, size_t size, int flags)
    __asm__("setxattr");
int lh_host_removexattr(const char *path, const char *name) __asm__("removexattr");
int lh_host_mkdirat(int dirfd, const char *path, unsigned int mode) __asm__("mkdirat");
int lh_host_mknodat(int dirfd, const char *path, unsigned int mode, uint64_t dev) __asm__("mknodat");
int lh_host_unlinkat(int dirfd, const char *path, int flags) __asm__("unlinkat");
int lh_host_renameat2(int olddirfd, const char *old, int newdirfd, const char *new, unsigned int flags)
    __asm__("renameat2");
int lh_host_linkat(int olddirfd, const char *old, int newdirfd, const char *new, int flags)
    __asm__("linkat");
int lh_host_symlinkat(const char *target, int dirfd, const char *path) __asm__("symlinkat");
int lh_host_execve(const char *path, char *const argv[], char *const envp[]) __asm__("execve");
int lh_host_execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
    __asm__("execveat");
int lh_host_inotify_add_watch(int fd, const char *path, uint32_t mask) __asm__("inotify_add_watch");
int lh_host_name_to_handle_at(int dirfd, const char *path, struct lh_host_file_handle *handle,
                              int *mount_id, int flags) __asm__("name_to_handle_at");
int lh_host_bind(int fd, const void *addr, unsigned int len) __asm__("bind");
struct lh_host_dirent {
    uint64_t d_ino; int64_t d_off; unsigned short d_reclen; unsigned char d_type; char d_name[256];
};
void *lh_host_opendir(const char *path) __asm__("opendir");
struct lh_host_dirent *lh_host_readdir(void *dir) __asm__("readdir");
int lh_host_closedir(void *dir) __asm__("closedir");
char *lh_host_realpath(const char *path, char *resolved) __asm__("realpath");
int lh_host_access(const char *path, int mode) __asm__("access");
void lh_host_free(void *p) __asm__("free");
]]

local C = ffi.C

local host = {}

--- The host's flag values (x86_64's).
host.O_WRONLY, host.O_RDWR, host.O_ACCMODE = 0x1, 0x2, 0x3
host.O_CREAT, host.O_EXCL, host.O_NOCTTY, host.O_TRUNC = 0x40, 0x80, 0x100, 0x200
host.O_APPEND, host.O_NONBLOCK, host.O_DSYNC, host.O_ASYNC = 0x400, 0x800, 0x1000, 0x2000
host.O_DIRECT, host.O_DIRECTORY, host.O_NOFOLLOW = 0x4000, 0x10000, 0x20000
host.O_NOATIME, host.O_CLOEXEC, host.O_SYNC, host.O_PATH = 0x40000, 0x80000, 0x101000, 0x200000
host.O_TMPFILE = 0x410000
host.AT_FDCWD = -100
host.AT_SYMLINK_NOFOLLOW, host.AT_REMOVEDIR, host.AT_EACCESS = 0x100, 0x200, 0x200
host.AT_SYMLINK_FOLLOW, host.AT_NO_AUTOMOUNT, host.AT_EMPTY_PATH = 0x400, 0x800, 0x1000
host.AT_STATX_SYNC_TYPE = 0x6000
host.F_DUPFD, host.F_DUPFD_CLOEXEC = 0, 1030
host.S_IFMT, host.S_IFDIR, host.S_IFLNK = 0xf000, 0x4000, 0xa000
host.STATX_BASIC_STATS = 0x7ff

-- A syscall glibc 2.36 has no function for. From 424 on, every Linux
-- architecture numbers syscalls alike.
local SYS_openat2 = 437

local function result(rc)
    rc = tonumber(rc)
    if rc < 0 then
        return nil, from_host(ffi.errno())
    end
    return rc
end

local function int(v) return ffi.cast("int", v) end

-- The calls passed through as they are: host.NAME(...) is NAME(...).
-- utimensat's times are a struct lh_host_timespec[2] or nil;
-- name_to_handle_at fills a struct lh_host_file_handle and an int[1];
-- bind takes a buffer and its length.
for _, name in ipairs({
    "close", "faccessat", "truncate", "fchdir", "fchmodat", "fchownat", "utimensat",
    "getxattr", "listxattr", "setxattr", "removexattr", "mkdirat", "mknodat", "unlinkat",
    "renameat2", "linkat", "symlinkat", "inotify_add_watch", "name_to_handle_at", "bind",
}) do
    local fn = C["lh_host_" .. name]
    host[name] = function(...) return result(fn(...)) end
end

local PATH_MAX = 4096
local path_buffer = ffi.new("char[?]", PATH_MAX)
local statx_buffer = ffi.new("struct lh_host_statx")
local statfs_buffer = ffi.new("struct lh_host_statfs")

---@return integer? fd
---@return integer? errno
function host.openat(dirfd, path, flags, mode)
    return result(C.lh_host_openat(dirfd, path, flags, ffi.cast("unsigned int", mode or 0)))
end

--- openat2 with an open_how of `flags`, `mode` and `resolve`.
function host.openat2(dirfd, path, flags, mode, resolve)
    local how = ffi.new("struct lh_host_open_how", flags, mode, resolve)
    return result(C.lh_host_syscall(SYS_openat2, ffi.cast("long", dirfd), path, how,
                                    ffi.cast("long", ffi.sizeof(how))))
end


--- A close-on-exec duplicate of `fd` numbered `from` or above.
function host.dupfd(fd, from)
    return result(C.lh_host_fcntl(fd, host.F_DUPFD_CLOEXEC, int(from)))
end

--- A duplicate of `fd` at the lowest free number (close-on-exec or not).
function host.dupfd_low(fd, cloexec)
    return result(C.lh_host_fcntl(fd, cloexec and host.F_DUPFD_CLOEXEC or host.F_DUPFD, int(0)))
end




--- The target of symbolic link `path` (from `dirfd`), at most `size` bytes.
function host.readlinkat(dirfd, path, size)
    size = math.min(size or PATH_MAX, PATH_MAX)
    local n, err = result(C.lh_host_readlinkat(dirfd, path, path_buffer, size))
    if not n then return nil, err end
    return ffi.string(path_buffer, n)
end

--- statx into a buffer shared by every call: read it before the next one.
---@return ffi.cdata*? statx
---@return integer? errno
function host.statx(dirfd, path, flags, mask)
    local ok, err = result(C.lh_host_statx(dirfd, path, flags, mask, statx_buffer))
    if not ok then return nil, err end
    return statx_buffer
end

--- fstatfs into a buffer shared by every call.
function host.fstatfs(fd)
    local ok, err = result(C.lh_host_fstatfs(fd, statfs_buffer))
    if not ok then return nil, err end
    return statfs_buffer
end


















local anchored -- buffers a host call in progress points into

-- A NULL-terminated char *[] of Lua strings, and what keeps them alive.
local function vector(list)
    local v = ffi.new("char *[?]", #list + 1)
    local keep = {}
    for i, s in ipairs(list) do
        keep[i] = ffi.new("char[?]", #s + 1, s)
        v[i - 1] = keep[i]
    end
    return v, keep
end

--- execveat with Lua lists of strings (execve when `dirfd` is nil);
--- returns only on failure.
function host.execveat(dirfd, path, argv, envp, flags)
    local av, akeep = vector(argv)
    local ev, ekeep = vector(envp)
    anchored = { akeep, ekeep } -- the strings av and ev point to
    local rc, err
    if dirfd then
        rc, err = result(C.lh_host_execveat(dirfd, path, av, ev, flags))
    else
        rc, err = result(C.lh_host_execve(path, av, ev))
    end
    anchored = nil
    return rc, err
end

function host.execve(path, argv, envp)
    return host.execveat(nil, path, argv, envp, 0)
end




local DT_DIR, DT_UNKNOWN = 4, 0

--- The names in directory `path` (but "." and ".."), each with whether it
--- is a directory (nil: the file system does not say), as a list; nil
--- when it cannot be read.
---@return table[]?
function host.entries(path)
    local dir = C.lh_host_opendir(path)
    if dir == nil then return nil end
    local list = {}
    while true do
        local e = C.lh_host_readdir(dir)
        if e == nil then break end
        local name = ffi.string(e.d_name)
        if name ~= "." and name ~= ".." then
            local is_dir = nil
            if e.d_type ~= DT_UNKNOWN then is_dir = e.d_type == DT_DIR end
            list[#list + 1] = { name = name, is_dir = is_dir }
        end
    end
    C.lh_host_closedir(dir)
    return list
end

--- realpath(3): the canonical path, or nil and errno.
function host.realpath(path)
    local p = C.lh_host_realpath(path, nil)
    if p == nil then
        return nil, from_host(ffi.errno())
    end
    local s = ffi.string(p)
    C.lh_host_free(p)
    return s
end

--- Whether `path` exists (access F_OK).
function host.exists(path)
    return C.lh_host_access(path, 0) == 0
end

--- Whether `mode` (st_mode) is a directory, a symlink.
function host.is_dir(mode) return bit.band(mode, host.S_IFMT) == host.S_IFDIR end
function host.is_link(mode) return bit.band(mode, host.S_IFMT) == host.S_IFLNK end

return host
