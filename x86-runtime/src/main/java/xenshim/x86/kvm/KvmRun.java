package xenshim.x86.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.StructLayout;
import java.lang.foreign.UnionLayout;
import java.lang.invoke.VarHandle;

/**
 * {@code struct kvm_run} (linux/kvm.h, x86): the page shared with KVM that a vCPU fd mmaps.
 * Only the exit structs this package decodes are spelled out; the rest of the 256-byte exit
 * union and of the 2048-byte {@code s} union is padding. sizeof = 2352.
 */
final class KvmRun {
    private KvmRun() {}

    private static MemoryLayout bytes(long n, String name) {
        return MemoryLayout.sequenceLayout(n, JAVA_BYTE).withName(name);
    }

    /** KVM_EXIT_UNKNOWN. */
    static final StructLayout HW = MemoryLayout.structLayout(JAVA_LONG.withName("hardware_exit_reason"));
    /** KVM_EXIT_FAIL_ENTRY. */
    static final StructLayout FAIL_ENTRY = MemoryLayout.structLayout(
            JAVA_LONG.withName("hardware_entry_failure_reason"), JAVA_INT.withName("cpu"), MemoryLayout.paddingLayout(4));
    /** KVM_EXIT_IO. */
    static final StructLayout IO = MemoryLayout.structLayout(
            JAVA_BYTE.withName("direction"), JAVA_BYTE.withName("size"), JAVA_SHORT.withName("port"),
            JAVA_INT.withName("count"), JAVA_LONG.withName("data_offset"));
    /** KVM_EXIT_DEBUG: struct kvm_debug_exit_arch (x86). */
    static final StructLayout DEBUG = MemoryLayout.structLayout(
            JAVA_INT.withName("exception"), JAVA_INT.withName("pad"), JAVA_LONG.withName("pc"),
            JAVA_LONG.withName("dr6"), JAVA_LONG.withName("dr7"));
    /** KVM_EXIT_MMIO. */
    static final StructLayout MMIO = MemoryLayout.structLayout(
            JAVA_LONG.withName("phys_addr"), bytes(8, "data"), JAVA_INT.withName("len"), JAVA_BYTE.withName("is_write"),
            MemoryLayout.paddingLayout(3));
    /** KVM_EXIT_INTERNAL_ERROR. */
    static final StructLayout INTERNAL = MemoryLayout.structLayout(
            JAVA_INT.withName("suberror"), JAVA_INT.withName("ndata"),
            MemoryLayout.sequenceLayout(16, JAVA_LONG).withName("data"));
    /** KVM_EXIT_SYSTEM_EVENT. */
    static final StructLayout SYSTEM_EVENT = MemoryLayout.structLayout(
            JAVA_INT.withName("type"), JAVA_INT.withName("ndata"),
            MemoryLayout.sequenceLayout(16, JAVA_LONG).withName("data"));
    /** KVM_EXIT_X86_RDMSR / KVM_EXIT_X86_WRMSR. */
    static final StructLayout MSR = MemoryLayout.structLayout(
            JAVA_BYTE.withName("error"), bytes(7, "pad"), JAVA_INT.withName("reason"), JAVA_INT.withName("index"),
            JAVA_LONG.withName("data"));

    static final UnionLayout EXIT = MemoryLayout.unionLayout(
            HW.withName("hw"), FAIL_ENTRY.withName("fail_entry"), IO.withName("io"), DEBUG.withName("debug"),
            MMIO.withName("mmio"), INTERNAL.withName("internal"), SYSTEM_EVENT.withName("system_event"),
            MSR.withName("msr"), bytes(256, "padding"));

