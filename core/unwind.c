/*
 * Guest stack traces with elfutils' libdwfl. libdwfl's unwinder follows the
 * CFI of the guest's modules (.eh_frame, .debug_frame) and, where a module
 * has none, its architecture backend's frame-pointer walk; it reaches the
 * guest's registers and stack only through the thread-state callbacks
 * below, which read them with the core's guest ops, never from the host.
 * Which module is mapped where is Lua's to say (lua/luahook/modmap.lua).
 *
 * Descriptors libdwfl keeps open (one per module) are moved above the
 * guest's range, as core/output.c does with its own, so the guest's next
 * open still gets the number it would get without luahook.
 */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <elfutils/libdwfl.h>
#include <glib.h>

#include "state.h"
#include "unwind.h"

#define FD_FLOOR 63
#define PAGE 4096               /* where a guest image's header can start */
#define IMAGE_MAX (16 << 20)    /* a larger in-memory image is not believed */

/* A module as reported: what identifies it in the next report. */
struct module {
    char *name;
    uint64_t bias;             /* load bias; for an image, its address */
    bool image;
    Dwarf_Addr low, high;
};

static const struct lh_unwind_arch *arch;
static Dwfl *dwfl;
static GArray *modules, *previous;

/*----------------------------------------------------------------- bytes */

/* The unsigned integer of `size` (<= 8) bytes at p in the guest's order. */
static uint64_t guest_uint(const unsigned char *p, size_t size)
{
    uint64_t v = 0;

    for (size_t i = 0; i < size; i++) {
        size_t at = arch->elf_data == ELFDATA2MSB ? i : size - 1 - i;

        v = (v << 8) | p[at];
    }
    return v;
}

static size_t word_size(void)
{
    return arch->elf_class == ELFCLASS64 ? 8 : 4;
}

/* fd, moved to FD_FLOOR or above (closing the original); -1 stays -1. */
static int move_high(int fd)
{
    int high;

    if (fd < 0 || fd >= FD_FLOOR) {
        return fd;
    }
    high = fcntl(fd, F_DUPFD_CLOEXEC, FD_FLOOR);
    close(fd);
    return high;
}

/*------------------------------------------------------ libdwfl callbacks */

/* Modules are always reported with their ELF, so none is ever looked for. */
static int find_no_elf(Dwfl_Module *mod, void **userdata, const char *name,
                       Dwarf_Addr base, char **file_name, Elf **elfp)
{
    (void)mod, (void)userdata, (void)name, (void)base, (void)file_name, (void)elfp;
    return -1;
}

/*
 * Separate debug files by build ID, in the local debug directories only:
 * libdwfl's standard search ends by asking debuginfod servers, which would
 * hold the guest for a network round trip inside a syscall.
 */
static int find_debuginfo(Dwfl_Module *mod, void **userdata, const char *name,
                          Dwarf_Addr base, const char *file, const char *debuglink,
                          GElf_Word crc, char **debuginfo_file)
{
    return move_high(dwfl_build_id_find_debuginfo(mod, userdata, name, base, file,
                                                  debuglink, crc, debuginfo_file));
}

static const Dwfl_Callbacks dwfl_callbacks = {
    .find_elf = find_no_elf,
    .find_debuginfo = find_debuginfo,
};

/* The only thread unwound is the one handling the event. */
static pid_t next_thread(Dwfl *d, void *arg, void **thread_arg)
{
    (void)d, (void)arg;
    if (*thread_arg) {
        return 0;
    }
    *thread_arg = lh_here;
    return (pid_t)lh_here->event.tid;
}

static bool get_thread(Dwfl *d, pid_t tid, void *arg, void **thread_arg)
{
    (void)d, (void)tid, (void)arg, (void)thread_arg;
    return true;
}

/* A guest word (the stack, mostly); false where the guest has no memory. */
static bool memory_read(Dwfl *d, Dwarf_Addr addr, Dwarf_Word *result, void *arg)
{
    unsigned char buf[8];

    (void)d, (void)arg;
    if (!lh_core.guest->read(addr, buf, word_size())) {
        return false;
    }
    *result = guest_uint(buf, word_size());
    return true;
}

