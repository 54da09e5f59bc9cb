-- Following execve: a program the guest execs runs under the QEMU for its
-- own architecture with luahook and the same scripts, and the guest sees
-- each exec behave as the kernel's (compared with the host kernel's own
-- answers). Real busybox shells, i386 and x86_64, and the execer guest.
local command = require "helpers.command"
local qemu = require "helpers.qemu"

local quote, slurp, write_file, sh = qemu.quote, qemu.slurp, qemu.write_file, qemu.sh

-- Absolute paths: the exec'd programs and the followed QEMU see them from
-- whatever directory the guest is in.
local pwd = io.popen("pwd")
local CWD = pwd:read("*l")
pwd:close()   -- open, its pipe would reach every guest below
local function absolute(path)
    return path:sub(1, 1) == "/" and path or CWD .. "/" .. path
end
local BUILD = absolute(qemu.build)
local PLUGIN = BUILD .. "/luahook.so"
local TRACE = CWD .. "/scripts/trace.lua"
local function busybox(arch) return BUILD .. "/foreign/busybox." .. arch end
local function execer(arch) return absolute(qemu.guest("execer", arch)) end
local function qemu_bin(arch) return BUILD .. "/qemu/bin/qemu-" .. arch end

local function temp_program(text)
    local path = qemu.tmppath()
    write_file(path, text)
    os.execute("chmod 755 " .. quote(path))
    return path
end

