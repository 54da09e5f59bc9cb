-- The structures the kernel exchanges with a guest (stat, timespec,
-- sockaddr_in, ...) as FFI ctypes laid out the way the guest's kernel ABI
-- lays them out, so a hook can decode bytes read from guest memory and
-- encode a modified structure back, in the guest's byte order (big-endian
-- on mips). Every guest architecture is declared side by side under
-- prefixed names (struct lh_i386_stat, struct lh_mips_stat), whatever the
-- host is.
local ffi = require "ffi"
local context = require "luahook._core.context"

local types = {}

-- Each layout is written once, in C with a few placeholders that stand for
-- the guest's own types, and declared once per architecture:
--   long, ulong   the guest's C long (4 or 8 bytes)
--   ptr           a guest pointer, kept as an integer: it is a guest address
--   s64, u64      64-bit integers with the guest's alignment for them
--   struct NAME   another layout of this table, for the same architecture
-- One declaration per ";", so the field names can be read off the text.
local common = {
    timespec = "long tv_sec; long tv_nsec;",
    -- __kernel_timespec: what the *_time64 syscalls of i386 take
    timespec64 = "s64 tv_sec; s64 tv_nsec;",
    timeval = "long tv_sec; long tv_usec;",
    timezone = "int32_t tz_minuteswest; int32_t tz_dsttime;",
    itimerspec = "struct timespec it_interval; struct timespec it_value;",
    itimerval = "struct timeval it_interval; struct timeval it_value;",
    statx_timestamp = "s64 tv_sec; uint32_t tv_nsec; int32_t __reserved;",
    statx = [[
        uint32_t stx_mask; uint32_t stx_blksize; u64 stx_attributes;
        uint32_t stx_nlink; uint32_t stx_uid; uint32_t stx_gid;
        uint16_t stx_mode; uint16_t __spare0[1];
        u64 stx_ino; u64 stx_size; u64 stx_blocks; u64 stx_attributes_mask;
        struct statx_timestamp stx_atime; struct statx_timestamp stx_btime;
        struct statx_timestamp stx_ctime; struct statx_timestamp stx_mtime;
        uint32_t stx_rdev_major; uint32_t stx_rdev_minor;
        uint32_t stx_dev_major; uint32_t stx_dev_minor;
        u64 stx_mnt_id; uint32_t stx_dio_mem_align; uint32_t stx_dio_offset_align;
        u64 __spare3[12];
    ]],
    iovec = "ptr iov_base; ulong iov_len;",
    -- the kernel's new_utsname, which uname(2) fills on both architectures
    utsname = [[
        char sysname[65]; char nodename[65]; char release[65];
        char version[65]; char machine[65]; char domainname[65];
    ]],
    -- Ports and addresses are in network byte order, as in the guest.
    sockaddr = "uint16_t sa_family; char sa_data[14];",
    in_addr = "uint32_t s_addr;",
    sockaddr_in = [[
        uint16_t sin_family; uint16_t sin_port; struct in_addr sin_addr;
        uint8_t sin_zero[8];
    ]],
    -- the kernel's union also has 16- and 32-bit views, hence the alignment
    in6_addr = { "uint8_t s6_addr[16];", attribute = "aligned(4)" },
    sockaddr_in6 = [[
        uint16_t sin6_family; uint16_t sin6_port; uint32_t sin6_flowinfo;
        struct in6_addr sin6_addr; uint32_t sin6_scope_id;
    ]],
    sockaddr_un = "uint16_t sun_family; char sun_path[108];",
    pollfd = "int32_t fd; int16_t events; int16_t revents;",
    rlimit = "ulong rlim_cur; ulong rlim_max;",
    rlimit64 = "u64 rlim_cur; u64 rlim_max;",
    rusage = [[
        struct timeval ru_utime; struct timeval ru_stime;
        long ru_maxrss; long ru_ixrss; long ru_idrss; long ru_isrss;
        long ru_minflt; long ru_majflt; long ru_nswap; long ru_inblock;
        long ru_oublock; long ru_msgsnd; long ru_msgrcv; long ru_nsignals;
        long ru_nvcsw; long ru_nivcsw;
    ]],
}

