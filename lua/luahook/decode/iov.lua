-- Scatter/gather arrays and message headers as strace prints them:
--   [{iov_base="abc", iov_len=3}, ...]
--   {msg_name=NULL, msg_namelen=0, msg_iov=[...], msg_iovlen=1,
--    msg_controllen=0, msg_flags=0}
-- Data shown after a call (readv, recvmsg) is limited to the bytes it
-- transferred; every array stops after strsize elements, and every buffer
-- after strsize bytes.
local ffi = require "ffi"
local context = require "luahook._core.context"
local int = require "luahook._guest.int"
local memory = require "luahook._guest.memory"
local sockaddr = require "luahook.decode.sockaddr"
local structs = require "luahook.decode.structs"
local values = require "luahook.decode.values"

local iov = {}

local WORD = context.word_size or 4
local dec, ptr = values.dec, values.ptr
local msg_flags = values.formatter("msg_flags")

--- `count` iovecs at `addr`; `limit` (optional) is how many bytes of data
--- exist in total (a read's result), else each buffer is shown in full.
---@return string?
function iov.array(self, addr, count, limit)
    count = values.u32(count)
    local shown = math.min(count, self.strsize)
    local w = structs.words(addr, 2 * shown)
    if not w then return nil end
    local items = {}
    for i = 1, shown do
        local base, len = w[2 * i - 1], w[2 * i]
        local size = len
        if limit then
            size = math.min(tonumber(len) or 0, limit)
            limit = limit - size
        end
        items[i] = string.format("{iov_base=%s, iov_len=%s}", self:buf(base, size), dec(len))
    end
    return structs.list(items, count > shown)
end

-- struct msghdr's fields: offsets differ with the word size (x86_64 pads
-- msg_namelen and keeps size_t counts)
local LAYOUT = WORD == 8 and { name = 0, namelen = 8, iov = 16, iovlen = 24,
                               control = 32, controllen = 40, flags = 48, size = 56 }
                          or { name = 0, namelen = 4, iov = 8, iovlen = 12,
                               control = 16, controllen = 20, flags = 24, size = 28 }
iov.MSGHDR = LAYOUT            -- for luahook.recording.extents

local WORD_PTR = WORD == 8 and "const uint64_t *" or "const uint32_t *"

-- the word (or, with kind "u32", the 32-bit value) at `offset` of `bytes`
local function field(bytes, offset, kind)
    local ctype = kind == "u32" and "const uint32_t *" or WORD_PTR
    local size = kind == "u32" and 4 or WORD
    return values.exact(ffi.cast(ctype, int.host_order(bytes:sub(offset + 1, offset + size), size))[0])
end

--- The struct msghdr at `addr`; `limit` as for iov.array (recvmsg's result).
---@return string?
function iov.msghdr(self, addr, limit)
    local b = memory.read(addr, LAYOUT.size)
    if not b then return nil end
    local name, namelen = field(b, LAYOUT.name), field(b, LAYOUT.namelen, "u32")
    local iov_addr, iovlen = field(b, LAYOUT.iov), field(b, LAYOUT.iovlen)
    local control, controllen = field(b, LAYOUT.control), field(b, LAYOUT.controllen)
    local flags = field(b, LAYOUT.flags, "u32")
    local parts = {
        "msg_name=" .. (name == 0 and "NULL" or (sockaddr.text(name, namelen) or ptr(name))),
        "msg_namelen=" .. dec(namelen),
        "msg_iov=" .. (iov.array(self, iov_addr, iovlen, limit) or ptr(iov_addr)),
        "msg_iovlen=" .. dec(iovlen),
    }
    if controllen ~= 0 then
        parts[#parts + 1] = "msg_control=" .. ptr(control)
    end
    parts[#parts + 1] = "msg_controllen=" .. dec(controllen)
    parts[#parts + 1] = "msg_flags=" .. msg_flags(flags)
    return "{" .. table.concat(parts, ", ") .. "}"
end

return iov