static bool read_register(const char *name, Dwarf_Word *value)
{
    unsigned char buf[LH_REG_MAX_SIZE];
    int size = lh_core.guest->reg_read(name, buf);

    if (size <= 0 || size > 8) {
        return false;
    }
    *value = guest_uint(buf, (size_t)size);
    return true;
}

static bool set_initial_registers(Dwfl_Thread *thread, void *arg)
{
    Dwarf_Word value;

    (void)arg;
    for (const struct lh_unwind_reg *r = arch->regs; r->name; r++) {
        if (!read_register(r->name, &value)
            || !dwfl_thread_state_registers(thread, r->dwarf, 1, &value)) {
            return false;
        }
    }
    if (!read_register(arch->pc, &value)) {
        return false;
    }
    dwfl_thread_state_register_pc(thread, value);
    return true;
}

static const Dwfl_Thread_Callbacks thread_callbacks = {
    .next_thread = next_thread,
    .get_thread = get_thread,
    .memory_read = memory_read,
    .set_initial_registers = set_initial_registers,
};

/*------------------------------------------------------------------ init */

/* Stores the `size`-byte integer v at p in the guest's order. */
static void put_guest_uint(unsigned char *p, size_t size, uint64_t v)
{
    for (size_t i = 0; i < size; i++) {
        size_t at = arch->elf_data == ELFDATA2MSB ? size - 1 - i : i;

        p[at] = (unsigned char)(v >> (8 * i));
    }
}

/*
 * libdwfl picks its architecture backend from an ELF header. A header of
 * our own, with nothing after it, names the guest's architecture even
 * before any module is known.
 */
static Elf *architecture_elf(void)
{
    static unsigned char header[sizeof(Elf64_Ehdr)];
    bool wide = arch->elf_class == ELFCLASS64;
    size_t size = wide ? sizeof(Elf64_Ehdr) : sizeof(Elf32_Ehdr);

    memcpy(header, ELFMAG, SELFMAG);
    header[EI_CLASS] = arch->elf_class;
    header[EI_DATA] = arch->elf_data;
    header[EI_VERSION] = EV_CURRENT;
    /* e_type, e_machine and e_version sit at the same offsets in both */
    put_guest_uint(header + offsetof(Elf32_Ehdr, e_type), 2, ET_CORE);
    put_guest_uint(header + offsetof(Elf32_Ehdr, e_machine), 2, arch->machine);
    put_guest_uint(header + offsetof(Elf32_Ehdr, e_version), 4, EV_CURRENT);
    put_guest_uint(header + (wide ? offsetof(Elf64_Ehdr, e_ehsize)
                                  : offsetof(Elf32_Ehdr, e_ehsize)), 2, size);
    return elf_memory((char *)header, size);
}

bool lh_unwind_init(const struct lh_unwind_arch *which, const char **msg)
{
    Elf *elf;

    arch = which;
    elf_version(EV_CURRENT);
    elf = architecture_elf();
    dwfl = dwfl_begin(&dwfl_callbacks);
    if (!elf || !dwfl) {
        *msg = "libdwfl cannot start";
        return false;
    }
    modules = g_array_new(false, false, sizeof(struct module));
    dwfl_report_begin(dwfl);
    dwfl_report_end(dwfl, NULL, NULL);
    if (!dwfl_attach_state(dwfl, elf, getpid(), &thread_callbacks, NULL)) {
        *msg = dwfl_errmsg(-1);
        dwfl_end(dwfl);
        dwfl = NULL;
        return false;
    }
    return true;
}

/*--------------------------------------------------------------- modules */

void lh_unwind_begin(void)
{
    previous = modules;
    modules = g_array_new(false, false, sizeof(struct module));
    dwfl_report_begin(dwfl);
}

