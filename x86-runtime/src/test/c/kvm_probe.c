/*
 * KVM probe: records what gcc makes of <linux/kvm.h> (with <asm/kvm.h>) and
 * of glibc's struct sigaction, for KvmHeadersTest to compare with the kvm
 * package's layouts, offsets, ioctl numbers and constants. Compiled with
 * gcc -m64 -c and never run: the table is initialised data in the object
 * file, read by xenshim.cprobe.CProbe.
 *
 * Records, one name and one value each (xenshim_probe.h):
 *   const NAME             a constant or ioctl number, as a signed 64-bit number
 *   sizeof NAME            sizeof(struct NAME)
 *   offsetof STRUCT.MEMBER offsetof(struct STRUCT, MEMBER); MEMBER may be a path
 *   sizeof STRUCT.MEMBER   the member's size
 *
 * Every record must be checked by KvmHeadersTest, and every number it checks
 * must have its record here.
 */

/* struct sigaction is POSIX, not ISO C. */
#define _GNU_SOURCE 1

#include <stddef.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <linux/kvm.h>

#include "xenshim_probe.h"

#define C(x) PROBE("const " #x, x)
#define S(s) PROBE("sizeof " #s, sizeof(struct s))
/* A member's offset only (kvm_run's exit union members, named through the anonymous union). */
#define O(s, m) PROBE("offsetof " #s "." #m, offsetof(struct s, m))
/*
 * A member's offset and size. Not through O(): its argument would be
 * macro-expanded first, and glibc's sa_handler is a macro.
 */
