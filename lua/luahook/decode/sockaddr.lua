-- Socket addresses as strace prints them, by family:
--   {sa_family=AF_UNIX, sun_path="/tmp/s"}   (abstract names as @"name")
--   {sa_family=AF_INET, sin_port=htons(80), sin_addr=inet_addr("127.0.0.1")}
--   {sa_family=AF_INET6, sin6_port=htons(0), sin6_flowinfo=htonl(0),
--    inet_pton(AF_INET6, "::1", &sin6_addr), sin6_scope_id=0}
-- and other families with their raw bytes.
local int = require "luahook._guest.int"
local memory = require "luahook._guest.memory"
local text = require "luahook.decode.text"
local values = require "luahook.decode.values"

local sockaddr = {}

local family = values.formatter("family")
local MAX_LEN = 128 -- sizeof(struct sockaddr_storage)

local function u16be(s, i)
    return s:byte(i) * 256 + s:byte(i + 1)
end

local function u32be(s, i)
    return ((s:byte(i) * 256 + s:byte(i + 1)) * 256 + s:byte(i + 2)) * 256 + s:byte(i + 3)
end

--- An IPv6 address (16 bytes) in its shortest text form, "::1".
---@param b string
---@return string
function sockaddr.ipv6(b)
    local groups = {}
    for i = 0, 7 do
        groups[i + 1] = u16be(b, 2 * i + 1)
    end
    -- IPv4-mapped addresses keep their dotted tail, as inet_ntop writes them
    if b:sub(1, 10) == ("\0"):rep(10) and groups[6] == 0xffff then
        return string.format("::ffff:%d.%d.%d.%d", b:byte(13, 16))
    end
    -- the longest run of at least two zero groups becomes "::"
    local best_at, best_len, at, len = nil, 1, nil, 0
    for i = 1, 8 do
        if groups[i] == 0 then
            at = at or i
            len = len + 1
            if len > best_len then best_at, best_len = at, len end
        else
            at, len = nil, 0
        end
    end
    local function hex(from, to)
        local out = {}
        for i = from, to do out[#out + 1] = string.format("%x", groups[i]) end
        return table.concat(out, ":")
    end
    if not best_at then
        return hex(1, 8)
    end
    return hex(1, best_at - 1) .. "::" .. hex(best_at + best_len, 8)
end

-- The 32-bit integer in the guest's byte order at 1-based `i` of `s`.
local function guest_u32(s, i)
    return int.from_bytes(s:sub(i, i + 3), "uint32_t")
end

local by_family = {
    [1] = function(b)
        local path = b:sub(3)
        if path == "" then
            return ""
        elseif path:byte(1) == 0 then
            return ", sun_path=@" .. text.quote(path:sub(2))
        end
        return ", sun_path=" .. text.quote((path:match("^[^%z]*")))
    end,
    [2] = function(b)
        if #b < 8 then return nil end
        return string.format(', sin_port=htons(%d), sin_addr=inet_addr("%d.%d.%d.%d")',
                             u16be(b, 3), b:byte(5, 8))
    end,
    [10] = function(b)
        if #b < 24 then return nil end
        local scope = #b >= 28 and guest_u32(b, 25) or 0
        return string.format(', sin6_port=htons(%d), sin6_flowinfo=htonl(%d), '
                             .. 'inet_pton(AF_INET6, "%s", &sin6_addr), sin6_scope_id=%d',
                             u16be(b, 3), u32be(b, 5), sockaddr.ipv6(b:sub(9, 24)), scope)
    end,
    [16] = function(b)
        if #b < 12 then return nil end
        local pid, groups = guest_u32(b, 5), guest_u32(b, 9)
        return string.format(", nl_pid=%d, nl_groups=%08x", pid, groups)
    end,
}

--- The socket address of `len` bytes at `addr`; nil if unreadable.
---@param addr integer|ffi.cdata*
---@param len integer
---@return string?
function sockaddr.text(addr, len)
    len = values.i32(len)
    if len < 2 then
        return len == 0 and "{}" or nil
    end
    local b = memory.read(addr, math.min(len, MAX_LEN))
    if not b then return nil end
    local fam = int.from_bytes(b:sub(1, 2), "uint16_t")
    if #b == 2 then
        return "{sa_family=" .. family(fam) .. "}"
    end
    local decode = by_family[fam]
    local rest = decode and decode(b)
    if not rest then
        rest = ", sa_data=" .. text.quote(b:sub(3))
    end
    return "{sa_family=" .. family(fam) .. rest .. "}"
end

return sockaddr
