/*
 * Debian installs each cross architecture's C library, loader included,
 * under /usr/TRIPLET (libc6-ARCH-cross, pulled in by gcc-TRIPLET). A
 * foreign program built for Debian names its loader by its path on that
 * architecture, e.g. /lib/ld-linux.so.2 or /lib/ld-linux-aarch64.so.1,
 * which the sysroot has and the host
 * usually does not, so the sysroot is preferred; QEMU still falls back to
 * the host for files the sysroot lacks.
 */
#include <stddef.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "sysroot.h"

static const struct {
    const char *arch;          /* QEMU's target name */
    const char *triplet;       /* Debian's GNU triplet of its cross tools */
    const char *package;       /* what provides /usr/TRIPLET */
} cross_roots[] = {
    { "i386", "i686-linux-gnu", "libc6-i386-cross" },
    { "aarch64", "aarch64-linux-gnu", "libc6-arm64-cross" },
    { "arm", "arm-linux-gnueabihf", "libc6-armhf-cross" },
    { "riscv64", "riscv64-linux-gnu", "libc6-riscv64-cross" },
    { "mips", "mips-linux-gnu", "libc6-mips-cross" },
    { "mipsel", "mipsel-linux-gnu", "libc6-mipsel-cross" },
};

const char *default_sysroot(const struct lh_elf_guest *prog)
{
    const char *package = NULL;

    if (!prog->interp) {
        return NULL;
    }
    for (size_t i = 0; i < N_ELEMENTS(cross_roots); i++) {
        char *root, *loader;

        if (strcmp(cross_roots[i].arch, prog->arch)) {
            continue;
        }
        root = cmd_printf("/usr/%s", cross_roots[i].triplet);
        loader = cmd_printf("%s%s", root, prog->interp);
        if (access(loader, R_OK) == 0) {
            return root;
        }
        package = cross_roots[i].package;
    }
    if (access(prog->interp, R_OK) == 0) {
        return NULL;
    }
    if (package) {
        lh_fail(EXIT_UNAVAILABLE, "this %s program needs the loader %s, which is neither in "
                 "Debian's cross sysroot (install %s) nor on the host; or give -L SYSROOT",
                 prog->arch, prog->interp, package);
    }
    lh_fail(EXIT_UNAVAILABLE, "this %s program needs the loader %s, which is not on the "
             "host; give -L SYSROOT", prog->arch, prog->interp);
}
