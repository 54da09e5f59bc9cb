/*
 * Per-architecture facts the unwinder needs, as data: a new guest
 * architecture is a new row. DWARF register numbers are each psABI's;
 * names are QEMU's gdb names, as the guest ops take them. The program
 * counter is set on its own too (libdw wants it even where it is not a
 * DWARF register, as on RISC-V).
 */
#include <elf.h>
#include <string.h>

#include "unwind.h"

/* i386 psABI: eax, ecx, edx, ebx, esp, ebp, esi, edi, then the return
 * address column, which holds eip in the innermost frame. */
static const struct lh_unwind_reg i386_regs[] = {
    { 0, "eax" }, { 1, "ecx" }, { 2, "edx" }, { 3, "ebx" },
    { 4, "esp" }, { 5, "ebp" }, { 6, "esi" }, { 7, "edi" },
    { 8, "eip" },
    { 0, NULL },
};

/* x86-64 psABI: rax, rdx, rcx, rbx, rsi, rdi, rbp, rsp, r8-r15, then the
 * return address column (rip). */
static const struct lh_unwind_reg x86_64_regs[] = {
    { 0, "rax" }, { 1, "rdx" }, { 2, "rcx" }, { 3, "rbx" },
    { 4, "rsi" }, { 5, "rdi" }, { 6, "rbp" }, { 7, "rsp" },
    { 8, "r8" }, { 9, "r9" }, { 10, "r10" }, { 11, "r11" },
    { 12, "r12" }, { 13, "r13" }, { 14, "r14" }, { 15, "r15" },
    { 16, "rip" },
    { 0, NULL },
};

/* AArch64 DWARF: x0-x30 are 0-30 (x30 the link register), sp is 31. */
static const struct lh_unwind_reg aarch64_regs[] = {
    { 0, "x0" }, { 1, "x1" }, { 2, "x2" }, { 3, "x3" }, { 4, "x4" }, { 5, "x5" },
    { 6, "x6" }, { 7, "x7" }, { 8, "x8" }, { 9, "x9" }, { 10, "x10" }, { 11, "x11" },
    { 12, "x12" }, { 13, "x13" }, { 14, "x14" }, { 15, "x15" }, { 16, "x16" },
    { 17, "x17" }, { 18, "x18" }, { 19, "x19" }, { 20, "x20" }, { 21, "x21" },
    { 22, "x22" }, { 23, "x23" }, { 24, "x24" }, { 25, "x25" }, { 26, "x26" },
    { 27, "x27" }, { 28, "x28" }, { 29, "x29" }, { 30, "x30" }, { 31, "sp" },
    { 0, NULL },
};

/* ARM DWARF: r0-r15 are 0-15 (r13 sp, r14 lr, r15 pc). */
static const struct lh_unwind_reg arm_regs[] = {
    { 0, "r0" }, { 1, "r1" }, { 2, "r2" }, { 3, "r3" }, { 4, "r4" }, { 5, "r5" },
    { 6, "r6" }, { 7, "r7" }, { 8, "r8" }, { 9, "r9" }, { 10, "r10" }, { 11, "r11" },
    { 12, "r12" }, { 13, "sp" }, { 14, "lr" }, { 15, "pc" },
    { 0, NULL },
};

/* RISC-V DWARF: x0-x31 are 0-31, in QEMU's ABI names (x8 is fp). */
static const struct lh_unwind_reg riscv64_regs[] = {
    { 1, "ra" }, { 2, "sp" }, { 3, "gp" }, { 4, "tp" }, { 5, "t0" }, { 6, "t1" },
    { 7, "t2" }, { 8, "fp" }, { 9, "s1" }, { 10, "a0" }, { 11, "a1" }, { 12, "a2" },
    { 13, "a3" }, { 14, "a4" }, { 15, "a5" }, { 16, "a6" }, { 17, "a7" }, { 18, "s2" },
    { 19, "s3" }, { 20, "s4" }, { 21, "s5" }, { 22, "s6" }, { 23, "s7" }, { 24, "s8" },
    { 25, "s9" }, { 26, "s10" }, { 27, "s11" }, { 28, "t3" }, { 29, "t4" }, { 30, "t5" },
    { 31, "t6" },
    { 0, NULL },
};

static const struct lh_unwind_arch arches[] = {
    { "i386", EM_386, ELFCLASS32, ELFDATA2LSB, "eip", 4, i386_regs },
    { "x86_64", EM_X86_64, ELFCLASS64, ELFDATA2LSB, "rip", 7, x86_64_regs },
    { "aarch64", EM_AARCH64, ELFCLASS64, ELFDATA2LSB, "pc", 31, aarch64_regs },
    { "arm", EM_ARM, ELFCLASS32, ELFDATA2LSB, "pc", 13, arm_regs },
    { "riscv64", EM_RISCV, ELFCLASS64, ELFDATA2LSB, "pc", 2, riscv64_regs },
};

const struct lh_unwind_arch *lh_unwind_arch_find(const char *name)
{
    for (size_t i = 0; i < sizeof(arches) / sizeof(arches[0]); i++) {
        if (!strcmp(arches[i].name, name)) {
            return &arches[i];
        }
    }
    return NULL;
}
