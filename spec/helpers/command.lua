-- Runs the luahook command as a user would, for the command's specs: an
-- argument list in, { stdout, stderr, status } out; in the foreground, or
-- in the background for specs that act while the guest runs.
local qemu = require "helpers.qemu"

local command = {}

command.build = qemu.build
command.luahook = command.build .. "/cmd/luahook"

local slurp = qemu.slurp
command.quote, command.write, command.slurp = qemu.quote, qemu.write_file, slurp

-- opts.env: "NAME=value ..." put before the command.
local function shell_line(argv, opts)
    local words = {}
    for i, a in ipairs(argv) do words[i] = command.quote(a) end
    local line = table.concat(words, " ")
    if opts.env then line = "env " .. opts.env .. " " .. line end
    return line
end

-- Runs argv, in the background or not; the job's files hold its results.
-- The outer braces keep the shell's "Killed" and "Segmentation fault" quiet;
-- the status file appears whole (mv), so finish never reads half of it.
local function launch(argv, opts, background)
    local job = { out = os.tmpname(), err = os.tmpname(), code = os.tmpname() }
    os.remove(job.code)
    os.execute(string.format("{ (%s) <%s >%s 2>%s; echo $? >%s.tmp; mv %s.tmp %s; } 2>/dev/null %s",
                             shell_line(argv, opts), opts.input or "/dev/null", job.out, job.err,
                             job.code, job.code, job.code, background and "&" or ""))
    return job
end

--- Starts `argv` (a list; argv[1] the program) in the background; returns a
--- job for command.finish. opts as for command.run.
function command.start(argv, opts)
    return launch(argv, opts or {}, true)
end

--- Waits at most `timeout` seconds for a job; returns { stdout, stderr,
--- status } (status nil if it did not end in time). Jobs have the shape of
--- qemu.start's, so qemu.finish serves both.
command.finish = qemu.finish

--- Runs `argv` to its end. opts: env = "NAME=value ...", input = FILE for
--- stdin (default /dev/null).
function command.run(argv, opts)
    return command.finish(launch(argv, opts or {}, false))
end

--- Runs the luahook command with the arguments given.
function command.luahook_run(...)
    return command.run({ command.luahook, ... })
end

return command
