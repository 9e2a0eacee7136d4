/* xenshim guests: finding Xen, the hypercall page, console and shutdown. */
#include "hypercall.h"

/* The hypercall page: the VMM fills it when we write its address to the MSR. */
char hypercall_page[4096] __attribute__((section(".bss.pagealigned"), aligned(4096)));

uint32_t xen_cpuid_base;
uint32_t xen_cpuid_version;
uint32_t xen_hypercall_msr;
uint32_t xen_hypercall_pages;

static int xen_ready;

void early_puts(const char *s)
{
    while (*s)
        outb(EARLY_CONSOLE_PORT, (uint8_t)*s++);
}

int xen_init(void)
{
    uint32_t a, b, c, d;
    for (uint32_t base = 0x40000000; base < 0x40010000; base += 0x100) {
        cpuid(base, 0, &a, &b, &c, &d);
        /* "XenVMMXenVMM" in ebx, ecx, edx */
        if (b == 0x566e6558 && c == 0x65584d4d && d == 0x4d4d566e && a - base >= 2) {
            xen_cpuid_base = base;
            break;
        }
    }
    if (!xen_cpuid_base) {
        early_puts("xenshim guest: no Xen CPUID leaves\n");
        return -1;
    }
    cpuid(xen_cpuid_base + 1, 0, &a, &b, &c, &d);
    xen_cpuid_version = a;
    cpuid(xen_cpuid_base + 2, 0, &a, &b, &c, &d);
    xen_hypercall_pages = a;
    xen_hypercall_msr = b;
    if (xen_hypercall_pages < 1) {
        early_puts("xenshim guest: Xen reports no hypercall pages\n");
        return -1;
    }
    /* identity-mapped: virtual == physical; low 12 bits = page index 0 */
    wrmsr(xen_hypercall_msr, (uint64_t)(uintptr_t)hypercall_page);
    xen_ready = 1;
    return 0;
}

void console_write(const char *s, size_t len)
{
    if (!xen_ready) {
        while (len--)
            outb(EARLY_CONSOLE_PORT, (uint8_t)*s++);
        return;
    }
    HYPERVISOR_console_io(CONSOLEIO_write, len, s);
}

int vprintk_to(void (*write)(const char *, size_t), const char *fmt, va_list ap)
{
    char buf[1200];     /* fits a full xen_capabilities_info_t line */
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    if (n > (int)sizeof(buf) - 1)
        n = sizeof(buf) - 1;
    write(buf, (size_t)n);
    return n;
}

int printk(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vprintk_to(console_write, fmt, ap);
    va_end(ap);
    return n;
}

void xen_shutdown(unsigned int reason)
{
    if (xen_ready) {
        struct sched_shutdown sd = { .reason = reason };
        long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
        printk("xenshim guest: SCHEDOP_shutdown returned rc=%ld; halting\n", rc);
    } else {
        early_puts("xenshim guest: no hypercall page; halting\n");
    }
    for (;;)
        asm volatile("cli; hlt" ::: "memory");
}

struct hvm_start_info *start_info(void)
{
    return (struct hvm_start_info *)(uintptr_t)start_info_pa;
}

const char *start_info_cmdline(void)
{
    struct hvm_start_info *si = start_info();
    if (!si || !si->cmdline_paddr)
        return "";
    return (const char *)(uintptr_t)si->cmdline_paddr;
}

const char *cmdline_find(const char *key)
{
    const char *s = start_info_cmdline();
    size_t kl = strlen(key);
    while (*s) {
        while (*s == ' ')
            s++;
        if (!strncmp(s, key, kl) && s[kl] == '=')
            return s + kl + 1;
        while (*s && *s != ' ')
            s++;
    }
    return NULL;
}