    /** struct kvm_sync_regs: regs, sregs, events (struct kvm_vcpu_events, 64 bytes, not decoded). */
    static final StructLayout SYNC_REGS = MemoryLayout.structLayout(
            Regs.LAYOUT.withName("regs"), Sregs.LAYOUT.withName("sregs"), bytes(64, "events"));

    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_BYTE.withName("request_interrupt_window"), JAVA_BYTE.withName("immediate_exit"), bytes(6, "padding1"),
            JAVA_INT.withName("exit_reason"), JAVA_BYTE.withName("ready_for_interrupt_injection"),
            JAVA_BYTE.withName("if_flag"), JAVA_SHORT.withName("flags"),
            JAVA_LONG.withName("cr8"), JAVA_LONG.withName("apic_base"),
            EXIT.withName("exit"),
            JAVA_LONG.withName("kvm_valid_regs"), JAVA_LONG.withName("kvm_dirty_regs"),
            MemoryLayout.unionLayout(SYNC_REGS.withName("regs"), bytes(2048, "padding")).withName("s"))
            .withName("kvm_run");

    static long off(PathElement... path) {
        return LAYOUT.byteOffset(path);
    }

    static long exitOff(String struct, String field) {
        return off(groupElement("exit"), groupElement(struct), groupElement(field));
    }

    /** kvm_run.immediate_exit, accessed with volatile semantics (another thread sets it in kick()). */
    static final VarHandle IMMEDIATE_EXIT = LAYOUT.varHandle(groupElement("immediate_exit"));

    static final long EXIT_REASON = off(groupElement("exit_reason"));
    static final long REQUEST_INTERRUPT_WINDOW = off(groupElement("request_interrupt_window"));
    static final long READY_FOR_INTERRUPT_INJECTION = off(groupElement("ready_for_interrupt_injection"));
    static final long VALID_REGS = off(groupElement("kvm_valid_regs"));
    static final long DIRTY_REGS = off(groupElement("kvm_dirty_regs"));
    static final long S_REGS = off(groupElement("s"), groupElement("regs"), groupElement("regs"));
    static final long S_SREGS = off(groupElement("s"), groupElement("regs"), groupElement("sregs"));

    static final long IO_DIRECTION = exitOff("io", "direction");
    static final long IO_SIZE = exitOff("io", "size");
    static final long IO_PORT = exitOff("io", "port");
    static final long IO_COUNT = exitOff("io", "count");
    static final long IO_DATA_OFFSET = exitOff("io", "data_offset");
    static final long MMIO_PHYS_ADDR = exitOff("mmio", "phys_addr");
    static final long MMIO_DATA = exitOff("mmio", "data");
    static final long MMIO_LEN = exitOff("mmio", "len");
    static final long MMIO_IS_WRITE = exitOff("mmio", "is_write");
    static final long MSR_ERROR = exitOff("msr", "error");
    static final long MSR_REASON = exitOff("msr", "reason");
    static final long MSR_INDEX = exitOff("msr", "index");
    static final long MSR_DATA = exitOff("msr", "data");
    static final long INTERNAL_SUBERROR = exitOff("internal", "suberror");
    static final long INTERNAL_NDATA = exitOff("internal", "ndata");
    static final long INTERNAL_DATA = exitOff("internal", "data");
    static final long SYSTEM_EVENT_TYPE = exitOff("system_event", "type");
    static final long SYSTEM_EVENT_NDATA = exitOff("system_event", "ndata");
    static final long SYSTEM_EVENT_DATA = exitOff("system_event", "data");
    static final long FAIL_ENTRY_REASON = exitOff("fail_entry", "hardware_entry_failure_reason");
    static final long FAIL_ENTRY_CPU = exitOff("fail_entry", "cpu");
    static final long DEBUG_EXCEPTION = exitOff("debug", "exception");
    static final long DEBUG_PC = exitOff("debug", "pc");
    static final long DEBUG_DR6 = exitOff("debug", "dr6");
    static final long DEBUG_DR7 = exitOff("debug", "dr7");
    static final long HW_REASON = exitOff("hw", "hardware_exit_reason");

    // exit reasons (linux/kvm.h)
    static final int EXIT_UNKNOWN = 0, EXIT_EXCEPTION = 1, EXIT_IO = 2, EXIT_DEBUG = 4, EXIT_HLT = 5,
            EXIT_MMIO = 6, EXIT_IRQ_WINDOW_OPEN = 7, EXIT_SHUTDOWN = 8, EXIT_FAIL_ENTRY = 9, EXIT_INTR = 10, EXIT_INTERNAL_ERROR = 17,
            EXIT_SYSTEM_EVENT = 24, EXIT_X86_RDMSR = 29, EXIT_X86_WRMSR = 30;

    /** KVM_SYNC_X86_REGS, KVM_SYNC_X86_SREGS (asm/kvm.h). */
    static final long SYNC_X86_REGS = 1, SYNC_X86_SREGS = 2;

    static {
        if (LAYOUT.byteSize() != 2352 || EXIT.byteSize() != 256 || SYNC_REGS.byteSize() != 520) {
            throw new ExceptionInInitializerError("struct kvm_run layout is wrong: " + LAYOUT.byteSize());
        }
    }
}
