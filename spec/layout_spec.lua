-- The runtime library's files are the one list of its modules: meson.build
-- embeds every one it finds, and docs/internals.md names each (itself or by
-- a `luahook.x.*` row), so neither can drift from the tree.
local qemu = require "helpers.qemu"

-- Every module under lua/, by name ("luahook.decode.kinds"), from the files.
local function modules_in_tree()
    local names = {}
    local list = qemu.sh("find lua -name '*.lua' | sort")
    for path in list:gmatch("[^\n]+") do
        names[#names + 1] = path:gsub("^lua/", ""):gsub("%.lua$", ""):gsub("/", ".")
    end
    return names
end

describe("the runtime library's module list", function()
    local tree = modules_in_tree()

    it("has every file under lua/ embedded in the plugin, and nothing else", function()
        -- meson lists the files when it configures (meson.build); the
        -- generated C names each module it embeds
        local generated = qemu.slurp(qemu.build .. "/lua_modules.c")
        local embedded = {}
        for name in generated:gmatch('{ "(luahook[%w_.]*)",') do
            if not name:match("^luahook%.gen%.") then embedded[#embedded + 1] = name end
        end
        table.sort(embedded)
        assert.are.same(tree, embedded,
                        "the build's module list is not lua/'s: run meson setup --reconfigure " .. qemu.build)
    end)

    it("has every module named in docs/internals.md", function()
        local doc = qemu.slurp("docs/internals.md")
        local missing = {}
        for _, name in ipairs(tree) do
            local named = doc:find("`" .. name .. "`", 1, true)
            -- or a row for its whole folder: `luahook.decode.*`
            local prefix = name
            while not named and prefix:find("%.") do
                prefix = prefix:match("^(.*)%.[^.]*$")
                named = doc:find("`" .. prefix .. ".*`", 1, true)
            end
            if not named then missing[#missing + 1] = name end
        end
        assert.are.same({}, missing)
    end)
end)

describe("the runtime library's requires", function()
    it("go one way: no module reaches itself, even through requires inside functions", function()
        local requires = {}
        for _, name in ipairs(modules_in_tree()) do
            local text = qemu.slurp("lua/" .. name:gsub("%.", "/") .. ".lua")
            local deps = {}
            for line in text:gmatch("[^\n]+") do
                local code = line:gsub("%-%-.*", "")
                for dep in code:gmatch("require%s*%(?%s*[\"'](luahook[%w_.]*)[\"']") do
                    deps[#deps + 1] = dep
                end
            end
            requires[name] = deps
        end
        local loops = {}
        for name in pairs(requires) do
            -- every module `name` reaches; reaching itself is a loop
            local seen, stack = {}, { name }
            while #stack > 0 do
                for _, dep in ipairs(requires[table.remove(stack)] or {}) do
                    if not seen[dep] then
                        seen[dep] = true
                        stack[#stack + 1] = dep
                    end
                end
            end
            if seen[name] then loops[#loops + 1] = name end
        end
        table.sort(loops)
        assert.are.same({}, loops)
    end)
end)

describe("the scripts", function()
    -- the modules docs/api.md's "Library modules" names, itself or by a
    -- `luahook.x.*` row
    local doc = qemu.slurp("docs/api.md"):match("\n## Library modules\n(.-)\n## ")
    local function documented(name)
        if doc:find("`" .. name .. "`", 1, true) then return true end
        local prefix = name
        while prefix:find("%.") do
            prefix = prefix:match("^(.*)%.[^.]*$")
            if doc:find("`" .. prefix .. ".*`", 1, true) then return true end
        end
        return false
    end

    it("require only the facade and the public modules docs/api.md lists", function()
        local files = qemu.sh("ls scripts/*.lua") .. "cmd/watch.lua\n"
        local wrong = {}
        for path in files:gmatch("[^\n]+") do
            for name in qemu.slurp(path):gmatch("require%s*%(?%s*[\"'](luahook[%w_.]*)[\"']") do
                if name ~= "luahook" and (name:find("%._") or not documented(name)) then
                    wrong[#wrong + 1] = path .. ": " .. name
                end
            end
        end
        assert.is_truthy(doc)
        assert.are.same({}, wrong)
    end)

    it("find every public module of the library listed there: a name without `_` is public",
       function()
        local unlisted = {}
        for _, name in ipairs(modules_in_tree()) do
            if name ~= "luahook" and not name:find("%._") and not documented(name) then
                unlisted[#unlisted + 1] = name
            end
        end
        assert.are.same({}, unlisted)
    end)
end)