/* Reports again a module the last report had: libdwfl keeps its data. */
static bool report_again(const char *name, uint64_t bias, bool image)
{
    for (guint i = 0; i < previous->len; i++) {
        struct module *m = &g_array_index(previous, struct module, i);

        if (m->name && m->image == image && m->bias == bias && !strcmp(m->name, name)
            && dwfl_report_module(dwfl, name, m->low, m->high)) {
            g_array_append_val(modules, *m);
            m->name = NULL;    /* moved: matches no second time */
            return true;
        }
    }
    return false;
}

/* Hands libdwfl the ELF open on fd (consumed); NULL or why it failed. */
static const char *report_fd(const char *name, int fd, uint64_t bias, bool image)
{
    Dwfl_Module *mod;
    struct module m = { .bias = bias, .image = image };

    fd = move_high(fd);
    if (fd < 0) {
        return "no descriptor left to read it";
    }
    /* a file is placed by its bias, an image by the address of its header */
    mod = dwfl_report_elf(dwfl, name, name, fd, bias, !image);
    if (!mod) {
        close(fd);
        return dwfl_errmsg(-1);
    }
    dwfl_module_info(mod, NULL, &m.low, &m.high, NULL, NULL, NULL, NULL);
    m.name = g_strdup(name);
    g_array_append_val(modules, m);
    return NULL;
}

const char *lh_unwind_report_file(const char *name, const char *path, uint64_t bias)
{
    int fd;

    if (report_again(name, bias, false)) {
        return NULL;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return g_strerror(errno);
    }
    return report_fd(name, fd, bias, false);
}

