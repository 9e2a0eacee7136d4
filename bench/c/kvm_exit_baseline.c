/*
 * kvm_exit_baseline: a minimal KVM VMM in C, the speed baseline beside the
 * Java (FFM) xenshim VMM.  It takes the SAME exits with the SAME hypercall
 * stub as the Java side:
 *
 *   - PVH boot of an ELF (PT_LOAD at p_paddr, XEN_ELFNOTE_PHYS32_ENTRY or
 *     e_entry), 32-bit flat protected mode, %ebx = struct hvm_start_info.
 *   - Xen CPUID leaves at 0x40000000; the hypercall-page MSR 0x40000000 is
 *     trapped with an MSR filter (KVM_EXIT_X86_WRMSR).
 *   - The hypercall page: 128 stubs of 32 bytes,
 *         stub n:  b8 <n imm32>   mov  $n, %eax
 *                  e7 e4          out  %eax, $0xe4     <-- HCALL_PORT
 *                  c3             ret
 *                  cc ... (to 32 bytes)
 *     so every hypercall is one KVM_EXIT_IO (out, port 0xE4, size 4) whose
 *     data is the hypercall number.
 *   - Registers via KVM_CAP_SYNC_REGS (regs + sregs in kvm_run), no extra
 *     vCPU ioctls per hypercall.
 *   - The MSR filter traps reads and writes of the hypercall MSR (reads
 *     return 0), as the Java VMM's does.
 *
 * The statistics line on stderr also gives the host TSC rate measured over
 * the run (tsc_khz=...), so a harness can turn the guest's rdtsc cycles into
 * wall-clock time (the guest reads the host TSC, plus an offset).
 *
 * It serves only what the bench guest needs: xen_version(XENVER_version),
 * console_io(CONSOLEIO_write), sched_op(SCHEDOP_shutdown); anything else
 * returns -ENOSYS (-38).
 *
 * Usage: kvm_exit_baseline [--mem MiB] guest.elf [cmdline]
 * Guest console -> stdout; VMM messages and the exit statistics -> stderr.
 * Exit status: the shutdown reason (0 poweroff, 1 reboot, 2 suspend,
 * 3 crash, ...), 2 for triple fault, 3 for KVM internal error, 4 for an
 * unhandled exit, 5 for hlt, 1 for setup errors.
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#ifdef XENSHIM_TEST_EXTRAS
/* Test build only (kvm_guest_tester): a few more Xen answers so the demo
 * and badcall guests' success paths can be exercised before the Java VMM
 * exists.  NOT part of the baseline's measured path. */
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#include <stddef.h>
#include <xen/xen.h>
#include <xen/version.h>
#include <xen/memory.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#endif

/* ---- the hypercall trap: keep in sync with the Java VMM ---------------- */
#define HCALL_PORT        0xE4          /* out %eax, $0xE4 in every stub */
#define HCALL_MSR         0x40000000u   /* CPUID 0x40000002 ebx */
#define HCALL_STUB_SIZE   32
#define HCALL_NR_STUBS    128

#define DEBUG_PORT        0x12          /* early byte console */

/* Xen ABI constants (xen/xen.h, xen/version.h, xen/sched.h, xen/errno.h) */
#define XEN_CPUID_BASE            0x40000000u
#define XEN_VERSION_MAJOR         4
#define XEN_VERSION_MINOR         17
#define XEN_HVM_CPUID_DOMID_PRESENT (1u << 3)   /* xen/arch-x86/cpuid.h */
#define XEN_DOMID                 1
#define HYPERVISOR_console_io     18
#define HYPERVISOR_xen_version    17
#define HYPERVISOR_sched_op       29
#define XENVER_version            0
#define CONSOLEIO_write           0
#define SCHEDOP_shutdown          2
#define XEN_ENOSYS                38
#define XEN_EFAULT                14
#define XEN_EINVAL                22

/* hvm_start_info (xen/arch-x86/hvm/start_info.h) */
#define XEN_HVM_START_MAGIC_VALUE 0x336ec578u
#define XEN_ELFNOTE_PHYS32_ENTRY  18
#define START_INFO_GPA            0x6000
#define CMDLINE_GPA               0x7000
#define CMDLINE_MAX               0x1000
#define MEMMAP_GPA                0x8000
#define LOW_RESERVED_END          0x9000  /* memmap: RAM from 0x9000 up */

