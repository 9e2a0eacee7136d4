/* triplefault: loads an empty IDT and executes ud2.  #UD cannot be
 * delivered (IDT limit 0) -> #GP -> #DF -> triple fault -> the VMM sees a
 * shutdown exit (KVM_EXIT_SHUTDOWN).  Uses no hypercalls. */
#include "xenguest.h"

void kmain(struct hvm_start_info *si)
{
    static const struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
    } empty_idt = { 0, 0 };

    (void)si;
    early_puts("triplefault: loading empty IDT\n");
    asm volatile("lidt %0" : : "m"(empty_idt));
    asm volatile("ud2");
    early_puts("triplefault: still alive after ud2?!\n");
    for (;;)
        asm volatile("cli; hlt");
}
