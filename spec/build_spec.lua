-- The build's promises: the plugin exports only QEMU's entry points, and
-- the reference QEMU tool builds every guest architecture and explains what
-- is wrong when it cannot proceed.
local qemu = require "helpers.qemu"

-- A command's output followed by "rc=STATUS", so one string says both.
local function sh(cmd)
    local text, status = qemu.sh(cmd)
    return text .. "rc=" .. status .. "\n"
end

describe("luahook.so", function()
    it("exports only qemu_plugin_install and qemu_plugin_version", function()
        local out = sh("nm -D --defined-only " .. qemu.plugin .. " | awk '{print $3}' | sort")
        assert.are.equal("qemu_plugin_install\nqemu_plugin_version\nrc=0\n", out)
    end)
end)

describe("luahook.so built with -Dfiber=ucontext (the stack switch of non-x86_64 hosts)", function()
    it("sees every call of every thread, and traces as the default build does", function()
        local dir = qemu.tmppath()
        assert.matches("rc=0\n$", sh("meson setup " .. dir .. " -Dfiber=ucontext >/dev/null && "
                                       .. "ninja -C " .. dir .. " luahook.so >/dev/null"))
        local plugin = dir .. "/luahook.so"
        local count = [[
            local n = 0
            luahook.on("getppid", function() n = n + 1 end)
            luahook.on_exit(function() print(n) end)
        ]]
        local threads = qemu.run { guest = "threads", args = { "4", "5000" }, lua = count,
                                   plugin = plugin }
        assert.are.equal(0, threads.status)
        assert.are.equal("20000\n", threads.stderr)
        local trace = {}
        for _, build in ipairs({ plugin, qemu.plugin }) do
            local r = qemu.run { guest = "opener", args = { "/etc/passwd", "/nonexistent" },
                                 script = "scripts/trace.lua", plugin = build }
            assert.are.equal(0, r.status)
            -- without what differs from run to run: the thread id, random bytes, the TLS address
            trace[#trace + 1] = r.stderr:gsub("set_t[^\n]*\n", ""):gsub("getrandom[^\n]*\n", "")
        end
        os.execute("rm -rf " .. dir)
        assert.matches('openat%(AT_FDCWD, "/nonexistent", O_RDONLY%) = %-1 ENOENT', trace[1])
        assert.are.equal(trace[2], trace[1])
    end)
end)

describe("tools/qemu/reference-qemu.sh", function()
    local tool = "tools/qemu/reference-qemu.sh"

    it("uses an existing install given as QEMU_PREFIX", function()
        local link = qemu.tmppath()
        local prefix = sh("readlink -f " .. qemu.build .. "/qemu"):match("^(.-)\n")
        local out = sh("QEMU_PREFIX=" .. prefix .. " " .. tool .. " " .. link)
        assert.matches("rc=0\n$", out)
        assert.are.equal(prefix .. "\n", sh("readlink " .. link):match("^(.-\n)"))
        os.remove(link)
    end)

    it("refuses a QEMU_PREFIX that is not a directory", function()
        local out = sh("QEMU_PREFIX=/nonexistent " .. tool .. " /tmp/unused-link")
        assert.are.equal("reference-qemu: QEMU_PREFIX=/nonexistent is not a directory\nrc=1\n", out)
    end)

    -- a QEMU_PREFIX with an empty qemu-plugin.h and bin/qemu-ARCH for these
    local function fake_prefix(arches)
        local dir = qemu.tmppath()
        local steps = { "mkdir -p " .. dir .. "/bin " .. dir .. "/include",
                        "touch " .. dir .. "/include/qemu-plugin.h" }
        for _, arch in ipairs(arches) do
            steps[#steps + 1] = "ln -s /bin/true " .. dir .. "/bin/qemu-" .. arch
        end
        sh(table.concat(steps, " && "))
        return dir
    end

    it("refuses a QEMU_PREFIX whose qemu-plugin.h lacks the filter API", function()
        local arches = {}
        for i, a in ipairs(qemu.arches()) do arches[i] = a.qemu end
        local dir = fake_prefix(arches)
        local out = sh("QEMU_PREFIX=" .. dir .. " " .. tool .. " " .. dir .. "/link")
        os.execute("rm -rf " .. dir)
        assert.matches("lacks qemu_plugin_register_vcpu_syscall_filter_cb", out, 1, true)
        assert.matches("rc=1\n$", out)
    end)

    it("refuses a QEMU_PREFIX without a qemu-ARCH of tools/guest-arches", function()
        local dir = fake_prefix({ "i386", "x86_64" })
        local out = sh("QEMU_PREFIX=" .. dir .. " " .. tool .. " " .. dir .. "/link")
        os.execute("rm -rf " .. dir)
        assert.are.equal("reference-qemu: QEMU_PREFIX=" .. dir .. " has no bin/qemu-aarch64\nrc=1\n", out)
    end)

    it("built a qemu-ARCH for every architecture of tools/guest-arches", function()
        for _, a in ipairs(qemu.arches()) do
            assert.matches("rc=0\n$", sh("test -x " .. qemu.build .. "/qemu/bin/qemu-" .. a.qemu))
        end
    end)

    it("keys its cache by the target list, so a build of other targets is never reused", function()
        local names = {}
        for i, a in ipairs(qemu.arches()) do names[i] = a.qemu end
        local hash = sh("echo " .. table.concat(names, " ") .. " | sha256sum | cut -c1-8"):match("^(%x+)")
        local prefix = sh("readlink -f " .. qemu.build .. "/qemu"):match("^(.-)\n")
        assert.matches("%-" .. hash .. "$", prefix)
    end)

    it("refuses a QEMU_SRC that does not exist or is not QEMU", function()
        assert.are.equal("reference-qemu: QEMU_SRC=/nonexistent does not exist\nrc=1\n",
                         sh("QEMU_SRC=/nonexistent " .. tool .. " /tmp/unused-link"))
        assert.matches("QEMU_SRC=/etc is not a QEMU source tree",
                       sh("QEMU_SRC=/etc " .. tool .. " /tmp/unused-link"), 1, true)
    end)
end)

describe("tools/foreign-packages.sh", function()
    local tool = "tools/foreign-packages.sh"

    it("fetches nothing once the cache has every binary: it works without a network", function()
        local dir = qemu.tmppath()
        local out = sh("unshare -n " .. tool .. " " .. dir)
        local links = sh("cd " .. dir .. " && for f in *; do echo $f $(readlink -f $f); done")
        local built = sh("cd " .. qemu.build .. "/foreign && for f in *; do echo $f $(readlink -f $f); done")
        os.execute("rm -rf " .. dir)
        assert.are.equal("rc=0\n", out)
        assert.are.equal(built, links)
        for _, arch in ipairs({ "i386", "x86_64", "aarch64", "arm", "riscv64", "mipsel" }) do
            assert.matches("busybox." .. arch .. " /", links, 1, true)
        end
    end)

    it("says in one line when the Debian archive cannot be reached", function()
        local cache, dir = qemu.tmppath(), qemu.tmppath()
        local out = sh("LUAHOOK_CACHE=" .. cache .. " unshare -n " .. tool .. " " .. dir)
        os.execute("rm -rf " .. cache .. " " .. dir)
        assert.matches("^foreign%-packages: cannot fetch busybox%-static for i386 from Debian's "
                       .. "bookworm archive %(is it reachable%? log: [^\n]*%)\nrc=1\n$", out)
    end)
end)
