/* spin: prints one line and then spins forever in a pause loop (never exits
 * to the VMM: no hlt, no I/O). Used to test stopping a running vCPU. */
#include "hypercall.h"

void kmain(struct hvm_start_info *si)
{
    (void)si;
    if (xen_init() == 0)
        printk("spin: never shutting down\n");
    else
        early_puts("spin: never shutting down\n");
    for (;;)
        cpu_relax();
}
