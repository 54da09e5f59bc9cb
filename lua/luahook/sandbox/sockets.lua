-- The socket calls that take an address, which for an AF_UNIX socket may
-- name a file: bind, connect, sendto, sendmsg, sendmmsg. On an AF_UNIX
-- socket the sandbox makes the call itself with its own copy of the
-- address (and of the data that goes with it): a path is pinned and judged
-- (luahook.sandbox.call) and connected or sent to through the pin. On any
-- other socket the address cannot name a file, so QEMU makes the call; the
-- socket's descriptor is then held steady (no close or dup2 onto it) until
-- the call returns, or another thread could swap in an AF_UNIX socket
-- meanwhile. AF_UNIX stream and seqpacket sockets ignore or refuse the
-- address of a sendmsg, so those go to QEMU the same way.
--
-- i386's socketcall keeps its arguments in guest memory, where another
-- thread can change them after the sandbox has read them: the guest is
-- made to run the direct syscall (socket, connect, ...) with those
-- arguments in its registers instead, and gets its registers back after.
local ffi = require "ffi"
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local host = require "luahook._host.host"
local hostcall = require "luahook.hostcall"
local int = require "luahook._guest.int"
local memory = require "luahook._guest.memory"
local pin = require "luahook._host.pin"
local fdguard = require "luahook.sandbox.fdguard"

ffi.cdef [[
struct lh_host_iovec { void *iov_base; size_t iov_len; };
struct lh_sockets_cmsghdr { size_t len; int level; int type; };
struct lh_host_msghdr {
    void *msg_name; unsigned int msg_namelen;
    struct lh_host_iovec *msg_iov; size_t msg_iovlen;
    void *msg_control; size_t msg_controllen; int msg_flags;
};
int lh_sockets_getsockopt(int fd, int level, int name, void *value, unsigned int *len)
    __asm__("getsockopt");
long lh_sockets_sendmsg(int fd, const struct lh_host_msghdr *msg, int flags) __asm__("sendmsg");
int lh_sockets_connect(int fd, const void *addr, unsigned int len) __asm__("connect");
long lh_sockets_sendto(int fd, const void *buf, size_t len, int flags, const void *addr, unsigned int alen)
    __asm__("sendto");
]]

local errno = require "luahook._guest.errno"
local E = errno.codes
local AGAIN = require("luahook._core.context").AGAIN
local C = ffi.C

local sockets = {}

--- The calls this module makes or watches.
sockets.NAMES = { "bind", "connect", "sendto", "sendmsg", "sendmmsg" }

local AF_UNIX, SOCK_DGRAM = 1, 2
local SOL_SOCKET, SO_TYPE, SO_DOMAIN = 1, 3, 39
local UNIX_ADDR_MAX = 110 -- sizeof(struct sockaddr_un)
local ADDR_MAX = 128 -- sizeof(struct sockaddr_storage): the kernel refuses longer ones
local UIO_MAXIOV = 1024

local function getsockopt_int(fd, name)
    local v, len = ffi.new("int[1]"), ffi.new("unsigned int[1]", 4)
    if C.lh_sockets_getsockopt(fd, SOL_SOCKET, name, v, len) < 0 then
        return nil
    end
    return v[0]
end

-- The family and type of socket `fd`, or nil when it is none.
local function kind_of(fd)
    local family = getsockopt_int(fd, SO_DOMAIN)
    if not family then return nil end
    return family, getsockopt_int(fd, SO_TYPE)
end

-- Descriptors QEMU is making a socket call on: [pid .. ":" .. fd] = count.
local held = {}

-- Leaves call `c` on descriptor `fd` to QEMU, holding the descriptor.
local function to_qemu(c, fd)
    local key = require("luahook").pid() .. ":" .. fd
    held[key] = (held[key] or 0) + 1
    c.sc.sockets_held = key
    return nil
end

--- After a socket call: lets go of the descriptor it held.
function sockets.release(sc)
    local key = sc.sockets_held
    if key and held[key] then
        held[key] = held[key] > 1 and held[key] - 1 or nil
    end
end

local function is_held(fd)
    return held[require("luahook").pid() .. ":" .. fd] ~= nil
end

--- Whether descriptor-changing call `sc` (close, dup2, dup3, close_range)
--- would change a descriptor a socket call of QEMU's relies on: it is then
--- run again once that call has returned.
---@return boolean
function sockets.holds(sc)
    if next(held) == nil then return false end
    local a = sc.args
    if sc.name == "close" then
        return is_held(a[1])
    elseif sc.name == "dup2" or sc.name == "dup3" then
        return is_held(a[2])
    end
    for key in pairs(held) do -- close_range(first, last, flags)
        local fd = tonumber(key:match(":(%d+)$"))
        if fd >= a[1] and fd <= a[2] then return true end
    end
    return false