struct hvm_start_info {
    uint32_t magic, version, flags, nr_modules;
    uint64_t modlist_paddr, cmdline_paddr, rsdp_paddr, memmap_paddr;
    uint32_t memmap_entries, reserved;
};
struct hvm_memmap_table_entry {
    uint64_t addr, size;
    uint32_t type, reserved;
};

static uint8_t *ram;
static uint64_t ram_size;
static int vcpu_fd;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "kvm_exit_baseline: ");
    vfprintf(stderr, fmt, ap);
    if (errno)
        fprintf(stderr, ": %s", strerror(errno));
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static int xioctl(int fd, unsigned long req, void *arg, const char *what)
{
    errno = 0;
    int r = ioctl(fd, req, arg);
    if (r < 0)
        die("%s", what);
    return r;
}

/* ---- ELF loading -------------------------------------------------------- */

static void *gpa_ptr(uint64_t gpa, uint64_t len)
{
    if (gpa > ram_size || len > ram_size - gpa)
        return NULL;
    return ram + gpa;
}

/* Walk notes in [p, p+len) for Xen's PHYS32_ENTRY. */
static int find_phys32_entry(const uint8_t *p, uint64_t len, uint64_t *entry)
{
    uint64_t off = 0;
    while (off + 12 <= len) {
        uint32_t namesz, descsz, type;
        memcpy(&namesz, p + off, 4);
        memcpy(&descsz, p + off + 4, 4);
        memcpy(&type, p + off + 8, 4);
        uint64_t name = off + 12;
        uint64_t desc = name + ((namesz + 3ull) & ~3ull);
        uint64_t next = desc + ((descsz + 3ull) & ~3ull);
        if (next > len)
            break;
        if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 && !memcmp(p + name, "Xen", 4)) {
            if (descsz == 4) {
                uint32_t e;
                memcpy(&e, p + desc, 4);
                *entry = e;
            } else if (descsz == 8) {
                memcpy(entry, p + desc, 8);
            } else {
                break;
            }
            return 1;
        }
        off = next;
    }
    return 0;
}

static uint64_t load_elf(const char *path)
{
    errno = 0;
    int fd = open(path, O_RDONLY);
    if (fd < 0)
        die("open %s", path);
    struct stat st;
    if (fstat(fd, &st) < 0)
        die("stat %s", path);
    size_t sz = (size_t)st.st_size;
    uint8_t *f = mmap(NULL, sz, PROT_READ, MAP_PRIVATE, fd, 0);
    if (f == MAP_FAILED)
        die("mmap %s", path);
    close(fd);
    errno = 0;
    if (sz < sizeof(Elf32_Ehdr) || memcmp(f, ELFMAG, SELFMAG))
        die("%s: not an ELF file", path);

    int is64 = f[EI_CLASS] == ELFCLASS64;
    uint64_t entry, phoff;
    unsigned phnum, phentsize;
    if (is64) {
        Elf64_Ehdr *eh = (Elf64_Ehdr *)f;
        entry = eh->e_entry; phoff = eh->e_phoff; phnum = eh->e_phnum; phentsize = eh->e_phentsize;
    } else {
        Elf32_Ehdr *eh = (Elf32_Ehdr *)f;
        entry = eh->e_entry; phoff = eh->e_phoff; phnum = eh->e_phnum; phentsize = eh->e_phentsize;
    }
    int have_note = 0;
    uint64_t note_entry = 0;
    for (unsigned i = 0; i < phnum; i++) {
        uint64_t o = phoff + (uint64_t)i * phentsize;
        uint32_t type;
        uint64_t offset, paddr, filesz, memsz;
        if (o + (is64 ? sizeof(Elf64_Phdr) : sizeof(Elf32_Phdr)) > sz)
            die("%s: truncated program headers", path);
        if (is64) {
            Elf64_Phdr *ph = (Elf64_Phdr *)(f + o);
            type = ph->p_type; offset = ph->p_offset; paddr = ph->p_paddr;
            filesz = ph->p_filesz; memsz = ph->p_memsz;
        } else {
            Elf32_Phdr *ph = (Elf32_Phdr *)(f + o);
            type = ph->p_type; offset = ph->p_offset; paddr = ph->p_paddr;
            filesz = ph->p_filesz; memsz = ph->p_memsz;
        }
        if (offset > sz || filesz > sz - offset)
            die("%s: segment %u outside file", path, i);
        if (type == PT_LOAD) {
            uint8_t *dst = gpa_ptr(paddr, memsz);
            if (!dst || filesz > memsz)
                die("%s: segment %u (paddr 0x%" PRIx64 ", memsz 0x%" PRIx64 ") outside RAM",
                    path, i, paddr, memsz);
            memcpy(dst, f + offset, filesz);
            memset(dst + filesz, 0, memsz - filesz);
        } else if (type == PT_NOTE && !have_note) {
            have_note = find_phys32_entry(f + offset, filesz, &note_entry);
        }
    }
    munmap(f, sz);
    return have_note ? note_entry : entry;
}

