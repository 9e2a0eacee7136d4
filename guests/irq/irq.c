/*
 * irq: takes external interrupts. Installs a 64-bit IDT whose vector 0xf3
 * counts, and whose every other vector reports itself and crashes; then
 * halts with interrupts on ("irq: waiting") until the VMM has raised 0xf3
 * three times, says so and powers off. Used to test interrupt injection on
 * every CPU backend, and that a vCPU halted with interrupts on sleeps.
 */
#include "hypercall.h"

#define VECTOR 0xf3
#define WANTED 3

struct idt_gate {
    uint16_t offset0;
    uint16_t selector;
    uint8_t ist;
    uint8_t type;        /* present, DPL 0, 64-bit interrupt gate: 0x8e */
    uint16_t offset1;
    uint32_t offset2;
    uint32_t zero;
} __attribute__((packed));

struct interrupt_frame;

static struct idt_gate idt[256] __attribute__((aligned(16)));
static volatile int hits;
static volatile int stray;

__attribute__((interrupt)) static void on_vector(struct interrupt_frame *frame)
{
    (void)frame;
    hits++;
}

__attribute__((interrupt)) static void on_stray(struct interrupt_frame *frame)
{
    (void)frame;
    stray = 1;
}

static void set_gate(int vector, void (*handler)(struct interrupt_frame *), uint16_t cs)
{
    uint64_t at = (uint64_t)handler;
    idt[vector] = (struct idt_gate){
        .offset0 = at & 0xffff, .selector = cs, .ist = 0, .type = 0x8e,
        .offset1 = (at >> 16) & 0xffff, .offset2 = at >> 32, .zero = 0,
    };
}

void kmain(struct hvm_start_info *si)
{
    (void)si;
    if (xen_init() != 0) {
        early_puts("irq: no Xen\n");
        for (;;)
            asm volatile("cli; hlt");
    }
    uint16_t cs;
    asm volatile("mov %%cs, %0" : "=r"(cs));
    for (int v = 32; v < 256; v++)
        set_gate(v, v == VECTOR ? on_vector : on_stray, cs);
    struct { uint16_t limit; uint64_t base; } __attribute__((packed)) idtr = {
        sizeof(idt) - 1, (uint64_t)idt,
    };
    asm volatile("lidt %0" : : "m"(idtr));

    printk("irq: waiting for vector 0x%x\n", VECTOR);
    while (hits < WANTED && !stray)
        asm volatile("sti; hlt; cli" : : : "memory");
    if (stray) {
        printk("irq: an interrupt came on another vector\n");
        xen_shutdown(SHUTDOWN_crash);
    }
    printk("irq: took vector 0x%x %d times\n", VECTOR, hits);
    xen_shutdown(SHUTDOWN_poweroff);
}
