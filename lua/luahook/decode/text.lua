-- Byte strings as strace quotes them: printable ASCII as is, \" \\ \t \n
-- \v \f \r as C escapes, every other byte in octal (three digits only when
-- an octal digit follows, so the escape cannot swallow it), and "..."
-- after the closing quote when the string was cut.
local ffi = require "ffi"

local text = {}

-- [byte] = escape, for a byte followed by something other than an octal digit
local SHORT = {}
-- [byte] = escape, when an octal digit follows
local LONG = {}
for b = 0, 255 do
    local c = string.char(b)
    local named = ({ ['"'] = '\\"', ["\\"] = "\\\\", ["\t"] = "\\t", ["\n"] = "\\n",
                     ["\v"] = "\\v", ["\f"] = "\\f", ["\r"] = "\\r" })[c]
    if named then
        SHORT[b], LONG[b] = named, named
    elseif b >= 0x20 and b < 0x7f then
        SHORT[b], LONG[b] = c, c
    else
        SHORT[b], LONG[b] = string.format("\\%o", b), string.format("\\%03o", b)
    end
end

-- Bytes that need escaping: all but printable ASCII minus '"' and '\'.
local SPECIAL = "[^ !#-[%]^-~]"

-- The escaped text is built in a reused buffer (an escape is at most four
-- bytes): a byte loop over FFI memory runs compiled, a gsub would not.
local buf_size = 0
local buf

local function escape(s)
    if not s:find(SPECIAL) then
        return s
    end
    local n = #s
    if 4 * n > buf_size then
        buf_size = 4 * n
        buf = ffi.new("char[?]", buf_size)
    end
    local p = ffi.cast("const uint8_t *", s)
    local pos = 0
    for i = 0, n - 1 do
        local nxt = i + 1 < n and p[i + 1] or 0
        local e = (nxt >= 0x30 and nxt <= 0x37) and LONG[p[i]] or SHORT[p[i]]
        local len = #e
        ffi.copy(buf + pos, e, len)
        pos = pos + len
    end
    return ffi.string(buf, pos)
end

--- `s` in double quotes with strace's escapes; `cut` adds "..." after it.
---@param s string
---@param cut? boolean
---@return string
function text.quote(s, cut)
    if cut then
        return '"' .. escape(s) .. '"...'
    end
    return '"' .. escape(s) .. '"'
end

--- `s` in double quotes with every byte as \xNN (strace does this for
--- random bytes, as getrandom's); `cut` adds "...".
---@param s string
---@param cut? boolean
---@return string
function text.quote_hex(s, cut)
    local hex = s:gsub(".", function(c) return string.format("\\x%02x", c:byte()) end)
    return '"' .. hex .. (cut and '"...' or '"')
end

return text
