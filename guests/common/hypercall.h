/*
 * xenshim guests: Xen hypercalls through the hypercall page.
 *
 * 64-bit ABI: `call hypercall_page + 32*nr`, args in rdi, rsi, rdx, r10, r8,
 * result in rax.  Modelled on Linux arch/x86/include/asm/xen/hypercall.h.
 * The VMM is free to change the argument registers, so they are all outputs
 * (clobbered); "memory" because hypercalls read and write guest memory.
 */
#ifndef XENSHIM_GUEST_HYPERCALL_H
#define XENSHIM_GUEST_HYPERCALL_H

#include "xenguest.h"

extern char hypercall_page[4096];

#define __HYPERCALL "call hypercall_page + %c[offset]"

#define _hypercall5(nr, a1, a2, a3, a4, a5) ({                          \
    unsigned long __v1 = (unsigned long)(a1);                           \
    unsigned long __v2 = (unsigned long)(a2);                           \
    unsigned long __v3 = (unsigned long)(a3);                           \
    unsigned long __v4 = (unsigned long)(a4);                           \
    unsigned long __v5 = (unsigned long)(a5);                           \
    register unsigned long __res asm("rax");                            \
    register unsigned long __arg1 asm("rdi") = __v1;                    \
    register unsigned long __arg2 asm("rsi") = __v2;                    \
    register unsigned long __arg3 asm("rdx") = __v3;                    \
    register unsigned long __arg4 asm("r10") = __v4;                    \
    register unsigned long __arg5 asm("r8") = __v5;                     \
    asm volatile(__HYPERCALL                                            \
                 : "=r" (__res), "+r" (__arg1), "+r" (__arg2),          \
                   "+r" (__arg3), "+r" (__arg4), "+r" (__arg5)          \
                 : [offset] "i" ((nr) * 32)                             \
                 : "memory", "cc");                                     \
    (long)__res;                                                        \
})

#define _hypercall0(nr)                 _hypercall5(nr, 0, 0, 0, 0, 0)
#define _hypercall1(nr, a1)             _hypercall5(nr, a1, 0, 0, 0, 0)
#define _hypercall2(nr, a1, a2)         _hypercall5(nr, a1, a2, 0, 0, 0)
#define _hypercall3(nr, a1, a2, a3)     _hypercall5(nr, a1, a2, a3, 0, 0)
#define _hypercall4(nr, a1, a2, a3, a4) _hypercall5(nr, a1, a2, a3, a4, 0)

static inline long HYPERVISOR_xen_version(int cmd, void *arg)
{
    return _hypercall2(__HYPERVISOR_xen_version, cmd, arg);
}

static inline long HYPERVISOR_console_io(int cmd, unsigned long len, const char *buf)
{
    return _hypercall3(__HYPERVISOR_console_io, cmd, len, buf);
}

static inline long HYPERVISOR_sched_op(int cmd, void *arg)
{
    return _hypercall2(__HYPERVISOR_sched_op, cmd, arg);
}

static inline long HYPERVISOR_memory_op(unsigned int cmd, void *arg)
{
    return _hypercall2(__HYPERVISOR_memory_op, cmd, arg);
}

static inline long HYPERVISOR_hvm_op(int op, void *arg)
{
    return _hypercall2(__HYPERVISOR_hvm_op, op, arg);
}

static inline long HYPERVISOR_event_channel_op(int cmd, void *arg)
{
    return _hypercall2(__HYPERVISOR_event_channel_op, cmd, arg);
}

static inline long HYPERVISOR_vcpu_op(int cmd, unsigned int vcpuid, void *arg)
{
    return _hypercall3(__HYPERVISOR_vcpu_op, cmd, vcpuid, arg);
}

/* 64-bit: one argument, the absolute Xen system time in ns (0 stops the timer). */
static inline long HYPERVISOR_grant_table_op(unsigned int cmd, void *uop, unsigned int count)
{
    return _hypercall3(__HYPERVISOR_grant_table_op, cmd, uop, count);
}

static inline long HYPERVISOR_set_timer_op(uint64_t timeout)
{
    return _hypercall1(__HYPERVISOR_set_timer_op, timeout);
}

#endif
