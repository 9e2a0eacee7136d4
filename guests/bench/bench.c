/*
 * bench: hypercall round-trip benchmark.
 * Command line "iters=N" (default 100000).  Warms up with N/10 calls, then
 * times N calls of xen_version(XENVER_version, NULL) with lfence;rdtsc and
 * prints one machine-readable line (with "mode=out", the timed calls are
 * bare `out`s to port 0xe6 instead: the same exit to the VMM, served by no
 * handler, to compare a CPU backend's exit cost with its hypercall cost):
 *   bench: iters=<N> cycles=<total> per_call=<cycles per call>
 *   bench: version=<major>.<minor>
 * and powers off.
 */
#include "hypercall.h"

#define DEFAULT_ITERS 100000ul

static void print_tsc_info(void)
{
    uint32_t a, b, c, d;
    cpuid(0, 0, &a, &b, &c, &d);
    uint32_t max = a;
    if (max >= 0x15) {
        cpuid(0x15, 0, &a, &b, &c, &d);
        if (a && b && c) {
            printk("bench: tsc_khz=%lu (cpuid 0x15)\n",
                   (unsigned long)c * b / a / 1000);
            return;
        }
    }
    if (max >= 0x16) {
        cpuid(0x16, 0, &a, &b, &c, &d);
        if (a & 0xffff) {
            printk("bench: tsc_khz=%lu (cpuid 0x16 base MHz, approximate)\n",
                   (unsigned long)(a & 0xffff) * 1000);
            return;
        }
    }
    printk("bench: tsc_khz=unknown\n");
}

void kmain(struct hvm_start_info *si)
{
    (void)si;
    if (xen_init() != 0) {
        early_puts("bench: no Xen\n");
        for (;;)
            asm volatile("cli; hlt");
    }
    unsigned long iters = DEFAULT_ITERS;
    const char *v = cmdline_find("iters");
    if (v) {
        unsigned long n = parse_ulong(v, NULL);
        if (n)
            iters = n;
    }

    long ver = 0;
    for (unsigned long i = 0; i < iters / 10; i++)
        ver = HYPERVISOR_xen_version(XENVER_version, NULL);

    const char *mode = cmdline_find("mode");
    int bare_out = mode && mode[0] == 'o' && mode[1] == 'u' && mode[2] == 't';
    uint64_t t0 = rdtsc_ordered();
    if (bare_out) {
        for (unsigned long i = 0; i < iters; i++)
            asm volatile("outl %%eax, $0xe6" : : "a"(0u) : "memory");
    } else {
        for (unsigned long i = 0; i < iters; i++)
            ver = HYPERVISOR_xen_version(XENVER_version, NULL);
    }
    uint64_t t1 = rdtsc_ordered();

    uint64_t cycles = t1 - t0;
    printk("bench: iters=%lu cycles=%lu per_call=%lu\n", iters, (unsigned long)cycles,
           (unsigned long)(cycles / iters));
    if (ver < 0)
        printk("bench: version rc=%ld\n", ver);
    else
        printk("bench: version=%ld.%ld\n", ver >> 16, ver & 0xffff);
    print_tsc_info();
    xen_shutdown(SHUTDOWN_poweroff);
}
