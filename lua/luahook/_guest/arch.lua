-- The guest architecture's facts as data: the tables generated from its
-- kernel UAPI headers (syscalls, errno, signals, constants; see
-- tools/gen_arch.lua) and, by hand because no header states them, the
-- registers its syscall ABI gives each role. A new architecture is a new
-- row here and a generated module, not branches elsewhere.
local context = require "luahook._core.context"

local arch = {}

-- Names from `from` to `to` with a prefix, then any names given:
-- range("x", 0, 2, "sp") = { "x0", "x1", "x2", "sp" }.
local function range(prefix, from, to, ...)
    local names = {}
    for i = from, to do names[#names + 1] = prefix .. i end
    for _, name in ipairs({ ... }) do names[#names + 1] = name end
    return names
end

-- The syscall ABI's registers by role, in QEMU's gdb names: the number,
-- the arguments in order, the result, the program counter and the stack
-- pointer; the general registers the REPL's regs() prints; and whether a
-- 64-bit argument of a 32-bit guest starts at an even register (arm EABI,
-- mips o32), a pad register before it if need be. mips o32
-- passes arguments 5 and up on the stack (at sp+16), so it has four
-- argument registers (QEMU gives plugins no mips registers, see
-- docs/api.md, but the roles are the ABI's all the same).
local MIPS = { nr = "r2", args = { "r4", "r5", "r6", "r7" }, ret = "r2", pc = "pc", sp = "r29",
               general = range("r", 0, 31, "pc"), aligned_pairs = true }
local ROLES = {
    i386 = { nr = "eax", args = { "ebx", "ecx", "edx", "esi", "edi", "ebp" }, ret = "eax",
             pc = "eip", sp = "esp",
             general = { "eax", "ebx", "ecx", "edx", "esi", "edi", "ebp", "esp", "eip", "eflags" } },
    x86_64 = { nr = "rax", args = { "rdi", "rsi", "rdx", "r10", "r8", "r9" }, ret = "rax",
               pc = "rip", sp = "rsp",
               general = { "rax", "rbx", "rcx", "rdx", "rsi", "rdi", "rbp", "rsp", "r8", "r9",
                           "r10", "r11", "r12", "r13", "r14", "r15", "rip", "eflags" } },
    aarch64 = { nr = "x8", args = range("x", 0, 5), ret = "x0", pc = "pc", sp = "sp",
                general = range("x", 0, 30, "sp", "pc", "cpsr") },
    arm = { nr = "r7", args = range("r", 0, 5), ret = "r0", pc = "pc", sp = "sp",
            general = range("r", 0, 12, "sp", "lr", "pc", "cpsr"), aligned_pairs = true },
    riscv64 = { nr = "a7", args = range("a", 0, 5), ret = "a0", pc = "pc", sp = "sp",
                general = { "ra", "sp", "gp", "tp", "t0", "t1", "t2", "fp", "s1", "a0", "a1",
                            "a2", "a3", "a4", "a5", "a6", "a7", "s2", "s3", "s4", "s5", "s6",
                            "s7", "s8", "s9", "s10", "s11", "t3", "t4", "t5", "t6", "pc" } },
    mips = MIPS,
    mipsel = MIPS,
}

-- Constants the kernel's UAPI headers do not give, or give through sizeof,
-- which the generator leaves out: mips defines its socket types outside
-- UAPI, SOCK_NONBLOCK is its O_NONBLOCK, and its _IOR('t', 104, struct
-- winsize) and _IOW('t', 103, ...) put the direction in bits 29-31.
local MIPS_CONSTANTS = { SOCK_DGRAM = 1, SOCK_STREAM = 2, SOCK_NONBLOCK = 0x80,
                         TIOCGWINSZ = 0x40087468, TIOCSWINSZ = 0x80087467 }
local HAND_CONSTANTS = { mips = MIPS_CONSTANTS, mipsel = MIPS_CONSTANTS }

--- The generated data of architecture `name` (default the guest's):
--- { syscalls = {nr = name}, errno = {{name, nr}}, signals = ..., constants = ... }.
---@param name? string
---@return table
function arch.data(name)
    return require("luahook.gen.arch_" .. (name or context.arch))
end

--- The guest's constants by name: the generated ones and the few above.
---@return table<string, integer|ffi.cdata*>
function arch.constants()
    local all = {}
    for name, v in pairs(arch.data().constants) do all[name] = v end
    for name, v in pairs(HAND_CONSTANTS[context.arch] or {}) do all[name] = v end
    return all
end

--- The guest's registers by syscall role: { nr=, args={...}, ret=, pc=, sp= }.
arch.roles = ROLES[context.arch]

--- The names of every architecture the plugin runs.
arch.names = { "i386", "x86_64", "aarch64", "arm", "riscv64", "mips", "mipsel" }

return arch
