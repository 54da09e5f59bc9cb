-- Decodes syscalls the way strace shows them: the signature table
-- (luahook.decode.signatures) is compiled once per syscall into a plan of
-- argument decoders; a decoder object runs a plan at entry (arguments the
-- call reads) and at return (what it wrote, and the result). i386's
-- socketcall and ipc decode as the calls they stand for. Nothing here
-- ever raises for bad guest memory: an unreadable pointer shows as hex.
local added = require "luahook._guest.added"
local arch = require "luahook._guest.arch"
local context = require "luahook._core.context"
local format = require "luahook._guest.format"
local memory = require "luahook._guest.memory"
local kinds = require "luahook.decode.kinds"
local multiplex = require "luahook.decode.subcalls"
local results = require "luahook.decode.results"
local signatures = require "luahook.decode.signatures"
local structs = require "luahook.decode.structs"
local text = require "luahook.decode.text"
local values = require "luahook.decode.values"
local syscalls = require "luahook.syscalls"

local decode = {}

local ARCH = context.arch
-- i386's (and mips') calls that stand for others, decoded as the call they name
local MULTIPLEXERS = { socketcall = true, ipc = true }
local PATH_MAX = 4096
local RAW_ARGS = { "hex", "hex", "hex", "hex", "hex", "hex" }

-- Plans ------------------------------------------------------------------

-- The signature of `name` on this architecture, or nil.
local function signature(name)
    return signatures.by_arch[ARCH][name] or signatures.common[name]
end

-- One argument's decoder from "kind" or "kind:param"; `reg` is the
-- register it starts at. Errors here are mistakes in the signature table.
local function compile_step(name, spec, reg)
    local kind_name, param = spec:match("^([%w_]+):?(.*)$")
    local kind = kind_name and kinds[kind_name]
    if not kind then
        error(string.format("signature of %s: unknown kind '%s'", name, spec))
    end
    local p
    if kind.param == "reg" then
        p = tonumber(param)
    elseif kind.param == "formatter" then
        p = values.formatter(param)
    elseif kind.param == "name" then
        p = param ~= "" and param or nil
    elseif param == "" then
        p = true
    end
    if p == nil then
        error(string.format("signature of %s: bad parameter in '%s'", name, spec))
    end
    -- arm EABI and mips o32 start a register pair at an even register
    -- (r0, r2, ...: odd 1-based), leaving one unused before it
    local pad = (kind.pair and arch.roles.aligned_pairs and reg % 2 == 0) and 1 or 0
    return { enter = kind.enter, exit = kind.exit, reg = reg + pad, p = p, several = kind.several,
             on_failure = kind.on_failure, late_separator = kind.late_separator },
           (kind.width or 1) + pad
end

-- What y=1 must forget once a call returns: the result is a new
-- descriptor, the first argument was closed, a pair was written, ...
local function tracking(name, sig, steps)
    if sig.ret == "fd" then
        return "ret"
    elseif name == "close" or name == "close_range" or name == "fcntl" or name == "fcntl64" then
        return name
    end
    for _, step in ipairs(steps) do
        if step.exit == kinds.ofd_pair.exit then
            return "pair", step.reg
        end
    end
end

local plans = {}

