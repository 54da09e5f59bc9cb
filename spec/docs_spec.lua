-- The examples in docs/api.md and README.md run as they stand: each ```lua
-- block is loaded as a script on the bundled example guest.
local qemu = require "helpers.qemu"

local function lua_blocks(path)
    local f = assert(io.open(path))
    local text = f:read("*a")
    f:close()
    local blocks = {}
    for block in text:gmatch("```lua\n(.-)```") do
        blocks[#blocks + 1] = block
    end
    return blocks
end

for _, doc in ipairs({ "docs/api.md", "README.md" }) do
    describe(doc, function()
        local blocks = lua_blocks(doc)

        it("has examples", function()
            assert.is_true(#blocks > 0)
        end)

        for i, block in ipairs(blocks) do
            it("example " .. i .. " runs on examples/hello without error", function()
                local r = qemu.run { program = qemu.build .. "/examples/hello", lua = block }
                assert.are.equal(0, r.status)
                assert.matches("I wrote and read back", r.stdout, 1, true)
                assert.is_nil(r.stderr:match("luahook: "), r.stderr)
            end)
        end
    end)
end
