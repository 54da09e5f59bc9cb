-- The luahook command (cmd/), run from the build tree on real guests under
-- the reference QEMU: its options, the exit statuses it passes through or
-- gives, --watch, and the REPL options.
local command = require "helpers.command"
local qemu = require "helpers.qemu"

local luahook = command.luahook
local run = command.luahook_run
local guest = qemu.guest

local function temp_file(text, suffix)
    local path = os.tmpname()
    if suffix then
        os.remove(path)     -- tmpname made it; only the suffixed name is used
        path = path .. suffix
    end
    command.write(path, text)
    return path
end

-- A temporary file the kernel would try to run (execute permission).
local function temp_program(text)
    local path = temp_file(text)
    os.execute("chmod 755 " .. path)
    return path
end

-- The ELF header of `from` with another e_machine (bytes 18-19, little-endian).
local function with_machine(from, machine)
    local data = command.slurp(from)
    return temp_program(data:sub(1, 18) .. string.char(machine % 256, math.floor(machine / 256))
                        .. data:sub(21))
end

describe("luahook --version and --help", function()
    it("--version prints the version meson.build gives the project", function()
        local version = command.slurp("meson.build"):match("version: '([^']+)'")
        local r = run("--version")
        assert.are.equal(0, r.status)
        assert.are.equal("luahook " .. version .. "\n", r.stdout)
    end)

    it("--help names every option and the exit codes", function()
        local r = run("--help")
        assert.are.equal(0, r.status)
        for _, word in ipairs({ "-s, --script", "-e, --eval", "-o, --output", "-a, --arg",
                                "--break", "--repl tty|unix:PATH", "--qemu", "-L, --sysroot",
                                "--watch", "--no-follow", "-n, --dry-run", "--list-syscalls",
                                "luahook attach",
                                "LUAHOOK_QEMU_DIR", "64", "65", "66", "69" }) do
            assert.matches(word, r.stdout, 1, true)
        end
    end)
end)

