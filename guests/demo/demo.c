/*
 * demo: the main xenshim demo guest.  Finds Xen through CPUID, installs the
 * hypercall page, and prints what the VMM answers to a tour of common
 * hypercalls.  Every failing call prints its rc; nothing here waits on the
 * VMM, so a missing hypercall cannot hang the guest.  Then, where the
 * toolstack gave it a PV console and xenstore, a round trip with a dom0
 * backend through a granted page (pvdemo.c); its waits are bounded.
 */
#include "hypercall.h"

int pv_demo(volatile struct shared_info *shared);   /* pvdemo.c */

/* A page of our own image that XENMEM_add_to_physmap replaces with shared_info. */
static union {
    struct shared_info si;
    char page[4096];
} shared_info_page __attribute__((section(".bss.pagealigned"), aligned(4096)));

/* struct e820entry as Xen writes it for XENMEM_memory_map (packed, 20 bytes). */
struct e820entry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
} __attribute__((packed));

static struct e820entry e820[32];

static const char *memtype(uint32_t t)
{
    switch (t) {
    case 1: return "RAM";
    case 2: return "reserved";
    case 3: return "ACPI";
    case 4: return "NVS";
    case 5: return "unusable";
    case 6: return "disabled";
    case 7: return "PMEM";
    default: return "?";
    }
}

/* Print a string field of a fixed-size Xen buffer that may lack a NUL. */
static void print_field(const char *label, const char *s, size_t max)
{
    char buf[1100];
    size_t n = 0;
    if (max > sizeof(buf) - 1)
        max = sizeof(buf) - 1;
    while (n < max && s[n])
        n++;
    memcpy(buf, s, n);
    buf[n] = 0;
    printk("%s\"%s\"\n", label, buf);
}

static void show_version(void)
{
    long rc = HYPERVISOR_xen_version(XENVER_version, NULL);
    if (rc < 0)
        printk("demo: XENVER_version rc=%ld\n", rc);
    else
        printk("demo: XENVER_version: Xen %ld.%ld\n", rc >> 16, rc & 0xffff);

    static xen_extraversion_t extra;
    memset(extra, 0, sizeof(extra));
    rc = HYPERVISOR_xen_version(XENVER_extraversion, extra);
    if (rc < 0)
        printk("demo: XENVER_extraversion rc=%ld\n", rc);
    else
        print_field("demo: XENVER_extraversion: ", extra, sizeof(extra));

    static struct xen_compile_info ci;
    memset(&ci, 0, sizeof(ci));
    rc = HYPERVISOR_xen_version(XENVER_compile_info, &ci);
    if (rc < 0) {
        printk("demo: XENVER_compile_info rc=%ld\n", rc);
    } else {
        print_field("demo: compile_info.compiler: ", ci.compiler, sizeof(ci.compiler));
        print_field("demo: compile_info.compile_by: ", ci.compile_by, sizeof(ci.compile_by));
        print_field("demo: compile_info.compile_domain: ", ci.compile_domain, sizeof(ci.compile_domain));
        print_field("demo: compile_info.compile_date: ", ci.compile_date, sizeof(ci.compile_date));
    }

    static xen_capabilities_info_t caps;
    memset(caps, 0, sizeof(caps));
    rc = HYPERVISOR_xen_version(XENVER_capabilities, caps);
    if (rc < 0)
        printk("demo: XENVER_capabilities rc=%ld\n", rc);
    else
        print_field("demo: XENVER_capabilities: ", caps, sizeof(caps));

    static xen_changeset_info_t cs;
    memset(cs, 0, sizeof(cs));
    rc = HYPERVISOR_xen_version(XENVER_changeset, cs);
    if (rc < 0)
        printk("demo: XENVER_changeset rc=%ld\n", rc);
    else
        print_field("demo: XENVER_changeset: ", cs, sizeof(cs));

    struct xen_feature_info fi = { .submap_idx = 0, .submap = 0 };
    rc = HYPERVISOR_xen_version(XENVER_get_features, &fi);
    if (rc < 0)
        printk("demo: XENVER_get_features(0) rc=%ld\n", rc);
    else
        printk("demo: XENVER_get_features submap 0: 0x%08x\n", fi.submap);

    rc = HYPERVISOR_xen_version(XENVER_pagesize, NULL);
    if (rc < 0)
        printk("demo: XENVER_pagesize rc=%ld\n", rc);
    else
        printk("demo: XENVER_pagesize: %ld\n", rc);
}