#define F(s, m) PROBE("offsetof " #s "." #m, offsetof(struct s, m)) \
        PROBE("sizeof " #s "." #m, sizeof(((struct s *)0)->m))

const struct xenshim_probe_record xenshim_probe[] = {
    /* ioctl numbers: Kvm, VmFd, VcpuFd */
    C(KVMIO)
    C(KVM_GET_API_VERSION)
    C(KVM_CREATE_VM)
    C(KVM_CHECK_EXTENSION)
    C(KVM_GET_VCPU_MMAP_SIZE)
    C(KVM_GET_SUPPORTED_CPUID)
    C(KVM_SET_USER_MEMORY_REGION)
    C(KVM_CREATE_VCPU)
    C(KVM_SET_TSS_ADDR)
    C(KVM_SET_IDENTITY_MAP_ADDR)
    C(KVM_CREATE_IRQCHIP)
    C(KVM_ENABLE_CAP)
    C(KVM_X86_SET_MSR_FILTER)
    C(KVM_RUN)
    C(KVM_INTERRUPT)
    C(KVM_GET_MSRS)
    C(KVM_GET_TSC_KHZ)
    C(KVM_GET_REGS)
    C(KVM_SET_REGS)
    C(KVM_GET_SREGS)
    C(KVM_SET_SREGS)
    C(KVM_SET_CPUID2)

    /* Kvm: the API version and capabilities */
    C(KVM_API_VERSION)
    C(KVM_CAP_IRQCHIP)
    C(KVM_CAP_USER_MEMORY)
    C(KVM_CAP_EXT_CPUID)
    C(KVM_CAP_NR_VCPUS)
    C(KVM_CAP_MAX_VCPUS)
    C(KVM_CAP_SYNC_REGS)
    C(KVM_CAP_MAX_VCPU_ID)
    C(KVM_CAP_IMMEDIATE_EXIT)
    C(KVM_CAP_X86_USER_SPACE_MSR)
    C(KVM_CAP_X86_MSR_FILTER)

    /* KvmRun, VcpuExit: exit reasons, sub-errors, system events, sync flags */
    C(KVM_EXIT_UNKNOWN)
    C(KVM_EXIT_EXCEPTION)
    C(KVM_EXIT_IO)
    C(KVM_EXIT_DEBUG)
    C(KVM_EXIT_HLT)
    C(KVM_EXIT_MMIO)
    C(KVM_EXIT_IRQ_WINDOW_OPEN)
    C(KVM_EXIT_SHUTDOWN)
    C(KVM_EXIT_FAIL_ENTRY)
    C(KVM_EXIT_INTR)
    C(KVM_EXIT_INTERNAL_ERROR)
    C(KVM_EXIT_SYSTEM_EVENT)
    C(KVM_EXIT_X86_RDMSR)
    C(KVM_EXIT_X86_WRMSR)
    C(KVM_INTERNAL_ERROR_EMULATION)
    C(KVM_INTERNAL_ERROR_SIMUL_EX)
    C(KVM_INTERNAL_ERROR_DELIVERY_EV)
    C(KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON)
    C(KVM_SYSTEM_EVENT_SHUTDOWN)
    C(KVM_SYSTEM_EVENT_RESET)
    C(KVM_SYSTEM_EVENT_CRASH)
    C(KVM_SYNC_X86_REGS)
    C(KVM_SYNC_X86_SREGS)

    /* VmFd, MsrFilterRange, CpuidEntry */
    C(KVM_MEM_LOG_DIRTY_PAGES)
    C(KVM_MEM_READONLY)
    C(KVM_MSR_EXIT_REASON_INVAL)
    C(KVM_MSR_EXIT_REASON_UNKNOWN)
    C(KVM_MSR_EXIT_REASON_FILTER)
    C(KVM_MSR_FILTER_DEFAULT_ALLOW)
    C(KVM_MSR_FILTER_DEFAULT_DENY)
    C(KVM_MSR_FILTER_MAX_RANGES)
    C(KVM_MSR_FILTER_READ)
    C(KVM_MSR_FILTER_WRITE)
    C(KVM_CPUID_FLAG_SIGNIFCANT_INDEX)

    /* Native: open and mmap */
    C(O_RDWR)
    C(O_CLOEXEC)
    C(PROT_READ)
    C(PROT_WRITE)
    C(MAP_SHARED)
    C(MAP_PRIVATE)
    C(MAP_ANONYMOUS)
    C(MAP_NORESERVE)

    /* Regs */
    S(kvm_regs)
    S(kvm_interrupt)
    F(kvm_interrupt, irq)
    S(kvm_msr_entry)
    F(kvm_msr_entry, index)
    F(kvm_msr_entry, reserved)
    F(kvm_msr_entry, data)
    S(kvm_msrs)
    F(kvm_msrs, nmsrs)
    F(kvm_msrs, pad)
    F(kvm_regs, rax)
    F(kvm_regs, rbx)
    F(kvm_regs, rcx)
    F(kvm_regs, rdx)
    F(kvm_regs, rsi)
    F(kvm_regs, rdi)
    F(kvm_regs, rsp)
    F(kvm_regs, rbp)
    F(kvm_regs, r8)
    F(kvm_regs, r9)
    F(kvm_regs, r10)
    F(kvm_regs, r11)
    F(kvm_regs, r12)
    F(kvm_regs, r13)
    F(kvm_regs, r14)
    F(kvm_regs, r15)
    F(kvm_regs, rip)
    F(kvm_regs, rflags)

    /* Segment */
    S(kvm_segment)
    F(kvm_segment, base)
    F(kvm_segment, limit)
    F(kvm_segment, selector)
    F(kvm_segment, type)
    F(kvm_segment, present)
    F(kvm_segment, dpl)
    F(kvm_segment, db)
    F(kvm_segment, s)
    F(kvm_segment, l)
    F(kvm_segment, g)
    F(kvm_segment, avl)
    F(kvm_segment, unusable)
    F(kvm_segment, padding)

    /* DTable */
    S(kvm_dtable)
    F(kvm_dtable, base)
    F(kvm_dtable, limit)
    F(kvm_dtable, padding)

    /* Sregs, SegmentRegister */
    S(kvm_sregs)
    F(kvm_sregs, cs)
    F(kvm_sregs, ds)
    F(kvm_sregs, es)
    F(kvm_sregs, fs)
    F(kvm_sregs, gs)
    F(kvm_sregs, ss)
    F(kvm_sregs, tr)
    F(kvm_sregs, ldt)
    F(kvm_sregs, gdt)
    F(kvm_sregs, idt)
    F(kvm_sregs, cr0)
    F(kvm_sregs, cr2)
    F(kvm_sregs, cr3)
    F(kvm_sregs, cr4)
    F(kvm_sregs, cr8)
    F(kvm_sregs, efer)
    F(kvm_sregs, apic_base)
    F(kvm_sregs, interrupt_bitmap)

    /* CpuidEntry */
    S(kvm_cpuid_entry2)
    F(kvm_cpuid_entry2, function)
    F(kvm_cpuid_entry2, index)
    F(kvm_cpuid_entry2, flags)
    F(kvm_cpuid_entry2, eax)
    F(kvm_cpuid_entry2, ebx)
    F(kvm_cpuid_entry2, ecx)
    F(kvm_cpuid_entry2, edx)
    F(kvm_cpuid_entry2, padding)
    S(kvm_cpuid2)
    F(kvm_cpuid2, nent)
    F(kvm_cpuid2, padding)

    /* VmFd, MsrFilterRange */
    S(kvm_userspace_memory_region)
    F(kvm_userspace_memory_region, slot)
    F(kvm_userspace_memory_region, flags)
    F(kvm_userspace_memory_region, guest_phys_addr)
    F(kvm_userspace_memory_region, memory_size)
    F(kvm_userspace_memory_region, userspace_addr)
    S(kvm_enable_cap)
    F(kvm_enable_cap, cap)
    F(kvm_enable_cap, flags)
    F(kvm_enable_cap, args)
    F(kvm_enable_cap, pad)
    S(kvm_msr_filter)
    F(kvm_msr_filter, flags)
    F(kvm_msr_filter, ranges)
    S(kvm_msr_filter_range)
    F(kvm_msr_filter_range, flags)
    F(kvm_msr_filter_range, nmsrs)
    F(kvm_msr_filter_range, base)
    F(kvm_msr_filter_range, bitmap)

    /* KvmRun, VcpuFd: struct kvm_run and its kvm_sync_regs */
    S(kvm_run)
    O(kvm_run, request_interrupt_window)
    O(kvm_run, immediate_exit)
    O(kvm_run, ready_for_interrupt_injection)
    O(kvm_run, exit_reason)
    O(kvm_run, hw.hardware_exit_reason)
    O(kvm_run, fail_entry.hardware_entry_failure_reason)
    O(kvm_run, fail_entry.cpu)
    O(kvm_run, io.direction)
    O(kvm_run, io.size)
    O(kvm_run, io.port)
    O(kvm_run, io.count)
    O(kvm_run, io.data_offset)
    O(kvm_run, debug.arch.exception)
    O(kvm_run, debug.arch.pc)
    O(kvm_run, debug.arch.dr6)
    O(kvm_run, debug.arch.dr7)
    O(kvm_run, mmio.phys_addr)
    O(kvm_run, mmio.data)
    O(kvm_run, mmio.len)
    O(kvm_run, mmio.is_write)
    O(kvm_run, internal.suberror)
    O(kvm_run, internal.ndata)
    O(kvm_run, internal.data)
    O(kvm_run, system_event.type)
    O(kvm_run, system_event.ndata)
    O(kvm_run, system_event.data)
    O(kvm_run, msr.error)
    O(kvm_run, msr.reason)
    O(kvm_run, msr.index)
    O(kvm_run, msr.data)
    O(kvm_run, kvm_valid_regs)
    O(kvm_run, kvm_dirty_regs)
    O(kvm_run, s.regs.regs)
    O(kvm_run, s.regs.sregs)
    O(kvm_run, s.regs.sregs.ss.dpl)
    S(kvm_sync_regs)
    F(kvm_sync_regs, regs)
    F(kvm_sync_regs, sregs)
    F(kvm_sync_regs, events)

    /* KickSignal: glibc's struct sigaction, what sigaction(2) through libc takes */
    S(sigaction)
    F(sigaction, sa_handler)
    F(sigaction, sa_mask)
    F(sigaction, sa_flags)
    F(sigaction, sa_restorer)
};