describe("luahook --list-syscalls", function()
    -- the same kernel header the build reads, parsed independently here
    local function uapi(header)
        local lines = {}
        for line in io.lines("/usr/include/x86_64-linux-gnu/asm/" .. header) do
            local name, nr = line:match("^#define%s+__NR_([%w_]+)%s+(%d+)%s*$")
            if name then lines[#lines + 1] = { tonumber(nr), name } end
        end
        table.sort(lines, function(a, b) return a[1] < b[1] end)
        for i, l in ipairs(lines) do lines[i] = l[1] .. " " .. l[2] .. "\n" end
        return table.concat(lines)
    end

    it("prints i386's numbers and names from asm/unistd_32.h", function()
        local r = run("--list-syscalls", "i386")
        assert.are.equal(0, r.status)
        assert.are.equal(uapi("unistd_32.h"), r.stdout)
    end)

    it("prints x86_64's by default, from asm/unistd_64.h", function()
        local r = run("--list-syscalls")
        assert.are.equal(0, r.status)
        assert.are.equal(uapi("unistd_64.h"), r.stdout)
        assert.are.equal(r.stdout, run("--list-syscalls=x86_64").stdout)
    end)

    for _, a in ipairs(qemu.arches()) do
        it("prints " .. a.qemu .. "'s from its generated data module", function()
            local data = dofile(command.build .. "/tools/arch_" .. a.qemu .. ".lua")
            local nrs, lines = {}, {}
            for nr in pairs(data.syscalls) do nrs[#nrs + 1] = nr end
            table.sort(nrs)
            for i, nr in ipairs(nrs) do lines[i] = nr .. " " .. data.syscalls[nr] .. "\n" end
            local r = run("--list-syscalls", a.qemu)
            assert.are.equal(0, r.status)
            assert.are.equal(table.concat(lines), r.stdout)
        end)
    end

    it("refuses an unknown architecture with status 64, naming the known ones", function()
        local r = run("--list-syscalls", "sparc")
        assert.are.equal(64, r.status)
        assert.are.equal("luahook: --list-syscalls sparc: unknown architecture (i386, x86_64, "
                         .. "aarch64, arm, riscv64, mips or mipsel)\n", r.stderr)
    end)
end)

describe("luahook -e", function()
    it("runs a one-liner with the API as globals", function()
        local r = run("-e", "on('getpid', function(sc) printf('%s %s\\n', arch, sc.name) return 4242 end)",
                      guest("getpid"))
        assert.are.equal(0, r.status)
        assert.are.equal("pid=4242\n", r.stdout)
        assert.are.equal("i386 getpid\n", r.stderr)
    end)

    it("gives one-liners one shared environment, and errno, args and on_exit", function()
        local r = run("-a", "path=/nonexistent",
                      "-e", "n = 0",
                      "-e", "on('openat', function(sc) n = n + 1; return -errno.EACCES end)",
                      "-e", "on_exit(function() print(args.path, n) end)",
                      guest("opener"), "/etc/hostname", "/etc/passwd")
        assert.are.equal(0, r.status)
        assert.are.equal("/etc/hostname errno=13\n/etc/passwd errno=13\n", r.stdout)
        assert.are.equal("/nonexistent\t2\n", r.stderr)
    end)

    it("keeps commas, quotes and newlines in the code", function()
        local r = run("-e", "print(('%s,%s'):format(\"a,,b\", 'c'))\nprint('x, y')", guest("getpid"))
        assert.are.equal(0, r.status)
        assert.are.equal("a,,b,c\nx, y\n", r.stderr)
    end)

    it("stops before the guest on an error in the code, naming which -e", function()
        local r = run("-e", "x = 1", "-e", "on('getpdi', print)", guest("getpid"))
        assert.are.equal(1, r.status)
        assert.are.equal("", r.stdout)
        assert.matches("^luahook: %(%-e 2%):1: on%(%): unknown syscall 'getpdi'", r.stderr)
    end)
end)

describe("luahook -s", function()
    it("runs a bundled script by name", function()
        local r = run("-s", "trace", guest("getpid"))
        assert.are.equal(0, r.status)
        assert.matches("^pid=%d+\n$", r.stdout)
        assert.matches("getpid", r.stderr, 1, true)
        assert.matches("exit_group", r.stderr, 1, true)
    end)

    it("runs script files and -e code in the order given", function()
        local first = temp_file("local keys = {} for k in pairs(luahook.args) do keys[#keys + 1] = k end\n"
                                .. "table.sort(keys) print('first', table.concat(keys, ' '))\n", ".lua")
        local second = temp_file("print('second')\n", ".lua")
        local r = run("-a", "mine=1", "-s", first, "-e", "print('middle')", "-s", second,
                      guest("getpid"))
        os.remove(first); os.remove(second)
        assert.are.equal(0, r.status)
        -- the loader's own plugin arguments (_s1=, _e2=, ...) are gone from luahook.args
        assert.are.equal("first\tmine\nmiddle\nsecond\n", r.stderr)
    end)

    it("reports an error in one of several scripts as FILE:LINE", function()
        local good = temp_file("print('good')\n", ".lua")
        local bad = temp_file("\nluahook.on('nosuchcall', print)\n", ".lua")
        local r = run("-s", good, "-s", bad, guest("getpid"))
        os.remove(good); os.remove(bad)
        assert.are.equal(1, r.status)
        assert.are.equal("", r.stdout)
        assert.matches("luahook: " .. bad:gsub("%p", "%%%0") .. ":2: on%(%): unknown syscall",
                       r.stderr)
    end)

    it("names the bundled scripts when a name is not one (status 66)", function()
        local r = run("-s", "nosuch", guest("getpid"))
        assert.are.equal(66, r.status)
        assert.matches("^luahook: no bundled script 'nosuch' in .*/scripts %(there are: .*trace",
                       r.stderr)
    end)

    it("refuses a script file that does not exist (status 66)", function()
        local r = run("-s", "/nonexistent/x.lua", guest("getpid"))
        assert.are.equal(66, r.status)
        assert.are.equal("luahook: cannot read script /nonexistent/x.lua: No such file or directory\n",
                         r.stderr)
    end)
end)

describe("luahook -o, -a", function()
    it("-o sends luahook's output to a file", function()
        local out = os.tmpname()
        local r = run("-o", out, "-e", "on('getpid', function(sc) print('saw ' .. sc.name) end)",
                      guest("getpid"))
        local text = command.slurp(out)
        os.remove(out)
        assert.are.equal(0, r.status)
        assert.are.equal("", r.stderr)
        assert.are.equal("saw getpid\n", text)
    end)

    it("-a passes arguments, commas and '=' included, as luahook.args", function()
        local script = temp_file("print(luahook.args.list, luahook.args.eq, luahook.args.onerror)\n", ".lua")
        local r = run("-a", "list=a,b,,c", "-a", "eq=x=y", "-a", "onerror=abort", "-s", script,
                      guest("getpid"))
        os.remove(script)
        assert.are.equal(0, r.status)
        -- onerror= is the plugin's own, so the script never sees it
        assert.are.equal("a,b,,c\tx=y\tnil\n", r.stderr)
    end)

    for _, bad in ipairs({ "novalue", "=x", "script=x.lua", "out=f", "_s1=x" }) do
        it("refuses -a " .. bad .. " with status 64", function()
            local r = run("-a", bad, "-e", "", guest("getpid"))
            assert.are.equal(64, r.status)
            assert.matches("^luahook: %-a " .. bad:gsub("%p", "%%%0") .. ": .*see luahook %-%-help%)\n$",
                           r.stderr)
        end)
    end
end)

describe("luahook -n (dry run)", function()
    it("prints the QEMU command line: the guest's QEMU, the plugin, -L and every argument", function()
        local r = run("-n", "-L", "/some/root", "-s", "trace", "-o", "/tmp/o,ut", "-a", "k=v",
                      guest("getpid", "x86_64"), "arg 1")
        assert.are.equal(0, r.status)
        local qemu = command.build .. "/qemu/bin/qemu%-x86_64"
        assert.matches("^%S*" .. qemu .. " %-L /some/root %-plugin %S*/luahook%.so,"
                       .. "script=%S*/scripts/trace%.lua,out=/tmp/o,,ut,k=v "
                       .. guest("getpid", "x86_64"):gsub("%p", "%%%0") .. " 'arg 1'\n$", r.stdout)
    end)

    for _, a in ipairs(qemu.arches()) do
        it("picks qemu-" .. a.qemu .. " for a static " .. a.qemu .. " program", function()
            local r = run("-n", "-e", "", guest("getpid", a.qemu))
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^%S*/qemu%-" .. a.qemu:gsub("%p", "%%%0") .. " %-plugin ", r.stdout)
        end)
    end

    it("looks a program without '/' up in PATH", function()
        local r = run("-n", "-e", "", "true")
        assert.are.equal(0, r.status)
        assert.matches(" /%S+/true\n$", r.stdout)
    end)
end)

describe("luahook -L", function()
    it("runs a dynamically linked program with the sysroot given", function()
        local r = run("-L", "/", "-e", "on('exit_group', function(sc) print('exit', sc.args[1]) end)",
                      "/bin/sh", "-c", "exit 5")
        assert.are.equal(5, r.status)
        assert.are.equal("exit\t5\n", r.stderr)
    end)
end)

describe("luahook without -L", function()
    local dynamic = command.build .. "/examples/startup-dynamic"

    it("gives a dynamically linked i386 program Debian's i386 cross sysroot", function()
        local r = run("-n", "-e", "", dynamic)
        assert.are.equal(0, r.status)
        assert.matches("/qemu%-i386 %-L /usr/i686%-linux%-gnu %-plugin ", r.stdout)
        r = run("-e", "on('exit_group', function(sc) print('exit', sc.args[1]) end)", dynamic)
        assert.are.equal(0, r.status)
        assert.are.equal("hello from main\n", r.stdout)
        assert.are.equal("exit\t0\n", r.stderr)
    end)

    for _, a in ipairs(qemu.arches()) do
        if a.qemu ~= "i386" and a.qemu ~= "x86_64" then
            it("gives a dynamically linked " .. a.qemu .. " program /usr/" .. a.triplet, function()
                local r = run("-n", "-e", "", guest("getpid-dynamic", a.qemu))
                assert.are.equal(0, r.status, r.stderr)
                assert.matches("/qemu%-" .. a.qemu:gsub("%p", "%%%0") .. " %-L /usr/"
                               .. a.triplet:gsub("%p", "%%%0") .. " %-plugin ", r.stdout)
            end)

            it("names libc6-" .. a.debian .. "-cross when a " .. a.qemu .. " loader is nowhere",
               function()
                -- the same program asking for its loader in /nil/ instead of /lib/
                local data = command.slurp(guest("getpid-dynamic", a.qemu))
                local at = data:find("/lib/ld", 1, true)
                local odd = temp_program(data:sub(1, at - 1) .. "/nil/" .. data:sub(at + 5))
                local r = run("-n", "-e", "", odd)
                os.remove(odd)
                assert.are.equal(69, r.status)
                assert.matches("^luahook: this " .. a.qemu .. " program needs the loader /nil/ld[^ ]*, "
                               .. "which is neither in Debian's cross sysroot %(install libc6%-"
                               .. a.debian .. "%-cross%) nor on the host; or give %-L SYSROOT\n$",
                               r.stderr)
            end)
        end
    end

    it("gives a static or host-architecture program no sysroot", function()
        assert.is_nil(run("-n", "-e", "", guest("getpid")).stdout:find(" -L ", 1, true))
        assert.is_nil(run("-n", "-e", "", "/bin/true").stdout:find(" -L ", 1, true))
    end)

    it("refuses with status 69 a program whose loader is nowhere", function()
        -- the same program naming a loader path no system has (same length)
        local data = command.slurp(dynamic)
        local at = data:find("/lib/ld-linux.so.2", 1, true)
        local odd = temp_program(data:sub(1, at - 1) .. "/lib/ld-nowhere.so" .. data:sub(at + 18))
        local r = run("-e", "", odd)
        os.remove(odd)
        assert.are.equal(69, r.status)
        assert.are.equal("luahook: this i386 program needs the loader /lib/ld-nowhere.so, which is "
                         .. "neither in Debian's cross sysroot (install libc6-i386-cross) nor on the "
                         .. "host; or give -L SYSROOT\n", r.stderr)
    end)
end)

describe("luahook --qemu and LUAHOOK_QEMU_DIR", function()
    local qemu_dir = command.build .. "/qemu/bin"

    it("--qemu takes a directory or a binary", function()
        assert.matches("^" .. qemu_dir:gsub("%p", "%%%0") .. "/qemu%-i386 ",
                       run("-n", "--qemu", qemu_dir, "-e", "", guest("getpid")).stdout)
        local r = run("--qemu", qemu_dir .. "/qemu-i386", "-e", "print(arch)", guest("getpid"))
        assert.are.equal(0, r.status)
        assert.are.equal("i386\n", r.stderr)
    end)

    it("LUAHOOK_QEMU_DIR chooses the directory", function()
        local r = command.run({ luahook, "-e", "print(arch)", guest("getpid", "x86_64") },
                              { env = "LUAHOOK_QEMU_DIR=" .. qemu_dir })
        assert.are.equal(0, r.status)
        assert.are.equal("x86_64\n", r.stderr)
    end)

    it("stops with status 69 when the QEMU chosen is missing", function()
        local r = run("--qemu", "/nonexistent", "-e", "", guest("getpid"))
        assert.are.equal(69, r.status)
        assert.are.equal("luahook: QEMU not found: /nonexistent is not an executable file (--qemu)\n",
                         r.stderr)
        r = command.run({ luahook, "-e", "", guest("getpid") }, { env = "LUAHOOK_QEMU_DIR=/tmp" })
        assert.are.equal(69, r.status)
        assert.are.equal("luahook: QEMU not found: /tmp/qemu-i386 is not an executable file "
                         .. "(LUAHOOK_QEMU_DIR)\n", r.stderr)
    end)
end)

describe("luahook's exit status", function()
    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("is the guest's own exit status on " .. arch, function()
            assert.are.equal(3, run("-e", "", guest("exitwith", arch), "3").status)
            assert.are.equal(0, run("-e", "", guest("exitwith", arch), "0").status)
        end)

        it("is 128+N when signal N kills the guest on " .. arch, function()
            assert.are.equal(128 + 9, run("-e", "", guest("exitwith", arch), "kill", "9").status)
            assert.are.equal(128 + 11, run("-s", "trace", guest("signals", arch), "crash").status)
        end)
    end
end)

describe("luahook's usage errors", function()
    local cases = {
        { "an unknown option", { "--bogus", guest("getpid") }, 64, "unknown option --bogus" },
        { "an unknown short option", { "-x", guest("getpid") }, 64, "unknown option -x" },
        { "a missing argument", { "-e", "", "-s" }, 64, "option -s needs an argument" },
        { "no program", { "-e", "" }, 64, "no PROGRAM to run" },
        { "nothing to do", { guest("getpid") }, 64, "nothing to do" },
        { "a bad --repl", { "--repl", "tcp:1", guest("getpid") }, 64, "--repl tcp:1: expected" },
        { "-o twice", { "-o", "a", "-o", "b", "-e", "", guest("getpid") }, 64, "-o given twice" },
        { "--watch without a script", { "--watch", "-e", "", guest("getpid") }, 64,
          "--watch needs a script file" },
        { "a program that does not exist", { "-e", "", "/nonexistent/prog" }, 66,
          "cannot open program /nonexistent/prog: No such file or directory" },
        { "a program not in PATH", { "-e", "", "nosuchprogram-luahook" }, 66,
          "program 'nosuchprogram-luahook' not found in PATH" },
        { "a file without execute permission", { "-e", "", "./meson.build" }, 66,
          "cannot open program ./meson.build: Permission denied" },
    }
    for _, case in ipairs(cases) do
        local what, argv, status, message = case[1], case[2], case[3], case[4]
        it("gives status " .. status .. " and one line for " .. what, function()
            local r = run(unpack(argv))
            assert.are.equal(status, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("^luahook: [^\n]*\n$", r.stderr)
            assert.matches(message, r.stderr, 1, true)
        end)
    end

    it("gives status 65 and one line for an executable file in no format a kernel runs", function()
        local text = temp_program("not a program\n")
        local r = run("-e", "", text)
        os.remove(text)
        assert.are.equal(65, r.status)
        assert.are.equal("luahook: " .. text .. " is not an ELF program or a #! script\n", r.stderr)
    end)

    it("gives status 66 and one line for a script whose interpreter is missing", function()
        local script = temp_program("#!/nonexistent/interpreter -x\n")
        local r = run("-e", "", script)
        os.remove(script)
        assert.are.equal(66, r.status)
        assert.are.equal("luahook: cannot run " .. script .. ": its interpreter /nonexistent/interpreter: "
                         .. "No such file or directory\n", r.stderr)
    end)

    it("gives status 65 for an ELF program of another architecture", function()
        local sparc = with_machine(guest("getpid", "x86_64"), 2)   -- EM_SPARC
        local r = run("-e", "", sparc)
        os.remove(sparc)
        assert.are.equal(65, r.status)
        assert.are.equal("luahook: " .. sparc .. " is for ELF machine 2; only i386 (3), "
                         .. "x86_64 (62), aarch64 (183), arm (40), riscv64 (243), mips (8) and "
                         .. "mipsel (8) programs run\n", r.stderr)
    end)

    -- The guest `from` with `bytes` at 0-based `offset` of its ELF header.
    local function patched(from, offset, bytes)
        local data = command.slurp(guest("getpid", from))
        return temp_program(data:sub(1, offset) .. bytes .. data:sub(offset + #bytes + 1))
    end
    local function le32(n)
        return string.char(n % 256, math.floor(n / 256) % 256, math.floor(n / 65536) % 256,
                           math.floor(n / 16777216))
    end
    local function be32(n) return le32(n):reverse() end

    -- e_flags is at offset 36 in a 32-bit ELF header
    local refusals = {
        { "an arm soft-float program", "arm", 36, le32(0x05000200),
          "is an arm soft-float program, which luahook does not run (it runs arm EABI5 "
          .. "hard-float programs)" },
        { "an arm OABI program", "arm", 36, le32(0),
          "is an arm OABI program, which luahook does not run" },
        { "an arm EABI4 program", "arm", 36, le32(0x04000000),
          "is an arm program of an EABI version other than 5" },
        { "a mips n32 program", "mips", 36, be32(0x70001027),
          "is a mips n32 program, which luahook does not run (it runs mips o32 programs)" },
        { "a mipsel n32 program", "mipsel", 36, le32(0x70001027), "is a mips n32 program" },
        { "a mips o64 program", "mips", 36, be32(0x70002007), "is a mips o64 or EABI program" },
        { "a 64-bit mips program", "mipsel", 4, "\2",
          "is a 64-bit little-endian program for ELF machine 8 (mips), which luahook does not run" },
        { "a 32-bit riscv program", "riscv64", 4, "\1",
          "is a 32-bit little-endian program for ELF machine 243 (riscv64), which luahook does not run" },
    }
    for _, case in ipairs(refusals) do
        local what, from, offset, bytes, message = unpack(case)
        it("gives status 65 and one line for " .. what, function()
            local prog = patched(from, offset, bytes)
            local r = run("-n", "-e", "", prog)
            os.remove(prog)
            assert.are.equal(65, r.status)
            assert.are.equal("", r.stdout)
            assert.matches("^luahook: [^\n]*\n$", r.stderr)
            assert.matches(prog .. " " .. message, r.stderr, 1, true)
        end)
    end

    it("gives status 65 for an ELF file that is not a program", function()
        local obj = temp_program(command.slurp(guest("getpid")):sub(1, 16) .. "\1\0"
                                 .. command.slurp(guest("getpid")):sub(19))   -- ET_REL
        local r = run("-e", "", obj)
        os.remove(obj)
        assert.are.equal(65, r.status)
        assert.matches("is an ELF file but not a program (ELF type 1)", r.stderr, 1, true)
    end)
end)

describe("luahook with a #! script as PROGRAM", function()
    it("runs the script's interpreter as the kernel would, with the kernel's arguments", function()
        local busybox = command.build .. "/foreign/busybox.i386"
        local script = temp_program("#!" .. busybox .. " sh\necho \"$0 got $1\"\n")
        local dry = run("-n", "-e", "", script, "one")
        local r = run("-s", "trace", "-a", "trace=write", script, "one")
        os.remove(script)
        assert.are.equal(0, dry.status)
        assert.matches("/qemu%-i386 %-plugin [^ ]+ " .. busybox:gsub("%p", "%%%0") .. " sh "
                       .. script:gsub("%p", "%%%0") .. " one\n$", dry.stdout)
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal(script .. " got one\n", r.stdout)
        assert.are.equal('write(1, "' .. script .. ' got one\\n", ' .. #script + 9 .. ") = "
                         .. #script + 9 .. "\n", r.stderr)
    end)

end)

describe("luahook with a PROGRAM found in PATH", function()
    it("gives it its name as typed as argv[0] (QEMU's -0), as a shell would", function()
        local dry = run("-n", "-e", "", "true")
        assert.matches(" %-0 true /[^ ]*/true\n$", dry.stdout)
        local r = run("-e", "", "sh", "-c", 'echo "$0"')
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("sh\n", r.stdout)
    end)
end)

describe("luahook --watch", function()
    -- ticker makes a getppid and a 10 ms sleep 200 times: about 2 s
    local function watch_run(first, edits)
        local script = temp_file(first, ".lua")
        local job = command.start({ luahook, "--watch", "-s", script, guest("ticker"), "200", "10" })
        for _, text in ipairs(edits) do
            os.execute("sleep 0.6")
            command.write(script, text)
        end
        local r = command.finish(job)
        os.remove(script)
        return r, script
    end

    it("reloads an edited script: the new hooks run, the old ones are gone", function()
        local r, script = watch_run(
            "luahook.on('getppid', function() print('v1') end)\n"
            .. "luahook.on_exit(function() print('exit v1') end)\n",
            { "luahook.on('getppid', function() print('v2') end)\n" })
        assert.are.equal(0, r.status)
        assert.are.equal("ticked 200 times\n", r.stdout)
        local before, after = r.stderr:match("^(.-)luahook: reloaded [^\n]*\n(.*)$")
        assert.is_not_nil(before, r.stderr)
        assert.matches("luahook: reloaded " .. script .. "\n", r.stderr, 1, true)
        assert.matches("^v1\n", before)
        assert.is_nil(before:match("v2"))
        assert.matches("^v2\n", after)
        assert.is_nil(after:match("v1"))   -- neither the hook nor the on_exit function
    end)

    it("keeps the previous version when the edited script fails", function()
        local r, script = watch_run("luahook.on('getppid', function() print('v1') end)\n",
                                    { "luahook.on('getppid', function() print('v2') end\n",
                                      "luahook.on('getppid', function() print('v3') end)\n" })
        assert.are.equal(0, r.status)
        local failure = "luahook: reload of " .. script .. " failed, keeping the previous version: "
                        .. script .. ":2: ')' expected"
        local at = r.stderr:find(failure, 1, true)
        assert.is_not_nil(at, r.stderr)
        local after_failure = r.stderr:sub(at):match("^[^\n]*\n(.*)$")
        assert.matches("^v1\n", after_failure)
        assert.matches("luahook: reloaded " .. script .. "\nv3\n", after_failure, 1, true)
        assert.is_nil(r.stderr:match("v2"))
    end)
end)

describe("luahook --break, --repl and attach", function()
    it("passes break= for each --break and repl= to the plugin", function()
        local r = run("-n", "--break", "getppid", "--break", "%file", "--repl", "unix:/tmp/a,b",
                      guest("getpid"))
        assert.are.equal(0, r.status)
        assert.matches("/luahook%.so,break=getppid,break=%%file,repl=unix:/tmp/a,,b ", r.stdout)
    end)

    it("stops the guest at a --break and lets luahook attach talk to it", function()
        local socket = os.tmpname()
        os.remove(socket)
        local job = command.start({ luahook, "--repl", "unix:" .. socket, "--break", "getppid",
                                    guest("ticker"), "3", "10" })
        -- attach once the guest waits at the breakpoint (it says so on stderr):
        -- a client attaching earlier stops it at whatever call comes next
        for _ = 1, 200 do
            if (command.slurp(job.err) or ""):match("waiting for a REPL client") then break end
            os.execute("sleep 0.05")
        end
        local input = temp_file("print(sc.name .. '!')\nbd(1)\nc\n")
        local client = command.run({ luahook, "attach", socket }, { input = input })
        local guest_run = command.finish(job, 20)
        os.remove(input); os.remove(socket)
        assert.are.equal(0, client.status)
        assert.matches("getppid!", client.stdout, 1, true)
        assert.are.equal(0, guest_run.status)
        assert.are.equal("ticked 3 times\n", guest_run.stdout)
    end)

    it("attach without a socket path is a usage error (status 64)", function()
        local r = run("attach")
        assert.are.equal(64, r.status)
        assert.are.equal("luahook: attach needs the socket PATH given to --repl unix:PATH\n", r.stderr)
    end)

    it("attach stops with status 69 when luahook-attach is not beside the command", function()
        -- a copy outside any build tree looks only beside itself
        local dir = os.tmpname()
        os.remove(dir)
        os.execute("mkdir " .. dir .. " && cp " .. luahook .. " " .. dir .. "/luahook")
        local r = command.run({ dir .. "/luahook", "attach", "/tmp/x.sock" })
        os.execute("rm -r " .. dir)
        assert.are.equal(69, r.status)
        assert.are.equal("luahook: luahook-attach is missing: not in " .. dir .. "\n", r.stderr)
    end)
end)
