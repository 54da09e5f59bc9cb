-- Turns luahook.explain.sentences' templates into sentences: every template is
-- compiled once, when this module loads, into literal text and calls of
-- luahook.explain.fillers, so a misspelt placeholder or field is an error
-- at load time rather than a wrong sentence in the middle of a run.
local context = require "luahook._core.context"
local errno = require "luahook._guest.errno"
local fillers = require "luahook.explain.fillers"
local result = require "luahook.explain.result"
local words = require "luahook.explain.sentences"

local render = {}

local placeholders = fillers.placeholders
local FIELDS = { does = true, ok = true, zero = true, fail = true, by = true, cases = true }
local DEFAULT_FAIL = "the kernel answers {errno}"

-- A template as a list of strings and { fn, p, q, r, s } steps.
local function compile(template, where)
    if type(template) ~= "string" then
        error(where .. ": expected a template string, got " .. type(template), 0)
    end
    local steps, pos = {}, 1
    for start, body, stop in template:gmatch("(){([^}]*)}()") do
        if start > pos then steps[#steps + 1] = template:sub(pos, start - 1) end
        local parts = {}
        for part in (body .. ":"):gmatch("([^:]*):") do parts[#parts + 1] = part end
        local fn = placeholders[parts[1]]
        if not fn then
            error(string.format("%s: unknown placeholder {%s}", where, body), 0)
        end
        steps[#steps + 1] = { fn, parts[2], parts[3], parts[4], parts[5] }
        pos = stop
    end
    if pos <= #template then steps[#steps + 1] = template:sub(pos) end
    return steps
end

local function run(steps, ctx)
    local out = {}
    for i, step in ipairs(steps) do
        out[i] = type(step) == "string" and step or step[1](ctx, step[2], step[3], step[4], step[5])
    end
    return table.concat(out)
end

-- An entry's fields compiled; `base` supplies the fields a case leaves out.
local function compile_entry(entry, where, base)
    local c = setmetatable({}, { __index = base })
    for key, v in pairs(entry) do
        if not FIELDS[key] then
            error(string.format("%s: unknown field '%s'", where, tostring(key)), 0)
        end
        if key == "fail" and type(v) == "table" then
            -- false, not nil: a case's own failures hide its base's
            c.fail, c.fail_by = false, {}
            for name, template in pairs(v) do
                c.fail_by[name] = compile(template, where .. ".fail." .. name)
            end
        elseif key == "fail" then
            c.fail, c.fail_by = compile(v, where .. ".fail"), false
        elseif key ~= "cases" then
            c[key] = compile(v, where .. "." .. key)
        end
    end
    if entry.cases then
        if base or not entry.by then
            error(where .. ": cases need a `by` and cannot nest", 0)
        end
        c.cases = {}
        for name, case in pairs(entry.cases) do
            c.cases[name] = compile_entry(case, where .. ".cases." .. name, c)
        end
    end
    if not base and not c.does then
        error(where .. ": no `does`", 0)
    end
    return c
end

local compiled = {}
for name, entry in pairs(words.calls) do
    compiled[name] = compile_entry(entry, "lua/luahook/explain/sentences.lua: " .. name)
end
for name, entry in pairs(words.calls_by_arch[context.arch] or {}) do
    compiled[name] = compile_entry(entry, "lua/luahook/explanations.lua: " .. context.arch .. " " .. name)
end
local default_fail = compile(DEFAULT_FAIL, "the default failure")

-- The answer part for the result in ctx, and a word naming the outcome.
local function answer(entry, ctx)
    local ret = ctx.ret
    if ret == nil then
        return entry.ok, "entry"
    elseif result.failed(ret) then
        local e = errno.info(-ret)
        local name = e and e.name or tostring(ret)
        local by = entry.fail_by
        return by and (by[name] or by.default) or entry.fail or default_fail, name
    elseif ret == 0 and entry.zero then
        return entry.zero, "zero"
    end
    return entry.ok, "ok"
end

--- Whether syscall `name` has an explanation.
---@param name string
---@return boolean
function render.known(name)
    return compiled[name] ~= nil
end

--- The names with explanations.
---@return string[]
function render.names()
    local list = {}
    for name in pairs(compiled) do list[#list + 1] = name end
    table.sort(list)
    return list
end

--- The explanation of call `name` in ctx (see luahook.explain.fillers;
--- ctx.ret nil for a call explained at its entry): one sentence, and a
--- key naming the path it took (name, case, outcome), so a caller can
--- explain each path once. Nil when the call has no explanation.
---@param name string
---@param ctx table
---@return string? sentence
---@return string? key
function render.explain(name, ctx)
    local entry = compiled[name]
    if not entry then
        return nil
    end
    local case = ""
    if entry.by then
        case = run(entry.by, ctx)
        entry = entry.cases and entry.cases[case] or entry
    end
    local reply, outcome = answer(entry, ctx)
    local sentence = run(entry.does, ctx)
    if reply then
        sentence = sentence .. "; " .. run(reply, ctx)
    end
    return sentence:sub(1, 1):upper() .. sentence:sub(2) .. ".", name .. "/" .. case .. "/" .. outcome
end

return render
