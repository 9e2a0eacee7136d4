/*
 * badcall: makes bad hypercalls and checks the -errno Xen returns in rax.
 * One line per check: "PASS <what> rc=<n>" or "FAIL <what> rc=<n> want=<m>",
 * then "badcall: N passed, M failed".  Powers off if all passed, else
 * shuts down with SHUTDOWN_crash.
 */
#include "hypercall.h"

/* 512 GiB: canonical, but outside the 4 GiB identity map built by head.S. */
#define UNMAPPED_GVA 0x0000008000000000ul

static int passed, failed;

/*
 * A populate_physmap of 2^20 extents (an 8 MiB extent list): more than one
 * entry may do, so xenshim serves it in bounded entries and continues it as
 * Xen does (the extents done go into cmd above MEMOP_EXTENT_SHIFT and the
 * vCPU re-enters the stub). The result is the number of extents done.
 */
#define LONG_EXTENTS (1ul << 20)
#define BALLOON_BASE 0x2000ul   /* 32 MiB: above this image and its bss */
#define BALLOON_FRAMES 16ul
/*
 * The 8 MiB list is one page of 512 extents seen 2048 times: 8 MiB of virtual
 * addresses at 3 GiB (the PCI hole, no RAM behind it) whose page tables all
 * name the same frame, as a guest may alias one page over a whole buffer.
 * Writing 8 MiB of real RAM would cost this guest more than the call does
 * on a software virtualiser, where each first touch of a page is slow.
 */
#define ALIAS_VA 0xC0000000ul
static uint64_t alias_pt[512] __attribute__((aligned(4096)));
static xen_pfn_t alias_page[512] __attribute__((aligned(4096)));

static xen_pfn_t *aliased_list(void)
{
    uint64_t cr3;
    asm volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t *pml4 = (uint64_t *)(cr3 & ~0xfffull);
    uint64_t *pdpt = (uint64_t *)(pml4[0] & 0x000ffffffffff000ull);
    uint64_t *pd = (uint64_t *)(pdpt[3] & 0x000ffffffffff000ull);  /* 3..4 GiB */
    for (int i = 0; i < 512; i++)
        alias_pt[i] = (uint64_t)alias_page | 3;                      /* present, writable */
    for (unsigned long i = 0; i < LONG_EXTENTS * sizeof(xen_pfn_t) / (2ul << 20); i++)
        pd[i] = (uint64_t)alias_pt | 3;
    asm volatile("mov %0, %%cr3" : : "r"(cr3) : "memory");
    return (xen_pfn_t *)ALIAS_VA;
}

static void check(const char *what, long rc, long want)
{
    if (rc == want) {
        passed++;
        printk("PASS %s rc=%ld\n", what, rc);
    } else {
        failed++;
        printk("FAIL %s rc=%ld want=%ld\n", what, rc, want);
    }
}

