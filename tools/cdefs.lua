-- C object-like macros (#define NAME BODY) and their integer values, for
-- the table generators. The input is either a kernel header read line by
-- line, without its conditionals (asm/unistd_32.h, asm-generic/errno.h),
-- or a compiler's `gcc -E -dM` dump, where the compiler has already chosen
-- between an architecture's variants (mips o32 or n32, arm EABI or OABI).
-- A body is evaluated as a C integer constant expression over other
-- macros, with C's types (int, long as the architecture has it, long long,
-- signed and unsigned) so ~0UL is what the compiled program sees: numbers
-- in any C base and suffix, parentheses, the unary, arithmetic, shift,
-- bitwise, comparison, logical and ?: operators. Anything else (casts,
-- sizeof, function-like macros) has no value.
local ffi = require "ffi"
local bit = require "bit"

local cdefs = {}

local int64 = ffi.typeof("int64_t")
local uint64 = ffi.typeof("uint64_t")

local function strip_comments(line)
    return (line:gsub("/%*.-%*/", " "):gsub("//.*$", ""))
end

-- C's integer types by rank, for one architecture (long is 4 or 8 bytes).
local function integer_types(long_size)
    local function t(rank, size, unsigned) return { rank = rank, size = size, unsigned = unsigned } end
    return {
        int = t(1, 4, false), uint = t(1, 4, true),
        long = t(2, long_size, false), ulong = t(2, long_size, true),
        llong = t(3, 8, false), ullong = t(3, 8, true),
    }
end

-- A value of type t from a 64-bit pattern: cut to t's size; signed types
-- hold their value as int64, unsigned ones as uint64.
local function typed(bits, t)
    local u = ffi.cast("uint64_t", type(bits) == "number" and int64(bits) or bits)
    if t.size == 4 then
        u = ffi.cast("uint64_t", bit.band(u, 0xffffffffULL))
        if not t.unsigned and u >= 0x80000000ULL then
            return { v = int64(u) - 0x100000000LL, t = t }
        end
    end
    return { v = t.unsigned and u or ffi.cast("int64_t", u), t = t }
end

-- Whether the mathematical value v fits type t.
local function fits(v, t)
    local max = t.size == 8 and (t.unsigned and 0xffffffffffffffffULL or 0x7fffffffffffffffULL)
                or (t.unsigned and 0xffffffffULL or 0x7fffffffULL)
    return v <= max
end

-- A number token (0x1f, 0755, 42UL) with the type C gives it, or nil.
local function number(token, types)
    local lower = token:lower()
    local digits, suffix = lower:match("^(%w-)([ul]*)$")
    if not digits then return nil end
    local base = 10
    if digits:match("^0x") then
        base, digits = 16, digits:sub(3)
    elseif digits:match("^0%d") then
        base, digits = 8, digits:sub(2)
    end
    if digits == "" then return nil end
    local v = uint64(0)
    for c in digits:gmatch(".") do
        local d = tonumber(c, base)
        if not d then return nil end
        v = v * base + d
    end
    local unsigned, longs = suffix:find("u") ~= nil, #suffix:gsub("u", "")
    local candidates = ({ [0] = { "int", "uint", "long", "ulong", "llong", "ullong" },
                          [1] = { "long", "ulong", "llong", "ullong" },
                          [2] = { "llong", "ullong" } })[longs]
    if not candidates then return nil end
    for _, name in ipairs(candidates) do
        local t = types[name]
        -- decimal constants without u never become unsigned
        if (not unsigned or t.unsigned) and (base ~= 10 or unsigned or not t.unsigned)
                and fits(v, t) then
            return typed(v, t)
        end
    end
    return nil
end

