-- QEMU's own options, read from its command line as the host sees it
-- (/proc/self/cmdline of the QEMU process, not the guest's emulated view)
-- and its environment: what the stack traces' module map and a followed
-- exec need to know about how this QEMU was started.
local qemu_options = {}

-- The options that take a value, so that the value is not read as the
-- program; the options end at the program (or "--").
local OPTIONS_WITH_VALUE = { g = true, L = true, s = true, cpu = true, E = true, U = true,
                             ["0"] = true, r = true, B = true, R = true, d = true,
                             dfilter = true, D = true, p = true, seed = true, trace = true,
                             plugin = true }

local sysroot_found, sysroot

local function find_sysroot()
    local f = io.open("/proc/self/cmdline", "rb")
    local args = {}
    if f then
        for arg in f:read("*a"):gmatch("([^%z]*)%z") do args[#args + 1] = arg end
        f:close()
    end
    local root = os.getenv("QEMU_LD_PREFIX")
    local i = 2
    while args[i] and args[i]:sub(1, 1) == "-" and args[i] ~= "--" do
        local name = args[i]:gsub("^%-%-?", "")
        if name == "L" then root = args[i + 1] end
        i = i + (OPTIONS_WITH_VALUE[name] and 2 or 1)
    end
    return root ~= "" and root or nil
end

--- QEMU's -L (or QEMU_LD_PREFIX): where it looks first for the files the
--- guest names; nil when there is none. Read once.
---@return string?
function qemu_options.sysroot()
    if not sysroot_found then
        sysroot, sysroot_found = find_sysroot(), true
    end
    return sysroot
end

return qemu_options