static void setup_start_info(const char *cmdline)
{
    struct hvm_start_info *si = (void *)(ram + START_INFO_GPA);
    memset(si, 0, sizeof(*si));
    si->magic = XEN_HVM_START_MAGIC_VALUE;
    si->version = 1;
    size_t n = strlen(cmdline);
    if (n >= CMDLINE_MAX)
        n = CMDLINE_MAX - 1;
    memcpy(ram + CMDLINE_GPA, cmdline, n);
    ram[CMDLINE_GPA + n] = 0;
    si->cmdline_paddr = CMDLINE_GPA;
    struct hvm_memmap_table_entry *mm = (void *)(ram + MEMMAP_GPA);
    mm[0] = (struct hvm_memmap_table_entry){ 0, START_INFO_GPA, 1, 0 };
    mm[1] = (struct hvm_memmap_table_entry){ START_INFO_GPA, LOW_RESERVED_END - START_INFO_GPA, 2, 0 };
    mm[2] = (struct hvm_memmap_table_entry){ LOW_RESERVED_END, ram_size - LOW_RESERVED_END, 1, 0 };
    si->memmap_paddr = MEMMAP_GPA;
    si->memmap_entries = 3;
}

/* ---- CPUID --------------------------------------------------------------- */

static void setup_cpuid(int kvm_fd)
{
    int max = 256;
    struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + (max + 8) * sizeof(struct kvm_cpuid_entry2));
    c->nent = max;
    xioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c, "KVM_GET_SUPPORTED_CPUID");
    unsigned n = 0;
    for (unsigned i = 0; i < c->nent; i++) {
        struct kvm_cpuid_entry2 e = c->entries[i];
        if ((e.function & 0xf0000000u) == 0x40000000u)
            continue;                       /* drop KVM's own leaves */
        if (e.function == 1)
            e.ecx &= ~((1u << 21) | (1u << 24)); /* no x2APIC, no TSC-deadline */
        c->entries[n++] = e;
    }
    struct kvm_cpuid_entry2 x[5];
    memset(x, 0, sizeof(x));
    x[0].function = XEN_CPUID_BASE;
    x[0].eax = XEN_CPUID_BASE + 4;
    memcpy(&x[0].ebx, "XenV", 4);
    memcpy(&x[0].ecx, "MMXe", 4);
    memcpy(&x[0].edx, "nVMM", 4);
    x[1].function = XEN_CPUID_BASE + 1;
    x[1].eax = (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR;
    x[2].function = XEN_CPUID_BASE + 2;
    x[2].eax = 1;                 /* hypercall pages */
    x[2].ebx = HCALL_MSR;
    x[3].function = XEN_CPUID_BASE + 3;
    x[3].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    x[4].function = XEN_CPUID_BASE + 4;
    x[4].flags = KVM_CPUID_FLAG_SIGNIFCANT_INDEX;
    x[4].eax = XEN_HVM_CPUID_DOMID_PRESENT;
    x[4].ebx = XEN_DOMID;
    for (int i = 0; i < 5; i++)
        c->entries[n++] = x[i];
    c->nent = n;
    xioctl(vcpu_fd, KVM_SET_CPUID2, c, "KVM_SET_CPUID2");
    free(c);
}

/* ---- registers ----------------------------------------------------------- */