-- asm-generic's struct statfs and statfs64, `word` being the kernel's
-- __statfs_word (a 32-bit unsigned word, or a long on 64-bit architectures).
local GENERIC_STATFS = [[
    word f_type; word f_bsize; word f_blocks; word f_bfree; word f_bavail; word f_files;
    word f_ffree; int32_t f_fsid[2]; word f_namelen; word f_frsize; word f_flags;
    word f_spare[4];
]]
local GENERIC_STATFS64 = [[
    word f_type; word f_bsize; u64 f_blocks; u64 f_bfree; u64 f_bavail; u64 f_files;
    u64 f_ffree; int32_t f_fsid[2]; word f_namelen; word f_frsize; word f_flags;
    word f_spare[4];
]]

-- Layouts that differ by more than the size of long.
local by_arch = {
    i386 = {
        -- asm/stat.h's old struct stat, filled by stat/fstat/lstat
        stat = [[
            ulong st_dev; ulong st_ino;
            uint16_t st_mode; uint16_t st_nlink; uint16_t st_uid; uint16_t st_gid;
            ulong st_rdev; ulong st_size; ulong st_blksize; ulong st_blocks;
            ulong st_atime; ulong st_atime_nsec; ulong st_mtime; ulong st_mtime_nsec;
            ulong st_ctime; ulong st_ctime_nsec; ulong __unused4; ulong __unused5;
        ]],
        -- filled by stat64/fstat64/lstat64/fstatat64; the padding is glibc
        -- 2.1's, kept by the kernel
        stat64 = [[
            u64 st_dev; uint8_t __pad0[4]; ulong __st_ino;
            uint32_t st_mode; uint32_t st_nlink; ulong st_uid; ulong st_gid;
            u64 st_rdev; uint8_t __pad3[4]; s64 st_size; ulong st_blksize;
            u64 st_blocks; ulong st_atime; ulong st_atime_nsec;
            ulong st_mtime; uint32_t st_mtime_nsec; ulong st_ctime; ulong st_ctime_nsec;
            u64 st_ino;
        ]],
        epoll_event = "uint32_t events; u64 data;",
        -- the kernel aligns it like a pointer
        sockaddr_storage = { "uint16_t ss_family; char __data[126];", attribute = "aligned(4)" },
        -- asm-generic's, of 32-bit words (f_fsid is a struct of two ints)
        statfs = GENERIC_STATFS:gsub("word", "uint32_t"),
        statfs64 = GENERIC_STATFS64:gsub("word", "uint32_t"),
    },
    x86_64 = {
        stat = [[
            ulong st_dev; ulong st_ino; ulong st_nlink;
            uint32_t st_mode; uint32_t st_uid; uint32_t st_gid; uint32_t __pad0;
            ulong st_rdev; long st_size; long st_blksize; long st_blocks;
            ulong st_atime; ulong st_atime_nsec; ulong st_mtime; ulong st_mtime_nsec;
            ulong st_ctime; ulong st_ctime_nsec; long __unused[3];
        ]],
        -- x86_64 has no stat64 syscalls; the name is stat's, for portable scripts
        stat64 = "=stat",
        -- the kernel packs it on x86_64 only, so both are 12 bytes
        epoll_event = { "uint32_t events; u64 data;", attribute = "packed" },
        sockaddr_storage = { "uint16_t ss_family; char __data[126];", attribute = "aligned(8)" },
        -- asm-generic's, of longs; no statfs64 calls
        statfs = GENERIC_STATFS:gsub("word", "long"),
        statfs64 = "=statfs",
    },
    -- asm-generic's struct stat, which aarch64 and riscv64 use; neither has
    -- stat64 syscalls
    aarch64 = {
        stat = [[
            ulong st_dev; ulong st_ino; uint32_t st_mode; uint32_t st_nlink;
            uint32_t st_uid; uint32_t st_gid; ulong st_rdev; ulong __pad1;
            long st_size; int32_t st_blksize; int32_t __pad2; long st_blocks;
            long st_atime; ulong st_atime_nsec; long st_mtime; ulong st_mtime_nsec;
            long st_ctime; ulong st_ctime_nsec; uint32_t __unused4; uint32_t __unused5;
        ]],
        stat64 = "=stat",
        epoll_event = "uint32_t events; u64 data;",
        sockaddr_storage = { "uint16_t ss_family; char __data[126];", attribute = "aligned(8)" },
        statfs = GENERIC_STATFS:gsub("word", "long"),
        statfs64 = "=statfs",
    },
    -- mips o32: its own stat and stat64, with reserved words
    mips = {
        stat = [[
            uint32_t st_dev; long st_pad1[3]; ulong st_ino; uint32_t st_mode;
            uint32_t st_nlink; uint32_t st_uid; uint32_t st_gid; uint32_t st_rdev;
            long st_pad2[2]; long st_size; long st_pad3;
            long st_atime; long st_atime_nsec; long st_mtime; long st_mtime_nsec;
            long st_ctime; long st_ctime_nsec; long st_blksize; long st_blocks;
            long st_pad4[14];
        ]],
        stat64 = [[
            ulong st_dev; ulong st_pad0[3]; u64 st_ino; uint32_t st_mode;
            uint32_t st_nlink; uint32_t st_uid; uint32_t st_gid; ulong st_rdev;
            ulong st_pad1[3]; s64 st_size;
            long st_atime; ulong st_atime_nsec; long st_mtime; ulong st_mtime_nsec;
            long st_ctime; ulong st_ctime_nsec; ulong st_blksize; ulong st_pad2;
            s64 st_blocks;
        ]],
        epoll_event = "uint32_t events; u64 data;",
        sockaddr_storage = { "uint16_t ss_family; char __data[126];", attribute = "aligned(4)" },
        -- mips' own order, f_frsize third
        statfs = [[
            long f_type; long f_bsize; long f_frsize; long f_blocks; long f_bfree;
            long f_files; long f_ffree; long f_bavail; int32_t f_fsid[2];
            long f_namelen; long f_flags; long f_spare[5];
        ]],
        statfs64 = [[
            uint32_t f_type; uint32_t f_bsize; uint32_t f_frsize; uint32_t __pad;
            u64 f_blocks; u64 f_bfree; u64 f_files; u64 f_ffree; u64 f_bavail;
            int32_t f_fsid[2]; uint32_t f_namelen; uint32_t f_flags; uint32_t f_spare[5];
        ]],
    },
}
-- riscv64 lays everything out as aarch64; mipsel as mips (in the other
-- byte order); arm EABI has i386's structures, its 64-bit members aligned
-- to 8 bytes (the words below) and its epoll_event unpacked
by_arch.riscv64 = by_arch.aarch64
by_arch.mipsel = by_arch.mips
by_arch.arm = setmetatable({
    epoll_event = by_arch.mips.epoll_event,
    -- arm packs statfs64 to 4-byte alignment (ARCH_PACK_STATFS64): i386's
    statfs64 = { (GENERIC_STATFS64:gsub("word", "uint32_t"):gsub("u64", "uint64_t")),
                 attribute = "packed, aligned(4)" },
}, { __index = by_arch.i386 })

