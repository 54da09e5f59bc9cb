-- Guest stack traces and symbols (sc:backtrace, lh.symbol, trace.lua k=1)
-- through the reference QEMU: nested calls in programs linked statically
-- and dynamically, with and without debug information, on i386, x86_64
-- and aarch64 (on arm and riscv64 a syscall made in code built with -g);
-- strace -k on a native run as the reference for names; stripped
-- programs, corrupt stacks and a program that unmaps its own code.
local qemu = require "helpers.qemu"

local ARCHES = { "i386", "x86_64" }
local SYSROOT = "/usr/i686-linux-gnu"   -- Debian's i386 cross C library, for -L
-- aarch64 too, for the nested calls (the host's own loader serves x86_64)
local NESTED_SYSROOTS = { i386 = SYSROOT, aarch64 = "/usr/aarch64-linux-gnu" }
local SOURCE = "spec/guests/nested.c"

-- Prints the frames of the first openat of /dev/null (or of the path in
-- lh.args.path), one per line: symbol|module|file|line|offset|pc|fp.
local PRINT_FRAMES = [[
local lh = require "luahook"
local done = false
lh.on("openat", function(sc)
    if done or sc:string(2) ~= (lh.args.path or "/dev/null") then return end
    done = true
    local frames, err = sc:backtrace(tonumber(lh.args.max))
    if not frames then print("error: " .. err) return end
    for _, f in ipairs(frames) do
        print(string.format("%s|%s|%s|%s|%s|%d|%s", f.symbol or "", f.module or "", f.file or "",
                            f.line or "", f.offset or "", f.pc, f.fp and "fp" or ""))
    end
end)
]]

local function absolute(path)
    return (qemu.sh("realpath " .. qemu.quote(path)):gsub("\n$", ""))
end

-- The guest's frames (see PRINT_FRAMES), and the run.
local function frames_of(opts)
    local r = qemu.run { arch = opts.arch, guest = opts.guest, args = opts.args, lua = PRINT_FRAMES,
                         qemu_args = opts.qemu_args, plugin_args = opts.plugin_args }
    local frames = {}
    for line in r.stderr:gmatch("[^\n]+") do
        local symbol, module, file, lineno, offset, pc, fp =
            line:match("^([^|]*)|([^|]*)|([^|]*)|([^|]*)|([^|]*)|(%d+)|(%a*)$")
        if symbol then
            frames[#frames + 1] = { symbol = symbol ~= "" and symbol or nil,
                                    module = module ~= "" and module or nil,
                                    file = file ~= "" and file or nil, line = tonumber(lineno),
                                    offset = tonumber(offset), pc = tonumber(pc), fp = fp == "fp" }
        end
    end
    return frames, r
end

local function symbols(frames)
    local list = {}
    for i, f in ipairs(frames) do list[i] = f.symbol or "?" end
    return list
end

-- Where `name` is in the list of frames, or nil.
local function index_of(frames, name)
    for i, f in ipairs(frames) do
        if f.symbol == name then return i end
    end
end

-- The line of nested.c that holds `text`.
local function source_line(text)
    local n = 0
    for line in qemu.slurp(SOURCE):gmatch("[^\n]*\n") do
        n = n + 1
        if line:find(text, 1, true) then return n end
    end
end

local VARIANTS = {
    { "nested", "static" },
    { "nested.g", "static, with -g" },
    { "nested.dyn", "dynamically linked" },
    { "nested.dyn.g", "dynamically linked, with -g" },
}

describe("sc:backtrace", function()
    for _, arch in ipairs({ "i386", "x86_64", "aarch64" }) do
        for _, v in ipairs(VARIANTS) do
            local guest, what = v[1], v[2]
            it("shows inner, middle, outer and main in order at their openat, " .. what
               .. ", -O2 -fomit-frame-pointer, on " .. arch, function()
                local dynamic = guest:match("dyn")
                local frames, r = frames_of { arch = arch, guest = guest,
                                              qemu_args = dynamic and NESTED_SYSROOTS[arch]
                                                          and { "-L", NESTED_SYSROOTS[arch] } or nil }
                assert.are.equal(0, r.status, r.stderr)
                local names = table.concat(symbols(frames), " ")
                local at = index_of(frames, "inner")
                assert.is_not_nil(at, names)
                assert.are.same({ "inner", "middle", "outer", "main" },
                                { frames[at].symbol, frames[at + 1].symbol, frames[at + 2].symbol,
                                  frames[at + 3].symbol }, names)
                assert.are.equal("_start", frames[#frames].symbol, names)
                local program = absolute(qemu.guest(guest, arch))
                for i = at, at + 3 do
                    assert.are.equal(program, frames[i].module)
                    assert.is_false(frames[i].fp)       -- all found through CFI
                end
                -- the C library's openat comes first: from a shared library when dynamic
                assert.is_true(at >= 2, names)
                if dynamic then
                    assert.matches("/libc%.so%.6$", frames[at - 1].module)
                end
                if guest:match("%.g$") then
                    local expected = { source_line("openat(AT_FDCWD"), source_line("return inner("),
                                       source_line("return middle("), source_line("outer(argc") }
                    for i = 0, 3 do
                        assert.matches("nested%.c$", frames[at + i].file)
                        assert.are.equal(expected[i + 1], frames[at + i].line)
                    end
                else
                    assert.is_nil(frames[at].file)
                end
            end)
        end

        it("starts in the vDSO QEMU provides when the C library calls through it, on " .. arch, function()
            -- i386's C library makes its system calls through __kernel_vsyscall
            local frames = frames_of { arch = arch, guest = "nested" }
            if arch == "i386" then
                assert.are.equal("[vdso]", frames[1].module)
                assert.are.equal("__kernel_vsyscall", frames[1].symbol)
            else
                assert.are.equal(absolute(qemu.guest("nested", arch)), frames[1].module)
            end
        end)

        -- not aarch64: there libdw's walk of frame pointers without CFI
        -- gives the innermost frame twice (inner inner middle outer main)
        if arch ~= "aarch64" then
            it("marks the frames found by following frame pointers where there is no CFI, on " .. arch,
               function()
                local frames, r = frames_of { arch = arch, guest = "nested.fp" }
                assert.are.equal(0, r.status, r.stderr)
                local at = index_of(frames, "inner")
                local names = table.concat(symbols(frames), " ")
                assert.is_not_nil(at, names)
                assert.are.same({ "inner", "middle", "outer", "main" },
                                { frames[at].symbol, frames[at + 1].symbol, frames[at + 2].symbol,
                                  frames[at + 3].symbol }, names)
                -- the C library's openat has CFI, inner does not: what comes
                -- after inner was found by its frame pointer
                assert.is_false(frames[at].fp)
                for i = at + 1, at + 3 do assert.is_true(frames[i].fp, frames[i].symbol) end
            end)
        end

        it("gives module offsets for a stripped program, on " .. arch, function()
            local frames, r = frames_of { arch = arch, guest = "nested.strip" }
            assert.are.equal(0, r.status, r.stderr)
            local program = absolute(qemu.guest("nested.strip", arch))
            local own = 0
            for _, f in ipairs(frames) do
                if f.module == program then
                    own = own + 1
                    assert.is_nil(f.symbol)
                    -- not position-independent: the file's addresses are the guest's
                    assert.are.equal(f.pc, f.offset)
                end
            end
            -- openat's wrapper, inner, middle, outer, main and on: all unwound
            assert.is_true(own >= 6, "frames in the program: " .. own)
        end)
    end

    for _, arch in ipairs(ARCHES) do
        it("follows the libraries mapped after the first trace, on " .. arch, function()
            -- the first brk is the dynamic linker's, before it maps any library
            local r = qemu.run { arch = arch, guest = "nested.dyn",
                                 qemu_args = arch == "i386" and { "-L", SYSROOT } or nil,
                                 lua = PRINT_FRAMES .. [[
                local first = true
                lh.on("brk", function(sc)
                    if first then print("first: " .. sc:backtrace()[1].module) end
                    first = false
                end)
            ]] }
            assert.are.equal(0, r.status, r.stderr)
            assert.matches("first: [^\n]*/ld%-linux[^\n]*\n", r.stderr)
            assert.matches("\nopenat[^|]*|[^|]*/libc%.so%.6|", r.stderr)
            assert.matches("\ninner|", r.stderr)
        end)
    end

    -- arm and riscv64: libdw unwinds through DWARF CFI only, which Debian
    -- 12's C libraries there lack at their syscall wrappers (rawnested.c)
    for _, arch in ipairs({ "arm", "riscv64" }) do
        it("shows inner, middle, outer and main in order at an openat made in code with CFI, "
           .. "with file and line, on " .. arch, function()
            local frames, r = frames_of { arch = arch, guest = "rawnested" }
            assert.are.equal(0, r.status, r.stderr)
            local names = table.concat(symbols(frames), " ")
            assert.are.same({ "inner", "middle", "outer", "main" },
                            { frames[1].symbol, frames[2].symbol, frames[3].symbol, frames[4].symbol },
                            names)
            local program = absolute(qemu.guest("rawnested", arch))
            -- inner's line is not compared: the pc QEMU gives at a syscall is
            -- past the trap, in whatever line the compiler put next
            local expected = { nil, source_line("return inner("), source_line("return middle("),
                               source_line("outer(argc") }
            for i = 1, 4 do
                assert.are.equal(program, frames[i].module)
                assert.matches("nested%.c$", frames[i].file)
                if expected[i] then assert.are.equal(expected[i], frames[i].line) end
                assert.is_false(frames[i].fp)
            end
        end)
    end

    it("takes at most max frames", function()
        local frames = frames_of { arch = "x86_64", guest = "nested", plugin_args = { "max=3" } }
        assert.are.equal(3, #frames)
    end)

    it("refuses a max that is not a positive integer, naming the hook", function()
        local r = qemu.run { guest = "getpid", lua = [[
            local lh = require "luahook"
            lh.on("getpid", function(sc) sc:backtrace(0) end)
        ]] }
        assert.are.equal(0, r.status)
        assert.matches("hook registered at [^\n]+ failed on getpid: [^\n]*:2: backtrace%(%): max must "
                       .. "be a positive integer, got 0", r.stderr)
    end)
end)

describe("lh.symbol", function()
    it("names the function an address is in, and its module and source line", function()
        local r = qemu.run { arch = "x86_64", guest = "nested.g", lua = [[
            local lh = require "luahook"
            local outside = select(2, lh.symbol(0x401000))
            print("outside a hook: " .. tostring(outside))
            lh.on("openat", function(sc)
                if sc:string(2) ~= "/dev/null" then return end
                for _, f in ipairs(sc:backtrace()) do
                    if f.symbol == "inner" then
                        local s = lh.symbol(f.pc - f.offset)
                        print(s.symbol, s.offset, s.module == f.module, s.file, s.line)
                        s = lh.symbol(f.pc)
                        print(s.symbol, s.offset == f.offset)
                    end
                end
                local nothing = lh.symbol(16)
                print("unmapped:", nothing.pc, nothing.module, nothing.symbol)
            end)
        ]] }
        assert.are.equal(0, r.status, r.stderr)
        assert.matches("outside a hook: symbols are known only inside a hook\n", r.stderr, 1, true)
        -- the function's first instruction belongs to its first lines
        local line = tonumber(r.stderr:match("\ninner\t0\ttrue\t[^\t]*nested%.c\t(%d+)\n"))
        assert.is_true(line >= source_line("int inner(") and line < source_line("openat(AT_FDCWD"),
                       r.stderr)
        assert.matches("\ninner\ttrue\n", r.stderr)
        assert.matches("\nunmapped:\t16\tnil\tnil\n", r.stderr)
    end)
end)

-- The ` > ` lines after the openat of /dev/null in trace output.
local function stack_after_open(text)
    local lines, inside = {}, false
    for line in text:gmatch("[^\n]+") do
        if line:match('^openat%(AT_FDCWD, "/dev/null"') then
            inside = true
        elseif inside and line:match("^ > ") then
            lines[#lines + 1] = line
        elseif inside then
            break
        end
    end
    return lines
end

-- module, symbol+offset of a ` > module(symbol+0x1a) [0x...]` line.
local function parse_stack_line(line)
    return line:match("^ > (.-)%((.-)%) %[0x%x+%]")
end

describe("trace.lua k=1", function()
    for _, arch in ipairs(ARCHES) do
        it("prints the stack after each line, as strace -k does, on " .. arch, function()
            local r = qemu.run { arch = arch, guest = "nested", script = "scripts/trace.lua",
                                 plugin_args = { "k=1", "trace=openat" } }
            assert.are.equal(0, r.status, r.stderr)
            local program = absolute(qemu.guest("nested", arch))
            local stack = table.concat(stack_after_open(r.stderr), "\n")
            local pattern = {}
            for _, name in ipairs({ "inner", "middle", "outer", "main" }) do
                pattern[#pattern + 1] = " > " .. program:gsub("%p", "%%%0") .. "%(" .. name
                                        .. "%+0x%x+%) %[0x%x+%]"
            end
            assert.matches(table.concat(pattern, "\n"), stack)
        end)
    end

    -- strace -k's frames in the program itself (the C library's may be
    -- named differently: luahook reads its separate debug information
    -- when installed, strace only its dynamic symbols) must be luahook's,
    -- in order, from the first on.
    for _, guest in ipairs({ "nested.dyn", "nested" }) do
        it("names the program's frames as strace -k does on a native x86_64 run ("
           .. guest .. ")", function()
            local program = absolute(qemu.guest(guest, "x86_64"))
            local native = qemu.sh("strace -k -e trace=openat " .. qemu.quote(program) .. " 2>&1 >/dev/null")
            local r = qemu.run { arch = "x86_64", guest = guest, script = "scripts/trace.lua",
                                 plugin_args = { "k=1", "trace=openat" } }
            assert.are.equal(0, r.status, r.stderr)
            local function split(lines)
                local modules, own = {}, {}
                for i, line in ipairs(lines) do
                    local module, where = parse_stack_line(line)
                    modules[i] = module
                    if module == program then own[#own + 1] = where end
                end
                return modules, own
            end
            local their_modules, theirs = split(stack_after_open(native))
            local our_modules, ours = split(stack_after_open(r.stderr))
            assert.is_true(#theirs >= 1, native)
            for i, where in ipairs(theirs) do assert.are.equal(where, ours[i], native) end
            -- the same files, the C library's found through its mmap
            for i, module in ipairs(their_modules) do assert.are.equal(module, our_modules[i]) end
            -- and luahook's go on to main, where strace's might not
            local names = table.concat(ours, " ")
            for _, name in ipairs({ "inner", "middle", "outer", "main" }) do
                assert.matches(" " .. name .. "%+", " " .. names)
            end
        end)
    end

    it("finds the interpreter of a dynamically linked i386 program under -L or QEMU_LD_PREFIX",
       function()
        for _, how in ipairs({ { qemu_args = { "-L", SYSROOT } },
                               { wrap = "env QEMU_LD_PREFIX=" .. SYSROOT } }) do
            local r = qemu.run { guest = "nested.dyn", script = "scripts/trace.lua",
                                 plugin_args = { "k=1", "trace=brk" }, qemu_args = how.qemu_args,
                                 wrap = how.wrap }
            assert.are.equal(0, r.status, r.stderr)
            -- the dynamic linker's first call, before any library is loaded
            assert.matches("^brk%(NULL%) = 0x%x+\n > " .. SYSROOT:gsub("%p", "%%%0")
                           .. "/lib/ld%-linux%.so%.2%(", r.stderr)
        end
    end)

    it("gives the stack as a list in JSON", function()
        local r = qemu.run { arch = "x86_64", guest = "nested", script = "scripts/trace.lua",
                             plugin_args = { "k=1", "trace=openat", "json=1" } }
        assert.are.equal(0, r.status, r.stderr)
        local line = r.stderr:match('[^\n]*/dev/null[^\n]*')
        assert.matches(',"stack":%[".-%(inner%+0x%x+%) %[0x%x+%]",".-%(middle%+', line)
    end)
end)

describe("a stack gone wrong", function()
    for _, arch in ipairs(ARCHES) do
        for _, mode in ipairs({ "garbage", "unmapped" }) do
            it("ends the trace where the stack holds " .. mode .. ", on " .. arch, function()
                local frames, r = frames_of { arch = arch, guest = "badstack", args = { mode } }
                assert.are.equal(0, r.status, r.stderr)
                assert.matches("^" .. mode .. ": %d+\n$", r.stdout)    -- the open worked
                assert.are.same({ "openat_on" }, symbols(frames))
            end)
        end

        it("stops at max frames on a stack of endless frames, on " .. arch, function()
            local frames, r = frames_of { arch = arch, guest = "badstack", args = { "endless" } }
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal(64, #frames)
            frames = frames_of { arch = arch, guest = "badstack", args = { "endless" },
                                 plugin_args = { "max=100000" } }
            assert.are.equal(1024, #frames)
        end)

        it("ends the trace at code the program has unmapped, on " .. arch, function()
            -- asked for first after the munmap, and followed from the start
            local frames, r = frames_of { arch = arch, guest = "unmapper" }
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal("unmap_and_open", frames[#frames].symbol)
            local traced = qemu.run { arch = arch, guest = "unmapper", script = "scripts/trace.lua",
                                      plugin_args = { "k=1", "trace=openat" } }
            assert.are.equal(0, traced.status, traced.stderr)
            local stack = stack_after_open(traced.stderr)
            assert.matches("%(unmap_and_open%+0x%x+%)", stack[#stack])
            assert.is_nil(traced.stderr:match("caller"))
        end)
    end
end)

describe("stack traces and the guest's descriptors", function()
    it("leave the numbers the guest's next open gets as they would be", function()
        -- nested prints what follows from the descriptor its openat got
        for _, arch in ipairs(ARCHES) do
            local qemu_args = arch == "i386" and { "-L", SYSROOT } or nil
            local bare = qemu.run { arch = arch, guest = "nested.dyn", plugin = false, qemu_args = qemu_args }
            local r = qemu.run { arch = arch, guest = "nested.dyn", qemu_args = qemu_args, lua = [[
                luahook.on("*", function(sc) assert(sc:backtrace()) end)
            ]] }
            assert.are.equal(0, r.status, r.stderr)
            assert.are.equal(bare.stdout, r.stdout)
        end
    end)
end)

describe("the cost of stack traces", function()
    it("is nothing until one is asked for: no module is loaded, no call watched", function()
        local r = qemu.run { guest = "getpid", lua = [[
            local lh = require "luahook"
            local n = 0
            lh.on("getpid", function() n = n + 1 end)
            lh.on_exit(function()
                print(package.loaded["luahook.modmap"], package.loaded["luahook.backtrace"],
                      lh.stats().entries == n)
            end)
        ]] }
        assert.are.equal(0, r.status, r.stderr)
        assert.are.equal("nil\tnil\ttrue\n", r.stderr)
    end)
end)