static void setup_sregs(struct kvm_sregs *s)
{
    struct kvm_segment code = {
        .base = 0, .limit = 0xffffffff, .selector = 0x08, .type = 0xb,
        .present = 1, .dpl = 0, .db = 1, .s = 1, .l = 0, .g = 1,
    };
    struct kvm_segment data = code;
    data.selector = 0x10;
    data.type = 0x3;
    s->cs = code;
    s->ds = s->es = s->fs = s->gs = s->ss = data;
    s->tr = (struct kvm_segment){
        .base = 0, .limit = 0x67, .selector = 0x18, .type = 0xb,
        .present = 1, .s = 0, .g = 0,
    };
    s->ldt = (struct kvm_segment){ .selector = 0, .type = 0x2, .present = 1, .limit = 0xffff };
    s->cr0 = 0x11;  /* PE | ET */
    s->cr3 = 0;
    s->cr4 = 0;
    s->efer = 0;
}

/* ---- guest virtual -> guest physical (software walk) --------------------- */

static int read_pte64(uint64_t gpa, uint64_t *v)
{
    void *p = gpa_ptr(gpa, 8);
    if (!p)
        return -1;
    memcpy(v, p, 8);
    return 0;
}

/* Returns 0 and *gpa on success, -1 if not mapped. */
static int gva_to_gpa(const struct kvm_sregs *s, uint64_t gva, uint64_t *gpa)
{
    const uint64_t addr_mask = 0x000ffffffffff000ull;
    if (!(s->cr0 & 0x80000000ull)) {               /* paging off */
        *gpa = gva & 0xffffffffull;
        return 0;
    }
    uint64_t e;
    if (s->efer & (1ull << 10)) {                  /* 4-level (LMA) */
        int shifts[4] = { 39, 30, 21, 12 };
        uint64_t table = s->cr3 & addr_mask;
        for (int lvl = 0; lvl < 4; lvl++) {
            uint64_t idx = (gva >> shifts[lvl]) & 0x1ff;
            if (read_pte64(table + idx * 8, &e) || !(e & 1))
                return -1;
            if ((lvl == 1 || lvl == 2) && (e & 0x80)) { /* 1 GiB / 2 MiB */
                uint64_t pmask = (1ull << shifts[lvl]) - 1;
                *gpa = (e & addr_mask & ~pmask) | (gva & pmask);
                return 0;
            }
            table = e & addr_mask;
        }
        *gpa = table | (gva & 0xfff);
        return 0;
    }
    gva &= 0xffffffffull;
    if (s->cr4 & 0x20) {                           /* PAE, 3-level */
        uint64_t table = s->cr3 & 0xffffffe0ull;
        if (read_pte64(table + ((gva >> 30) & 3) * 8, &e) || !(e & 1))
            return -1;
        table = e & addr_mask;
        if (read_pte64(table + ((gva >> 21) & 0x1ff) * 8, &e) || !(e & 1))
            return -1;
        if (e & 0x80) {
            *gpa = (e & addr_mask & ~0x1fffffull) | (gva & 0x1fffff);
            return 0;
        }
        table = e & addr_mask;
        if (read_pte64(table + ((gva >> 12) & 0x1ff) * 8, &e) || !(e & 1))
            return -1;
        *gpa = (e & addr_mask) | (gva & 0xfff);
        return 0;
    }
    /* 2-level 32-bit */
    uint32_t *pd = gpa_ptr(s->cr3 & 0xfffff000u, 4096), pde, pte;
    if (!pd)
        return -1;
    pde = pd[gva >> 22];
    if (!(pde & 1))
        return -1;
    if ((pde & 0x80) && (s->cr4 & 0x10)) {
        *gpa = (pde & 0xffc00000u) | (gva & 0x3fffff);
        return 0;
    }
    uint32_t *pt = gpa_ptr(pde & 0xfffff000u, 4096);
    if (!pt)
        return -1;
    pte = pt[(gva >> 12) & 0x3ff];
    if (!(pte & 1))
        return -1;
    *gpa = (pte & 0xfffff000u) | (gva & 0xfff);
    return 0;
}

/* Copy len bytes from guest-virtual gva, page by page. 0 or -EFAULT. */
static int copy_from_guest(const struct kvm_sregs *s, uint64_t gva, void *dst, size_t len)
{
    uint8_t *d = dst;
    while (len) {
        uint64_t gpa;
        size_t chunk = 4096 - (gva & 0xfff);
        if (chunk > len)
            chunk = len;
        if (gva_to_gpa(s, gva, &gpa))
            return -XEN_EFAULT;
        void *p = gpa_ptr(gpa, chunk);
        if (!p)
            return -XEN_EFAULT;
        memcpy(d, p, chunk);
        d += chunk;
        gva += chunk;
        len -= chunk;
    }
    return 0;
}

