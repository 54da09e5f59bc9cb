-- A client of the REPL's socket protocol (core/repl_proto.h) in the spec's
-- own process: frames of a type byte, a 4-byte big-endian length and the
-- payload, over a Unix socket. Blocking reads only: no timing.
local ffi = require "ffi"
local bit = require "bit"

-- names of their own, so that no other spec's declarations collide
ffi.cdef [[
struct lh_spec_sockaddr_un { unsigned short family; char path[108]; };
int lh_spec_socket(int domain, int type, int protocol) __asm__("socket");
int lh_spec_connect(int fd, const struct lh_spec_sockaddr_un *addr, unsigned len) __asm__("connect");
long lh_spec_read(int fd, void *buf, size_t len) __asm__("read");
long lh_spec_write(int fd, const void *buf, size_t len) __asm__("write");
int lh_spec_close(int fd) __asm__("close");
]]
local C = ffi.C
local AF_UNIX, SOCK_STREAM = 1, 1

local frames = {}
local Client = {}
Client.__index = Client

--- Connects to the socket at `path`; nil and a reason when it cannot.
function frames.connect(path)
    local fd = C.lh_spec_socket(AF_UNIX, SOCK_STREAM, 0)
    assert(fd >= 0, "socket() failed")
    local addr = ffi.new("struct lh_spec_sockaddr_un")
    addr.family = AF_UNIX
    ffi.copy(addr.path, path)
    if C.lh_spec_connect(fd, addr, ffi.sizeof(addr)) ~= 0 then
        C.lh_spec_close(fd)
        return nil, "cannot connect to " .. path
    end
    return setmetatable({ fd = fd }, Client)
end

--- Writes raw bytes (a frame, or something that is not one).
function Client:send_raw(bytes)
    assert(C.lh_spec_write(self.fd, bytes, #bytes) == #bytes, "short write")
end

--- Sends one frame of `kind` ("L", "C", "D", ...).
function Client:send(kind, payload)
    payload = payload or ""
    local n = #payload
    local function byte(shift) return bit.band(bit.rshift(n, shift), 255) end
    self:send_raw(kind .. string.char(byte(24), byte(16), byte(8), byte(0)) .. payload)
end

-- `n` bytes, or nil at the end of the stream.
local function read_exactly(fd, n)
    local buf, got = ffi.new("char[?]", math.max(n, 1)), 0
    while got < n do
        local r = tonumber(C.lh_spec_read(fd, buf + got, n - got))
        if r <= 0 then return nil end
        got = got + r
    end
    return ffi.string(buf, n)
end

--- The next frame: its type and payload; nil at the end of the stream.
function Client:receive()
    local head = read_exactly(self.fd, 5)
    if not head then return nil end
    local b1, b2, b3, b4 = head:byte(2, 5)
    local n = ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    return head:sub(1, 1), read_exactly(self.fd, n)
end

--- Frames up to and including the next of type `kind`, as "T:payload"
--- strings, and the output ("O" frames) among them joined.
function Client:until_frame(kind)
    local seen, output = {}, {}
    repeat
        local t, payload = self:receive()
        if not t then break end
        seen[#seen + 1] = t .. ":" .. payload
        if t == "O" then output[#output + 1] = payload end
    until t == kind
    return seen, table.concat(output)
end

--- Everything until the plugin closes the connection.
function Client:rest()
    local seen = {}
    for t, payload in function() return self:receive() end do
        seen[#seen + 1] = t .. ":" .. payload
    end
    return seen
end

function Client:close()
    C.lh_spec_close(self.fd)
end

return frames
