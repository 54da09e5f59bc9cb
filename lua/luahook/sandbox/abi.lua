-- The structures QEMU writes into and reads from guest memory for the
-- path-taking calls the sandbox makes itself (stat, statx, statfs and the
-- times of utime and friends), laid out as QEMU's linux-user declares them
-- (linux-user/syscall_defs.h) and filled field by field the way its
-- conversions fill them, so that a guest sees the bytes it would see
-- without the sandbox. These are QEMU's layouts, which differ from the
-- kernel's in places: i386's stat64 keeps a 16-bit st_dev, for one.
local ffi = require "ffi"
local context = require "luahook._core.context"
local memory = require "luahook._guest.memory"
local types = require "luahook._guest.types"

local abi = {}

-- Written per architecture: s64 and u64 are aligned as the guest aligns
-- them inside structures.
local LAYOUTS = {
    i386 = {
        stat = [[
            uint16_t st_dev; uint16_t __pad1; uint32_t st_ino;
            uint16_t st_mode; uint16_t st_nlink; uint16_t st_uid; uint16_t st_gid;
            uint16_t st_rdev; uint16_t __pad2; uint32_t st_size; uint32_t st_blksize;
            uint32_t st_blocks; uint32_t st_atime; uint32_t st_atime_nsec;
            uint32_t st_mtime; uint32_t st_mtime_nsec; uint32_t st_ctime;
            uint32_t st_ctime_nsec; uint32_t __unused4; uint32_t __unused5;
        ]],
        stat64 = [[
            uint16_t st_dev; uint8_t __pad0[10]; uint32_t __st_ino;
            uint32_t st_mode; uint32_t st_nlink; uint32_t st_uid; uint32_t st_gid;
            uint16_t st_rdev; uint8_t __pad3[10]; s64 st_size; uint32_t st_blksize;
            uint32_t st_blocks; uint32_t __pad4; uint32_t st_atime; uint32_t st_atime_nsec;
            uint32_t st_mtime; uint32_t st_mtime_nsec; uint32_t st_ctime;
            uint32_t st_ctime_nsec; u64 st_ino;
        ]],
        statfs = [[
            uint32_t f_type; uint32_t f_bsize; uint32_t f_blocks; uint32_t f_bfree;
            uint32_t f_bavail; uint32_t f_files; uint32_t f_ffree; int32_t f_fsid[2];
            uint32_t f_namelen; uint32_t f_frsize; uint32_t f_flags; uint32_t f_spare[4];
        ]],
        statfs64 = [[
            uint32_t f_type; uint32_t f_bsize; u64 f_blocks; u64 f_bfree; u64 f_bavail;
            u64 f_files; u64 f_ffree; int32_t f_fsid[2]; uint32_t f_namelen;
            uint32_t f_frsize; uint32_t f_flags; uint32_t f_spare[4];
        ]],
    },
    x86_64 = {
        stat = [[
            uint64_t st_dev; uint64_t st_ino; uint64_t st_nlink;
            uint32_t st_mode; uint32_t st_uid; uint32_t st_gid; uint32_t __pad0;
            uint64_t st_rdev; int64_t st_size; int64_t st_blksize; int64_t st_blocks;
            uint64_t st_atime; uint64_t st_atime_nsec; uint64_t st_mtime;
            uint64_t st_mtime_nsec; uint64_t st_ctime; uint64_t st_ctime_nsec;
            int64_t __unused[3];
        ]],
        statfs = [[
            int64_t f_type; int64_t f_bsize; int64_t f_blocks; int64_t f_bfree;
            int64_t f_bavail; int64_t f_files; int64_t f_ffree; int32_t f_fsid[2];
            int64_t f_namelen; int64_t f_frsize; int64_t f_flags; int64_t f_spare[4];
        ]],
    },
}
-- QEMU's generic statfs layouts, of abi_longs: aarch64 and riscv64 have
-- x86_64's, arm i386's (its 64-bit members aligned to 8). Their stat and
-- stat64 are the kernel's: luahook._guest.types'. So are mips' statfs and
-- statfs64, which QEMU declares as the kernel does (types' then swaps
-- their bytes for big-endian mips).
LAYOUTS.aarch64 = { statfs = LAYOUTS.x86_64.statfs }
LAYOUTS.riscv64 = LAYOUTS.aarch64
LAYOUTS.arm = { statfs = LAYOUTS.i386.statfs, statfs64 = LAYOUTS.i386.statfs64 }
-- (an attribute on a typedef is what makes LuaJIT lower the alignment)
local ALIGN64 = { i386 = 4, x86_64 = 8, aarch64 = 8, riscv64 = 8, arm = 8 }

local ctypes = {}

-- The ctype of QEMU's layout `name` for the guest, declared on first use.
local function ctype(name)
    local arch = context.arch
    if not (LAYOUTS[arch] and LAYOUTS[arch][name]) then
        local ct = types.ctype(name)
        if not ct then
            error(string.format("the sandbox cannot write a %s on %s yet", name, arch), 0)
        end
        return ct
    end
    local key = arch .. "_" .. name
    if not ctypes[key] then
        local words = { s64 = "lh_qemu_s64_" .. arch, u64 = "lh_qemu_u64_" .. arch }
        if not pcall(ffi.typeof, words.s64) then
            ffi.cdef(string.format("typedef int64_t %s __attribute__((aligned(%d)));"
                .. "typedef uint64_t %s __attribute__((aligned(%d)));",
                words.s64, ALIGN64[arch], words.u64, ALIGN64[arch]))
        end
        local body = LAYOUTS[arch][name]:gsub("%f[%w_]([su]64)%f[^%w_]", words)
        local tag = "lh_qemu_" .. key
        if not pcall(ffi.typeof, "struct " .. tag) then
            ffi.cdef("struct " .. tag .. " {" .. body .. "};")
        end
        ctypes[key] = ffi.typeof("struct " .. tag)
    end
    return ctypes[key]