static void show_start_info(struct hvm_start_info *si)
{
    printk("demo: hvm_start_info at %p: version %u, flags 0x%x, nr_modules %u\n",
           si, si->version, si->flags, si->nr_modules);
    printk("demo: cmdline: \"%s\"\n", start_info_cmdline());
    if (si->version >= 1 && si->memmap_paddr && si->memmap_entries) {
        struct hvm_memmap_table_entry *mm = (void *)(uintptr_t)si->memmap_paddr;
        printk("demo: start_info memmap: %u entries\n", si->memmap_entries);
        for (uint32_t i = 0; i < si->memmap_entries && i < 64; i++)
            printk("demo:   [%u] 0x%016lx-0x%016lx type %u (%s)\n", i, mm[i].addr,
                   mm[i].addr + mm[i].size - 1, mm[i].type, memtype(mm[i].type));
    } else {
        printk("demo: start_info memmap: none (version %u)\n", si->version);
    }
}

static void show_memory(void)
{
    struct xen_memory_map mm = { .nr_entries = sizeof(e820) / sizeof(e820[0]) };
    set_xen_guest_handle(mm.buffer, e820);
    long rc = HYPERVISOR_memory_op(XENMEM_memory_map, &mm);
    if (rc < 0) {
        printk("demo: XENMEM_memory_map rc=%ld\n", rc);
    } else {
        printk("demo: XENMEM_memory_map: %u entries\n", mm.nr_entries);
        for (unsigned i = 0; i < mm.nr_entries && i < sizeof(e820) / sizeof(e820[0]); i++)
            printk("demo:   [%u] 0x%016lx-0x%016lx type %u (%s)\n", i, e820[i].addr,
                   e820[i].addr + e820[i].size - 1, e820[i].type, memtype(e820[i].type));
    }

    domid_t self = DOMID_SELF;
    rc = HYPERVISOR_memory_op(XENMEM_current_reservation, &self);
    if (rc < 0)
        printk("demo: XENMEM_current_reservation rc=%ld\n", rc);
    else
        printk("demo: XENMEM_current_reservation: %ld pages (%ld KiB)\n", rc, rc * 4);
}

/* 0 once shared_info is mapped at shared_info_page. */
static int show_shared_info(void)
{
    unsigned long gpfn = (unsigned long)(uintptr_t)&shared_info_page >> 12;
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .size = 0,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = gpfn,
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc != 0) {
        printk("demo: XENMEM_add_to_physmap(shared_info, gpfn 0x%lx) rc=%ld\n", gpfn, rc);
        return -1;
    }
    volatile struct shared_info *s = &shared_info_page.si;
    printk("demo: shared_info mapped at gpfn 0x%lx\n", gpfn);
    printk("demo: shared_info: wc_version %u, wc %u.%09u s, vcpu0 upcall_pending %u upcall_mask %u\n",
           s->wc_version, s->wc_sec, s->wc_nsec,
           s->vcpu_info[0].evtchn_upcall_pending, s->vcpu_info[0].evtchn_upcall_mask);
    printk("demo: shared_info: vcpu0 time version %u tsc_to_system_mul %u tsc_shift %d\n",
           s->vcpu_info[0].time.version, s->vcpu_info[0].time.tsc_to_system_mul,
           s->vcpu_info[0].time.tsc_shift);
    return 0;
}

static void show_param(const char *name, uint32_t index)
{
    struct xen_hvm_param p = { .domid = DOMID_SELF, .index = index, .value = 0 };
    long rc = HYPERVISOR_hvm_op(HVMOP_get_param, &p);
    if (rc < 0)
        printk("demo: HVMOP_get_param(%s) rc=%ld\n", name, rc);
    else
        printk("demo: HVMOP_get_param(%s) rc=%ld value=0x%lx\n", name, rc, (unsigned long)p.value);
}

void kmain(struct hvm_start_info *si)
{
    if (xen_init() != 0) {
        early_puts("demo: cannot continue without Xen\n");
        for (;;)
            asm volatile("cli; hlt");
    }
    printk("\n==== xenshim demo guest (PVH, 64-bit) ====\n");
    printk("demo: Xen CPUID leaves at 0x%x, version %u.%u (cpuid), %u hypercall page(s), MSR 0x%x\n",
           xen_cpuid_base, xen_cpuid_version >> 16, xen_cpuid_version & 0xffff,
           xen_hypercall_pages, xen_hypercall_msr);
    printk("demo: hypercall page at %p\n", hypercall_page);

    show_version();
    show_start_info(si);
    show_memory();
    int shared = show_shared_info();
    show_param("HVM_PARAM_CONSOLE_EVTCHN", HVM_PARAM_CONSOLE_EVTCHN);
    show_param("HVM_PARAM_CONSOLE_PFN", HVM_PARAM_CONSOLE_PFN);
    show_param("HVM_PARAM_STORE_EVTCHN", HVM_PARAM_STORE_EVTCHN);
    show_param("HVM_PARAM_STORE_PFN", HVM_PARAM_STORE_PFN);

    if (shared == 0 && pv_demo(&shared_info_page.si) < 0) {
        printk("demo: the PV round trip failed; crashing\n");
        xen_shutdown(SHUTDOWN_crash);
    }
    printk("demo: powering off\n");
    xen_shutdown(SHUTDOWN_poweroff);
}