-- A plan from signature `sig` of `name`; `ret_kind` overrides its result kind.
local function compile(name, sig, ret_kind)
    local steps, reg = {}, 1
    for i, spec in ipairs(sig) do
        local step, width = compile_step(name, spec, reg)
        steps[i], reg = step, reg + width
    end
    local ret = results.get(ret_kind or sig.ret or "int")
    if not ret then
        error(string.format("signature of %s: unknown result kind '%s'", name, tostring(sig.ret)))
    end
    -- out-arguments are found by the index of their text in the decoded
    -- call: a kind standing for an unknown number of arguments may not
    -- come before one
    local outs, out_parts, part, counted = {}, {}, 1, true
    for k, step in ipairs(steps) do
        if step.exit then
            if not counted then
                error(string.format("signature of %s: a kind standing for several arguments "
                                    .. "cannot come before an out-argument", name))
            end
            outs[#outs + 1], out_parts[#outs + 1] = k, part
        end
        local several = step.several
        counted = counted and several ~= true
        part = part + (type(several) == "number" and several or 1)
    end
    -- the counts kept: `#` on every call is a function call in compiled code
    local plan = { name = name, steps = steps, ret = ret, outs = outs, out_parts = out_parts,
                   redirect = false, step_count = #steps, out_count = #outs, opening = name .. "(",
                   late_separator = #outs > 0 and steps[outs[1]].late_separator or false }
    plan.track, plan.track_reg = tracking(name, sig, steps)
    return plan
end

-- The plan of syscall (or sub-call) `name`; `ret_kind` overrides the
-- signature's result kind. Multiplexers and indirect calls get a redirect
-- that finds the real plan and arguments at entry.
local function plan_for(name, ret_kind)
    local key = ret_kind and (name .. "/" .. ret_kind) or name
    local plan = plans[key]
    if plan then return plan end
    local sig = signature(name) or RAW_ARGS
    if sig.indirect then
        local inner = compile(name, signatures.common[name])
        local count = sig.indirect
        plan = compile(name, { "ptr", ret = signatures.common[name].ret })
        plan.redirect = function(a)
            local args = structs.words(a[1], count)
            if args then return inner, args end
        end
    else
        plan = compile(name, sig, ret_kind)
        local split = MULTIPLEXERS[name] and multiplex[name]
        if split then
            plan.multiplexer = name
            plan.redirect = function(a)
                local sub, args, sub_ret = split(a)
                if sub then return plan_for(sub, sub_ret), args end
            end
        end
    end
    plans[key] = plan
    return plan
end

local by_nr = context.by_nr()

local function plan_of(nr)
    local plan = by_nr[nr]
    if not plan then
        plan = plan_for(syscalls.name(nr))
        by_nr[nr] = plan
    end
    return plan
end

-- Decoders ---------------------------------------------------------------

---@class luahook.Decoder
---@field strsize integer bytes of a string or buffer shown before "..."
---@field fds luahook.FdTracker? descriptor names, when annotating
local Decoder = {}
Decoder.__index = Decoder

--- A new decoder. opts.strsize: bytes of strings and buffers shown
--- (default 32, as strace's -s); opts.fds: a luahook.decode.fds tracker
--- to annotate descriptors with what they refer to.
---@param opts? { strsize: integer?, fds: luahook.FdTracker? }
---@return luahook.Decoder
function decode.new(opts)
    opts = opts or {}
    -- every field read per call is there, if only as false, and so are the
    -- methods called per call: a key found through the metatable, or not at
    -- all, is a walk of a hash chain first
    return setmetatable({ strsize = opts.strsize or 32, fds = opts.fds or false,
                          calls = context.by_vcpu(), added = context.by_vcpu(),
                          enter = Decoder.enter, finish = Decoder.finish }, Decoder)
end

--- A descriptor: "3", or "3</etc/passwd>" when annotating.
---@param fd integer
---@return string
function Decoder:fd(fd)
    if self.fds then
        local path = self.fds:path(fd)
        if path then
            return fd .. "<" .. path .. ">"
        end
    end
    return tostring(fd)
end

--- The NUL-terminated string at `addr`, cut at strsize; NULL or the
--- address when there is none.
---@return string
function Decoder:str(addr)
    if addr == 0 then return "NULL" end
    local s = memory.string(addr, self.strsize + 1)
    if not s then return format.hex(addr) end
    if #s > self.strsize then
        return text.quote(s:sub(1, self.strsize), true)
    end
    return text.quote(s)
end

--- The file name at `addr`, in full (up to PATH_MAX) as strace shows them.
---@return string
function Decoder:path(addr)
    if addr == 0 then return "NULL" end
    local s, cut = memory.string(addr, PATH_MAX)
    if not s then return format.hex(addr) end
    return text.quote(s, cut)
end

--- `len` bytes at `addr`, at most strsize of them shown; `quote` is the
--- quoting function (default luahook.decode.text.quote).
---@return string
function Decoder:buf(addr, len, quote)
    if addr == 0 then return "NULL" end
    len = tonumber(len) or 0
    if len < 0 then len = 0 end
    local n = math.min(len, self.strsize)
    local bytes = n == 0 and "" or memory.read(addr, n)
    if not bytes then return format.hex(addr) end
    return (quote or text.quote)(bytes, len > n)
end

local function failed(ret)
    return type(ret) == "number" and ret < 0 and ret > -4096
end

--- A decoded call is the list of its argument texts (call[1], call[2], ...;
--- false for an out-argument not decoded yet), with these fields. Like a
--- syscall object it is reused for the vCPU's next call (calls are many):
--- fields a script adds are removed then.
---@class luahook.DecodedCall
---@field name string the call's name (a sub-call's for socketcall and ipc)
---@field plan table
---@field regs table the argument values the plan reads
---@field shown integer how many of the plan's arguments the call shows

local rawset = rawset

-- A call's metatable records the keys a script adds (luahook._guest.added, in the
-- list at Call[call]), so that reuse can clear them.
local Call = setmetatable({}, { __mode = "k" })
Call.__newindex = function(call, key, value)
    added.set(Call[call], call, key, value)
end

-- The vCPU's call object, emptied. The decoder itself writes with rawset.
-- Its list of added keys is also kept by vCPU: finding it by the call in
-- Call, a weak table, is a walk of a hash chain on every call.
local function reuse(self, vcpu)
    local call = self.calls[vcpu]
    if not call then
        call = setmetatable({ shown = 0 }, Call)
        Call[call] = added.list()
        self.calls[vcpu], self.added[vcpu] = call, Call[call]
    end
    for k = 1, call.shown do
        rawset(call, k, nil)
    end
    added.clear(self.added[vcpu], call)
    return call
end

-- The plan of `sc` and the arguments it reads: a multiplexed call's own.
local function resolve(sc)
    local plan, a = plan_of(sc.nr), sc.args
    if plan.redirect then
        local sub, args = plan.redirect(a)
        if sub then return sub, args end
    end
    return plan, a
end

--- Decodes what a call reads, at its entry; out-arguments wait for finish.
---@param sc luahook.Syscall
---@return luahook.DecodedCall
function Decoder:enter(sc)
    local plan, a = resolve(sc)
    local steps = plan.steps
    local parts, n = reuse(self, sc.vcpu), 0
    rawset(parts, "name", plan.name)
    rawset(parts, "plan", plan)
    rawset(parts, "regs", a)
    for k = 1, plan.step_count do
        local step = steps[k]
        local enter = step.enter
        local s = false
        if enter then
            s = enter(self, a, step.reg, step.p)
            if s == nil then break end
        end
        if type(s) == "table" then
            for j = 1, #s do rawset(parts, n + j, s[j]) end
            n = n + #s
        else
            n = n + 1
            rawset(parts, n, s)
        end
    end
    parts.shown = n
    return parts
end

--- The call's arguments as they go between its parentheses: "3, 0x0".
---@param call luahook.DecodedCall
---@return string
function decode.args_text(call)
    -- bounded by shown: `#` on a reused list would search for its end
    return table.concat(call, ", ", 1, call.shown)
end

-- Forgets descriptor names the call just changed.
local function track(self, call, ret)
    local how, a = call.plan.track, call.regs
    if not how then return end
    local tracker = self.fds
    if how == "ret" then
        tracker:forget(ret)
    elseif how == "close" then
        tracker:forget(values.i32(a[1]))
    elseif how == "close_range" then
        tracker:forget_range(values.u32(a[1]), values.u32(a[2]))
    elseif how == "pair" then
        local fds = structs.int_values(a[call.plan.track_reg], 2)
        if fds then
            tracker:forget(fds[1])
            tracker:forget(fds[2])
        end
    else -- fcntl: F_DUPFD and F_DUPFD_CLOEXEC make descriptors
        local cmd = values.u32(a[2])
        if cmd == 0 or cmd == 1030 then tracker:forget(ret) end
    end
end

--- Completes a call decoded by enter with its result `ret`: fills in the
--- out-arguments (left as addresses when the call failed) and returns the
--- result as strace prints it after "= ".
---@param call luahook.DecodedCall
---@param ret integer|ffi.cdata*
---@return string result
function Decoder:finish(call, ret)
    local parts, a, plan = call, call.regs, call.plan
    local bad = failed(ret)
    local outs, out_parts, steps = plan.outs, plan.out_parts, plan.steps
    for j = 1, plan.out_count do
        local k = out_parts[j]
        if k > call.shown then break end
        local step = steps[outs[j]]
        if bad and not step.on_failure then
            parts[k] = parts[k] or values.ptr(a[step.reg])
        else
            parts[k] = step.exit(self, a, step.reg, step.p, ret, parts[k], call, k)
        end
    end
    if bad then
        return format.result(ret)
    end
    if self.fds then
        track(self, call, ret)
    end
    return call.plan.ret(self, ret, a)
end

--- Only what finish does to descriptor names, for a call not decoded.
---@param sc luahook.Syscall
---@param ret integer|ffi.cdata*
function Decoder:observe(sc, ret)
    if self.fds and not failed(ret) then
        local plan, a = resolve(sc)
        track(self, { plan = plan, regs = a }, ret)
    end
end

local default_decoder

--- The call `sc` as strace shows it, `openat(AT_FDCWD, "/etc/passwd",
--- O_RDONLY)`, followed by ` = 3` when `ret` (its result) is given: then
--- what the call wrote is decoded too; without it such arguments are
--- shown as addresses. Arguments are read from guest memory now.
---@param sc luahook.Syscall
---@param ret? integer|ffi.cdata*
---@return string
function decode.format_call(sc, ret)
    default_decoder = default_decoder or decode.new()
    local call = default_decoder:enter(sc)
    local result
    if ret ~= nil then
        result = default_decoder:finish(call, ret)
    else
        local plan = call.plan
        for j, k in ipairs(plan.out_parts) do
            if k <= call.shown and call[k] == false then
                call[k] = values.ptr(call.regs[plan.steps[plan.outs[j]].reg])
            end
        end
    end
    local text = call.name .. "(" .. decode.args_text(call) .. ")"
    return result and (text .. " = " .. result) or text
end

-- [spec] = whether an argument of signature spec "kind[:param]" shows
-- only what the registers hold (or nothing at entry: an out-argument).
local spec_from_registers = setmetatable({}, { __index = function(t, spec)
    local kind = kinds[spec:match("^[%w_]+")]
    local yes = not kind.enter or kind.from_registers == true
    t[spec] = yes
    return yes
end })

--- Whether syscall `nr` decoded at its return (enter, then finish) shows
--- what it would have shown decoded at its entry: all it shows at entry
--- comes from its registers, not from guest memory or descriptor names,
--- which the call itself may change. Such a call needs no entry hook.
---@param nr integer
---@return boolean
function Decoder:enters_from_registers(nr)
    local name = syscalls.name(nr)
    local sig = signature(name)
    if self.fds or MULTIPLEXERS[name] or (sig and sig.indirect) then
        return false
    end
    -- read off the signature, not a compiled plan: trace.lua asks this of
    -- every call at start-up, and compiling every plan then took 4 ms
    for _, spec in ipairs(sig or RAW_ARGS) do
        if not spec_from_registers[spec] then return false end
    end
    return true
end

--- Names of the syscalls that create, replace or close descriptors on
--- this architecture (what a y=1 trace must watch even when not shown).
---@return string[]
function decode.descriptor_calls()
    local list = {}
    for nr = 0, context.nr_max - 1 do
        local name = syscalls.name(nr)
        if signature(name) then
            local plan = plan_of(nr)
            -- socketcall makes sockets and accepts connections
            if plan.track or plan.multiplexer == "socketcall" then
                list[#list + 1] = name
            end
        end
    end
    return list
end

--- Compiles every signature that exists on this architecture; raises on a
--- mistake in the table. Returns how many syscalls have one.
---@return integer
function decode.check()
    local n = 0
    for nr = 0, context.nr_max - 1 do
        if signature(syscalls.name(nr)) then
            plan_of(nr)
            n = n + 1
        end
    end
    for _, multiplexer in ipairs({ "socketcall", "ipc" }) do
        for _, sub in ipairs(multiplex.names(multiplexer)) do
            if not signature(sub) then
                error("no signature for " .. multiplexer .. "'s " .. sub)
            end
            plan_for(sub)
        end
    end
    return n
end

--- The sub-call names of i386's multiplexers: { name = "socketcall" | "ipc" },
--- empty on architectures without them.
---@return table<string, string>
function decode.subcalls()
    local map = {}
    for _, multiplexer in ipairs({ "socketcall", "ipc" }) do
        if syscalls.number(multiplexer) then
            for _, sub in ipairs(multiplex.names(multiplexer)) do
                map[sub] = multiplexer
            end
        end
    end
    return map
end

return decode
