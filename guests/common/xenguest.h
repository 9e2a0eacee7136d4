/*
 * xenshim guests: common declarations (freestanding, no libc).
 * Constants and structs come from the Xen public headers in /usr/include/xen.
 */
#ifndef XENSHIM_GUEST_XENGUEST_H
#define XENSHIM_GUEST_XENGUEST_H

#ifndef __XEN_INTERFACE_VERSION__
#define __XEN_INTERFACE_VERSION__ 0x00040e00
#endif

#include <stdint.h>
#include <stddef.h>
#include <stdarg.h>
#include <xen/xen.h>
#include <xen/version.h>
#include <xen/sched.h>
#include <xen/memory.h>
#include <xen/hvm/hvm_op.h>
#include <xen/hvm/params.h>
#include <xen/event_channel.h>
#include <xen/vcpu.h>
#include <xen/arch-x86/cpuid.h>
#include <xen/arch-x86/hvm/start_info.h>

#define EARLY_CONSOLE_PORT 0x12

/* Xen's errno values (xen/errno.h) we print or check. */
#define XEN_EPERM   1
#define XEN_ENOENT  2
#define XEN_ESRCH   3
#define XEN_EFAULT  14
#define XEN_EINVAL  22
#define XEN_ENOSYS  38
#define XEN_ETIME   62

extern uint64_t start_info_pa;          /* head.S: %ebx at entry */

/* Filled by xen_init(). */
extern uint32_t xen_cpuid_base;         /* 0x40000000 + 0x100*k, 0 if none */
extern uint32_t xen_cpuid_version;      /* leaf base+1 eax: major<<16|minor */
extern uint32_t xen_hypercall_msr;      /* leaf base+2 ebx */
extern uint32_t xen_hypercall_pages;    /* leaf base+2 eax */

static inline void outb(uint16_t port, uint8_t v)
{
    asm volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void wrmsr(uint32_t msr, uint64_t v)
{
    asm volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32)) : "memory");
}

static inline uint64_t rdmsr(uint32_t msr)
{
    uint32_t lo, hi;
    asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpuid(uint32_t leaf, uint32_t sub, uint32_t *a, uint32_t *b,
                         uint32_t *c, uint32_t *d)
{
    asm volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

static inline uint64_t rdtsc_ordered(void)
{
    uint32_t lo, hi;
    asm volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    return ((uint64_t)hi << 32) | lo;
}

static inline void cpu_relax(void)
{
    asm volatile("pause" ::: "memory");
}

/* lib.c */
void *memset(void *d, int c, size_t n);
void *memcpy(void *d, const void *s, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);
int strncmp(const char *a, const char *b, size_t n);
int vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int snprintf(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
unsigned long parse_ulong(const char *s, const char **end);

/* xen.c */
void early_puts(const char *s);          /* port 0x12, no hypercalls needed */
int xen_init(void);                      /* 0 ok, -1 no Xen leaves */
void console_write(const char *s, size_t len);
int printk(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Formats into a line buffer and hands it to write (printk's is console_write). */
int vprintk_to(void (*write)(const char *, size_t), const char *fmt, va_list ap);
void xen_shutdown(unsigned int reason) __attribute__((noreturn));
/* Pointer to hvm_start_info (identity-mapped), and helpers. */
struct hvm_start_info *start_info(void);
const char *start_info_cmdline(void);    /* "" if none */
/* Find "key=" in the command line; returns value start or NULL. */
const char *cmdline_find(const char *key);

#endif
