-- scripts/sandbox.lua against the `escape` guest, which tries the moves a
-- program makes to reach files and the network it should not, by every
-- syscall that can do it, and against guests that race it from other
-- threads. Each runs in a fresh directory tree:
--   ok/                     allowed: file, out -> ../secret/file, dir -> secret,
--                           dangling -> secret/new, alias (a hard link to secret/file,
--                           made before the run)
--   secret/                 denied: file, other, prog (an executable), link -> file
local qemu = require "helpers.qemu"

local EPERM, EACCES, ENOENT = 1, 13, 2

local function sh(cmd)
    assert(os.execute(cmd) == 0, cmd)
end

local function make_tree()
    local root = qemu.tmppath()
    sh(table.concat({
        "mkdir -p " .. root .. "/ok " .. root .. "/secret",
        "echo ok >" .. root .. "/ok/file",
        "echo secret >" .. root .. "/secret/file",
        "echo other >" .. root .. "/secret/other",
        "cp /bin/true " .. root .. "/secret/prog",
        "ln -s file " .. root .. "/secret/link",
        "ln -s ../secret/file " .. root .. "/ok/out",
        "ln -s " .. root .. "/secret " .. root .. "/ok/dir",
        "ln -s " .. root .. "/secret/new " .. root .. "/ok/dangling",
        "ln " .. root .. "/secret/file " .. root .. "/ok/alias",
    }, " && "))
    return root
end

local function write_policy(root, text)
    local path = root .. "/policy.lua"
    local f = assert(io.open(path, "w"))
    f:write(text)
    f:close()
    return path
end

-- The attempts and what each gives under the deny-list policy below; "@"
-- stands for the tree's root. The guest starts in ok/; the attempts that
-- change the tree come last, so that without the sandbox every one of
-- them works (see "lets each of those attempts through").
local ATTEMPTS = {
    { "chdir:@/ok", "ok" },
    -- allowed work inside ok/
    { "open:file", "ok" }, { "openat:file", "ok" }, { "openat2:file", "ok" },
    { "creat:@/ok/new", "ok" }, { "stat:file", "ok" }, { "lstat:out", "ok" },
    { "statx:file", "ok" }, { "access:file", "ok" }, { "readlink:out", "ok" },
    { "symlink:file:inner", "ok" }, { "rename:new:renamed", "ok" },
    { "link:file:hard", "ok" }, { "mkdir:sub", "ok" }, { "unlink:renamed", "ok" },
    { "socket:unix", "ok" },
    -- every way to read a denied file: "..", symlinks, repeated slashes
    { "open:../secret/file", "errno 13" },
    { "openat:@/ok/../secret/file", "errno 13" },
    { "openat2:out", "errno 13" },
    { "stat:out", "errno 13" },
    -- a hard link made before the run is the denied file, whatever its name
    { "open:alias", "errno 13" }, { "openat2:alias", "errno 13" }, { "stat:alias", "errno 13" },
    { "statx:alias", "errno 13" }, { "fstatat:alias", "errno 13" }, { "access:alias", "errno 13" },
    { "lstat:../secret/file", "errno 13" },
    { "statx:dir/file", "errno 13" },
    { "fstatat:out", "errno 13" },
    { "access:@//secret///file", "errno 13" },
    { "readlink:dir/../secret/link", "errno 13" },
    { "connect:../secret/sock", "errno 13" },
    { "chdir:../secret", "errno 13" },
    -- relative paths after a chdir start from the new directory
    { "chdir:..", "ok" },
    { "open:secret/file", "errno 13" },
    { "open:ok/file", "ok" },
    { "socket:inet", "errno 1" },
    { "socket:inet6", "errno 1" },
    { "open:/etc/shadow", "errno 13" },
    -- every way to change the denied tree, or to reach it from ok/
    { "creat:@/secret/new", "errno 13" },
    { "creat:ok/dangling", "errno 13" },
    { "truncate:ok/alias", "errno 13" },
    { "link:ok/alias:ok/hard3", "errno 13" },
    { "linkfollow:ok/out:ok/hard4", "errno 13" },
    { "renameat2:ok/dir/link:ok/taken", "errno 13" },
    { "exchange:ok/dir/other:ok/alias", "errno 13" },
    { "rename:ok/alias:ok/renamed", "errno 13" },
    { "truncate:ok/out", "errno 13" },
    { "mkdir:ok/../secret/d", "errno 13" },
    { "unlink:secret/other", "errno 13" },
    { "link:ok/file:ok/dir/hard", "errno 13" },
    { "link:secret/file:ok/hard2", "errno 13" },
    { "symlink:@/secret/file:ok/to_secret", "errno 13" },
    { "symlink:../secret:ok/to_dir", "errno 13" },
    { "rename:ok/file:secret/moved", "errno 13" },
    { "rename:secret/file:ok/stolen", "errno 13" },
    { "execve:@/secret/prog", "errno 13" },
}

