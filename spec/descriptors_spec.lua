-- luahook's own descriptors (its output stream, stderr, the REPL's socket)
-- against a guest that counts, takes, replaces and closes descriptors, and
-- luahook's output going nowhere (a reader that left).
local qemu = require "helpers.qemu"

local slurp = qemu.slurp

-- Prints each getppid the descriptors guest makes, to luahook's output.
local COUNTER = [[
    local n = 0
    luahook.on("getppid", function() n = n + 1; print("hook " .. n) end)
]]

for _, arch in ipairs({ "i386", "x86_64" }) do
    describe("luahook's descriptors on " .. arch, function()
        -- the descriptors guest under bare QEMU: what the guest sees without luahook
        local function bare()
            local file = qemu.tmppath()
            local r = qemu.run { arch = arch, guest = "descriptors", args = { file }, plugin = false }
            os.remove(file)
            return r.stdout
        end

        for _, setup in ipairs({
            { name = "stderr", args = {} },
            { name = "an out= file and a REPL socket", args = { "out=FILE", "repl=unix:SOCK" } },
        }) do
            it("are not the guest's to see, take, replace or close, with " .. setup.name, function()
                local file, out, sock = qemu.tmppath(), qemu.tmppath(), qemu.tmppath() .. ".sock"
                local args = {}
                for i, a in ipairs(setup.args) do
                    args[i] = a:gsub("FILE", out):gsub("SOCK", sock)
                end
                local r = qemu.run { arch = arch, guest = "descriptors", args = { file },
                                     plugin_args = args, lua = COUNTER }
                local written = slurp(file)
                local output = #setup.args > 0 and slurp(out) or r.stderr
                os.remove(file); os.remove(out)
                assert.are.equal(0, r.status)
                -- the first open gets 3, /proc/self/fd lists nothing of luahook's,
                -- F_DUPFD from 63 gets 63: all as under bare QEMU
                assert.matches("^first open 3\n", r.stdout)
                assert.are.equal(bare(), r.stdout)
                -- dup2 over 3..255 and close_range(3, ~0U) did not touch luahook's output
                assert.are.equal("", written)
                assert.are.equal("hook 1\nhook 2\nhook 3\n", output)
            end)
        end

        it("keep luahook's messages on the stderr QEMU started with, whatever the guest's fd 2", function()
            -- redirect points its own fd 2 at /dev/null, then calls getpid
            local r = qemu.run {
                arch = arch, guest = "redirect",
                lua = [[luahook.on("getpid", function() error("getpid hook broke") end)]],
            }
            assert.are.equal(0, r.status)
            assert.are.equal("done\n", r.stdout)
            assert.matches("^luahook: hook registered at [^\n]* failed on getpid: [^\n]*getpid hook broke\n", r.stderr)
        end)
    end)

    describe("luahook's output on " .. arch, function()
        it("going to a reader that left changes nothing for the guest (no SIGPIPE)", function()
            -- `... 2>&1 >/dev/null | head -1`: QEMU's exit status, not the pipe's
            local function status_with(plugin)
                local status_file = qemu.tmppath()
                local cmd = string.format("{ %s/qemu/bin/qemu-%s %s %s getppid 20000 2>&1 >/dev/null; echo $? >%s; } | head -1 >/dev/null",
                                          qemu.build, arch, plugin, qemu.guest("calls", arch), status_file)
                os.execute(cmd)
                local status = tonumber(slurp(status_file))
                os.remove(status_file)
                return status
            end
            assert.are.equal(0, status_with(""))
            assert.are.equal(0, status_with("-plugin " .. qemu.plugin .. ",script=scripts/trace.lua"))
        end)
    end)
end