#ifdef XENSHIM_TEST_EXTRAS
static int copy_to_guest(const struct kvm_sregs *s, uint64_t gva, const void *src, size_t len)
{
    const uint8_t *q = src;
    while (len) {
        uint64_t gpa;
        size_t chunk = 4096 - (gva & 0xfff);
        if (chunk > len)
            chunk = len;
        if (gva_to_gpa(s, gva, &gpa))
            return -XEN_EFAULT;
        void *p = gpa_ptr(gpa, chunk);
        if (!p)
            return -XEN_EFAULT;
        memcpy(p, q, chunk);
        q += chunk;
        gva += chunk;
        len -= chunk;
    }
    return 0;
}

static int64_t extra_xen_version(const struct kvm_sregs *s, uint64_t cmd, uint64_t arg)
{
    char buf[1024];
    size_t len;
    memset(buf, 0, sizeof(buf));
    switch (cmd) {
    case XENVER_extraversion:
        strcpy(buf, ".0-xenshim-c");
        len = sizeof(xen_extraversion_t);
        break;
    case XENVER_compile_info: {
        struct xen_compile_info ci;
        memset(&ci, 0, sizeof(ci));
        strcpy(ci.compiler, "gcc (kvm_guest_tester)");
        strcpy(ci.compile_by, "xenshim");
        strcpy(ci.compile_domain, "example.org");
        strcpy(ci.compile_date, __DATE__);
        memcpy(buf, &ci, sizeof(ci));
        len = sizeof(ci);
        break;
    }
    case XENVER_capabilities:
        strcpy(buf, "hvm-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p");
        len = sizeof(xen_capabilities_info_t);
        break;
    case XENVER_changeset:
        strcpy(buf, "xenshim kvm_guest_tester");
        len = sizeof(xen_changeset_info_t);
        break;
    case XENVER_get_features: {
        struct xen_feature_info fi;
        if (copy_from_guest(s, arg, &fi, sizeof(fi)))
            return -XEN_EFAULT;
        if (fi.submap_idx != 0)
            return -XEN_EINVAL;
        fi.submap = (1u << XENFEAT_writable_page_tables) | (1u << XENFEAT_auto_translated_physmap) |
                    (1u << XENFEAT_supervisor_mode_kernel) | (1u << XENFEAT_hvm_callback_vector) |
                    (1u << XENFEAT_hvm_safe_pvclock) | (1u << XENFEAT_hvm_pirqs);
        return copy_to_guest(s, arg, &fi, sizeof(fi));
    }
    case XENVER_pagesize:
        return 4096;
    case XENVER_commandline:
        return -1;                                   /* -EPERM: not privileged */
    default:
        return -XEN_ENOSYS;
    }
    return copy_to_guest(s, arg, buf, len);
}

static int64_t extra_memory_op(const struct kvm_sregs *s, uint64_t cmd, uint64_t arg)
{
    switch (cmd & 0x3f) {   /* MEMOP_CMD_MASK (xen/memory.h, __XEN__ only) */
    case XENMEM_current_reservation: {
        domid_t d;
        if (copy_from_guest(s, arg, &d, sizeof(d)))
            return -XEN_EFAULT;
        return d == DOMID_SELF ? (int64_t)(ram_size >> 12) : -3 /* -ESRCH */;
    }
    case XENMEM_memory_map: {
        struct xen_memory_map mm;
        if (copy_from_guest(s, arg, &mm, sizeof(mm)))
            return -XEN_EFAULT;
        struct __attribute__((packed)) { uint64_t addr, size; uint32_t type; } e[2] = {
            { 0, 0x9f000, 1 }, { 0x100000, ram_size - 0x100000, 1 },
        };
        unsigned n = mm.nr_entries < 2 ? mm.nr_entries : 2;
        if (copy_to_guest(s, (uint64_t)(uintptr_t)mm.buffer.p, e, n * sizeof(e[0])))
            return -XEN_EFAULT;
        mm.nr_entries = n;
        return copy_to_guest(s, arg, &mm, sizeof(mm));
    }
    case XENMEM_add_to_physmap: {
        struct xen_add_to_physmap x;
        if (copy_from_guest(s, arg, &x, sizeof(x)))
            return -XEN_EFAULT;
        if (x.domid != DOMID_SELF)
            return -3;
        if (x.space != XENMAPSPACE_shared_info || x.idx != 0)
            return -XEN_EINVAL;
        struct shared_info *si = gpa_ptr((uint64_t)x.gpfn << 12, 4096);
        if (!si)
            return -XEN_EINVAL;
        memset(si, 0, 4096);
        for (int i = 0; i < XEN_LEGACY_MAX_VCPUS; i++)
            si->vcpu_info[i].evtchn_upcall_mask = 1;
        si->wc_version = 2;
        si->wc_sec = 1700000000;
        si->vcpu_info[0].time.version = 2;
        si->vcpu_info[0].time.tsc_to_system_mul = 0x8000000;
        si->vcpu_info[0].time.tsc_shift = 1;
        return 0;
    }
    default:
        return -XEN_ENOSYS;
    }
}

