-- Runs guest programs under the reference QEMU with luahook, for the
-- end-to-end specs. Paths are relative to the repository root, where
-- spec/run starts busted.
local qemu = {}

qemu.build = os.getenv("LUAHOOK_BUILD") or "build"
qemu.plugin = qemu.build .. "/luahook.so"

--- `s` quoted for the shell.
local function quote(s)
    return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- The contents of a file, or nil if it cannot be read.
local function slurp(path)
    local f = io.open(path, "rb")
    if not f then return nil end
    local data = f:read("*a")
    f:close()
    return data
end

--- Writes `text` to the file `path`.
local function write_file(path, text)
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
end

--- Runs a shell command; returns its stdout and stderr together, and its
--- exit status.
local function sh(cmd)
    local out, code = os.tmpname(), os.tmpname()
    os.execute(string.format("{ %s; } >%s 2>&1; echo $? >%s", cmd, out, code))
    local text, status = slurp(out), tonumber(slurp(code))
    os.remove(out)
    os.remove(code)
    return text, status
end

qemu.quote, qemu.slurp, qemu.write_file, qemu.sh = quote, slurp, write_file, sh

--- Path of a spec guest: guest("getpid") is i386, guest("getpid", "x86_64")
--- (or "aarch64", ...: any architecture of tools/guest-arches).
function qemu.guest(name, arch)
    if arch and arch ~= "i386" then
        return qemu.build .. "/spec/guests/" .. name .. "." .. arch
    end
    return qemu.build .. "/spec/guests/" .. name
end

--- The guest architectures of tools/guest-arches, in its order: { qemu =
--- "aarch64", debian = "arm64", triplet = "aarch64-linux-gnu" }, ...
function qemu.arches()
    local list = {}
    for line in io.lines("tools/guest-arches") do
        local name, debian, triplet = line:match("^(%w[%w_]*)%s+(%S+)%s+(%S+)")
        if name then
            list[#list + 1] = { qemu = name, debian = debian, triplet = triplet }
        end
    end
    return list
end

--- The guest architectures' QEMU names, in tools/guest-arches' order.
function qemu.arch_names()
    local names = {}
    for i, a in ipairs(qemu.arches()) do names[i] = a.qemu end
    return names
end

--- The word size of guest architecture `arch`, in bytes.
function qemu.word_size(arch)
    return ({ x86_64 = 8, aarch64 = 8, riscv64 = 8 })[arch] or 4
end

--- A fresh temporary path (the file does not exist).
function qemu.tmppath()
    local path = os.tmpname()
    os.remove(path)
    return path
end

--- Writes `source` to a temporary .lua file and returns its path.
function qemu.script(source)
    local path = qemu.tmppath() .. ".lua"
    local f = assert(io.open(path, "w"))
    f:write(source)
    f:close()
    return path
end

-- The shell command for opts (see qemu.run), and the temporary script to
-- remove afterwards.
local function command(opts)
    local arch = opts.arch or "i386"
    local cmd = { quote(qemu.build .. "/qemu/bin/qemu-" .. arch) }
    for _, a in ipairs(opts.qemu_args or {}) do cmd[#cmd + 1] = quote(a) end
    local script = opts.script
    local temp_script
    if opts.lua then
        temp_script = qemu.script(opts.lua)
        script = temp_script
    end
    if opts.plugin ~= false then
        -- opts.plugin: another build of the plugin, or false for none
        local parts = { type(opts.plugin) == "string" and opts.plugin or qemu.plugin }
        if script then parts[#parts + 1] = "script=" .. script end
        for _, a in ipairs(opts.plugin_args or {}) do parts[#parts + 1] = a end
        cmd[#cmd + 1] = "-plugin " .. quote(table.concat(parts, ","))
    end
    if opts.strace then cmd[#cmd + 1] = "-strace -D " .. quote(opts.strace) end
    cmd[#cmd + 1] = quote(opts.program or qemu.guest(opts.guest, arch))
    for _, a in ipairs(opts.args or {}) do cmd[#cmd + 1] = quote(a) end
    return table.concat(cmd, " "), temp_script
end

--- Starts a guest in the background (opts as for qemu.run, plus
--- wrap = "setsid -w" and the like, prepended to the command); returns a
--- job for qemu.finish.
function qemu.start(opts)
    local cmd, temp_script = command(opts)
    local job = { out = os.tmpname(), err = os.tmpname(), code = qemu.tmppath(),
                  temp_script = temp_script }
    -- the outer braces keep the shell's own "Segmentation fault" notices quiet
    os.execute(string.format("{ (%s %s) </dev/null >%s 2>%s; echo $? >%s.tmp; mv %s.tmp %s; } 2>/dev/null &",
                             opts.wrap or "", cmd, job.out, job.err, job.code, job.code, job.code))
    return job
end

--- Waits (at most `timeout` seconds, default 30) for a job to end; returns
--- { stdout, stderr, status } (status nil if it did not end in time).
function qemu.finish(job, timeout)
    local deadline = os.time() + (timeout or 30)
    local function ended()
        local f = io.open(job.code)
        if f then f:close() end   -- an open handle would leak into later guests
        return f ~= nil
    end
    while not ended() and os.time() <= deadline do
        os.execute("sleep 0.05")
    end
    local done = ended()
    local result = {
        stdout = slurp(job.out),
        stderr = slurp(job.err),
        status = done and tonumber(slurp(job.code)) or nil,
    }
    os.remove(job.out); os.remove(job.err); os.remove(job.code)
    if job.temp_script then os.remove(job.temp_script) end
    return result
end

--- Runs a guest. opts:
---   guest = "getpid"     spec guest name (or program = path)
---   arch = "i386"        or "x86_64", "aarch64", ... (tools/guest-arches)
---   args = {...}         guest arguments
---   lua = "source"       script text (or script = path)
---   plugin_args = {...}  extra plugin arguments ("key=value")
---   plugin = false       run bare QEMU, without luahook
---   qemu_args = {...}    QEMU's own options, before -plugin ("-L", SYSROOT)
---   strace = PATH        add QEMU's -strace, logging to PATH
--- Returns { stdout, stderr, status }.
function qemu.run(opts)
    local cmd, temp_script = command(opts)
    local out, err, code = os.tmpname(), os.tmpname(), os.tmpname()
    -- the outer braces keep the shell's own "Segmentation fault" notices quiet
    os.execute(string.format("{ (%s %s) </dev/null >%s 2>%s; echo $? >%s; } 2>/dev/null",
                             opts.wrap or "", cmd, out, err, code))
    local result = {
        stdout = slurp(out),
        stderr = slurp(err),
        status = tonumber(slurp(code)),
    }
    os.remove(out); os.remove(err); os.remove(code)
    if temp_script then os.remove(temp_script) end
    return result
end

--- The lines of a string, as a list.
function qemu.lines(s)
    local t = {}
    for line in s:gmatch("[^\n]+") do t[#t + 1] = line end
    return t
end

return qemu
