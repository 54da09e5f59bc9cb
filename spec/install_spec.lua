-- `meson install` into a fresh prefix, then the installed luahook command
-- run from / with a bare environment, while a private mount namespace
-- hides the source tree and the reference QEMU the build used: everything
-- it needs must come from the prefix.
local command = require "helpers.command"
local qemu = require "helpers.qemu"

local quote = command.quote

local function sh(line)
    return command.run({ "sh", "-c", line })
end

local function readlink_f(path)
    return (sh("readlink -f " .. quote(path)).stdout:gsub("\n$", ""))
end

describe("an installed luahook", function()
    local source = readlink_f(".")
    local reference_qemu = readlink_f(command.build .. "/qemu")
    local top = os.tmpname()
    local prefix, build = top .. "/prefix", top .. "/build"
    local guest = top .. "/getpid"
    local installed, can_hide

    -- Runs the installed command with `args` from /, with nothing in the
    -- environment that points at the source tree, which is hidden.
    local function run_installed(...)
        local words = { "exec env -i PATH=/usr/bin:/bin HOME=/nonexistent",
                        quote(prefix .. "/bin/luahook") }
        for _, a in ipairs({ ... }) do words[#words + 1] = quote(a) end
        local hide = "mount -t tmpfs none " .. quote(source) .. " && mount -t tmpfs none "
                     .. quote(reference_qemu) .. " && cd / && "
        return command.run({ "unshare", "-m", "sh", "-c", hide .. table.concat(words, " ") })
    end

    lazy_setup(function()
        os.remove(top)
        local r = sh(table.concat({
            "mkdir " .. quote(top),
            "meson setup " .. quote(build) .. " --prefix=" .. quote(prefix)
                .. " -Dqemu_include=" .. quote(reference_qemu .. "/include") .. " -Dinstall_qemu=true",
            "meson install -C " .. quote(build) .. " --quiet",
            "cp " .. quote(command.build .. "/spec/guests/getpid") .. " " .. quote(guest),
            "rm -r " .. quote(build),
        }, " >/dev/null && "))
        installed = r.status == 0 and r or nil
        assert(installed, "install failed: " .. r.stdout .. r.stderr)
        can_hide = sh("unshare -m true").status == 0
    end)

    lazy_teardown(function()
        os.execute("rm -rf " .. quote(top))
    end)

    it("puts every part under the prefix", function()
        local found = sh("cd " .. quote(prefix) .. " && find . -type f | sort").stdout
        for _, part in ipairs({
            "%./bin/luahook\n", "%./bin/luahook%-attach\n",
            "%./lib/[%w_%-/]*luahook/luahook%.so\n",
            "%./share/luahook/lua/luahook%.lua\n", "%./share/luahook/lua/luahook/_core/hooks%.lua\n",
            "%./share/luahook/scripts/trace%.lua\n", "%./share/luahook/loader/loader%.lua\n",
            "%./share/luahook/loader/watch%.lua\n", "%./share/man/man1/luahook%.1\n",
            "%./share/doc/luahook/api%.md\n",
        }) do
            assert.matches(part, found)
        end
        -- the reference QEMU of every guest architecture (-Dinstall_qemu=true)
        for _, a in ipairs(qemu.arches()) do
            assert.matches("%./lib/[%w_%-/]*luahook/qemu/bin/qemu%-" .. a.qemu:gsub("%p", "%%%0") .. "\n",
                           found)
        end
        -- every bundled script, also those added after this spec was written
        for name in sh("ls scripts").stdout:gmatch("[^\n]+") do
            assert.matches("./share/luahook/scripts/" .. name .. "\n", found, 1, true)
        end
    end)

    it("resolves QEMU, the plugin and the scripts under the prefix", function()
        if not can_hide then pending("unshare -m is not permitted here") return end
        local r = run_installed("-n", "-s", "trace", "-e", "x=1", guest)
        assert.are.equal(0, r.status, r.stderr)
        local p = prefix:gsub("%p", "%%%0")
        assert.matches("^" .. p .. "/lib/%S*luahook/qemu/bin/qemu%-i386 %-plugin "
                       .. p .. "/lib/%S*luahook/luahook%.so,script=" .. p
                       .. "/share/luahook/loader/loader%.lua,_s1=" .. p
                       .. "/share/luahook/scripts/trace%.lua,_e2=", r.stdout)
        assert.is_nil(r.stdout:find(source, 1, true))
    end)

    it("runs a bundled script on a guest with the source tree out of reach", function()
        if not can_hide then pending("unshare -m is not permitted here") return end
        -- -e goes through the installed loader too
        local r = run_installed("-s", "trace", "-e", "on_exit(function() print('the end') end)", guest)
        assert.are.equal(0, r.status, r.stderr)
        assert.matches("^pid=%d+\n$", r.stdout)
        assert.matches("getpid", r.stderr, 1, true)
        assert.matches("\nthe end\n$", r.stderr)
        assert.are.equal("luahook " .. command.slurp("meson.build"):match("version: '([^']+)'")
                         .. "\n", run_installed("--version").stdout)
    end)

    it("stops with status 69 when the installed plugin is missing", function()
        local plugin = sh("ls " .. quote(prefix) .. "/lib/*/luahook/luahook.so "
                          .. quote(prefix) .. "/lib/luahook/luahook.so 2>/dev/null").stdout:match("^[^\n]+")
        assert.is_not_nil(plugin)
        os.remove(plugin)
        local r = command.run({ prefix .. "/bin/luahook", "-s", "trace", guest })
        assert.are.equal(69, r.status)
        assert.are.equal("luahook: the luahook plugin is missing: " .. plugin
                         .. ": No such file or directory\n", r.stderr)
    end)
end)