void kmain(struct hvm_start_info *si)
{
    (void)si;
    if (xen_init() != 0) {
        early_puts("badcall: no Xen; FAIL\n");
        for (;;)
            asm volatile("cli; hlt");
    }
    printk("badcall: checking Xen error returns\n");

    check("unknown hypercall 55 (arch_7)", _hypercall0(55), -XEN_ENOSYS);
    check("unknown hypercall 127", _hypercall0(127), -XEN_ENOSYS);
    check("xen_version unknown cmd 0x7fff",
          HYPERVISOR_xen_version(0x7fff, NULL), -XEN_ENOSYS);
    check("xen_version XENVER_extraversion unmapped buffer",
          HYPERVISOR_xen_version(XENVER_extraversion, (void *)UNMAPPED_GVA), -XEN_EFAULT);

    struct xen_feature_info fi = { .submap_idx = 1, .submap = 0 };
    check("xen_version XENVER_get_features submap_idx=1",
          HYPERVISOR_xen_version(XENVER_get_features, &fi), -XEN_EINVAL);

    /* Xen's dummy XSM policy checks console_io before the command: a domU may only write. */
    static char buf[16] = "x";
    check("console_io unknown cmd 0x55 from a domU",
          HYPERVISOR_console_io(0x55, 1, buf), -XEN_EPERM);
    check("console_io CONSOLEIO_read from a domU",
          HYPERVISOR_console_io(CONSOLEIO_read, sizeof(buf), buf), -XEN_EPERM);
    check("console_io CONSOLEIO_write unmapped buffer",
          HYPERVISOR_console_io(CONSOLEIO_write, 8, (void *)UNMAPPED_GVA), -XEN_EFAULT);
    check("sched_op unknown cmd 0x55",
          HYPERVISOR_sched_op(0x55, NULL), -XEN_ENOSYS);
    check("memory_op unknown cmd 0x3f",
          HYPERVISOR_memory_op(0x3f, NULL), -XEN_ENOSYS);

    /* A domU asking for Xen's command line gets "<denied>" and rc 0. */
    static xen_commandline_t cmdline;
    long rc = HYPERVISOR_xen_version(XENVER_commandline, cmdline);
    check("xen_version XENVER_commandline unprivileged", rc, 0);
    check("xen_version XENVER_commandline says <denied>",
          memcmp(cmdline, "<denied>", 9) == 0 ? 0 : 1, 0);

    struct sched_shutdown *bad_shutdown = (void *)UNMAPPED_GVA;
    check("sched_op SCHEDOP_shutdown unmapped argument",
          HYPERVISOR_sched_op(SCHEDOP_shutdown, bad_shutdown), -XEN_EFAULT);

    struct xen_hvm_param param = { .domid = DOMID_SELF, .index = HVM_NR_PARAMS };
    check("hvm_op HVMOP_get_param index HVM_NR_PARAMS",
          HYPERVISOR_hvm_op(HVMOP_get_param, &param), -XEN_EINVAL);
    param.index = HVM_PARAM_STORE_PFN;
    param.value = 0x1234;
    check("hvm_op HVMOP_set_param HVM_PARAM_STORE_PFN on itself",
          HYPERVISOR_hvm_op(HVMOP_set_param, &param), -XEN_EPERM);
    param.domid = 0x7000;
    check("hvm_op HVMOP_get_param of a domain that does not exist",
          HYPERVISOR_hvm_op(HVMOP_get_param, &param), -XEN_ESRCH);
    check("hvm_op unknown op 0x7f", HYPERVISOR_hvm_op(0x7f, NULL), -XEN_ENOSYS);

    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF, .space = XENMAPSPACE_shared_info, .idx = 1, .gpfn = 0x200,
    };
    check("memory_op XENMEM_add_to_physmap shared_info idx 1",
          HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp), -XEN_EINVAL);
    check("xen_version XENVER_pagesize NULL",
          HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);

    /* Balloon out 16 frames, then populate 2^20 extents naming them over and
     * over: the first 16 allocate (zeroed pages), the rest name RAM that is
     * there already, which xenshim's physmap leaves as it is (Xen would
     * allocate a page for each and needs 2^20 pages of headroom for this). */
    for (unsigned long i = 0; i < BALLOON_FRAMES; i++) {
        volatile unsigned long *page = (void *)((BALLOON_BASE + i) << 12);
        *page = 0x5a5a5a5a5a5a5a5aul;
    }
    for (unsigned long i = 0; i < 512; i++)
        alias_page[i] = BALLOON_BASE + i % BALLOON_FRAMES;
    xen_pfn_t *long_list = aliased_list();
    struct xen_memory_reservation res = {
        .nr_extents = BALLOON_FRAMES, .extent_order = 0, .domid = DOMID_SELF,
    };
    set_xen_guest_handle(res.extent_start, long_list);
    check("memory_op XENMEM_decrease_reservation of 16 frames",
          HYPERVISOR_memory_op(XENMEM_decrease_reservation, &res), BALLOON_FRAMES);
    res.nr_extents = LONG_EXTENTS;
    check("memory_op XENMEM_populate_physmap of 2^20 extents",
          HYPERVISOR_memory_op(XENMEM_populate_physmap, &res), LONG_EXTENTS);
    check("memory_op XENMEM_populate_physmap gave zeroed pages",
          *(volatile unsigned long *)(BALLOON_BASE << 12), 0);

    printk("badcall: %d passed, %d failed\n", passed, failed);
    xen_shutdown(failed ? SHUTDOWN_crash : SHUTDOWN_poweroff);
}