-- Runs `argv` under luahook (opts: arch, script, lua, plugin_args, qemu,
-- qemu_args, cwd, env = "NAME=value ..."); returns { stdout, stderr, status }.
local function run(argv, opts)
    local script = opts.script
    if opts.lua then
        script = qemu.script(opts.lua)
    end
    local plugin = { PLUGIN, "script=" .. script }
    for _, a in ipairs(opts.plugin_args or {}) do plugin[#plugin + 1] = a end
    local words = { quote(opts.qemu or qemu_bin(opts.arch or "i386")) }
    for _, a in ipairs(opts.qemu_args or {}) do words[#words + 1] = quote(a) end
    words[#words + 1] = "-plugin " .. quote(table.concat(plugin, ","))
    for _, a in ipairs(argv) do words[#words + 1] = quote(a) end
    local line = table.concat(words, " ")
    if opts.env then line = "env " .. opts.env .. " " .. line end
    if opts.cwd then line = "cd " .. quote(opts.cwd) .. " && " .. line end
    local r = {}
    local out, err = qemu.tmppath(), qemu.tmppath()
    r.status = select(2, sh(string.format("%s </dev/null >%s 2>%s", line, out, err)))
    r.stdout, r.stderr = slurp(out), slurp(err)
    os.remove(out)
    os.remove(err)
    if opts.lua then os.remove(script) end
    return r
end

-- trace.lua's lines: { pid = N (nil before a second process), text = the
-- call, name = its name, result = after " = " }.
-- Lines without a "[pid N] " prefix are the first process's (its pid is
-- known from its set_tid_address on). A call another process's line came
-- into, which strace's order writes as "NAME(... <unfinished ...>" and
-- later "<... NAME resumed>...", is put together again where it started.
local function trace_lines(text)
    local lines, first, open = {}, nil, {}
    for line in text:gmatch("[^\n]+") do
        local pid, rest = line:match("^%[pid (%d+)%] (.*)$")
        rest = rest or line
        if not pid then
            first = first or tonumber(rest:match("^set_tid_address%(.*%) = (%d+)$"))
        end
        pid = tonumber(pid) or first or 0
        local resumed = rest:match("^<%.%.%. [%w_]+ resumed>(.*)$")
        local l = resumed and open[pid]
        if l then
            l.text = l.text .. resumed
            l.line = l.line .. resumed
            open[pid] = nil
        else
            l = { pid = pid, text = rest, name = rest:match("^([%w_]+)%("), line = line }
            lines[#lines + 1] = l
        end
        local start = l.text:match("^(.*) <unfinished %.%.%.>$")
        if start then
            l.text, l.line = start, l.line:match("^(.*) <unfinished %.%.%.>$")
            open[pid] = l
        end
        l.result = l.text:match("%) = (.*)$")
    end
    return lines
end

-- Whether a line is one whole line of trace.lua's: a call, a process's
-- end, or a signal delivered to a handler.
local function whole_line(l)
    return l.name ~= nil or l.text:match("^%+%+%+ exited with %d+ %+%+%+$") ~= nil
           or l.text:match("^%-%-%- SIG%w+ {.*} %-%-%-$") ~= nil
end

-- The first line of process `pid` from position `from` on whose text
-- matches `pattern`, and its position.
local function find_line(lines, pid, pattern, from)
    for i = from or 1, #lines do
        local l = lines[i]
        if l.pid == pid and l.text:match(pattern) then return l, i end
    end
    return nil
end

local HELLO = qemu.tmppath()
write_file(HELLO, "hello\n")

describe("following execve", function()
    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("traces every process of a pipeline and a nested sh -c on " .. arch
           .. ", with their pids and execve results", function()
            local r = run({ busybox(arch), "sh", "-c",
                            "cat " .. HELLO .. ' | wc -c; sh -c "echo nested; exit 3"; echo $?' },
                          { arch = arch, script = TRACE })
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("6\nnested\n3\n", r.stdout)
            local lines = trace_lines(r.stderr)
            -- the shell's forks: their pids are what its clone calls returned
            local children, shell = {}, nil
            for _, l in ipairs(lines) do
                if l.name == "clone" then
                    shell = shell or l.pid
                    assert.are.equal(shell, l.pid)
                    children[#children + 1] = tonumber(l.result)
                end
            end
            assert.are.equal(3, #children, r.stderr)
            local programs = {
                { argv = '%["cat", "' .. HELLO:gsub("%p", "%%%0") .. '"%]', own = "^exit_group%(0%)" },
                { argv = '%["wc", "%-c"%]', own = '^write%(1, "6\\n", 2%) = 2$' },
                { argv = '%["sh", "%-c", "echo nested; exit 3"%]', own = '^write%(1, "nested\\n", 7%) = 7$' },
            }
            for k, child in ipairs(children) do
                local exec, at = find_line(lines, child, '^execve%("/proc/self/exe", '
                                           .. programs[k].argv .. ", 0x%x+ /%* %d+ vars %*/%) = 0$")
                assert.is_not_nil(exec, "no execve of child " .. child .. "\n" .. r.stderr)
                -- the new program's own calls, under the same pid, after its execve
                assert.is_not_nil(find_line(lines, child, programs[k].own, at + 1), r.stderr)
                assert.is_not_nil(find_line(lines, child, "^%+%+%+ exited with %d %+%+%+$", at + 1))
                assert.is_not_nil(find_line(lines, shell, "^%S*%s?wait4[( ].*%) = " .. child .. "$"))
            end
            assert.is_not_nil(find_line(lines, children[3], "^%+%+%+ exited with 3 %+%+%+$"))
            -- every line whole: no process wrote into another's
            for _, l in ipairs(lines) do
                assert.is_true(whole_line(l),
                               "not a trace line: " .. l.line)
            end
        end)
    end

    it("runs an exec chain of three programs across i386 and x86_64 in one process", function()
        local r = command.run({ command.luahook, "-s", "trace", "-a", "trace=execve",
                                "-e", "print('image', arch)", busybox("i386"), "sh", "-c",
                                "exec " .. busybox("x86_64") .. " sh -c 'exec " .. busybox("i386")
                                .. " echo chained'" })
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("chained\n", r.stdout)
        local lines = qemu.lines(r.stderr)
        assert.are.equal("image\ti386", lines[1])
        assert.matches('^execve%("' .. busybox("x86_64"):gsub("%p", "%%%0") .. '", %[.*%) = 0$', lines[2])
        assert.are.equal("image\tx86_64", lines[3])
        assert.matches('^execve%("' .. busybox("i386"):gsub("%p", "%%%0") .. '", %[.*"echo", '
                       .. '"chained"%], 0x%x+ /%* %d+ vars %*/%) = 0$', lines[4])
        assert.are.equal("image\ti386", lines[5])
        assert.are.equal(5, #lines, r.stderr)
    end)

    it("keeps argv[0], the environment, the working directory and the descriptors not marked "
       .. "close-on-exec, by every way to exec", function()
        local target = execer("x86_64")
        local dir, name = target:match("^(.*)/([^/]+)$")
        local routes = {
            exec = { "exec", target, "ZERO", "show" },
            execveat = { "at", dir, name, "ZERO", "show" },
            fexecve = { "fexec", target, "ZERO", "show" },
            ["fexecve of a memfd"] = { "memfd", target, "ZERO", "show" },
        }
        for route, args in pairs(routes) do
            -- the same exec natively, from the x86_64 execer
            local words = {}
            for i, a in ipairs(args) do words[i] = quote(a) end
            local native = sh("cd /tmp && EXECER=kept " .. quote(execer("x86_64")) .. " "
                              .. table.concat(words, " "))
            local r = run({ execer("i386"), unpack(args) },
                          { lua = "", cwd = "/tmp", env = "EXECER=kept" })
            assert.are.equal(0, r.status, route .. ": " .. r.stderr)
            assert.matches("^argv%[0%]=ZERO\nargv%[1%]=show\nenv EXECER=kept\ncwd=/tmp\nname=", r.stdout)
            assert.are.equal(native, r.stdout, route)
        end
        local r = run({ execer("i386"), "fds", target, "ZERO", "show" }, { lua = "" })
        local open = (r.stdout:match("\nopen:([ %d]*)\n$") or "") .. " "
        assert.is_not_nil(open:find(" 5 ", 1, true), r.stdout)
        assert.is_nil(open:find(" 6 ", 1, true), r.stdout)   -- it was close-on-exec
    end)

    it("finds relative paths in the plugin arguments from where the first QEMU started, "
       .. "after the guest changed directory", function()
        -- qemu.run starts QEMU in the repository, with relative paths
        local r = qemu.run { program = busybox("i386"), script = "scripts/trace.lua",
                             args = { "sh", "-c", "cd /tmp && exec " .. execer("x86_64") .. " show" },
                             plugin_args = { "trace=write" } }
        assert.are.equal(0, r.status, r.stderr)
        assert.matches("\ncwd=/tmp\n", r.stdout)
        assert.matches('^write%(1, "argv%[0%]=', r.stderr)
    end)

    it("hands the new program the variables that would steer the host's QEMU and loader, "
       .. "without letting them steer it", function()
        -- set for the guest only (QEMU's -E), as a guest sets them for a child
        local r = run({ execer("i386"), "exec", execer("x86_64"), "ZERO", "show" },
                      { lua = "", qemu_args = { "-E", "LD_PRELOAD=/nonexistent/luahook.so",
                                                "-E", "QEMU_STRACE=1", "-E", "EXECER=1" } })
        assert.are.equal(0, r.status, r.stderr)
        -- the host's loader would complain of the library, QEMU would trace
        assert.are.equal("", r.stderr)
        for _, var in ipairs({ "LD_PRELOAD=/nonexistent/luahook.so", "QEMU_STRACE=1", "EXECER=1" }) do
            assert.matches("\nenv " .. var:gsub("%p", "%%%0") .. "\n", r.stdout)
        end
    end)

    it("follows a #! script to its interpreter, with the kernel's arguments", function()
        local script = temp_program("#!" .. busybox("i386") .. " sh\necho \"script $0 $1\"\n")
        local r = run({ busybox("x86_64"), "sh", "-c", script .. " one" }, { arch = "x86_64", script = TRACE })
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("script " .. script .. " one\n", r.stdout)
        local lines = trace_lines(r.stderr)
        local exec, at
        for i, l in ipairs(lines) do
            if l.name == "execve" then exec, at = l, i end
        end
        assert.are.equal('execve("' .. script .. '", ["' .. script .. '", "one"], ', exec.text:match("^.-%], "))
        assert.are.equal("0", exec.result)
        -- the interpreter's calls follow: an i386 busybox sets its thread area
        assert.is_not_nil(find_line(lines, exec.pid, "^set_thread_area%(", at + 1), r.stderr)
        os.remove(script)
    end)

    describe("gives each exec the host kernel's own answer", function()
        -- Each case runs natively (the static x86_64 execer) and under
        -- luahook (the i386 one, following); output and status must agree.
        local dir = qemu.tmppath()
        local files = {}
        local function file(name, text, mode)
            local path = dir .. "/" .. name
            files[#files + 1] = path
            write_file(path, text)
            os.execute("chmod " .. (mode or "755") .. " " .. quote(path))
            return path
        end
        setup(function()
            os.execute("mkdir -p " .. quote(dir))
            file("text", "not a program\n")
            file("noexec", slurp("/bin/echo"), "644")
            file("bare", "#!")
            file("empty-line", "#!\n")
            file("blank-line", "#! \t \n")
            file("no-interp", "#!/nonexistent/interpreter\n")
            file("noexec-interp", "#!" .. dir .. "/noexec\n")
            file("with-arg", "#!/bin/echo  one two  \n")
            file("s0", "#!/bin/echo\n")
            for i = 1, 6 do file("s" .. i, "#!" .. dir .. "/s" .. (i - 1) .. "\n") end
        end)
        teardown(function() os.execute("rm -rf " .. quote(dir)) end)

        local cases = {
            { "a program that is not there", { "exec", "/nonexistent/prog", "x" } },
            { "a path through a file", { "exec", "/bin/echo/x", "x" } },
            { "an empty path", { "exec", "", "x" } },
            { "a directory", { "exec", "/tmp", "x" } },
            { "a file without execute permission", { "exec", "@/noexec", "x" } },
            { "a file in no format", { "exec", "@/text", "x" } },
            { "a bare #!", { "exec", "@/bare", "x" } },
            { "a #! line naming nothing", { "exec", "@/empty-line", "x" } },
            { "a #! line of blanks", { "exec", "@/blank-line", "x" } },
            { "a missing interpreter", { "exec", "@/no-interp", "x" } },
            { "an interpreter without execute permission", { "exec", "@/noexec-interp", "x" } },
            { "an interpreter with an argument", { "exec", "@/with-arg", "x", "y" } },
            { "scripts five deep", { "exec", "@/s4", "x", "y" } },
            { "scripts six deep", { "exec", "@/s5", "x" } },
            { "an argument too long", { "big", "200000", "/bin/true" } },
            { "arguments too long together", { "many", "100", "30000", "/bin/true" } },
            { "long arguments within the limit", { "many", "10", "10000", "/bin/echo" } },
            { "no arguments at all", { "noargs", "@/with-arg" } },
        }
        for _, case in ipairs(cases) do
            it("for " .. case[1], function()
                local args = {}
                for i, a in ipairs(case[2]) do args[i] = (a:gsub("^@", dir)) end
                local words = { quote(execer("x86_64")) }
                for _, a in ipairs(args) do words[#words + 1] = quote(a) end
                local native, native_status = sh(table.concat(words, " ") .. " </dev/null 2>&1")
                local r = run({ execer("i386"), unpack(args) }, { lua = "" })
                assert.are.equal(native, r.stdout)
                assert.are.equal(native_status, r.status)
                assert.are.equal("", r.stderr)
            end)
        end
    end)

    it("prints a failed execve on one line with its error, ENOENT and E2BIG", function()
        local r = run({ execer("i386"), "exec", "/nonexistent/prog", "x" },
                      { script = TRACE, plugin_args = { "trace=execve" } })
        assert.matches('^execve%("/nonexistent/prog", %["x"%], 0x%x+ /%* %d+ vars %*/%) = %-1 ENOENT '
                       .. "%(No such file or directory%)\n$", r.stderr)
        assert.are.equal(1, #qemu.lines(r.stderr))
        r = run({ execer("i386"), "big", "200000", "/bin/true" },
                { script = TRACE, plugin_args = { "trace=execve" } })
        assert.matches('^execve%("/bin/true", %["/bin/true", "x+"%.%.%.%], 0x%x+ /%* %d+ vars %*/%) = '
                       .. "%-1 E2BIG %(Argument list too long%)\n$", r.stderr)
        assert.are.equal("execer: execve failed: E2BIG\n", r.stdout)
    end)

    it("runs the old image's exit hooks and lh.on_exec first, and keeps lh.inherited", function()
        local lua = [[
            local lh = require "luahook"
            local depth = tonumber(lh.inherited.depth or 0) + 1
            lh.inherited.depth = depth
            print("image " .. depth .. " " .. lh.arch)
            lh.on_exec(function(sc, program)
                print("on_exec " .. sc.name .. " " .. program.arch .. " " .. table.concat(program.argv, " "))
            end)
            lh.on_exit(function(how, sc, program)
                print("exit " .. how .. " " .. (program and program.path or "-"))
            end)
        ]]
        local r = run({ execer("i386"), "exec", execer("x86_64"), "A", "exec", execer("i386"), "B",
                        "show" }, { lua = lua })
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal(table.concat({
            "image 1 i386",
            "on_exec execve x86_64 A exec " .. execer("i386") .. " B show",
            "exit exec " .. execer("x86_64"),
            "image 2 x86_64",
            "on_exec execve i386 B show",
            "exit exec " .. execer("i386"),
            "image 3 i386",
            "exit exit -",
        }, "\n") .. "\n", r.stderr)
    end)

    it("stops QEMU instead of the exec when an exit hook calls os.exit, exit hooks run once",
       function()
        local r = run({ execer("i386"), "exec", execer("x86_64"), "A", "show" }, { lua = [[
            local lh = require "luahook"
            lh.on_exit(function(how)
                print("exit " .. how)
                if how == "exec" then os.exit(7) end
            end)
        ]] })
        assert.are.equal(7, r.status)
        assert.are.equal("", r.stdout)            -- the new program never ran
        assert.are.equal("exit exec\n", r.stderr)
    end)

    it("leaves an exec a hook failed on under onerror=abort: exit hooks run once, with \"exit\"",
       function()
        local r = run({ execer("i386"), "exec", execer("x86_64"), "A", "show" }, { lua = [[
            local lh = require "luahook"
            lh.on("execve", function() error("boom") end)
            lh.on_exit(function(how) print("exit " .. how) end)
        ]], plugin_args = { "onerror=abort" } })
        assert.are.equal(1, r.status)
        assert.are.equal("", r.stdout)
        assert.matches("failed on execve: [^\n]*boom", r.stderr)
        local _, exits = r.stderr:gsub("\nexit ", "")
        assert.are.equal(1, exits, r.stderr)
        assert.matches("\nexit exit\n", r.stderr)
    end)

    it("refuses lh.inherited keys and values that cannot travel, naming the problem", function()
        local r = run({ execer("i386"), "show" }, { lua = [[
            local lh = require "luahook"
            for _, try in ipairs({ function() lh.inherited["a b"] = "x" end,
                                   function() lh.inherited.t = {} end,
                                   function() lh.inherited.z = "a\0b" end }) do
                print((select(2, pcall(try)):gsub("^[^:]*:%d+: ", "")))
            end
            lh.inherited.n = 42
            print(type(lh.inherited.n), lh.inherited.n)
        ]] })
        assert.are.equal(table.concat({
            "inherited: keys are names of letters, digits, '_', '.' and '-'",
            "inherited.t: values are strings, not table",
            "inherited.z: a value cannot hold a NUL byte (it travels as an argument)",
            "string\t42",
        }, "\n") .. "\n", r.stderr)
    end)

    it("passes onerror= on: a failing hook in the new program stops it under onerror=abort", function()
        local lua = [[luahook.on("getppid", function()
            if luahook.arch == "x86_64" then error("boom") end
        end)]]
        local r = run({ execer("i386"), "exec", absolute(qemu.guest("ticker", "x86_64")), "ticker", "3", "1" },
                      { lua = lua, plugin_args = { "onerror=abort" } })
        assert.are.equal(1, r.status)
        assert.are.equal("", r.stdout)
        assert.matches("failed on getppid: [^\n]*boom", r.stderr)
        assert.matches("luahook: stopping QEMU because a hook failed %(onerror=abort%)\n$", r.stderr)
    end)

    it("appends every process's lines to out=, whole, after the first process's", function()
        local out = qemu.tmppath()
        local r = run({ busybox("i386"), "sh", "-c", "cat " .. HELLO .. " | wc -c" },
                      { script = TRACE, plugin_args = { "out=" .. out } })
        local text = slurp(out)
        os.remove(out)
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("", r.stderr)
        local lines = trace_lines(text)
        assert.is_nil(lines[1].line:match("^%[pid"))  -- the shell's first call is there
        local execs = 0
        for _, l in ipairs(lines) do
            assert.is_true(whole_line(l),
                           "not a trace line: " .. l.line)
            if l.name == "execve" then execs = execs + 1 end
        end
        assert.are.equal(2, execs)
        local wrote = false
        for _, l in ipairs(lines) do
            wrote = wrote or l.line:match('^%[pid %d+%] write%(1, "6\\n", 2%) = 2$') ~= nil
        end
        assert.is_true(wrote, text)
    end)

    it("sends luahook's own messages in the new program to the stderr QEMU started with, not "
       .. "to out= or the guest's moved fd 2", function()
        local out = qemu.tmppath()
        local r = run({ busybox("i386"), "sh", "-c", "exec 2>/dev/null; " .. execer("x86_64") .. " show" },
                      { lua = [[if luahook.arch == "x86_64" then
                                    luahook.on("write", function() error("boom") end)
                                end]], plugin_args = { "out=" .. out } })
        local text = slurp(out)
        os.remove(out)
        assert.are.equal(0, r.status, r.stderr)
        assert.matches("^argv%[0%]=", r.stdout)
        assert.matches("^luahook: hook registered at [^\n]* failed on write: [^\n]*boom", r.stderr)
        assert.are.equal("", text)
    end)

    it("opens break='s REPL in the program an exec started, on the same socket", function()
        local sock = qemu.tmppath() .. ".sock"
        local err = qemu.tmppath()
        local plugin = table.concat({ PLUGIN, "repl=unix:" .. sock, "break=execve+write" }, ",")
        os.execute(string.format("(%s -plugin %s %s exec %s ZERO show </dev/null >/dev/null 2>%s &)",
                                 quote(qemu_bin("i386")), quote(plugin), quote(execer("i386")),
                                 quote(execer("x86_64")), quote(err)))
        -- each stop waits for a client; the line saying so comes once per stop
        local function attach_at_stop(n, lines)
            for _ = 1, 200 do
                local _, count = (slurp(err) or ""):gsub("waiting for a REPL client", "")
                if count >= n then break end
                os.execute("sleep 0.05")
            end
            local input = qemu.tmppath()
            write_file(input, table.concat(lines, "\n") .. "\n")
            local transcript = sh(string.format("timeout 20 %s %s <%s", BUILD .. "/luahook-attach",
                                                quote(sock), input))
            os.remove(input)
            return transcript
        end
        local first = attach_at_stop(1, { "sc.name .. ' ' .. luahook.arch", "c" })
        -- the new program writes several lines: no more stops after this one
        local second = attach_at_stop(2, { "sc.name .. ' ' .. luahook.arch", "bd(1)", "c" })
        os.remove(err)
        assert.matches('\n"execve i386"\n', first, 1, true)
        assert.matches('\n"write x86_64"\n', second, 1, true)
    end)

    it("gives the program a forked child execs a REPL socket of its own, PATH.PID", function()
        local sock = qemu.tmppath() .. ".sock"
        local out, err = qemu.tmppath(), qemu.tmppath()
        local plugin = table.concat({ PLUGIN, "repl=unix:" .. sock, "break=write" }, ",")
        os.execute(string.format("(%s -plugin %s %s sh -c %s </dev/null >%s 2>%s &)",
                                 quote(qemu_bin("i386")), quote(plugin), quote(busybox("i386")),
                                 quote("cat " .. HELLO .. " | wc -c"), quote(out), quote(err)))
        -- wc writes; cat (sendfile) and the shell do not
        local child_sock
        for _ = 1, 200 do
            child_sock = (slurp(err) or ""):match("waiting for a REPL client: luahook%-attach (%S+)")
            if child_sock then break end
            os.execute("sleep 0.05")
        end
        assert.are.equal(sock .. ".", child_sock and child_sock:sub(1, #sock + 1))
        local input = qemu.tmppath()
        write_file(input, "sc.name .. ' ' .. luahook.pid()\nc\n")
        local transcript = sh(string.format("timeout 20 %s %s <%s", BUILD .. "/luahook-attach",
                                            quote(child_sock), input))
        os.remove(input)
        for _ = 1, 200 do
            if slurp(out) == "6\n" then break end
            os.execute("sleep 0.05")
        end
        assert.are.equal("6\n", slurp(out))
        os.remove(out)
        os.remove(err)
        assert.matches('"write ' .. child_sock:match("%.(%d+)$") .. '"', transcript, 1, true)
    end)

    it("goes on watching a --watch script in the program an exec started", function()
        local script = qemu.tmppath() .. ".lua"
        write_file(script, "luahook.on('getppid', function() print('v1 ' .. luahook.arch) end)\n")
        local job = command.start({ command.luahook, "--watch", "-s", script, execer("i386"), "exec",
                                    absolute(qemu.guest("ticker", "x86_64")), "ticker", "200", "10" })
        os.execute("sleep 0.8")
        write_file(script, "luahook.on('getppid', function() print('v2 ' .. luahook.arch) end)\n")
        local r = command.finish(job)
        os.remove(script)
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("ticked 200 times\n", r.stdout)
        local before, after = r.stderr:match("^(.-)luahook: reloaded [^\n]*\n(.*)$")
        assert.is_not_nil(before, r.stderr)
        assert.matches("^v1 x86_64\n", before)
        assert.matches("^v2 x86_64\n", after)
        assert.is_nil(after:match("v1"))
    end)

    describe("an exec it cannot follow", function()
        it("fails with ENOEXEC and one line when there is no QEMU for the program", function()
            local dir = qemu.tmppath()
            os.execute("mkdir " .. dir .. " && cp " .. quote(qemu_bin("i386")) .. " " .. dir)
            local r = run({ execer("i386"), "exec", execer("x86_64"), "x", "show" },
                          { lua = "", qemu = dir .. "/qemu-i386" })
            os.execute("rm -rf " .. dir)
            assert.are.equal("execer: execve failed: ENOEXEC\n", r.stdout)
            assert.are.equal("luahook: execve fails with ENOEXEC: " .. execer("x86_64") .. " is an x86_64 "
                             .. "program, but there is no qemu-x86_64 beside this QEMU (in " .. dir .. ")\n",
                             r.stderr)
        end)

    end)

    describe("across architectures", function()
        it("follows a big-endian mips program's exec into an aarch64 one, reading its argv in mips byte order", function()
            local r = run({ execer("mips"), "exec", execer("aarch64"), "ZERO", "show" },
                          { arch = "mips", lua = "luahook.on('exit_group', function() print('exits on ' .. luahook.arch) end)" })
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^argv%[0%]=ZERO\nargv%[1%]=show\n", r.stdout)
            assert.are.equal("exits on aarch64\n", r.stderr)
        end)
    end)

    describe("with follow_exec=0", function()
        it("leaves the new program to the host kernel, as before", function()
            local r = run({ execer("i386"), "exec", execer("x86_64"), "ZERO", "show" },
                          { script = TRACE, plugin_args = { "follow_exec=0" } })
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^argv%[0%]=ZERO\n", r.stdout)
            -- the execve's line, and none of the new program, which runs natively
            local lines = qemu.lines(r.stderr)
            assert.matches('^execve%(".*%) = 0$', lines[#lines])
            assert.is_nil(r.stderr:match("arch_prctl"))
        end)

        it("is what luahook --no-follow passes", function()
            local r = command.run({ command.luahook, "-n", "--no-follow", "-e", "", execer("i386") })
            assert.matches(",follow_exec=0 ", r.stdout, 1, true)
        end)

        it("refuses a value other than 0 or 1 before the guest runs", function()
            local r = run({ execer("i386"), "show" }, { lua = "", plugin_args = { "follow_exec=no" } })
            assert.are.equal(1, r.status)
            assert.are.equal("", r.stdout)
            assert.are.equal("luahook: follow_exec=no: expected follow_exec=1 or follow_exec=0\n", r.stderr)
        end)
    end)

    describe("with sandbox.lua", function()
        local dir = qemu.tmppath()
        setup(function()
            os.execute("mkdir -p " .. dir .. "/secret && echo secret >" .. dir .. "/secret/file")
            write_file(dir .. "/policy.lua", "return { paths = { default = 'allow', deny = { '"
                       .. dir .. "/secret' } }, log = true }\n")
        end)
        teardown(function() os.execute("rm -rf " .. quote(dir)) end)

        it("keeps an allowed exec inside the policy: a shell's cat of a denied file is denied", function()
            local r = run({ busybox("i386"), "sh", "-c", "cat " .. dir .. "/secret/file; echo status $?" },
                          { script = CWD .. "/scripts/sandbox.lua", plugin_args = { "policy=" .. dir .. "/policy.lua" } })
            assert.are.equal("status 1\n", r.stdout)
            assert.matches("cat: can't open '" .. dir:gsub("%p", "%%%0") .. "/secret/file': Permission denied\n",
                           r.stderr)
            assert.matches('sandbox: denied openat%("' .. dir:gsub("%p", "%%%0") .. '/secret/file"%)\n',
                           r.stderr)
            -- and without the sandbox, the same cat reads it
            r = run({ busybox("i386"), "sh", "-c", "cat " .. dir .. "/secret/file" }, { lua = "" })
            assert.are.equal("secret\n", r.stdout)
        end)

        it("runs the program it judged, whatever the guest's memory says after", function()
            os.execute(string.format("mkdir -p %s/a %s/d && cp %s %s/a/prog && printf '#!/bin/sh\\necho DENIED\\n' >%s/d/prog && chmod 755 %s/d/prog",
                                     dir, dir, quote(execer("x86_64")), dir, dir, dir))
            write_file(dir .. "/deny-d.lua", "return { paths = { default = 'allow', deny = { '"
                       .. dir .. "/d' } } }\n")
            -- a hook after the sandbox's swaps the path for the denied program's
            local swap = "luahook.on('execve', function(sc) luahook.mem.write(sc.args[1], '"
                         .. dir .. "/d/prog\\0') end)"
            local r = command.run({ command.luahook, "-s", CWD .. "/scripts/sandbox.lua", "-a",
                                    "policy=" .. dir .. "/deny-d.lua", "-e", swap, execer("i386"),
                                    "exec", dir .. "/a/prog", "prog", "show" })
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("^argv%[0%]=prog\nargv%[1%]=show\n", r.stdout)
            assert.is_nil(r.stdout:match("DENIED"))
        end)

        it("gives a denied exec the policy's errno and starts nothing", function()
            write_file(dir .. "/deny-exec.lua", "return { syscalls = { deny = { 'execve' } }, errno = 'EPERM' }\n")
            local r = run({ busybox("i386"), "sh", "-c", "cat " .. HELLO .. "; echo status $?" },
                          { script = CWD .. "/scripts/sandbox.lua", plugin_args = { "policy=" .. dir .. "/deny-exec.lua" } })
            assert.matches("Operation not permitted", r.stderr)
            assert.matches("status 12[67]\n$", r.stdout)
        end)
    end)

    it("counts the whole process tree with count.lua, once, its execs included", function()
        local r = run({ busybox("x86_64"), "sh", "-c", "cat " .. HELLO .. " | wc -c" },
                      { arch = "x86_64", script = CWD .. "/scripts/count.lua" })
        assert.are.equal(0, r.status, r.stderr)
        local _, tables = r.stderr:gsub("%% time", "")
        assert.are.equal(1, tables, r.stderr)
        assert.matches("\n[^\n]* 2 +execve\n", r.stderr)
        assert.matches("\n[^\n]* 3 +exit_group\n", r.stderr)
    end)
end)
