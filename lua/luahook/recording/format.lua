-- The recording file (docs/scripts.md, "The recording format"): a header
-- line, then binary records written as the run goes, each framed by its
-- kind, its size and a checksum, so that a reader can tell a complete
-- recording from one cut short or damaged before the guest runs.
--
--   header   "luahook-recording VERSION ARCH\n"
--   record   kind:u8 size:u32 payload[size] check:u32
--            check = FNV-1a (32 bits) of kind, size and payload taken as
--            32-bit little-endian words, the last one completed with zeros
--   'C' a call   tid:u32 nr:u16 flags:u8 nargs:u8 lag:u32 regs:word[6]
--                args:word[nargs] [result:i64 if flags & RESULT]
--                nregions:u16, each role:u8 addr:u64 len:u32 hash:u32 kept:u32 bytes[kept]
--   'R' the result of a thread's call recorded without one   tid:u32 result:i64
--   'E' a process ended (its last program's QEMU exited, or it exec'd a
--       program of another architecture)   pid:u32
-- Integers are little-endian; a word is the guest's (4 bytes on i386, 8 on
-- x86_64).
local bit = require "bit"
local ffi = require "ffi"
local int = require "luahook._guest.int"

local format = {}

format.VERSION = 1
local MAGIC = "luahook-recording"