static int64_t extra_hvm_op(const struct kvm_sregs *s, uint64_t op, uint64_t arg)
{
    if (op != HVMOP_get_param)
        return -XEN_ENOSYS;
    struct xen_hvm_param p;
    if (copy_from_guest(s, arg, &p, sizeof(p)))
        return -XEN_EFAULT;
    if (p.domid != DOMID_SELF)
        return -3;
    switch (p.index) {
    case HVM_PARAM_CONSOLE_EVTCHN: p.value = 2; break;
    case HVM_PARAM_STORE_EVTCHN: p.value = 1; break;
    case HVM_PARAM_CONSOLE_PFN: p.value = (ram_size >> 12) - 2; break;
    case HVM_PARAM_STORE_PFN: p.value = (ram_size >> 12) - 1; break;
    default: return -XEN_EINVAL;
    }
    return copy_to_guest(s, arg, &p, sizeof(p));
}
#endif

/* ---- hypercalls ------------------------------------------------------------ */

static int shutdown_requested = -1;

static int64_t do_hypercall(struct kvm_run *run, uint32_t nr)
{
    struct kvm_regs *r = &run->s.regs.regs;
    struct kvm_sregs *s = &run->s.regs.sregs;
    int is64 = (s->efer & (1ull << 10)) && s->cs.l;
    uint64_t a1, a2, a3;
    if (is64) {
        a1 = r->rdi; a2 = r->rsi; a3 = r->rdx;
    } else {
        a1 = (uint32_t)r->rbx; a2 = (uint32_t)r->rcx; a3 = (uint32_t)r->rdx;
    }
    switch (nr) {
    case HYPERVISOR_xen_version:
        if (a1 == XENVER_version)
            return (XEN_VERSION_MAJOR << 16) | XEN_VERSION_MINOR;
#ifdef XENSHIM_TEST_EXTRAS
        return extra_xen_version(s, (uint32_t)a1, a2);
#endif
        return -XEN_ENOSYS;
    case HYPERVISOR_console_io: {
        if ((uint32_t)a1 != CONSOLEIO_write)
            return -XEN_ENOSYS;
        uint64_t len = is64 ? a2 : (uint32_t)a2, done = 0;
        char buf[4096];
        while (done < len) {
            size_t chunk = len - done > sizeof(buf) ? sizeof(buf) : (size_t)(len - done);
            if (copy_from_guest(s, a3 + done, buf, chunk))
                return -XEN_EFAULT;
            fwrite(buf, 1, chunk, stdout);
            done += chunk;
        }
        fflush(stdout);
        return 0;
    }
    case HYPERVISOR_sched_op: {
        if ((uint32_t)a1 != SCHEDOP_shutdown)
            return -XEN_ENOSYS;
        uint32_t reason;
        if (copy_from_guest(s, a2, &reason, 4))
            return -XEN_EFAULT;
        shutdown_requested = (int)reason;
        return 0;
    }
#ifdef XENSHIM_TEST_EXTRAS
    case __HYPERVISOR_memory_op:
        return extra_memory_op(s, a1, a2);
    case __HYPERVISOR_hvm_op:
        return extra_hvm_op(s, a1, a2);
#endif
    default:
        return -XEN_ENOSYS;
    }
}