local DENY_LIST = [[
return {
    paths = { deny = { "@/secret", "/etc/shadow" } },
    network = { deny = { "AF_INET", "AF_INET6" } },
}
]]

local function attempts_for(root, arch, list)
    local args, expected = {}, {}
    for _, a in ipairs(list) do
        local op = a[1]:gsub("@", root)
        args[#args + 1] = op
        expected[#expected + 1] = op .. " = " .. a[2]
    end
    if arch == "i386" then
        -- before the execve, which must stay last
        for _, a in ipairs({ { "socketcall:unix", "ok" }, { "socketcall:inet", "errno 1" } }) do
            table.insert(args, #args, a[1])
            table.insert(expected, #expected, a[1] .. " = " .. a[2])
        end
    end
    return args, expected
end

local function run_sandboxed(root, arch, args, policy_text, guest)
    local policy = write_policy(root, (policy_text:gsub("@", root)))
    local with_root = {}
    for i, a in ipairs(args) do with_root[i] = a:gsub("@", root) end
    return qemu.run { arch = arch, guest = guest or "escape", args = with_root,
                      script = "scripts/sandbox.lua", plugin_args = { "policy=" .. policy } }
end

describe("sandbox.lua", function()
    local root
    before_each(function() root = make_tree() end)
    after_each(function() os.execute("rm -rf " .. root) end)

    it("fails closed: a fault of its own refuses the call, reported once", function()
        -- the sandbox as a module, with a part it judges every call with broken
        local policy = write_policy(root, ([[ return { paths = { deny = { "@/secret" } } } ]]):gsub("@", root))
        local function run(broken)
            return qemu.run { guest = "opener", args = { root .. "/ok/file", root .. "/ok/file" },
                              plugin_args = { "policy=" .. policy }, lua = (broken and [[
                require("luahook.multiplex").is_multiplexer = function() error("broken") end
            ]] or "") .. [[ dofile("scripts/sandbox.lua") ]] }
        end
        local working, broken = run(false), run(true)
        assert.are.equal(root .. "/ok/file ok\n" .. root .. "/ok/file ok\n", working.stdout)
        assert.are.equal(0, broken.status, broken.stderr)
        assert.are.equal(root .. "/ok/file errno=1\n" .. root .. "/ok/file errno=1\n", broken.stdout)
        -- the first failure in full (glibc's start-up makes a checked call
        -- before the opens), then how many more
        local _, reports = broken.stderr:gsub("failed on %w+: [^\n]*broken", "")
        assert.are.equal(1, reports, broken.stderr)
        assert.matches("failed %d+ more times\n", broken.stderr)
    end)

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("denies every escape attempt and allows the rest on " .. arch, function()
            local args, expected = attempts_for(root, arch, ATTEMPTS)
            local r = run_sandboxed(root, arch, args, DENY_LIST)
            assert.are.equal(0, r.status, r.stderr)
            assert.are.same(expected, qemu.lines(r.stdout))
        end)

        it("logs each denied call on " .. arch, function()
            local args, expected = attempts_for(root, arch, ATTEMPTS)
            local r = run_sandboxed(root, arch, args, DENY_LIST)
            local denied = 0
            for _, line in ipairs(expected) do
                if line:match("errno") then denied = denied + 1 end
            end
            local logged = qemu.lines(r.stderr)
            assert.are.equal(denied, #logged, r.stderr)
            for _, line in ipairs(logged) do
                assert.matches("^sandbox: denied ", line)
            end
        end)
    end

    it("lets each of those attempts through without the sandbox", function()
        local args = attempts_for(root, "i386", ATTEMPTS)
        local r = qemu.run { guest = "escape", args = args, plugin = false }
        for line in r.stdout:gmatch("[^\n]+") do
            -- the socket file does not exist
            if not line:match("^connect:") then
                assert.matches(" = ok$", line)
            end
        end
        -- the execve ran the program (it printed nothing more)
        assert.is_nil(r.stdout:match("execve:"))
    end)

    it("names the call, the path and where it leads in the log", function()
        local r = run_sandboxed(root, "i386", { "chdir:" .. root .. "/ok", "openat2:out",
                                                "openat:/etc/shadow", "socket:inet",
                                                "socketcall:inet" }, DENY_LIST)
        assert.are.same({
            'sandbox: denied openat2("out") -> ' .. root .. "/secret/file",
            'sandbox: denied openat("/etc/shadow")',
            "sandbox: denied socket(AF_INET)",
            "sandbox: denied socket(AF_INET) via socketcall",
        }, qemu.lines(r.stderr))
    end)

    it("starts relative paths of *at() calls from their directory fd", function()
        local r = run_sandboxed(root, "i386", { "atdir:" .. root .. "/ok:../secret/file",
                                                "atdir:" .. root .. "/ok:file",
                                                "atdir:" .. root .. "/secret:/etc/passwd" },
                                [[ return { paths = { deny = { "@/secret" } } } ]])
        assert.are.same({ "atdir:" .. root .. "/ok:../secret/file = errno 13",
                          "atdir:" .. root .. "/ok:file = ok",
                          "atdir:" .. root .. "/secret:/etc/passwd = errno 13" }, qemu.lines(r.stdout))
    end)

    it("keeps openat2's RESOLVE_IN_ROOT paths inside their root, as the kernel does", function()
        -- ".." stops at the root ok/, so ../sub/f is ok/sub/f
        sh("mkdir " .. root .. "/ok/sub && echo f >" .. root .. "/ok/sub/f")
        local r = run_sandboxed(root, "x86_64", { "inroot:" .. root .. "/ok:../sub/f",
                                                  "inroot:" .. root .. "/ok:/file" },
                                [[ return { paths = { deny = { "@/ok/sub" } } } ]])
        assert.are.same({ "inroot:" .. root .. "/ok:../sub/f = errno 13",
                          "inroot:" .. root .. "/ok:/file = ok" }, qemu.lines(r.stdout))
    end)

    it("makes i386's socketcall as the direct call and gives the guest its registers back", function()
        -- the connect's arguments lie in memory another thread could change
        local r = run_sandboxed(root, "i386", { "callregs:" .. root .. "/ok/sock", "callregs:" .. root .. "/secret/sock" },
                                DENY_LIST)
        assert.are.same({ "callregs:" .. root .. "/ok/sock = ok", "callregs:" .. root .. "/secret/sock = ok" },
                        qemu.lines(r.stdout))
        assert.are.same({ 'sandbox: denied connect("' .. root .. '/secret/sock")' }, qemu.lines(r.stderr))
    end)

    it("denies chroot and the calls that change what paths mean under a paths policy", function()
        local r = run_sandboxed(root, "x86_64", { "chroot:" .. root .. "/ok" },
                                [[ return { paths = { deny = { "@/secret" } } } ]])
        assert.are.same({ "chroot:" .. root .. "/ok = errno " .. EPERM }, qemu.lines(r.stdout))
        assert.are.same({ "sandbox: denied chroot (a paths policy cannot judge it)" },
                        qemu.lines(r.stderr))
    end)

    it("allows only the listed paths under paths.default = deny", function()
        local r = run_sandboxed(root, "i386", {
            "open:" .. root .. "/ok/file", "open:/etc/passwd", "open:" .. root .. "/ok/out",
            "stat:" .. root .. "/ok/../ok/file", "chdir:/",
        }, [[ return { paths = { default = "deny", allow = { "@/ok" } } } ]])
        assert.are.same({
            "open:" .. root .. "/ok/file = ok",
            "open:/etc/passwd = errno 13",
            "open:" .. root .. "/ok/out = errno 13",
            "stat:" .. root .. "/ok/../ok/file = ok",
            "chdir:/ = errno 13",
        }, qemu.lines(r.stdout))
    end)

    it("lets the longest matching prefix decide", function()
        sh("rm " .. root .. "/ok/alias") -- else secret/file has a name under the denied root
        local r = run_sandboxed(root, "x86_64", {
            "open:" .. root .. "/secret/file", "open:" .. root .. "/ok/file",
        }, [[ return { paths = { deny = { "@" }, allow = { "@/secret" } } } ]])
        assert.are.same({ "open:" .. root .. "/secret/file = ok",
                          "open:" .. root .. "/ok/file = errno 13" }, qemu.lines(r.stdout))
    end)

    it("denies syscalls by name, also through socketcall", function()
        local r = run_sandboxed(root, "i386", { "socket:unix", "socketcall:unix", "open:/etc/passwd" },
                                [[ return { syscalls = { deny = { "socket" } } } ]])
        assert.are.same({ "socket:unix = errno 1", "socketcall:unix = errno 1",
                          "open:/etc/passwd = ok" }, qemu.lines(r.stdout))
        assert.are.same({ "sandbox: denied socket", "sandbox: denied socket via socketcall" },
                        qemu.lines(r.stderr))
    end)

    it("denies syscalls by class, a name listed beating the class", function()
        local r = run_sandboxed(root, "x86_64", { "stat:/etc/passwd", "statx:/etc/passwd",
                                                  "open:/etc/passwd" },
                                [[ return { syscalls = { deny = { "%%stat" }, allow = { "statx" } } } ]])
        assert.are.same({ "stat:/etc/passwd = errno 1", "statx:/etc/passwd = ok",
                          "open:/etc/passwd = ok" }, qemu.lines(r.stdout))
    end)

    it("allows only the listed syscalls under syscalls.default = deny", function()
        local r = run_sandboxed(root, "i386", { "open:/etc/passwd", "socket:unix" },
                                [[ return { syscalls = { default = "deny",
                                    allow = { "%process", "%memory", "%creds", "%signal", "write",
                                              "open", "close", "statx", "uname", "brk",
                                              "set_thread_area", "set_tid_address",
                                              "set_robust_list", "rseq", "readlink",
                                              "getrandom", "ugetrlimit", "mprotect" } } } ]])
        assert.are.equal(0, r.status, r.stderr)
        assert.are.same({ "open:/etc/passwd = ok", "socket:unix = errno 1" }, qemu.lines(r.stdout))
    end)

    it("returns the errno the policy chooses", function()
        local r = run_sandboxed(root, "i386", { "open:" .. root .. "/secret/file", "socket:inet" },
                                [[ return { paths = { deny = { "@/secret" } }, path_errno = "ENOENT",
                                            network = { default = "deny" }, errno = 13 } ]])
        assert.are.same({ "open:" .. root .. "/secret/file = errno " .. ENOENT,
                          "socket:inet = errno " .. EACCES }, qemu.lines(r.stdout))
    end)

    it("is quiet with log = false", function()
        local r = run_sandboxed(root, "i386", { "open:" .. root .. "/secret/file" },
                                [[ return { paths = { deny = { "@/secret" } }, log = false } ]])
        assert.are.same({ "open:" .. root .. "/secret/file = errno " .. EACCES }, qemu.lines(r.stdout))
        assert.are.equal("", r.stderr)
    end)

    it("allows a network family under network.default = deny", function()
        local r = run_sandboxed(root, "i386", { "socket:unix", "socket:inet" },
                                [[ return { network = { default = "deny", allow = { "AF_UNIX" } } } ]])
        assert.are.same({ "socket:unix = ok", "socket:inet = errno " .. EPERM }, qemu.lines(r.stdout))
    end)

    it("runs the example program unharmed under the example policy", function()
        local r = qemu.run { program = qemu.build .. "/examples/hello", script = "scripts/sandbox.lua",
                             plugin_args = { "policy=examples/sandbox-policy.lua" } }
        assert.are.equal(0, r.status)
        assert.matches("I wrote and read back: hello from a guest program", r.stdout, 1, true)
        assert.are.equal("", r.stderr)
    end)

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("denies secrets and their backups, QEMU's memory, the network and exec under the example policy on "
           .. arch, function()
            local r = qemu.run { arch = arch, guest = "escape", script = "scripts/sandbox.lua",
                                 args = { "open:/etc/passwd", "open:/etc/shadow", "open:/etc/shadow-",
                                          "open:/etc/gshadow", "open:/etc/gshadow-", "open:/proc/self/mem",
                                          "socket:inet", "execve:/bin/true" },
                                 plugin_args = { "policy=examples/sandbox-policy.lua" } }
            local denied = "errno " .. EACCES
            assert.are.same({ "open:/etc/passwd = ok", "open:/etc/shadow = " .. denied,
                              "open:/etc/shadow- = " .. denied, "open:/etc/gshadow = " .. denied,
                              "open:/etc/gshadow- = " .. denied, "open:/proc/self/mem = " .. denied,
                              "socket:inet = errno " .. EPERM, "execve:/bin/true = errno " .. EPERM },
                            qemu.lines(r.stdout))
        end)
    end

    it("denies a file under every name once one of them lies under a denied directory", function()
        local r = run_sandboxed(root, "x86_64", {
            "open:" .. root .. "/secret/file", "open:" .. root .. "/ok/alias",
        }, [[ return { paths = { deny = { "@/ok" }, allow = { "@/ok/file" } } } ]])
        assert.are.same({ "open:" .. root .. "/secret/file = errno 13",
                          "open:" .. root .. "/ok/alias = errno 13" }, qemu.lines(r.stdout))
    end)

    it("takes a policy path that is a symlink for the link and its target", function()
        sh("ln -s " .. root .. "/secret " .. root .. "/hidden")
        local r = run_sandboxed(root, "i386", { "lstat:" .. root .. "/hidden", "open:" .. root .. "/secret/file",
                                                "lstat:" .. root .. "/ok/dir" },
                                [[ return { paths = { deny = { "@/hidden" } } } ]])
        assert.are.same({ "lstat:" .. root .. "/hidden = errno 13", "open:" .. root .. "/secret/file = errno 13",
                          "lstat:" .. root .. "/ok/dir = ok" }, qemu.lines(r.stdout))
    end)

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("knows the path arguments of every %file syscall on " .. arch, function()
            local r = qemu.run { arch = arch, guest = "getpid", lua = [[
                local lh = require "luahook"
                local classes = require "luahook._guest.classes"
                local paths = require "luahook.paths"
                for _, name in ipairs(classes.members("%file")) do
                    if lh.nr(name) and not paths.of(name) then print(name) end
                end
            ]] }
            -- getcwd's path is an output
            assert.are.equal("getcwd\n", r.stderr)
        end)
    end

    -- A bad policy: one line naming the problem, and the guest never runs.
    local function refused(what, policy_text, message)
        it("refuses " .. what, function()
            local r = run_sandboxed(root, "i386", { "open:/etc/passwd" }, policy_text)
            assert.are_not.equal(0, r.status)
            assert.are.equal("", r.stdout)
            assert.are.equal(1, #qemu.lines(r.stderr), r.stderr)
            assert.matches("^luahook: scripts/sandbox.lua:%d+: ", r.stderr)
            assert.matches(message:gsub("@", root), r.stderr, 1, true)
        end)
    end
    refused("an unknown key", [[ return { paht = {} } ]],
            "policy file @/policy.lua: unknown key 'paht' (known: errno, log, network, path_errno, paths, syscalls)")
    refused("an unknown key in a section", [[ return { paths = { alow = {} } } ]],
            "paths: unknown key 'alow' (known: allow, default, deny)")
    refused("a bad default", [[ return { syscalls = { default = "maybe" } } ]],
            "syscalls.default: expected \"allow\" or \"deny\", got maybe")
    refused("a relative path", [[ return { paths = { deny = { "/etc", "tmp" } } } ]],
            "paths.deny[2]: expected an absolute path, got 'tmp'")
    refused("an unknown syscall", [[ return { syscalls = { deny = { "opne" } } } ]],
            "syscalls.deny[1]: unknown syscall 'opne'")
    refused("an unknown class", [[ return { syscalls = { deny = { "%files" } } } ]],
            "syscalls.deny[1]: unknown syscall class '%files'")
    refused("an unknown address family", [[ return { network = { deny = { "AF_INTE" } } } ]],
            "network.deny[1]: unknown address family AF_INTE")
    refused("a path both allowed and denied", [[ return { paths = { allow = { "/tmp" }, deny = { "/tmp/" } } } ]],
            "paths.deny[1]: '/tmp/' is both allowed and denied")
    refused("an unknown errno", [[ return { errno = "EPREM" } ]], "errno: unknown errno name 'EPREM'")
    refused("a policy that is not a table", [[ return "deny" ]], "the file must return a table")
    refused("a syntax error", [[ return { paths = } ]], "policy file @/policy.lua:1:")
    refused("a policy that reaches for globals", [[ return { paths = { deny = { os.getenv("HOME") } } } ]],
            "attempt to index global 'os'")

    it("refuses a missing policy file", function()
        local r = qemu.run { guest = "escape", args = { "open:/etc/passwd" }, script = "scripts/sandbox.lua",
                             plugin_args = { "policy=/nonexistent/policy.lua" } }
        assert.are_not.equal(0, r.status)
        assert.are.equal("", r.stdout)
        assert.matches("^luahook: scripts/sandbox.lua:%d+: policy file cannot open /nonexistent/policy.lua: No such file or directory\n$",
                       r.stderr)
    end)

    it("refuses to start without policy=", function()
        local r = qemu.run { guest = "escape", args = { "open:/etc/passwd" }, script = "scripts/sandbox.lua" }
        assert.are_not.equal(0, r.status)
        assert.matches("missing option policy=FILE", r.stderr, 1, true)
    end)
end)

-- A tree with a denied file in a directory that is otherwise allowed.
local function make_pub_tree()
    local root = qemu.tmppath()
    sh(table.concat({
        "mkdir -p " .. root .. "/pub/inner",
        "echo public >" .. root .. "/pub/okay",
        "echo secret >" .. root .. "/pub/shhh",
        "echo secret >" .. root .. "/pub/inner/deep",
    }, " && "))
    return root
end

local PUB_POLICY = [[ return { paths = { deny = { "@/pub/shhh", "@/pub/inner/deep" } }, log = false } ]]

-- The example policy with this tree's secret added.
local function example_policy(root)
    local text = qemu.slurp("examples/sandbox-policy.lua")
    return (text:gsub('"/etc/sudoers",', '"/etc/sudoers", "' .. root .. '/pub/shhh",'))
end

describe("sandbox.lua against other threads and other names", function()
    local root
    before_each(function() root = make_pub_tree() end)
    after_each(function() os.execute("rm -rf " .. root) end)

    for _, arch in ipairs({ "i386", "x86_64" }) do
        it("judges a directory descriptor in the calling thread's own descriptor table on " .. arch, function()
            -- the thread's descriptor 3 is /etc, the main thread's is /tmp
            local r = qemu.run { arch = arch, guest = "fdtable", args = { "unshare", "/tmp", "/etc", "shadow" },
                                 script = "scripts/sandbox.lua",
                                 plugin_args = { "policy=examples/sandbox-policy.lua" } }
            assert.are.same({ "unshare = errno " .. EACCES }, qemu.lines(r.stdout))
            assert.are.same({ 'sandbox: denied openat("shadow") -> /etc/shadow' }, qemu.lines(r.stderr))
        end)

        it("resolves directory descriptors once the main thread has ended on " .. arch, function()
            for name, expected in pairs({ passwd = "ok", shadow = "errno " .. EACCES }) do
                local r = qemu.run { arch = arch, guest = "fdtable", args = { "orphan", "/etc", name },
                                     script = "scripts/sandbox.lua",
                                     plugin_args = { "policy=examples/sandbox-policy.lua" } }
                assert.are.same({ "orphan = " .. expected }, qemu.lines(r.stdout), r.stderr)
            end
        end)

        it("never opens the denied file while another thread rewrites the path, in 100 000 tries, on "
           .. arch, function()
            local r = run_sandboxed(root, arch, { "open", "100000", root .. "/pub/okay", root .. "/pub/shhh" },
                                    PUB_POLICY, "pathrace")
            local ok, secret = r.stdout:match("^open: (%d+) ok, (%d+) secret\n$")
            assert.is_truthy(ok, r.stdout .. r.stderr)
            assert.are.equal("0", secret)
            assert.is_true(tonumber(ok) > 0) -- the allowed name was opened meanwhile
        end)

        it("never stats the denied file while another thread rewrites the path on " .. arch, function()
            local inode = qemu.sh("stat -c %i " .. root .. "/pub/shhh"):match("%d+")
            local r = run_sandboxed(root, arch, { "stat", "20000", root .. "/pub/okay", root .. "/pub/shhh", inode },
                                    PUB_POLICY, "pathrace")
            local ok, secret = r.stdout:match("^stat: (%d+) ok, (%d+) secret\n$")
            assert.is_truthy(ok, r.stdout .. r.stderr)
            assert.are.equal("0", secret)
            assert.is_true(tonumber(ok) > 0)
        end)

        it("never connects to the denied socket while another thread rewrites the address on " .. arch, function()
            -- the denied socket listens in another program (Python), accepting
            local denied = root .. "/pub/nosock"
            local pidfile = root .. "/listener.pid"
            sh(string.format("python3 -c %s %s >/dev/null 2>&1 & echo $! >%s", qemu.quote(
                "import socket, sys\ns = socket.socket(socket.AF_UNIX)\ns.bind(sys.argv[1])\ns.listen(1024)\n"
                .. "while True:\n    s.accept()[0].close()\n"), denied, pidfile))
            for _ = 1, 100 do
                if qemu.sh("test -S " .. denied .. " && echo yes"):match("yes") then break end
                os.execute("sleep 0.05")
            end
            local r = run_sandboxed(root, arch, { "connect", "20000", root .. "/pub/oksock", denied },
                                    [[ return { paths = { deny = { "@/pub/nosock" } }, log = false } ]], "pathrace")
            os.execute("kill " .. qemu.slurp(pidfile))
            local ok, secret = r.stdout:match("^connect: (%d+) ok, (%d+) secret\n$")
            assert.is_truthy(ok, r.stdout .. r.stderr)
            assert.are.equal("0", secret)
            assert.is_true(tonumber(ok) > 0)
        end)

        it("makes names in the directory it judged while another thread replaces descriptors on "
           .. arch, function()
            -- the other thread puts a descriptor of pub/inner on the numbers the
            -- sandbox's own take: a name made there would be a denied one
            sh("mkdir " .. root .. "/pub/sub")
            local r = run_sandboxed(root, arch, { "mkdir", "5000", root .. "/pub/sub/x", root .. "/pub/inner" },
                                    [[ return { paths = { deny = { "@/pub/inner/x" } }, log = false } ]],
                                    "pathrace")
            assert.are.same({ "mkdir: 5000 ok, 0 secret" }, qemu.lines(r.stdout), r.stderr)
        end)

        it("refuses to rename a directory above a denied file, or the file itself, on " .. arch, function()
            local r = run_sandboxed(root, arch, {
                "rename:@/pub:@/moved", "renameat2:@/pub/inner:@/inner2", "exchange:@/pub:@/other",
                "rename:@/pub/shhh:@/stolen", "open:@/moved/shhh", "open:@/pub/shhh", "open:@/pub/okay",
                "rename:@/pub/okay:@/pub/fine",
            }, [[ return { paths = { deny = { "@/pub/shhh", "@/pub/inner/deep" } } } ]])
            local e = "errno " .. EACCES
            assert.are.same({
                "rename:" .. root .. "/pub:" .. root .. "/moved = " .. e,
                "renameat2:" .. root .. "/pub/inner:" .. root .. "/inner2 = " .. e,
                "exchange:" .. root .. "/pub:" .. root .. "/other = " .. e,
                "rename:" .. root .. "/pub/shhh:" .. root .. "/stolen = " .. e,
                "open:" .. root .. "/moved/shhh = errno " .. ENOENT,
                "open:" .. root .. "/pub/shhh = " .. e,
                "open:" .. root .. "/pub/okay = ok",
                "rename:" .. root .. "/pub/okay:" .. root .. "/pub/fine = ok",
            }, qemu.lines(r.stdout))
            assert.matches('sandbox: denied rename("' .. root .. '/pub"): it holds a denied entry', r.stderr, 1, true)
        end)

        it("judges a denied directory by what it is, whatever it is called by now, on " .. arch, function()
            -- the directory is renamed behind the sandbox's back, after the policy loaded
            local job = qemu.start { arch = arch, guest = "escape", script = "scripts/sandbox.lua",
                                     args = { "waitfor:" .. root .. "/go", "open:" .. root .. "/moved/deep",
                                              "open:" .. root .. "/moved/okay" },
                                     plugin_args = { "policy=" .. write_policy(root,
                                         (([[ return { paths = { deny = { "@/pub/inner" } } } ]]):gsub("@", root))) } }
            os.execute("sleep 0.3")
            sh("mv " .. root .. "/pub/inner " .. root .. "/moved && mv " .. root .. "/pub/okay " .. root
               .. "/moved/okay && touch " .. root .. "/go")
            local r = qemu.finish(job)
            assert.are.same({ "waitfor:" .. root .. "/go = ok",
                              "open:" .. root .. "/moved/deep = errno " .. EACCES,
                              "open:" .. root .. "/moved/okay = errno " .. EACCES }, qemu.lines(r.stdout))
        end)

        it("opens /proc/self/exe as the guest's own program, not QEMU, on " .. arch, function()
            -- the program lies where the example policy allows reading (/tmp)
            local program = root .. "/escape"
            sh("cp " .. qemu.guest("escape", arch) .. " " .. program)
            local r = qemu.run { arch = arch, program = program, script = "scripts/sandbox.lua",
                                 args = { "elf:/proc/self/exe" },
                                 plugin_args = { "policy=examples/sandbox-policy.lua" } }
            assert.are.same({ "elf:/proc/self/exe = machine " .. (arch == "i386" and 3 or 62) },
                            qemu.lines(r.stdout), r.stderr)
            assert.are.equal("", r.stderr)
        end)

        it("judges the file QEMU takes from under its -L prefix, as QEMU takes it, on " .. arch, function()
            sh("mkdir -p " .. root .. "/sysroot/etc && echo prefixed >" .. root .. "/sysroot/etc/hostname"
               .. " && echo plain >" .. root .. "/pub/plain")
            local function cat(path, policy_text)
                write_policy(root, (policy_text:gsub("@", root)))
                return qemu.run { arch = arch, guest = "cat", args = { path },
                                  wrap = "env QEMU_LD_PREFIX=" .. root .. "/sysroot",
                                  script = "scripts/sandbox.lua", plugin_args = { "policy=" .. root .. "/policy.lua" } }
            end
            assert.are.equal("prefixed\n", cat("/etc/hostname", PUB_POLICY).stdout)
            local denied = cat("/etc/hostname", [[ return { paths = { deny = { "@/sysroot/etc" } } } ]])
            assert.are.equal("", denied.stdout)
            assert.matches("open: Permission denied", denied.stderr, 1, true)
            -- a path with nothing under the prefix is the host's own
            assert.are.equal("plain\n", cat(root .. "/pub/plain", PUB_POLICY).stdout)
        end)

        it("refuses the /proc/self files QEMU makes up itself, which it cannot open for the guest, on "
           .. arch, function()
            local r = run_sandboxed(root, arch, { "open:/proc/self/maps", "open:/proc/self/cmdline",
                                                  "open:/proc/self/status" }, PUB_POLICY)
            assert.are.same({ "open:/proc/self/maps = errno " .. EACCES,
                              "open:/proc/self/cmdline = errno " .. EACCES,
                              "open:/proc/self/status = ok" }, qemu.lines(r.stdout))
        end)

        it("opens the two ends of a FIFO from two threads without either waiting forever on " .. arch, function()
            -- each open waits for the other: neither may hold luahook's lock meanwhile
            local job = qemu.start { arch = arch, guest = "escape", script = "scripts/sandbox.lua",
                                     args = { "fifo:" .. root .. "/pub/fifo" },
                                     plugin_args = { "policy=" .. write_policy(root,
                                         (PUB_POLICY:gsub("@", root))) } }
            local r = qemu.finish(job, 20)
            assert.are.equal(0, r.status, r.stderr)
            assert.are.same({ "fifo:" .. root .. "/pub/fifo = ok" }, qemu.lines(r.stdout))
        end)

    end

    -- also arm, mips and mipsel, whose open flags differ, and mips' statfs
    -- its own and big-endian (pathcalls needs the legacy calls aarch64 and
    -- riscv64 lack)
    for _, arch in ipairs({ "i386", "x86_64", "arm", "mips", "mipsel" }) do
        it("gives the guest what QEMU gives it, call for call, for every path-taking call on " .. arch, function()
            local dir = root .. "/calls"
            sh("mkdir -p " .. dir .. "/d " .. dir .. "/w && printf 'hello\\n' >" .. dir .. "/f && ln -s f "
               .. dir .. "/l && ln -s f " .. dir .. "/rl && echo r >" .. dir .. "/r")
            local bare = qemu.run { arch = arch, guest = "pathcalls", args = { dir }, plugin = false }
            local sandboxed = run_sandboxed(root, arch, { dir }, [[ return { paths = { deny = { "@/pub" } } } ]],
                                            "pathcalls")
            assert.are.equal(0, bare.status, bare.stdout)
            local expected = qemu.lines(bare.stdout)
            if arch == "mips" or arch == "mipsel" then
                -- no registers to make a socketcall the direct call: refused
                for i, line in ipairs(expected) do
                    expected[i] = line:gsub("^(socketcall connect w/dgram = ).*", "%1-1 errno 1")
                end
                assert.are.equal("sandbox: denied connect via socketcall (the sandbox cannot "
                                 .. "make it the direct call on " .. arch .. ")\n", sandboxed.stderr)
            else
                assert.are.equal("", sandboxed.stderr)
            end
            assert.are.same(expected, qemu.lines(sandboxed.stdout))
        end)
    end
end)
