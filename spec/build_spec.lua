-- The build's promises: the plugin exports only QEMU's entry points, builds
-- for the plugin API of other QEMUs and refuses to run in the wrong one, and
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

-- Upstream QEMU cannot be fetched here: its API 6 and 7 headers are derived
-- from the reference one (tools/qemu/api-shapes.lua), and the builds against
-- them are compiled, unit-tested and loaded, not run on guests.
describe("luahook.so for other QEMU plugin APIs", function()
    local reference_include = sh("readlink -f " .. qemu.build .. "/qemu/include"):match("^(.-)\n")
    local glib = "$(pkg-config --cflags --libs glib-2.0)"
    local builds = {}

    -- A build directory for the header of `shape` ("reference", or a shape
    -- of api-shapes.lua) with luahook.so and floor.so built in it, made once
    -- per shape: { dir, include, output }.
    local function build_for(shape)
        if builds[shape] then return builds[shape] end
        local dir = qemu.tmppath()
        local include = reference_include
        if shape ~= "reference" then
            include = dir .. "-include"
            assert.matches("rc=0\n$", sh(("mkdir -p %s && luajit tools/qemu/api-shapes.lua %s %s %s")
                :format(include, shape, reference_include .. "/qemu-plugin.h", include)))
        end
        local output = sh(("meson setup %s -Dqemu_include=%s >/dev/null && "
                           .. "ninja -C %s luahook.so bench/floor.so"):format(dir, include, dir))
        builds[shape] = { dir = dir, include = include, output = output }
        return builds[shape]
    end

    teardown(function()
        for _, b in pairs(builds) do
            os.execute("rm -rf " .. b.dir .. " " .. b.dir .. "-include")
        end
    end)

    it("builds luahook.so and floor.so without warnings for the reference, API 6, "
       .. "half-way API 7 and API 7 headers", function()
        for _, shape in ipairs({ "reference", "6", "7-early", "7" }) do
            local b = build_for(shape)
            assert.matches("rc=0\n$", b.output)
            assert.is_nil(b.output:find("warning", 1, true), b.output)
            assert.matches("rc=0\n$", sh(("test -f %s/luahook.so && test -f %s/bench/floor.so")
                :format(b.dir, b.dir)))
        end
    end)

    it("finds each callback's and register function's shape in the header, not by its version", function()
        local expected = {
            reference = "ATEXIT_UDATA 0 FILTER_UDATA 0 REGISTER_BOOL 0 RET_UDATA 0 TB_TRANS_UDATA 0",
            ["6"] = "ATEXIT_UDATA 0 FILTER_UDATA 0 REGISTER_BOOL 1 RET_UDATA 0 TB_TRANS_UDATA 0",
            ["7-early"] = "ATEXIT_UDATA 1 FILTER_UDATA 0 REGISTER_BOOL 1 RET_UDATA 0 TB_TRANS_UDATA 0",
            ["7"] = "ATEXIT_UDATA 1 FILTER_UDATA 1 REGISTER_BOOL 1 RET_UDATA 1 TB_TRANS_UDATA 0",
        }
        for shape, answers in pairs(expected) do
            local header = qemu.slurp(build_for(shape).dir .. "/qemu_shapes.h")
            local found = {}
            for name, value in header:gmatch("#define LH_QEMU_(%S+) (%d)") do
                found[#found + 1] = name .. " " .. value
            end
            assert.are.equal(answers, table.concat(found, " "), shape)
        end
    end)

    it("reads and writes whole registers through the compatibility layer in every shape", function()
        -- the real plugin/qemu_guest.c with a stand-in for QEMU's functions,
        -- whose read_register returns true from API 6 on, not a size
        local expected = "eax 4 44332211\nrip 8 8877665544332211\n"
            .. "xmm0 16 0102030405060708090a0b0c0d0e0f10\nwrite eax ok\neax 4 efbeadde\nrc=0\n"
        for _, shape in ipairs({ "reference", "6", "7" }) do
            local b = build_for(shape)
            local program = b.dir .. "/fake_qemu_registers"
            assert.are.equal("rc=0\n", sh(("cc -std=c11 -Wall -Wextra -Wpedantic -Werror "
                .. "-D_GNU_SOURCE -I. -I%s -isystem %s plugin/qemu_guest.c "
                .. "spec/helpers/fake_qemu_registers.c %s -o %s")
                :format(b.dir, b.include, glib, program)))
            assert.are.equal(expected, sh(program), shape)
        end
    end)

    it("built for API 6 or 7, is refused by the reference QEMU (API 5) in QEMU's one line", function()
        for _, shape in ipairs({ "6", "7" }) do
            local plugin = build_for(shape).dir .. "/luahook.so"
            local r = qemu.run { guest = "getpid", plugin = plugin, lua = "" }
            assert.are.equal(1, r.status)
            assert.are.equal("", r.stdout)
            assert.are.equal(("qemu-i386: Could not load plugin %s: plugin requires API version %s, "
                              .. "but this QEMU supports only up to version 5\n"):format(plugin, shape),
                             r.stderr)
        end
    end)

    it("refuses a QEMU of another plugin API itself, in one line naming the QEMU it was built for", function()
        -- a newer QEMU loads plugins of older APIs; none can be run here, so
        -- a host program announces the versions it would
        local host = qemu.tmppath()
        assert.are.equal("rc=0\n", sh(("cc -std=c11 -Wall -Wextra -Werror -isystem %s %s "
            .. "spec/helpers/plugin_host.c -ldl -o %s"):format(reference_include, glib, host)))
        for _, cur in ipairs({ 6, 7 }) do
            assert.are.equal(("luahook: built for plugin API 5 (QEMU 10.2 with luahook's "
                .. "syscall-filter patch), but this QEMU has plugin API %d (loads 2 to %d); "
                .. "rebuild luahook with this QEMU's qemu-plugin.h (meson setup "
                .. "-Dqemu_include=DIR)\nrc=1\n"):format(cur, cur),
                sh(("%s %s 2 %d script=unused.lua"):format(host, qemu.plugin, cur)))
        end
        assert.matches("^luahook: built for plugin API 7 %(QEMU 11%.1%), but this QEMU has plugin API 6 ",
                       sh(("%s %s/luahook.so 2 6 script=unused.lua"):format(host, build_for("7").dir)))
        -- its own API passes, on to the next check
        assert.are.equal("luahook: no script given; use -plugin luahook.so,script=FILE.lua "
                         .. "(or break=SYSCALL)\nrc=1\n", sh(host .. " " .. qemu.plugin .. " 2 5"))
        os.remove(host)
    end)

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("built again for the reference header, runs " .. arch .. " guests and reads and "
           .. "writes whole registers", function()
            local kept = arch == "i386" and "ebx" or "r12"
            local r = qemu.run {
                arch = arch, guest = "regs", plugin = build_for("reference").dir .. "/luahook.so",
                lua = ([[
                    luahook.on("getpid", function()
                        print(luahook.hex(luahook.regs.%s))
                        luahook.regs.%s = 0x12345678
                    end)
                ]]):format(kept, kept),
            }
            assert.are.equal(0, r.status)
            assert.are.equal("0x1234\n", r.stderr)
            assert.matches("marker=0x12345678\n", r.stdout)
        end)
    end
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

    it("does not patch a QEMU_SRC whose header, in upstream's include/plugins/, has the filter API",
       function()
        local dir = qemu.tmppath()
        local out = sh(table.concat({
            "mkdir -p " .. dir .. "/src/include/plugins",
            "echo 11.0.0 > " .. dir .. "/src/VERSION",
            "printf '#!/bin/sh\\nexit 1\\n' > " .. dir .. "/src/configure",
            "chmod +x " .. dir .. "/src/configure",
            "echo 'void qemu_plugin_register_vcpu_syscall_filter_cb(void);' > "
                .. dir .. "/src/include/plugins/qemu-plugin.h",
            -- a cache of its own: nothing is built, and the shared one stays untouched
            ("LUAHOOK_CACHE=%s/cache QEMU_SRC=%s/src %s %s/link"):format(dir, dir, tool, dir),
        }, " && "))
        os.execute("rm -rf " .. dir)
        assert.matches("source already has the syscall-filter API; not patching", out, 1, true)
        assert.matches("QEMU configure failed\nrc=1\n$", out)
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