end

-- glibc's makedev (major/minor from statx back into a dev_t).
local function makedev(major, minor)
    major, minor = tonumber(major), tonumber(minor)
    local low = (major % 0x1000) * 0x100 + (minor % 0x100) + math.floor(minor / 0x100) * 0x100000
    local high = math.floor(major / 0x1000) * 0x1000
    return ffi.cast("uint64_t", high) * 0x100000000ULL + ffi.cast("uint64_t", low)
end

--- The kind of stat structure a call fills: "stat" (stat, lstat,
--- newfstatat; i386's old one) or "stat64" (i386's stat64, lstat64,
--- fstatat64).
---@param kind "stat"|"stat64"
---@param addr integer the guest's buffer
---@param stx ffi.cdata* a host struct statx with the basic stats
---@return boolean written false when the buffer is not writable (EFAULT)
function abi.write_stat(kind, addr, stx)
    if context.arch == "x86_64" then kind = "stat" end
    local ct = ctype(kind)
    local st = ct()
    st.st_dev = makedev(stx.stx_dev_major, stx.stx_dev_minor)
    st.st_ino = stx.stx_ino
    if ffi.offsetof(ct, "__st_ino") then
        st.__st_ino = stx.stx_ino -- QEMU's "broken" 32-bit copy
    end
    st.st_mode = stx.stx_mode
    st.st_nlink = stx.stx_nlink
    st.st_uid = stx.stx_uid
    st.st_gid = stx.stx_gid
    st.st_rdev = makedev(stx.stx_rdev_major, stx.stx_rdev_minor)
    st.st_size = stx.stx_size
    st.st_blksize = stx.stx_blksize
    st.st_blocks = stx.stx_blocks
    st.st_atime, st.st_atime_nsec = stx.stx_atime.tv_sec, stx.stx_atime.tv_nsec
    st.st_mtime, st.st_mtime_nsec = stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec
    st.st_ctime, st.st_ctime_nsec = stx.stx_ctime.tv_sec, stx.stx_ctime.tv_nsec
    return memory.write(addr, st) ~= nil
end

-- The statx fields QEMU's host_to_target_statx copies; the rest stays 0.
local STATX_FIELDS = {
    "stx_mask", "stx_blksize", "stx_attributes", "stx_nlink", "stx_uid", "stx_gid",
    "stx_mode", "stx_ino", "stx_size", "stx_blocks", "stx_attributes_mask",
    "stx_rdev_major", "stx_rdev_minor", "stx_dev_major", "stx_dev_minor",
}
local STATX_TIMES = { "stx_atime", "stx_btime", "stx_ctime", "stx_mtime" }

--- Writes a host statx into the guest's struct statx (the same layout on
--- every architecture).
---@return boolean written
function abi.write_statx(addr, stx)
    local out = types.new("statx")
    for _, f in ipairs(STATX_FIELDS) do out[f] = stx[f] end
    for _, f in ipairs(STATX_TIMES) do
        out[f].tv_sec, out[f].tv_nsec = stx[f].tv_sec, stx[f].tv_nsec
    end
    return memory.write(addr, out) ~= nil
end

--- Writes a host struct statfs as the guest's statfs or (i386) statfs64.
---@param kind "statfs"|"statfs64"
---@return boolean written
function abi.write_statfs(kind, addr, sfs)
    if context.arch == "x86_64" then kind = "statfs" end
    local out = ctype(kind)()
    for _, f in ipairs({ "f_type", "f_bsize", "f_blocks", "f_bfree", "f_bavail", "f_files",
                         "f_ffree", "f_namelen", "f_frsize", "f_flags" }) do
        out[f] = sfs[f]
    end
    out.f_fsid[0], out.f_fsid[1] = sfs.f_fsid[0], sfs.f_fsid[1]
    return memory.write(addr, out) ~= nil
end

-- Where each kind of time pair keeps its two values: the offset of the
-- second value within one entry, the integer kind of both, the entry size
-- and what the second value is worth in nanoseconds. "long" is the guest's.
local TIMES = {
    utimbuf = { kind = "long", scale = 0 },        -- actime, modtime
    timeval = { kind = "long", scale = 1000 },     -- seconds, microseconds
    timespec = { kind = "long", scale = 1 },       -- seconds, nanoseconds
    timespec64 = { kind = "i64", scale = 1 },      -- i386's *_time64 calls
}

--- The two times at guest address `addr`, as a host struct timespec[2]:
--- `kind` "utimbuf" (utime), "timeval" (utimes, futimesat), "timespec"
--- (utimensat) or "timespec64" (utimensat_time64, whose nanoseconds QEMU
--- cuts to the guest's long). Nil when the memory cannot be read (EFAULT).
---@param kind "utimbuf"|"timeval"|"timespec"|"timespec64"
---@param addr integer
---@return ffi.cdata*?
function abi.read_times(kind, addr)
    local t = TIMES[kind]
    local w = t.kind == "long" and context.word_size or 8
    local entry = kind == "utimbuf" and w or 2 * w
    local ts = ffi.new("struct lh_host_timespec[2]")
    for i = 0, 1 do
        local sec = memory.int(addr + i * entry, t.kind)
        local frac = 0
        if kind ~= "utimbuf" then
            frac = memory.int(addr + i * entry + w, t.kind)
            if frac and kind == "timespec64" and context.word_size == 4 then
                frac = ffi.cast("int32_t", frac)
            end
        end
        if sec == nil or frac == nil then return nil end
        ts[i].tv_sec, ts[i].tv_nsec = sec, frac * t.scale
    end
    return ts
end

return abi
