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

    static char buf[16] = "x";
    check("console_io unknown cmd 0x55",
          HYPERVISOR_console_io(0x55, 1, buf), -XEN_ENOSYS);
    check("sched_op unknown cmd 0x55",
          HYPERVISOR_sched_op(0x55, NULL), -XEN_ENOSYS);
    check("memory_op unknown cmd 0x3f",
          HYPERVISOR_memory_op(0x3f, NULL), -XEN_ENOSYS);

    static xen_commandline_t cmdline;
    check("xen_version XENVER_commandline unprivileged",
          HYPERVISOR_xen_version(XENVER_commandline, cmdline), -XEN_EPERM);
    check("xen_version XENVER_pagesize NULL",
          HYPERVISOR_xen_version(XENVER_pagesize, NULL), 4096);

    printk("badcall: %d passed, %d failed\n", passed, failed);
    xen_shutdown(failed ? SHUTDOWN_crash : SHUTDOWN_poweroff);
}