-- What the placeholders become. The alignment is spelt out (an i386 guest
-- aligns 64-bit members to 4 bytes inside structures) so that no layout
-- depends on the host's.
-- `word`: the size of long and pointers; `align64`: 64-bit members' alignment.
local function placeholders(word, align64)
    local a64 = " __attribute__((aligned(" .. align64 .. ")))"
    local long, ulong = "int32_t", "uint32_t"
    if word == 8 then long, ulong = "int64_t" .. a64, "uint64_t" .. a64 end
    return { long = long, ulong = ulong, ptr = ulong, s64 = "int64_t" .. a64, u64 = "uint64_t" .. a64 }
end
-- arm EABI and mips o32 align 64-bit members to 8 bytes, i386 to 4
local words = {
    i386 = placeholders(4, 4),
    x86_64 = placeholders(8, 8), aarch64 = placeholders(8, 8), riscv64 = placeholders(8, 8),
    arm = placeholders(4, 8), mips = placeholders(4, 8), mipsel = placeholders(4, 8),
}

local PLACEHOLDERS = { "long", "ulong", "ptr", "s64", "u64" }

-- Big-endian guests: the FFI lays structures out in the host's (little-
-- endian) order, so each integer field's bytes are reversed on the way in
-- and out. Fields in network byte order are the guest's bytes already.
local BIG_ENDIAN = { mips = true }
local NETWORK_ORDER = { sin_port = true, sin6_port = true, sin6_flowinfo = true, s_addr = true }
local INT_SIZES = { int16_t = 2, uint16_t = 2, int32_t = 4, uint32_t = 4, int64_t = 8, uint64_t = 8 }

