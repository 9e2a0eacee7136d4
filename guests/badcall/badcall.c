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

    printk("badcall: %d passed, %d failed\n", passed, failed);
    xen_shutdown(failed ? SHUTDOWN_crash : SHUTDOWN_poweroff);
}