end

-- The sandbox's copy of the sockaddr at `addr` (`len` bytes, as the guest
-- gives it to the kernel): a buffer the kernel may read `len` bytes of, and
-- the file path it names for an AF_UNIX address (nil for an abstract or
-- unnamed one, or another family). Nil when unreadable.
local function read_address(addr, len)
    local bytes = memory.read(addr, math.min(len, ADDR_MAX))
    if not bytes then return nil end
    -- the family in the host's byte order, as QEMU's target_to_host_sockaddr
    -- passes it on (the rest is in network order or bytes)
    if #bytes >= 2 then bytes = int.host_order(bytes:sub(1, 2), 2) .. bytes:sub(3) end
    local buf = ffi.new("char[?]", ADDR_MAX + 1)
    ffi.copy(buf, bytes, #bytes)
    local path
    if #bytes >= 2 and bytes:byte(1) + 256 * bytes:byte(2) == AF_UNIX then
        -- the kernel ends the path at `len` itself
        path = bytes:sub(3, math.min(len, UNIX_ADDR_MAX)):match("^[^%z]+")
    end
    return buf, path
end

-- An AF_UNIX address that leads to the socket file pinned as `fd`.
local function pinned_address(fd)
    local path = pin.path(fd)
    local sa = ffi.new("char[?]", 2 + #path + 1)
    sa[0] = AF_UNIX
    ffi.copy(sa + 2, path)
    return sa, 2 + #path + 1
end

-- The address to give the kernel for call `c`: the pinned socket file's
-- when it names one (judged), else the guest's own bytes (`raw`, `len`).
-- Nil and the result when refused.
local function address_for(c, raw, len, path)
    if not path then
        return raw, len
    end
    local t, r = c:object(host.AT_FDCWD, path, { follow = true })
    if not t then return nil, r end
    return pinned_address(t.fd)
end

local function result(rc)
    rc = tonumber(rc)
    if rc < 0 then return -errno.from_host(ffi.errno()) end
    return rc
end

-- The start of connect and bind (fd, address, length): the socket, and
-- the sandbox's copy of the address with the path it names. Nil when QEMU
-- is to make the call, false and the result when it fails here.
local function unix_call(c)
    if fdguard.busy() then return false, AGAIN end
    local fd = c:int(1)
    if kind_of(fd) ~= AF_UNIX then return to_qemu(c, fd) end
    local len = c:int(3)
    if len < 0 then return false, -E.EINVAL end
    local raw, path = read_address(c.args[2], len)
    if not raw then return false, -E.EFAULT end
    return fd, raw, len, path
end

-- A call that may wait (a full listen queue, a full receiver): made after
-- the hook, outside luahook's lock, when the host allows (luahook.hostcall).
local function made_outside(c, name, fn, values, ...)
    if hostcall.available(name) then
        return c:hand_over(name, values, ...)
    end
    return result(fn(...))
end

sockets.connect = function(c)
    local fd, raw, len, path = unix_call(c)
    if not fd then return raw end
    local sa, salen = address_for(c, raw, len, path)
    if not sa then return salen end
    return made_outside(c, "connect", C.lh_sockets_connect, { sa }, fd, sa, salen)
end

-- bind makes the socket file: its place is judged like any new name, and
-- the guest's own path is bound (the name getsockname then shows).
sockets.bind = function(c)
    local fd, raw, len, path = unix_call(c)
    if not fd then return raw end
    if path then
        local p, r = c:judged_place(host.AT_FDCWD, path)
        if not p then return r end
    end
    local ok, err = host.bind(fd, raw, len)
    return ok or -err
end

sockets.sendto = function(c)
    if c.args[5] == 0 then return nil end -- no address
    if fdguard.busy() then return AGAIN end
    local fd = c:int(1)
    if kind_of(fd) ~= AF_UNIX then return to_qemu(c, fd) end
    local size = c:uint(3)
    local data = size > 0 and memory.read(c.args[2], size) or ""
    if not data then return -E.EFAULT end
    local len = c:int(6)
    if len < 0 then return -E.EINVAL end
    local raw, path = read_address(c.args[5], len)
    if not raw then return -E.EFAULT end
    local sa, salen = address_for(c, raw, len, path)
    if not sa then return salen end
    return made_outside(c, "sendto", C.lh_sockets_sendto, { data, sa }, fd, data, #data, c:int(4), sa, salen)
end

-- The guest's struct msghdr and cmsghdr, by word size.
local function msghdr_fields()
    local w = context.word_size
    return {
        name = 0, namelen = w, iov = 2 * w, iovlen = 3 * w,
        control = 4 * w, controllen = 5 * w, size = w == 8 and 56 or 28,
    }
end

-- The guest's socket level (0xffff on mips), and the host's control
-- messages whose payload is 32-bit integers (descriptors, a ucred) or
-- starts with one (SOL_ALG's).
local GUEST_SOL_SOCKET = arch.constants().SOL_SOCKET or SOL_SOCKET
local SCM_RIGHTS, SCM_CREDENTIALS, SOL_ALG = 1, 2, 279

-- The payload of a control message (`len` bytes at `addr`) as the host
-- reads it: QEMU swaps the integers it knows from a big-endian guest's
-- order and copies the rest.
local function host_payload(level, typ, addr, len)
    local data = memory.read(addr, len)
    if not data or not context.big_endian then return data end
    local words = 0
    if level == SOL_SOCKET and (typ == SCM_RIGHTS or typ == SCM_CREDENTIALS) then
        words = math.floor(len / 4)
    elseif level == SOL_ALG and len >= 4 then
        words = 1
    end
    local parts = {}
    for i = 0, words - 1 do parts[i + 1] = data:sub(4 * i + 1, 4 * i + 4):reverse() end
    return table.concat(parts) .. data:sub(4 * words + 1)
end

-- The guest's control messages at `addr` (`len` bytes) in the host's
-- layout (struct cmsghdr with a size_t length, 8-byte aligned), as QEMU's
-- target_to_host_cmsg converts them.
local function host_control(addr, len)
    local w = context.word_size
    local head = w + 8
    local out, at = {}, 0
    while len - at >= head do
        local clen = memory.int(addr + at, "ulong")
        local level = memory.int(addr + at + w, "i32")
        local typ = memory.int(addr + at + w + 4, "i32")
        if not (clen and level and typ) then return nil end
        if clen < head or at + clen > len then break end
        if level == GUEST_SOL_SOCKET then level = SOL_SOCKET end
        local data = host_payload(level, typ, addr + at + head, clen - head)
        if not data then return nil end
        local hdr = ffi.new("struct lh_sockets_cmsghdr", 16 + #data, level, typ)
        local padded = data .. string.rep("\0", (8 - #data % 8) % 8)
        out[#out + 1] = ffi.string(hdr, 16) .. padded
        at = at + clen + (w - clen % w) % w
    end
    return table.concat(out)
end

-- The host's struct msghdr for the guest's at `msg` (the data gathered in
-- one buffer, the address pinned when it names a file, the control
-- messages in the host's layout) and what it points into; or nil and the
-- result.
local function host_msghdr(c, msg)
    local f = msghdr_fields()
    local name = memory.int(msg + f.name, "ptr")
    local namelen = memory.int(msg + f.namelen, "u32")
    local iov = memory.int(msg + f.iov, "ptr")
    local iovlen = memory.int(msg + f.iovlen, "ulong")
    local control = memory.int(msg + f.control, "ptr")
    local controllen = memory.int(msg + f.controllen, "ulong")
    if not (name and namelen and iov and iovlen and control and controllen) then return -E.EFAULT end
    if iovlen > UIO_MAXIOV then return -E.EMSGSIZE end
    local parts, w = {}, context.word_size
    for i = 0, iovlen - 1 do
        local base = memory.int(iov + i * 2 * w, "ptr")
        local size = memory.int(iov + i * 2 * w + w, "ulong")
        if not (base and size) then return -E.EFAULT end
        local bytes = size > 0 and memory.read(base, size) or ""
        if not bytes then return -E.EFAULT end
        parts[#parts + 1] = bytes
    end
    local data = table.concat(parts)
    local h = ffi.new("struct lh_host_msghdr")
    local vec = ffi.new("struct lh_host_iovec[1]")
    vec[0].iov_base, vec[0].iov_len = ffi.cast("void *", data), #data
    h.msg_iov, h.msg_iovlen = vec, 1
    local sa, ctl
    if name ~= 0 then
        local raw, path = read_address(name, namelen)
        if not raw then return -E.EFAULT end
        local salen
        sa, salen = address_for(c, raw, namelen, path)
        if not sa then return salen end
        h.msg_name, h.msg_namelen = ffi.cast("void *", sa), salen
    end
    if control ~= 0 and controllen > 0 then
        ctl = host_control(control, controllen)
        if not ctl then return -E.EFAULT end
        h.msg_control, h.msg_controllen = ffi.cast("void *", ctl), #ctl
    end
    return h, { h, vec, data, sa, ctl }
end

-- Whether socket `fd`'s sendmsg must be made here: an AF_UNIX datagram
-- socket, whose message address another thread could change.
local function sendmsg_here(c, fd)
    local family, typ = kind_of(fd)
    if family ~= AF_UNIX or typ ~= SOCK_DGRAM then
        to_qemu(c, fd)
        return false
    end
    return true
end

sockets.sendmsg = function(c)
    if fdguard.busy() then return AGAIN end
    local fd = c:int(1)
    if not sendmsg_here(c, fd) then return nil end
    local h, values = host_msghdr(c, c.args[2])
    if not h then return values end
    return made_outside(c, "sendmsg", C.lh_sockets_sendmsg, values, fd, h, c:int(3))
end

sockets.sendmmsg = function(c)
    if fdguard.busy() then return AGAIN end
    local fd = c:int(1)
    if not sendmsg_here(c, fd) then return nil end
    local vec, count, flags = c.args[2], math.min(c:uint(3), UIO_MAXIOV), c:int(4)
    local size = msghdr_fields().size + (context.word_size == 8 and 8 or 4)
    local sent = 0
    for i = 0, count - 1 do
        local h, n = host_msghdr(c, vec + i * size)
        if h then
            n = result(C.lh_sockets_sendmsg(fd, h, flags))
        end
        if n < 0 then
            return sent > 0 and sent or n
        end
        if not memory.write_int(vec + i * size + msghdr_fields().size, "u32", n) then
            return sent > 0 and sent or -E.EFAULT
        end
        sent = sent + 1
    end
    return sent
end

---------------------------------------------------------------------------
-- socketcall, made as the direct syscall

-- The sub-calls whose arguments the policy judges, by what it has.
local REDIRECTED = {
    socket = "network", socketpair = "network",
    bind = "paths", connect = "paths", sendto = "paths", sendmsg = "paths", sendmmsg = "paths",
}

--- The direct syscalls socketcall is turned into.
sockets.DIRECT = { "socket", "socketpair", "bind", "connect", "sendto", "sendmsg", "sendmmsg" }

-- The registers a direct call takes its number and six arguments in (the
-- portable names of luahook.regs), where the architecture has them all:
-- mips o32 passes a fifth and sixth argument on the stack, and QEMU gives
-- plugins no mips registers at all.
local ARG_REGISTERS = #arch.roles.args >= 6 and { "arg1", "arg2", "arg3", "arg4", "arg5", "arg6" }
local redirected = {} -- [tid] = list of { nr = direct call, saved = registers }

--- socketcall `sc` for sub-call `name` with arguments `args`: when the
--- policy judges that sub-call, the guest's registers become the direct
--- syscall's and the call is run again (the result QEMU restarts it on);
--- else nil. False when the policy judges it and this architecture's
--- registers cannot be rewritten so: the caller must refuse the call.
function sockets.redirect(sc, name, args, policy)
    local needs = REDIRECTED[name]
    if not (needs == "network" and policy.has_network or needs == "paths" and policy.has_paths) then
        return nil
    end
    local lh = require "luahook"
    local nr = lh.nr(name)
    if not nr then return nil end
    if not ARG_REGISTERS or #lh.register_names() == 0 then
        return false
    end
    local saved = {}
    for i, reg in ipairs(ARG_REGISTERS) do
        saved[i] = lh.regs[reg]
        lh.regs[reg] = args[i]
    end
    lh.regs.nr = nr
    local list = redirected[sc.tid] or {}
    list[#list + 1] = { nr = nr, saved = saved }
    redirected[sc.tid] = list
    return AGAIN
end

--- After a direct socket syscall: gives back the registers a socketcall
--- had, when it was one.
function sockets.restore(sc)
    local list = redirected[sc.tid]
    local top = list and list[#list]
    if not top or top.nr ~= sc.nr then return end
    list[#list] = nil
    if #list == 0 then redirected[sc.tid] = nil end
    local lh = require "luahook"
    for i, reg in ipairs(ARG_REGISTERS) do
        lh.regs[reg] = top.saved[i]
    end
end

return sockets