/* Field f of the 32- or 64-bit ELF structure at p, in the guest's order. */
#define ELF_FIELD(p, wide, type, f)                                          \
    guest_uint((p) + ((wide) ? offsetof(Elf64_##type, f) : offsetof(Elf32_##type, f)), \
               (wide) ? sizeof(((Elf64_##type *)0)->f) : sizeof(((Elf32_##type *)0)->f))

/* a + b, or IMAGE_MAX + 1 when either is beyond an image's size already */
static size_t image_end(uint64_t a, uint64_t b)
{
    return a > IMAGE_MAX || b > IMAGE_MAX ? IMAGE_MAX + 1 : (size_t)(a + b);
}

/*
 * The size of the ELF image whose header is in `head` (one page): up to
 * the end of its section headers or of its last segment's file contents,
 * whichever is further. 0 when the header is not an image of this guest
 * or says something impossible (guest memory can hold anything).
 */
static size_t image_size(const unsigned char *head)
{
    bool wide = arch->elf_class == ELFCLASS64;
    uint64_t phoff = ELF_FIELD(head, wide, Ehdr, e_phoff);
    uint64_t phentsize = ELF_FIELD(head, wide, Ehdr, e_phentsize);
    uint64_t phnum = ELF_FIELD(head, wide, Ehdr, e_phnum);
    size_t size = image_end(ELF_FIELD(head, wide, Ehdr, e_shoff),
                            ELF_FIELD(head, wide, Ehdr, e_shentsize)
                            * ELF_FIELD(head, wide, Ehdr, e_shnum));

    if (memcmp(head, ELFMAG, SELFMAG) || head[EI_CLASS] != arch->elf_class
        || head[EI_DATA] != arch->elf_data
        || phentsize < (wide ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr))
        || phoff > PAGE || phentsize * phnum > PAGE - phoff) {
        return 0;
    }
    for (uint64_t i = 0; i < phnum; i++) {
        const unsigned char *ph = head + phoff + i * phentsize;
        size_t end = image_end(ELF_FIELD(ph, wide, Phdr, p_offset),
                               ELF_FIELD(ph, wide, Phdr, p_filesz));

        if (ELF_FIELD(ph, wide, Phdr, p_type) == PT_LOAD && end > size) {
            size = end;
        }
    }
    return size <= IMAGE_MAX ? size : 0;
}

/* The ELF image at guest addr, copied (g_free it); NULL if there is none. */
static unsigned char *read_image(uint64_t addr, size_t *size)
{
    unsigned char head[PAGE];
    unsigned char *image;

    if (!lh_core.guest->read(addr, head, sizeof(head)) || !(*size = image_size(head))) {
        return NULL;
    }
    image = g_malloc(*size);
    if (!lh_core.guest->read(addr, image, *size)) {
        g_free(image);
        return NULL;
    }
    return image;
}

/*
 * QEMU relocates the vDSO it maps (program and section headers, .dynsym)
 * but not its .symtab, whose addresses stay the link-time ones, off by the
 * load address. A vDSO's .dynsym has every function, so the copy libdwfl
 * gets has its .symtab made a section of no type, and .dynsym is used.
 */
static void hide_symtab(unsigned char *image, size_t size)
{
    bool wide = arch->elf_class == ELFCLASS64;
    size_t shoff = ELF_FIELD(image, wide, Ehdr, e_shoff);
    size_t shentsize = ELF_FIELD(image, wide, Ehdr, e_shentsize);
    size_t shnum = ELF_FIELD(image, wide, Ehdr, e_shnum);

    if (shentsize < (wide ? sizeof(Elf64_Shdr) : sizeof(Elf32_Shdr))) {
        return;
    }
    for (size_t i = 0; i < shnum && shoff + (i + 1) * shentsize <= size; i++) {
        unsigned char *sh = image + shoff + i * shentsize;

        if (ELF_FIELD(sh, wide, Shdr, sh_type) == SHT_SYMTAB) {
            put_guest_uint(sh + offsetof(Elf32_Shdr, sh_type), 4, SHT_NULL);
        }
    }
}

const char *lh_unwind_report_image(const char *name, uint64_t addr)
{
    size_t size;
    unsigned char *image;
    int fd;
    bool written;

    if (report_again(name, addr, true)) {
        return NULL;
    }
    image = read_image(addr, &size);
    if (!image) {
        return "no ELF image in guest memory there";
    }
    hide_symtab(image, size);
    /* libdwfl reads modules from descriptors: one in memory, for a copy */
    fd = memfd_create("luahook-guest-image", MFD_CLOEXEC);
    written = fd >= 0 && write(fd, image, size) == (ssize_t)size;
    g_free(image);
    if (!written) {
        if (fd >= 0) {
            close(fd);
        }
        return "cannot copy the image";
    }
    return report_fd(name, fd, addr, true);
}

static void free_modules(GArray *list)
{
    for (guint i = 0; i < list->len; i++) {
        g_free(g_array_index(list, struct module, i).name);
    }
    g_array_free(list, true);
}

void lh_unwind_end(void)
{
    dwfl_report_end(dwfl, NULL, NULL);
    free_modules(previous);
    previous = NULL;
}

/* The DT_SONAME of an ELF image in memory, into buf; false if none. */
static bool image_soname(unsigned char *image, size_t size, char *buf, size_t len)
{
    Elf *elf = elf_memory((char *)image, size);
    Elf_Scn *scn = NULL;
    bool found = false;

    while (elf && !found && (scn = elf_nextscn(elf, scn))) {
        GElf_Shdr shdr;
        Elf_Data *data;
        GElf_Dyn dyn;

        if (!gelf_getshdr(scn, &shdr) || shdr.sh_type != SHT_DYNAMIC
            || !(data = elf_getdata(scn, NULL))) {
            continue;
        }
        for (int i = 0; !found && gelf_getdyn(data, i, &dyn) && dyn.d_tag != DT_NULL; i++) {
            const char *s = dyn.d_tag == DT_SONAME
                            ? elf_strptr(elf, shdr.sh_link, dyn.d_un.d_val) : NULL;

            if (s) {
                g_strlcpy(buf, s, len);
                found = true;
            }
        }
    }
    elf_end(elf);
    return found;
}

bool lh_unwind_probe_image(uint64_t addr, char *soname, size_t size)
{
    size_t image_len;
    unsigned char *image = read_image(addr, &image_len);

    if (!image) {
        return false;
    }
    if (!image_soname(image, image_len, soname, size)) {
        soname[0] = 0;
    }
    g_free(image);
    return true;
}

/*-------------------------------------------------------------- frames */

void lh_unwind_resolve(uint64_t addr, bool call_site, struct lh_frame *out)
{
    Dwarf_Addr at = call_site ? addr - 1 : addr;
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, at);
    GElf_Off offset;
    GElf_Sym sym;
    Dwarf_Addr bias;
    Dwfl_Line *line;

    *out = (struct lh_frame){ .pc = addr };
    if (!mod) {
        return;
    }
    out->module = dwfl_module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    out->symbol = dwfl_module_addrinfo(mod, at, &offset, &sym, NULL, NULL, NULL);
    if (out->symbol) {
        out->offset = offset + (addr - at);
    } else if (dwfl_module_getelf(mod, &bias)) {
        out->offset = addr - bias;     /* the address the file itself gives */
    }
    line = dwfl_module_getsrc(mod, at);
    if (line) {
        out->file = dwfl_lineinfo(line, NULL, &out->line, NULL, NULL, NULL);
    }
}

/* Whether the module at `at` has CFI for it (else libdw could only guess). */
static bool has_cfi(Dwarf_Addr at)
{
    Dwfl_Module *mod = dwfl_addrmodule(dwfl, at);
    Dwarf_CFI *cfis[2];
    Dwarf_Addr bias[2];

    if (!mod) {
        return false;
    }
    cfis[0] = dwfl_module_eh_cfi(mod, &bias[0]);
    cfis[1] = dwfl_module_dwarf_cfi(mod, &bias[1]);
    for (int i = 0; i < 2; i++) {
        Dwarf_Frame *frame;

        if (cfis[i] && dwarf_cfi_addrframe(cfis[i], at - bias[i], &frame) == 0) {
            free(frame);
            return true;
        }
    }
    return false;
}

struct walk {
    struct lh_frame *frames;
    int count, max;
    bool caller_had_cfi;       /* the frame before this one could be unwound by CFI */
    Dwarf_Addr last_pc;
    Dwarf_Word last_sp;
};

static int on_frame(Dwfl_Frame *state, void *arg)
{
    struct walk *w = arg;
    Dwarf_Addr pc;
    bool activation;
    Dwarf_Word sp = 0;
    bool sp_known;

    if (!dwfl_frame_pc(state, &pc, &activation)) {
        return DWARF_CB_ABORT;
    }
    sp_known = dwfl_frame_reg(state, (unsigned)arch->sp_dwarf, &sp) == 0;
    if (w->count > 0) {
        unsigned char byte;

        /* a return into code that is no longer mapped ends the trace, and
         * so does a frame that unwound to itself (a corrupt stack) */
        if (!lh_core.guest->read(pc, &byte, 1)
            || (sp_known && pc == w->last_pc && sp == w->last_sp)) {
            return DWARF_CB_ABORT;
        }
    }
    lh_unwind_resolve(pc, !activation, &w->frames[w->count]);
    w->frames[w->count].guessed = w->count > 0 && !w->caller_had_cfi;
    w->caller_had_cfi = has_cfi(activation ? pc : pc - 1);
    w->last_pc = pc;
    w->last_sp = sp;
    return ++w->count < w->max ? DWARF_CB_OK : DWARF_CB_ABORT;
}

int lh_unwind_backtrace(struct lh_frame *frames, int max, const char **msg)
{
    struct walk w = { .frames = frames, .max = max };

    if (max <= 0) {
        return 0;
    }
    /* an error after some frames is where the stack ends */
    if (dwfl_getthread_frames(dwfl, (pid_t)lh_here->event.tid, on_frame, &w) < 0
        && w.count == 0) {
        *msg = dwfl_errmsg(-1);
        return -1;
    }
    return w.count;
}