local function known_arches()
    local list = {}
    for arch in pairs(words) do list[#list + 1] = arch end
    table.sort(list)
    return list
end

-- Every name either architecture knows; both know the same ones.
local all_names = {}
for name in pairs(common) do all_names[#all_names + 1] = name end
for name in pairs(by_arch.i386) do
    if not common[name] then all_names[#all_names + 1] = name end
end
table.sort(all_names)

-- The layout text of `name` for `arch`, following "=other" aliases, and the
-- struct attribute if any.
local function layout(name, arch)
    local spec = by_arch[arch][name] or common[name]
    if type(spec) == "string" and spec:sub(1, 1) == "=" then
        return layout(spec:sub(2), arch)
    end
    if type(spec) == "table" then
        return spec[1], spec.attribute, name
    end
    return spec, nil, name
end

local function typedef_name(arch, word)
    return "lh_" .. arch .. "_" .. word
end

local function struct_name(arch, name)
    return "struct lh_" .. arch .. "_" .. name
end

-- The field names of a layout text, in order.
local function field_names(text)
    local fields = {}
    for decl in text:gmatch("[^;]+") do
        local field = decl:match("([%w_]+)%s*%b[]%s*$") or decl:match("([%w_]+)%s*$")
        if field then fields[#fields + 1] = field end
    end
    return fields
end

-- The C declarations of one architecture: its placeholder typedefs, then
-- every struct, nested ones before those that embed them.
local function declarations(arch)
    local out = {}
    for _, word in ipairs(PLACEHOLDERS) do
        local base, attribute = words[arch][word]:match("^(%S+)(.*)$")
        out[#out + 1] = string.format("typedef %s %s%s;", base, typedef_name(arch, word), attribute)
    end
    local done = {}
    local function declare(name)
        if done[name] then return end
        done[name] = true
        local text, attribute, real = layout(name, arch)
        if real ~= name then
            declare(real)
            return
        end
        for nested in text:gmatch("struct%s+([%w_]+)") do declare(nested) end
        local body = text:gsub("struct%s+([%w_]+)", function(n) return struct_name(arch, n) end)
        body = body:gsub("%f[%w_]([%w_]+)%f[^%w_]", function(word)
            if words[arch][word] then return typedef_name(arch, word) end
        end)
        out[#out + 1] = string.format("%s {%s}%s;", struct_name(arch, name), body,
            attribute and (" __attribute__((" .. attribute .. "))") or "")
    end
    for _, name in ipairs(all_names) do declare(name) end
    return table.concat(out, "\n")
end

-- The { offset, size } of every integer wider than a byte in structure
-- `name` of `arch`, nested structures and array elements included.
local function swap_plan(arch, name, base, plan)
    local ct = types.ctype(name, arch)
    local text = layout(name, arch)
    for decl in text:gmatch("[^;]+") do
        local kind, field, count = decl:match("^%s*([%w_]+%s*[%w_]*)%s+([%w_]+)%s*(%b[])%s*$")
        if not kind then
            kind, field = decl:match("^%s*([%w_]+%s*[%w_]*)%s+([%w_]+)%s*$")
        end
        if kind and not NETWORK_ORDER[field] then
            local at = base + ffi.offsetof(ct, field)
            local nested = kind:match("^struct%s+([%w_]+)$")
            if nested then
                swap_plan(arch, nested, at, plan)
            else
                local word = words[arch][kind]
                local size = INT_SIZES[kind] or (word and ffi.sizeof(word:match("^%S+")))
                for i = 0, (count and tonumber(count:sub(2, -2)) or 1) - 1 do
                    if size and size > 1 then plan[#plan + 1] = { at + i * size, size } end
                end
            end
        end
    end
    return plan
end

local plans = {}

-- Reverses, in place, the integers of `value` (structure `name` of `arch`).
local function swap(value, arch, name)
    local key = arch .. " " .. name
    local plan = plans[key]
    if not plan then
        plan = swap_plan(arch, name, 0, {})
        plans[key] = plan
    end
    local bytes = ffi.cast("uint8_t *", value)
    for _, f in ipairs(plan) do
        local at, size = f[1], f[2]
        for i = 0, size / 2 - 1 do
            bytes[at + i], bytes[at + size - 1 - i] = bytes[at + size - 1 - i], bytes[at + i]
        end
    end
end

-- struct name -> { arch, name }, for writing a value back in its order
local owners = {}

local declared = {}
local ctypes = {}
for arch in pairs(words) do ctypes[arch] = {} end

-- Declares an architecture's structs on first use. A second copy of this
-- module in the same Lua state (a reloaded package) finds them declared
-- already: ffi.cdef would refuse to redefine them.
local function declare_arch(arch)
    if declared[arch] then return end
    if not pcall(ffi.typeof, struct_name(arch, "timespec")) then
        ffi.cdef(declarations(arch))
    end
    declared[arch] = true
end

-- The architecture to use: the one given, else the guest's. Nil and a
-- message when there is none (outside the plugin, without an argument).
local function resolve_arch(arch)
    arch = arch or context.arch
    if arch == nil then
        return nil, "no guest architecture: pass one (" .. table.concat(known_arches(), ", ")
            .. ") outside luahook"
    end
    if not words[arch] then
        return nil, string.format("unknown guest architecture '%s' (known: %s)",
            tostring(arch), table.concat(known_arches(), ", "))
    end
    return arch
end

local function check(name, arch)
    local a, err = resolve_arch(arch)
    if not a then return nil, err end
    if type(name) ~= "string" or not layout(name, a) then
        return nil, string.format("unknown guest type '%s' (known: %s)",
            tostring(name), table.concat(all_names, ", "))
    end
    return a
end

--- The FFI ctype of the guest's layout of structure `name` ("stat",
--- "timespec", ...), for `arch` ("i386", "mips", ...; default the guest's).
---@param name string
---@param arch? string
---@return ffi.ctype*? ctype
---@return string? error
function types.ctype(name, arch)
    local a, err = check(name, arch)
    if not a then return nil, err end
    local ct = ctypes[a][name]
    if not ct then
        declare_arch(a)
        local _, _, real = layout(name, a)
        ct = ffi.typeof(struct_name(a, real))
        ctypes[a][name] = ct
        owners[tostring(ct)] = { a, real }
    end
    return ct
end

--- The names of the structures this module knows, sorted.
---@return string[]
function types.names()
    local list = {}
    for i, name in ipairs(all_names) do list[i] = name end
    return list
end

--- The field names of structure `name`, in the order of the layout.
---@param name string
---@param arch? string
---@return string[]? fields
---@return string? error
function types.fields(name, arch)
    local a, err = check(name, arch)
    if not a then return nil, err end
    return field_names((layout(name, a)))
end

--- The size in bytes of the guest's structure `name`.
---@param name string
---@param arch? string
---@return integer? size
---@return string? error
function types.sizeof(name, arch)
    local ct, err = types.ctype(name, arch)
    if not ct then return nil, err end
    return ffi.sizeof(ct)
end

--- A new zero-filled structure `name`.
---@param name string
---@param arch? string
---@return ffi.cdata*? value
---@return string? error
function types.new(name, arch)
    local ct, err = types.ctype(name, arch)
    if not ct then return nil, err end
    return ct()
end

--- A new structure `name` filled from `bytes`, typically guest memory read
--- with lh.mem.read(addr, types.sizeof(name)). `bytes` must be exactly the
--- structure's size, so a short read cannot pass for a structure.
---@param name string
---@param bytes string
---@param arch? string
---@return ffi.cdata*? value
---@return string? error
function types.read(name, bytes, arch)
    local ct, err = types.ctype(name, arch)
    local a = resolve_arch(arch)
    if not ct then return nil, err end
    local size = ffi.sizeof(ct)
    if type(bytes) ~= "string" or #bytes ~= size then
        return nil, string.format("%s needs %d bytes, got %s", name, size,
            type(bytes) == "string" and #bytes or type(bytes))
    end
    local value = ct()
    ffi.copy(value, bytes, size)
    if BIG_ENDIAN[a] then swap(value, a, name) end
    return value
end

--- The bytes of a structure (or any cdata value) as a Lua string: what to
--- write back to guest memory after changing fields.
---@param value ffi.cdata*
---@return string? bytes
---@return string? error
function types.bytes(value)
    if type(value) ~= "cdata" then
        return nil, "bytes(): expected a cdata value, got " .. type(value)
    end
    local owner = owners[tostring(ffi.typeof(value))]
    if owner and BIG_ENDIAN[owner[1]] then
        local copy = ffi.typeof(value)()
        ffi.copy(copy, value, ffi.sizeof(value))
        swap(copy, owner[1], owner[2])
        value = copy
    end
    return ffi.string(value, ffi.sizeof(value))
end

return types
