/*
 * plugin: the guest of the example plugin (examples/entropy-plugin), a
 * paravirtual entropy source on __HYPERVISOR_arch_7 whose ABI is in
 * xenshim-entropy.h.
 *
 * Every 500 ms it asks arch_7 for 16 random bytes (XENSHIM_ENTROPY_get):
 *   -ENOSYS  no handler in the slot (xenshim's answer for an empty slot, as
 *            Xen's for a hypercall it lacks): said once, on the first such
 *            answer and again whenever a handler that answered is gone;
 *   16       the handler answered: the bytes are printed;
 *   other    the handler broke the ABI: said, and SHUTDOWN_crash.
 * It powers off after `answers=N` answered calls (default 3), or `wait=S`
 * seconds after it started (default 300) with what it got. With wait=0 it
 * calls once and powers off.
 *
 * The 500 ms between calls are a SCHEDOP_poll with a timeout on a port that
 * never fires (allocated unbound for itself, masked), as Linux's
 * xen_poll_irq_timeout waits: the vCPU is parked in the VMM, not spinning.
 * That needs shared_info (the port's mask and pending bits), mapped at a page
 * of .bss with XENMEM_add_to_physmap. Time is HVMOP_get_time.
 */
#include "pv.h"
#include "xenshim-entropy.h"

#define BYTES        16
#define PERIOD_MS    500
#define NS_PER_S     1000000000ull

/* A page of our image that XENMEM_add_to_physmap replaces with shared_info. */
static union {
    struct shared_info si;
    char page[4096];
} shared_info_page __attribute__((section(".bss.pagealigned"), aligned(4096)));

static uint8_t entropy[BYTES];

static long entropy_get(void *buffer, unsigned long length)
{
    return _hypercall3(__HYPERVISOR_xenshim_entropy, XENSHIM_ENTROPY_get, buffer, length);
}

/* The number after key= on the command line, or dflt if there is none; a
 * value that is not a number ends the guest, naming it. */
static unsigned long cmdline_number(const char *key, unsigned long dflt)
{
    const char *v = cmdline_find(key);
    if (!v)
        return dflt;
    const char *end;
    unsigned long n = parse_ulong(v, &end);
    if (end == v || (*end != 0 && *end != ' ')) {
        printk("plugin: bad %s= on the command line (want a number); crashing\n", key);
        xen_shutdown(SHUTDOWN_crash);
    }
    return n;
}

static void map_shared_info(void)
{
    struct xen_add_to_physmap xatp = {
        .domid = DOMID_SELF,
        .space = XENMAPSPACE_shared_info,
        .idx = 0,
        .gpfn = (unsigned long)(uintptr_t)&shared_info_page >> 12,
    };
    long rc = HYPERVISOR_memory_op(XENMEM_add_to_physmap, &xatp);
    if (rc != 0) {
        printk("plugin: XENMEM_add_to_physmap(shared_info) rc=%ld; crashing\n", rc);
        xen_shutdown(SHUTDOWN_crash);
    }
    pv_init(&shared_info_page.si);
}

static void print_bytes(void)
{
    char line[3 * BYTES + 1];
    for (int i = 0; i < BYTES; i++)
        snprintf(line + 3 * i, 4, " %02x", entropy[i]);
    printk("plugin: %d random bytes from arch_7:%s\n", BYTES, line);
}

void kmain(struct hvm_start_info *si)
{
    (void)si;
    if (xen_init() != 0) {
        early_puts("plugin: cannot continue without Xen\n");
        for (;;)
            asm volatile("cli; hlt");
    }
    unsigned long wait_s = cmdline_number("wait", 300);
    unsigned long want = cmdline_number("answers", 3);
    if (want == 0)
        want = 1;
    map_shared_info();
    evtchn_port_t idle;
    long rc = pv_alloc_unbound(DOMID_SELF, &idle);
    uint64_t start = pv_now_ns();
    if (rc != 0 || start == 0) {
        printk("plugin: no port to wait on (rc=%ld) or no clock (HVMOP_get_time); crashing\n", rc);
        xen_shutdown(SHUTDOWN_crash);
    }
    printk("plugin: asking __HYPERVISOR_arch_7 (%d) for %d random bytes every %d ms, "
           "until %lu answers or for %lu s\n", __HYPERVISOR_xenshim_entropy, BYTES, PERIOD_MS, want, wait_s);

    unsigned long answers = 0;
    int answering = -1;     /* the last call: 1 answered, 0 -ENOSYS, -1 none yet */
    for (;;) {
        memset(entropy, 0, sizeof(entropy));
        rc = entropy_get(entropy, BYTES);
        if (rc == BYTES) {
            print_bytes();
            answering = 1;
            if (++answers == want) {
                printk("plugin: %lu answers from arch_7; powering off\n", answers);
                xen_shutdown(SHUTDOWN_poweroff);
            }
        } else if (rc == -XEN_ENOSYS) {
            if (answering != 0)
                printk("plugin: arch_7 -> -ENOSYS (%s)\n",
                       answering < 0 ? "no handler yet; swap one in" : "the handler is gone");
            answering = 0;
        } else {
            printk("plugin: arch_7 -> rc=%ld, want %d or -ENOSYS: the handler breaks the ABI; crashing\n",
                   rc, BYTES);
            xen_shutdown(SHUTDOWN_crash);
        }
        if (pv_now_ns() - start >= wait_s * NS_PER_S)
            break;
        pv_wait(idle, PERIOD_MS);   /* -ETIME: nothing sends on it */
    }
    if (answers == 0)
        printk("plugin: no arch_7 handler came within %lu s (the plugin never came); powering off\n", wait_s);
    else
        printk("plugin: %lu of %lu answers from arch_7 within %lu s; powering off\n", answers, want, wait_s);
    xen_shutdown(SHUTDOWN_poweroff);
}