--- Flags of a call record.
format.RESULT = 1       -- the result follows (calls that never return have none)
format.PENDING = 2      -- written at entry: its result is in an 'R' record that follows
                        -- (none for an execve that succeeded: the new program's calls do)

local WORD_SIZES = { i386 = 4, x86_64 = 8 }
local REGS = 6
local FNV_OFFSET, FNV_PRIME_LOW = bit.tobit(0x811c9dc5), 403   -- prime = 2^24 + 403

local u8p = ffi.typeof("const uint8_t *")
local tobit, bxor, lshift = bit.tobit, bit.bxor, bit.lshift

local i32p = ffi.typeof("const int32_t *")

-- FNV-1a over `len` bytes at `p` taken as 32-bit little-endian words (the
-- last one completed with zero bytes), from `h`: four times fewer steps
-- than byte by byte. A signed 32-bit number (bit operations' range);
-- h * prime is split so that it stays exact.
local function fnv(p, len, h)
    local words = ffi.cast(i32p, p)
    local n = math.floor(len / 4)
    for i = 0, n - 1 do
        h = bxor(h, words[i])
        h = tobit(lshift(h, 24) + h * FNV_PRIME_LOW)
    end
    if len > 4 * n then
        local last = 0
        for i = len - 1, 4 * n, -1 do last = last * 256 + p[i] end
        h = bxor(h, tobit(last))
        h = tobit(lshift(h, 24) + h * FNV_PRIME_LOW)
    end
    return h
end

--- The hash of a string a recording stores (fnv above).
---@param s string
---@return integer
function format.hash(s)
    return fnv(ffi.cast(u8p, s), #s, FNV_OFFSET)
end

--- The header line for a guest of `arch`.
---@param arch string
---@return string
function format.header(arch)
    return string.format("%s %d %s\n", MAGIC, format.VERSION, arch)
end

-- Writing -----------------------------------------------------------------

---@class luahook.RecordingWriter
local Writer = {}
Writer.__index = Writer

--- A writer of records for a guest of `arch`; `sink(ptr, len)` receives
--- each finished record (a const char *: luahook's output stream).
---@param arch string
---@param sink fun(p: ffi.cdata*, len: integer)
---@return luahook.RecordingWriter
function format.writer(arch, sink)
    local self = setmetatable({ sink = sink, word_size = WORD_SIZES[arch], pos = 0 }, Writer)
    self:grow(4096)
    return self
end

local char_p = ffi.typeof("const char *")

function Writer:grow(size)
    local buf = ffi.new("uint8_t[?]", size)
    if self.buf then ffi.copy(buf, self.buf, self.pos) end
    self.buf, self.size, self.chars = buf, size, ffi.cast(char_p, buf)
end

function Writer:room(n)
    if self.pos + n > self.size then
        local size = self.size
        while self.pos + n > size do size = size * 2 end
        self:grow(size)
    end
end

-- Unchecked stores: callers make room first.
local u16w, u32w, u64w, i64w = ffi.typeof("uint16_t *"), ffi.typeof("uint32_t *"),
    ffi.typeof("uint64_t *"), ffi.typeof("int64_t *")

function Writer:u8(v)
    self.buf[self.pos] = v
    self.pos = self.pos + 1
end

function Writer:u16(v)
    ffi.cast(u16w, self.buf + self.pos)[0] = v
    self.pos = self.pos + 2
end

function Writer:u32(v)
    ffi.cast(u32w, self.buf + self.pos)[0] = v
    self.pos = self.pos + 4
end

function Writer:u64(v)
    ffi.cast(u64w, self.buf + self.pos)[0] = v
    self.pos = self.pos + 8
end

function Writer:i64(v)
    ffi.cast(i64w, self.buf + self.pos)[0] = v
    self.pos = self.pos + 8
end

function Writer:word(v)
    if self.word_size == 8 then self:u64(v) else self:u32(v) end
end

-- Starts a record of `kind`: its size is filled in by finish.
function Writer:start(kind, room)
    self.pos = 0
    self:room(room + 9)
    self:u8(kind:byte())
    self:u32(0)
end

-- Closes the record: size, checksum, and out to the sink.
function Writer:finish()
    local size = self.pos - 5
    ffi.cast(u32w, self.buf + 1)[0] = size
    self:room(4)
    local check = fnv(self.buf, self.pos, FNV_OFFSET)
    self:u32(check)
    self.sink(self.chars, self.pos)
end

-- A call record's fixed start, stored at once (calls are many).
ffi.cdef [[
struct lh_rec_call4 { uint8_t kind; uint32_t size, tid; uint16_t nr; uint8_t flags, nargs;
                      uint32_t lag; uint32_t regs[6]; } __attribute__((packed));
struct lh_rec_call8 { uint8_t kind; uint32_t size, tid; uint16_t nr; uint8_t flags, nargs;
                      uint32_t lag; uint64_t regs[6]; } __attribute__((packed));
]]
local CALL_START = { [4] = ffi.typeof("struct lh_rec_call4 *"),
                     [8] = ffi.typeof("struct lh_rec_call8 *") }
local KIND_CALL, RESULT = ("C"):byte(), format.RESULT
local REGS_AT = ffi.offsetof("struct lh_rec_call4", "regs")

--- Writes the start of a call record: thread `tid`, syscall `nr`, `lag`
--- (turns taken between the call's entry and its end), the six registers,
--- the multiplexed sub-call's arguments (or nil), the result (nil for a
--- call that does not return) and `flags` (format.PENDING). Regions follow
--- (region), then end_call.
function Writer:begin_call(tid, nr, lag, regs, args, result, flags)
    local nargs = args and #args or 0
    local word = self.word_size
    self.pos = 0
    self:room(REGS_AT + (REGS + nargs) * word + 8 + 2 + 4)
    local start = ffi.cast(CALL_START[word], self.buf)
    start.kind, start.tid, start.nr, start.nargs, start.lag = KIND_CALL, tid, nr, nargs, lag
    start.flags = flags + (result ~= nil and RESULT or 0)
    local r = start.regs
    r[0], r[1], r[2], r[3], r[4], r[5] = regs[1], regs[2], regs[3], regs[4], regs[5], regs[6]
    self.pos = REGS_AT + REGS * word
    for i = 1, nargs do self:word(args[i]) end
    if result ~= nil then self:i64(result) end
    self.regions_at = self.pos
    self.regions = 0
    self:u16(0)
end

--- Adds a region to the call being written: `role` "i" (an input,
--- compared by `hash` and `len`), "s" (an input kept only to show the
--- call), "o" (what the call wrote) or "f" (the bytes of the file a
--- mapping maps, `addr` their offset in the file); `bytes` (a string) is
--- what is kept of it, all of an output or a file.
function Writer:region(role, addr, len, hash, bytes)
    local kept = #bytes
    self:room(21 + kept)
    self:u8(role:byte())
    self:u64(addr)
    self:u32(len)
    self:u32(hash)
    self:u32(kept)
    ffi.copy(self.buf + self.pos, bytes, kept)
    self.pos = self.pos + kept
    self.regions = self.regions + 1
end

function Writer:end_call()
    ffi.cast(u16w, self.buf + self.regions_at)[0] = self.regions
    self:finish()
end

--- The result of a call recorded without one (a failed execve).
function Writer:late_result(tid, result)
    self:start("R", 12)
    self:u32(tid)
    self:i64(result)
    self:finish()
end

--- The end of process `pid`: QEMU exits.
function Writer:process_end(pid)
    self:start("E", 4)
    self:u32(pid)
    self:finish()
end

-- Reading -----------------------------------------------------------------

-- A cursor over a payload; every read is checked against its end, so a
-- record whose checksum passed but whose fields do not add up is refused.
local Cursor = {}
Cursor.__index = Cursor

local function bad_record(c)
    error({ corrupted = "record " .. c.index .. " does not add up" }, 0)
end

function Cursor:take(n)
    local at = self.pos
    if at + n > self.stop then bad_record(self) end
    self.pos = at + n
    return at
end

function Cursor:u8() return self.p[self:take(1)] end
function Cursor:u16() return ffi.cast("const uint16_t *", self.p + self:take(2))[0] end
function Cursor:u32() return ffi.cast("const uint32_t *", self.p + self:take(4))[0] end
function Cursor:u64() return int.exact(ffi.cast("const uint64_t *", self.p + self:take(8))[0]) end
function Cursor:i64() return int.exact(ffi.cast("const int64_t *", self.p + self:take(8))[0]) end
function Cursor:word()
    if self.word_size == 8 then return self:u64() end
    return self:u32()
end
function Cursor:bytes(n)
    local at = self:take(n)
    return self.data:sub(at + 1, at + n)
end

local ROLES = {}
for _, role in ipairs({ "i", "s", "o", "f" }) do ROLES[role:byte()] = role end

local function parse_call(c)
    local rec = { kind = "C", tid = c:u32(), nr = c:u16() }
    local flags = c:u8()
    local nargs = c:u8()
    rec.lag = c:u32()
    rec.pending = bit.band(flags, format.PENDING) ~= 0
    if nargs > REGS then bad_record(c) end
    local regs = {}
    for i = 1, REGS do regs[i] = c:word() end
    rec.regs = regs
    if nargs > 0 then
        local args = {}
        for i = 1, nargs do args[i] = c:word() end
        for i = nargs + 1, REGS do args[i] = 0 end
        rec.args = args
    end
    if bit.band(flags, format.RESULT) ~= 0 then rec.result = c:i64() end
    local regions = {}
    for k = 1, c:u16() do
        local role = ROLES[c:u8()]
        if not role then bad_record(c) end
        local region = { role = role, addr = c:u64(), len = c:u32(), hash = tobit(c:u32()) }
        region.bytes = c:bytes(c:u32())
        regions[k] = region
    end
    rec.regions = regions
    return rec
end

local PARSERS = {
    C = parse_call,
    R = function(c) return { kind = "R", tid = c:u32(), result = c:i64() } end,
    E = function(c) return { kind = "E", pid = c:u32() } end,
}

---@class luahook.Recording
---@field arch string
---@field records table[] calls ('C'), late results ('R') and process ends ('E'), in file order
---@field complete boolean the first process's end is recorded

--- Reads and checks the recording in `data` (a file's contents) for a
--- guest of `arch`. Returns the recording, or nil and a one-line reason.
---@param data string
---@param arch string
---@return luahook.Recording?
---@return string? error
function format.parse(data, arch)
    local line = data:match("^([^\n]*)\n")
    local magic, version, rec_arch = (line or ""):match("^(%S+) (%d+) (%S+)$")
    if magic ~= MAGIC then
        return nil, "not a luahook recording"
    end
    if tonumber(version) ~= format.VERSION then
        return nil, string.format("a recording of version %s; this luahook reads version %d",
                                  version, format.VERSION)
    end
    if not WORD_SIZES[rec_arch] then
        return nil, "recorded from an unknown architecture '" .. rec_arch .. "'"
    end
    if rec_arch ~= arch then
        return nil, string.format("recorded from an %s guest; this guest is %s", rec_arch, arch)
    end
    local p = ffi.cast(u8p, data)
    local pos, records = #line + 1, {}
    local c = setmetatable({ p = p, data = data, word_size = WORD_SIZES[arch] }, Cursor)
    while pos < #data do
        local index = #records + 1
        if pos + 5 > #data then
            return nil, string.format("truncated: it ends inside record %d (byte %d)", index, pos)
        end
        local kind = string.char(p[pos])
        local size = ffi.cast("const uint32_t *", p + pos + 1)[0]
        local stop = pos + 5 + size
        if stop + 4 > #data then
            return nil, string.format("truncated: it ends inside record %d (byte %d)", index, pos)
        end
        local check = tobit(ffi.cast("const uint32_t *", p + stop)[0])
        if fnv(p + pos, 5 + size, FNV_OFFSET) ~= check or not PARSERS[kind] then
            return nil, string.format("corrupted: record %d (byte %d) fails its checksum",
                                      index, pos)
        end
        c.pos, c.stop, c.index = pos + 5, stop, index
        local ok, rec = pcall(PARSERS[kind], c)
        if not ok then
            if type(rec) == "table" then return nil, "corrupted: " .. rec.corrupted end
            error(rec, 0)
        end
        if c.pos ~= stop then
            return nil, "corrupted: record " .. index .. " does not add up"
        end
        rec.index = index
        records[index] = rec
        pos = stop + 4
    end
    local first = records[1]
    if not first or first.kind ~= "C" then
        return nil, "truncated: it holds no call"
    end
    local complete = false
    for _, rec in ipairs(records) do
        if rec.kind == "E" and rec.pid == first.tid then complete = true end
    end
    return { arch = arch, records = records, complete = complete }
end

return format
