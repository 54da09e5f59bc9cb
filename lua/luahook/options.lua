-- Script options from lh.args (the plugin's KEY=VALUE arguments), checked
-- against what a script declares: unknown keys and bad values become one
-- clear error raised at the script's line, so a typo stops QEMU before the
-- guest runs instead of being silently ignored.
local errno = require "luahook._guest.errno"

local options = {}

local FLAGS = {
    ["1"] = true, yes = true, on = true, ["true"] = true,
    ["0"] = false, no = false, off = false, ["false"] = false,
}

-- Each kind turns the text of an option into its value, or nil and why not.
local KINDS = {}

function KINDS.flag(text)
    local value = FLAGS[text:lower()]
    if value == nil then
        return nil, "expected 1 or 0 (yes/no, on/off, true/false)"
    end
    return value
end

function KINDS.string(text)
    return text
end

function KINDS.integer(text, spec)
    local n = tonumber(text)
    if not n or n ~= math.floor(n) or math.abs(n) >= 2 ^ 53 then
        return nil, "expected an integer"
    end
    if spec.min and n < spec.min then
        return nil, "expected an integer of at least " .. spec.min
    end
    return n
end

function KINDS.choice(text, spec)
    for _, choice in ipairs(spec.choices) do
        if text == choice then
            return text
        end
    end
    return nil, "expected one of " .. table.concat(spec.choices, ", ")
end

function KINDS.errno(text)
    return options.errno(text)
end

---@class luahook.OptionSpec
---@field kind "flag"|"string"|"integer"|"choice"|"errno"
---@field default any value when the option is absent
---@field choices? string[] for kind "choice"
---@field min? integer for kind "integer"

--- Checks the plugin arguments `args` against `specs` (name -> spec) and
--- returns { name = value } with defaults filled in. Raises an error at
--- the caller's line for an unknown key or a bad value.
---@param args table<string, string> usually lh.args
---@param specs table<string, luahook.OptionSpec>
---@return table<string, any>
function options.parse(args, specs)
    local names = {}
    for name in pairs(specs) do names[#names + 1] = name end
    table.sort(names)
    local values = {}
    for key, text in pairs(args) do
        local spec = specs[key]
        if not spec then
            error(string.format("unknown option '%s' (known: %s)", key,
                                table.concat(names, ", ")), 2)
        end
        local value, why = KINDS[spec.kind](text, spec)
        if value == nil then
            error(string.format("%s=%s: %s", key, text, why), 2)
        end
        values[key] = value
    end
    for _, name in ipairs(names) do
        if values[name] == nil then
            values[name] = specs[name].default
        end
    end
    return values
end

--- An errno given by name ("ENOENT") or number ("2") as its number, or nil
--- and a message naming what is wrong.
---@param text string
---@return integer? number
---@return string? error
function options.errno(text)
    local n = tonumber(text)
    if n then
        if n ~= math.floor(n) or n < 1 or n > 4095 then
            return nil, "errno number " .. text .. " is out of range (1..4095)"
        end
        return n
    end
    local ok, number = pcall(function() return errno.codes[text] end)
    if not ok then
        return nil, string.format("unknown errno name '%s'", text)
    end
    return number
end

return options