static void write_hypercall_page(uint64_t gpa)
{
    uint8_t *p = gpa_ptr(gpa, 4096);
    memset(p, 0xcc, 4096);
    for (uint32_t n = 0; n < HCALL_NR_STUBS; n++) {
        uint8_t *st = p + n * HCALL_STUB_SIZE;
        st[0] = 0xb8;                         /* mov $n, %eax */
        memcpy(st + 1, &n, 4);
        st[5] = 0xe7;                         /* out %eax, $HCALL_PORT */
        st[6] = HCALL_PORT;
        st[7] = 0xc3;                         /* ret */
    }
}

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int main(int argc, char **argv)
{
    uint64_t mem_mib = 128;
    int ai = 1;
    if (ai + 1 < argc && !strcmp(argv[ai], "--mem")) {
        mem_mib = strtoull(argv[ai + 1], NULL, 0);
        ai += 2;
    }
    if (ai >= argc || mem_mib < 4 || mem_mib > 65536) {
        fprintf(stderr, "usage: %s [--mem MiB] guest.elf [cmdline]\n", argv[0]);
        return 1;
    }
    const char *elf = argv[ai];
    const char *cmdline = ai + 1 < argc ? argv[ai + 1] : "";
    ram_size = mem_mib << 20;

    errno = 0;
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (kvm < 0)
        die("open /dev/kvm");
    int vm = xioctl(kvm, KVM_CREATE_VM, 0, "KVM_CREATE_VM");

    ram = mmap(NULL, ram_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (ram == MAP_FAILED)
        die("mmap guest RAM");
    struct kvm_userspace_memory_region region = {
        .slot = 0, .guest_phys_addr = 0, .memory_size = ram_size,
        .userspace_addr = (uint64_t)(uintptr_t)ram,
    };
    xioctl(vm, KVM_SET_USER_MEMORY_REGION, &region, "KVM_SET_USER_MEMORY_REGION");

    /* trap writes of the hypercall MSR */
    struct kvm_enable_cap cap = { .cap = KVM_CAP_X86_USER_SPACE_MSR,
                                  .args = { KVM_MSR_EXIT_REASON_FILTER } };
    xioctl(vm, KVM_ENABLE_CAP, &cap, "KVM_ENABLE_CAP(KVM_CAP_X86_USER_SPACE_MSR)");
    static uint8_t deny_bitmap[8];               /* bit 0 = 0: deny -> exit */
    struct kvm_msr_filter filter;
    memset(&filter, 0, sizeof(filter));
    filter.flags = KVM_MSR_FILTER_DEFAULT_ALLOW;
    filter.ranges[0] = (struct kvm_msr_filter_range){
        .flags = KVM_MSR_FILTER_READ | KVM_MSR_FILTER_WRITE, .nmsrs = 1, .base = HCALL_MSR,
        .bitmap = deny_bitmap,
    };
    xioctl(vm, KVM_X86_SET_MSR_FILTER, &filter, "KVM_X86_SET_MSR_FILTER");

    errno = 0;
    if (ioctl(kvm, KVM_CHECK_EXTENSION, KVM_CAP_SYNC_REGS) <= 0)
        die("KVM_CAP_SYNC_REGS not supported");

    vcpu_fd = xioctl(vm, KVM_CREATE_VCPU, 0, "KVM_CREATE_VCPU");
    int run_size = xioctl(kvm, KVM_GET_VCPU_MMAP_SIZE, 0, "KVM_GET_VCPU_MMAP_SIZE");
    struct kvm_run *run = mmap(NULL, (size_t)run_size, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu_fd, 0);
    if (run == MAP_FAILED)
        die("mmap kvm_run");

    setup_cpuid(kvm);
    uint64_t entry = load_elf(elf);
    setup_start_info(cmdline);

    struct kvm_sregs sregs;
    xioctl(vcpu_fd, KVM_GET_SREGS, &sregs, "KVM_GET_SREGS");
    setup_sregs(&sregs);
    xioctl(vcpu_fd, KVM_SET_SREGS, &sregs, "KVM_SET_SREGS");
    struct kvm_regs regs;
    memset(&regs, 0, sizeof(regs));
    regs.rflags = 0x2;
    regs.rip = entry;
    regs.rbx = START_INFO_GPA;
    xioctl(vcpu_fd, KVM_SET_REGS, &regs, "KVM_SET_REGS");

    uint64_t hcall_exits = 0, exits = 0;
    int status = -1;
    uint64_t t0 = now_ns();
    uint64_t tsc0 = __rdtsc();
    while (status < 0) {
        run->kvm_valid_regs = KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS;
        if (ioctl(vcpu_fd, KVM_RUN, 0) < 0) {
            if (errno == EINTR || errno == EAGAIN)
                continue;
            die("KVM_RUN");
        }
        run->kvm_dirty_regs = 0;
        exits++;
        switch (run->exit_reason) {
        case KVM_EXIT_IO: {
            uint8_t *data = (uint8_t *)run + run->io.data_offset;
            if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == HCALL_PORT && run->io.size == 4) {
                uint32_t nr;
                memcpy(&nr, data, 4);
                hcall_exits++;
                int64_t rv = do_hypercall(run, nr);
                struct kvm_sregs *s = &run->s.regs.sregs;
                if ((s->efer & (1ull << 10)) && s->cs.l)
                    run->s.regs.regs.rax = (uint64_t)rv;
                else
                    run->s.regs.regs.rax = (uint32_t)rv;
                run->kvm_dirty_regs = KVM_SYNC_X86_REGS;
                if (shutdown_requested >= 0)
                    status = shutdown_requested;
            } else if (run->io.direction == KVM_EXIT_IO_OUT && run->io.port == DEBUG_PORT) {
                for (uint32_t i = 0; i < run->io.count; i++)
                    fwrite(data + (size_t)i * run->io.size, 1, 1, stdout);
                fflush(stdout);
            } else if (run->io.direction == KVM_EXIT_IO_IN) {
                memset(data, 0xff, (size_t)run->io.size * run->io.count);
            }
            break;
        }
        case KVM_EXIT_MMIO:
            if (!run->mmio.is_write)
                memset(run->mmio.data, 0xff, sizeof(run->mmio.data));
            break;
        case KVM_EXIT_X86_WRMSR:
            if (run->msr.index == HCALL_MSR) {
                uint64_t v = run->msr.data, gpa = v & ~0xfffull;
                if ((v & 0xfff) != 0 || !gpa_ptr(gpa, 4096)) {
                    run->msr.error = 1;
                } else {
                    write_hypercall_page(gpa);
                    run->msr.error = 0;
                }
            } else {
                run->msr.error = 1;
            }
            break;
        case KVM_EXIT_X86_RDMSR:
            if (run->msr.index == HCALL_MSR) {
                run->msr.data = 0;                /* Xen reads the hypercall MSR as 0 */
                run->msr.error = 0;
            } else {
                run->msr.error = 1;
            }
            break;
        case KVM_EXIT_HLT:
            fprintf(stderr, "kvm_exit_baseline: guest halted\n");
            status = 5;
            break;
        case KVM_EXIT_SHUTDOWN:
            fprintf(stderr, "kvm_exit_baseline: triple fault (KVM_EXIT_SHUTDOWN) at rip 0x%llx\n",
                    (unsigned long long)run->s.regs.regs.rip);
            status = 2;
            break;
        case KVM_EXIT_INTERNAL_ERROR:
            fprintf(stderr, "kvm_exit_baseline: KVM internal error, suberror %u, rip 0x%llx\n",
                    run->internal.suberror, (unsigned long long)run->s.regs.regs.rip);
            status = 3;
            break;
        case KVM_EXIT_FAIL_ENTRY:
            fprintf(stderr, "kvm_exit_baseline: entry failed, reason 0x%llx\n",
                    (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
            status = 4;
            break;
        default:
            fprintf(stderr, "kvm_exit_baseline: unhandled exit reason %u at rip 0x%llx\n",
                    run->exit_reason, (unsigned long long)run->s.regs.regs.rip);
            status = 4;
            break;
        }
    }
    uint64_t t1 = now_ns();
    uint64_t tsc1 = __rdtsc();
    fflush(stdout);
    fprintf(stderr, "kvm_exit_baseline: exit status %d, %" PRIu64 " exits, %" PRIu64
            " hypercall exits, %" PRIu64 " ns total, %.1f ns per hypercall exit, tsc_khz=%.0f\n",
            status, exits, hcall_exits, t1 - t0,
            hcall_exits ? (double)(t1 - t0) / (double)hcall_exits : 0.0,
            t1 > t0 ? (double)(tsc1 - tsc0) * 1e6 / (double)(t1 - t0) : 0.0);
    return status;
}