local function tokenize(body)
    local tokens, pos = {}, 1
    while pos <= #body do
        local s, e = body:find("^%s+", pos)
        if s then
            pos = e + 1
        else
            local tok = body:match("^0[xX]%x+[uUlL]*", pos)
                or body:match("^%d+[uUlL]*", pos)
                or body:match("^[%a_][%w_]*", pos)
                or body:match("^<<", pos) or body:match("^>>", pos)
                or body:match("^[<>=!]=", pos) or body:match("^&&", pos)
                or body:match("^||", pos) or body:match("^[%(%)%+%-%*/%%~!&|%^<>%?:]", pos)
            if not tok then return nil end
            tokens[#tokens + 1] = tok
            pos = pos + #tok
        end
    end
    return tokens
end

-- C's usual arithmetic conversions: the type both operands take.
local function common(a, b, types)
    if a.unsigned == b.unsigned then return a.rank >= b.rank and a or b end
    local u, s = a.unsigned and a or b, a.unsigned and b or a
    if u.rank >= s.rank then return u end
    if s.size > u.size then return s end
    for _, t in pairs(types) do
        if t.unsigned and t.rank == s.rank then return t end
    end
end

local function fail() error("no value", 0) end

-- Evaluates `tokens` as C does; macro names are looked up with `lookup`.
-- Raises "no value" for anything outside the grammar above.
local function evaluate(tokens, lookup, types)
    local pos = 1
    local function peek() return tokens[pos] end
    local function take() pos = pos + 1; return tokens[pos - 1] end
    local function int(truth) return typed(truth and 1 or 0, types.int) end
    local function nonzero(x) return x.v ~= 0 end

    -- Operators on two values converted to their common type t: a function
    -- of the two 64-bit values giving a 64-bit pattern, or (compare) a truth.
    local arith = {
        ["+"] = function(a, b) return a + b end,
        ["-"] = function(a, b) return a - b end,
        ["*"] = function(a, b) return a * b end,
        ["/"] = function(a, b) if b == 0 then fail() end return a / b end,
        ["%"] = function(a, b) if b == 0 then fail() end return a % b end,
        ["&"] = bit.band, ["|"] = bit.bor, ["^"] = bit.bxor,
    }
    local compare = {
        ["<"] = function(a, b) return a < b end, [">"] = function(a, b) return a > b end,
        ["<="] = function(a, b) return a <= b end, [">="] = function(a, b) return a >= b end,
        ["=="] = function(a, b) return a == b end,
        ["!="] = function(a, b) return a ~= b end,
    }
    local function apply(op, x, y)
        if op == "&&" then return int(nonzero(x) and nonzero(y)) end
        if op == "||" then return int(nonzero(x) or nonzero(y)) end
        if op == "<<" or op == ">>" then
            local n = tonumber(y.v)
            if n < 0 or n >= x.t.size * 8 then fail() end
            if op == "<<" then return typed(bit.lshift(x.v, n), x.t) end
            return typed(x.t.unsigned and bit.rshift(x.v, n) or bit.arshift(x.v, n), x.t)
        end
        local t = common(x.t, y.t, types)
        local a, b = typed(x.v, t).v, typed(y.v, t).v
        if compare[op] then return int(compare[op](a, b)) end
        return typed(arith[op](a, b), t)
    end

    -- Binary operators by precedence level, lowest first (C's table).
    local levels = {
        { ["||"] = true }, { ["&&"] = true }, { ["|"] = true }, { ["^"] = true }, { ["&"] = true },
        { ["=="] = true, ["!="] = true }, { ["<"] = true, [">"] = true, ["<="] = true, [">="] = true },
        { ["<<"] = true, [">>"] = true }, { ["+"] = true, ["-"] = true },
        { ["*"] = true, ["/"] = true, ["%"] = true },
    }
    local conditional

    local function unary()
        local tok = take()
        if tok == nil then fail() end
        if tok == "(" then
            local x = conditional()
            if take() ~= ")" then fail() end
            return x
        end
        if tok == "-" then local x = unary(); return typed(-x.v, x.t) end
        if tok == "+" then return unary() end
        if tok == "~" then local x = unary(); return typed(bit.bnot(x.v), x.t) end
        if tok == "!" then return int(not nonzero(unary())) end
        if tok:match("^%d") then return number(tok, types) or fail() end
        if tok:match("^[%a_]") then return lookup(tok) or fail() end
        fail()
    end

    local function binary(level)
        if level > #levels then return unary() end
        local x = binary(level + 1)
        while levels[level][peek()] do
            local op = take()
            x = apply(op, x, binary(level + 1))
        end
        return x
    end

    function conditional()
        local x = binary(1)
        if peek() == "?" then
            take()
            local yes = conditional()
            if take() ~= ":" then fail() end
            local no = conditional()
            local t = common(yes.t, no.t, types)
            return typed((nonzero(x) and yes or no).v, t)
        end
        return x
    end

    local x = conditional()
    if pos <= #tokens then fail() end
    return x
end

local Defs = {}
Defs.__index = Defs

--- The integer value of macro `name` as C computes it (an int64 or
--- uint64 cdata), or nil when it has none.
function Defs:int64(name)
    local x = self:typed(name)
    return x and x.v
end

--- The value as a Lua number when it is one exactly, else the cdata.
function Defs:value(name)
    local v = self:int64(name)
    if v == nil then return nil end
    if v <= 2^53 and (ffi.istype(uint64, v) or v >= -2^53) then return tonumber(v) end
    return v
end

-- { v, t }: the value and its C type, cached.
function Defs:typed(name)
    local cached = self.values[name]
    if cached ~= nil then return cached or nil end
    local body = self.bodies[name]
    if not body then return nil end
    self.values[name] = false             -- a macro naming itself has no value
    local tokens = tokenize(body)
    local ok, x = false, nil
    if tokens and #tokens > 0 then
        ok, x = pcall(evaluate, tokens, function(n) return self:typed(n) end, self:types())
    end
    self.values[name] = ok and x or false
    return ok and x or nil
end

-- The architecture's integer types: long's size from the compiler's
-- __SIZEOF_LONG__ when the input is its dump, else 8.
function Defs:types()
    if not self.integer_types then
        local size = tonumber(self.bodies.__SIZEOF_LONG__ or "8")
        self.integer_types = integer_types(size)
    end
    return self.integer_types
end

--- The body of macro `name` as written, or nil.
function Defs:body(name)
    return self.bodies[name]
end

--- Whether `name` is defined as another macro's name (EWOULDBLOCK EAGAIN).
function Defs:is_alias(name)
    local body = self.bodies[name]
    return body ~= nil and body:match("^[%a_][%w_]*$") ~= nil and self.bodies[body] ~= nil
end

--- The names of object-like macros matching Lua pattern `pattern`, sorted.
function Defs:names(pattern)
    local list = {}
    for name in pairs(self.bodies) do
        if name:match(pattern) then list[#list + 1] = name end
    end
    table.sort(list)
    return list
end

--- Reads the #define lines of the files given (later files win).
---@param paths string[]
function cdefs.read(paths)
    local defs = setmetatable({ bodies = {}, values = {} }, Defs)
    for _, path in ipairs(paths) do
        local f = assert(io.open(path))
        for line in f:lines() do
            -- function-like macros (NAME followed directly by '(') are skipped
            local name, body = strip_comments(line):match("^%s*#%s*define%s+([%a_][%w_]*)(.*)$")
            if name and body:sub(1, 1) ~= "(" then
                defs.bodies[name] = body:match("^%s*(.-)%s*$")
            end
        end
        f:close()
    end
    return defs
end

return cdefs
