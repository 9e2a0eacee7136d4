package xenshim.x86.kvm;

import xenshim.x86.cpu.Reg;
import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xenshim.cprobe.CProbe;
import xenshim.cprobe.CProbe.Target;

/**
 * Checks the kvm package against the machine's kernel headers instead of
 * numbers written by hand: {@code src/test/c/kvm_probe.c} records sizes,
 * offsets, ioctl numbers and constants from {@code <linux/kvm.h>} (with
 * {@code <asm/kvm.h>}), glibc's {@code struct sigaction} and the open/mmap
 * flags, is compiled with {@code gcc -m64 -c} and read from the object file
 * ({@link CProbe}), never run. It proves
 * <ol>
 * <li>every number {@link LayoutTest} checks by hand (struct sizes, kvm_run,
 *     kvm_sregs, kvm_segment and kvm_regs offsets, ioctl numbers) equals the
 *     headers', as do the kvm package's other KVM constants;</li>
 * <li>every named member of each flat struct layout has the headers' offset
 *     and size;</li>
 * <li>the probe records nothing this test does not check.</li>
 * </ol>
 * Skipped, saying why, where gcc or the kernel headers
 * ({@code linux-libc-dev}) are missing; CI installs them. Needs no KVM.
 */
class KvmHeadersTest {

    private static final Path KVM_H = Path.of("/usr/include/linux/kvm.h");
    private static final String SOURCE = "src/test/c/kvm_probe.c";

    @TempDir
    static Path work;

    private static Map<String, Long> records;

    @Test
    void everyJavaNumberMatchesTheKernelHeaders() {
        Map<String, Long> headers = probe();
        JavaSide java = javaSide();
        System.out.printf("KVM probe: checked %d Java numbers against %d header records%n", java.count(),
                headers.size());
        assertNoFailures(java.failures(headers));
    }

    @Test
    void theProbeRecordsNothingThisTestDoesNotCheck() {
        List<String> unchecked = new ArrayList<>(probe().keySet());
        unchecked.removeAll(javaSide().expected.keySet());
        assertThat(unchecked).as("records of %s that no Java number is compared with: check them in"
                + " KvmHeadersTest or drop them from the probe", SOURCE).isEmpty();
    }

    /** The checker itself: a number the probe does not record, or records with another value, is reported. */
    @Test
    void aNumberMissingFromTheProbeOrDifferentIsReported() {
        JavaSide java = new JavaSide().value("const KVM_RUN", "VcpuFd.KVM_RUN", 0xae80)
                .value("const KVM_RUN", "Other.KVM_RUN", 0xae81).value("sizeof kvm_regs", "Regs.LAYOUT", 144);

        assertThat(java.failures(Map.of("const KVM_RUN", 0xae80L))).containsExactly(
                "Other.KVM_RUN = 44673 but the headers say 44672 (const KVM_RUN)",
                "Regs.LAYOUT = 144 but the probe does not record sizeof kvm_regs: add it to " + SOURCE);
    }

    // ---- the Java side ------------------------------------------------------------

    private static JavaSide javaSide() {
        JavaSide java = new JavaSide();
        ioctls(java);
        constants(java);
        layouts(java);
        kvmRun(java);
        return java;
    }

    private static void ioctls(JavaSide java) {
        java.value("const KVMIO", "Native.KVMIO", Native.KVMIO)
                .value("const KVM_GET_API_VERSION", "Kvm.KVM_GET_API_VERSION", Kvm.KVM_GET_API_VERSION)
                .value("const KVM_CREATE_VM", "Kvm.KVM_CREATE_VM", Kvm.KVM_CREATE_VM)
                .value("const KVM_CHECK_EXTENSION", "Kvm.KVM_CHECK_EXTENSION", Kvm.KVM_CHECK_EXTENSION)
                .value("const KVM_CHECK_EXTENSION", "VmFd.KVM_CHECK_EXTENSION", VmFd.KVM_CHECK_EXTENSION)
                .value("const KVM_GET_VCPU_MMAP_SIZE", "Kvm.KVM_GET_VCPU_MMAP_SIZE", Kvm.KVM_GET_VCPU_MMAP_SIZE)
                .value("const KVM_GET_SUPPORTED_CPUID", "Kvm.KVM_GET_SUPPORTED_CPUID", Kvm.KVM_GET_SUPPORTED_CPUID)
                .value("const KVM_SET_USER_MEMORY_REGION", "VmFd.KVM_SET_USER_MEMORY_REGION",
                        VmFd.KVM_SET_USER_MEMORY_REGION)
                .value("const KVM_CREATE_VCPU", "VmFd.KVM_CREATE_VCPU", VmFd.KVM_CREATE_VCPU)
                .value("const KVM_SET_TSS_ADDR", "VmFd.KVM_SET_TSS_ADDR", VmFd.KVM_SET_TSS_ADDR)
                .value("const KVM_SET_IDENTITY_MAP_ADDR", "VmFd.KVM_SET_IDENTITY_MAP_ADDR",
                        VmFd.KVM_SET_IDENTITY_MAP_ADDR)
                .value("const KVM_CREATE_IRQCHIP", "VmFd.KVM_CREATE_IRQCHIP", VmFd.KVM_CREATE_IRQCHIP)
                .value("const KVM_ENABLE_CAP", "VmFd.KVM_ENABLE_CAP", VmFd.KVM_ENABLE_CAP)
                .value("const KVM_X86_SET_MSR_FILTER", "VmFd.KVM_X86_SET_MSR_FILTER", VmFd.KVM_X86_SET_MSR_FILTER)
                .value("const KVM_RUN", "VcpuFd.KVM_RUN", VcpuFd.KVM_RUN)
                .value("const KVM_INTERRUPT", "VcpuFd.KVM_INTERRUPT", VcpuFd.KVM_INTERRUPT)
                .value("const KVM_GET_MSRS", "VcpuFd.KVM_GET_MSRS", VcpuFd.KVM_GET_MSRS)
                .value("const KVM_GET_TSC_KHZ", "VcpuFd.KVM_GET_TSC_KHZ", VcpuFd.KVM_GET_TSC_KHZ)
                .value("const KVM_GET_REGS", "VcpuFd.KVM_GET_REGS", VcpuFd.KVM_GET_REGS)
                .value("const KVM_SET_REGS", "VcpuFd.KVM_SET_REGS", VcpuFd.KVM_SET_REGS)
                .value("const KVM_GET_SREGS", "VcpuFd.KVM_GET_SREGS", VcpuFd.KVM_GET_SREGS)
                .value("const KVM_SET_SREGS", "VcpuFd.KVM_SET_SREGS", VcpuFd.KVM_SET_SREGS)
                .value("const KVM_SET_CPUID2", "VcpuFd.KVM_SET_CPUID2", VcpuFd.KVM_SET_CPUID2);
    }

    private static void constants(JavaSide java) {
        java.value("const KVM_API_VERSION", "Kvm.API_VERSION", Kvm.API_VERSION)
                .value("const KVM_CAP_IRQCHIP", "Kvm.CAP_IRQCHIP", Kvm.CAP_IRQCHIP)
                .value("const KVM_CAP_USER_MEMORY", "Kvm.CAP_USER_MEMORY", Kvm.CAP_USER_MEMORY)
                .value("const KVM_CAP_EXT_CPUID", "Kvm.CAP_EXT_CPUID", Kvm.CAP_EXT_CPUID)
                .value("const KVM_CAP_NR_VCPUS", "Kvm.CAP_NR_VCPUS", Kvm.CAP_NR_VCPUS)
                .value("const KVM_CAP_MAX_VCPUS", "Kvm.CAP_MAX_VCPUS", Kvm.CAP_MAX_VCPUS)
                .value("const KVM_CAP_SYNC_REGS", "Kvm.CAP_SYNC_REGS", Kvm.CAP_SYNC_REGS)
                .value("const KVM_CAP_MAX_VCPU_ID", "Kvm.CAP_MAX_VCPU_ID", Kvm.CAP_MAX_VCPU_ID)
                .value("const KVM_CAP_IMMEDIATE_EXIT", "Kvm.CAP_IMMEDIATE_EXIT", Kvm.CAP_IMMEDIATE_EXIT)
                .value("const KVM_CAP_X86_USER_SPACE_MSR", "Kvm.CAP_X86_USER_SPACE_MSR", Kvm.CAP_X86_USER_SPACE_MSR)
                .value("const KVM_CAP_X86_MSR_FILTER", "Kvm.CAP_X86_MSR_FILTER", Kvm.CAP_X86_MSR_FILTER)
                .value("const KVM_EXIT_UNKNOWN", "KvmRun.EXIT_UNKNOWN", KvmRun.EXIT_UNKNOWN)
                .value("const KVM_EXIT_EXCEPTION", "KvmRun.EXIT_EXCEPTION", KvmRun.EXIT_EXCEPTION)
                .value("const KVM_EXIT_IO", "KvmRun.EXIT_IO", KvmRun.EXIT_IO)
                .value("const KVM_EXIT_DEBUG", "KvmRun.EXIT_DEBUG", KvmRun.EXIT_DEBUG)
                .value("const KVM_EXIT_HLT", "KvmRun.EXIT_HLT", KvmRun.EXIT_HLT)
                .value("const KVM_EXIT_MMIO", "KvmRun.EXIT_MMIO", KvmRun.EXIT_MMIO)
                .value("const KVM_EXIT_IRQ_WINDOW_OPEN", "KvmRun.EXIT_IRQ_WINDOW_OPEN", KvmRun.EXIT_IRQ_WINDOW_OPEN)
                .value("const KVM_EXIT_SHUTDOWN", "KvmRun.EXIT_SHUTDOWN", KvmRun.EXIT_SHUTDOWN)
                .value("const KVM_EXIT_FAIL_ENTRY", "KvmRun.EXIT_FAIL_ENTRY", KvmRun.EXIT_FAIL_ENTRY)
                .value("const KVM_EXIT_INTR", "KvmRun.EXIT_INTR", KvmRun.EXIT_INTR)
                .value("const KVM_EXIT_INTERNAL_ERROR", "KvmRun.EXIT_INTERNAL_ERROR", KvmRun.EXIT_INTERNAL_ERROR)
                .value("const KVM_EXIT_SYSTEM_EVENT", "KvmRun.EXIT_SYSTEM_EVENT", KvmRun.EXIT_SYSTEM_EVENT)
                .value("const KVM_EXIT_X86_RDMSR", "KvmRun.EXIT_X86_RDMSR", KvmRun.EXIT_X86_RDMSR)
                .value("const KVM_EXIT_X86_WRMSR", "KvmRun.EXIT_X86_WRMSR", KvmRun.EXIT_X86_WRMSR)
                .value("const KVM_INTERNAL_ERROR_EMULATION", "InternalError.EMULATION",
                        VcpuExit.InternalError.EMULATION)
                .value("const KVM_INTERNAL_ERROR_SIMUL_EX", "InternalError.SIMUL_EX", VcpuExit.InternalError.SIMUL_EX)
                .value("const KVM_INTERNAL_ERROR_DELIVERY_EV", "InternalError.DELIVERY_EV",
                        VcpuExit.InternalError.DELIVERY_EV)
                .value("const KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON", "InternalError.UNEXPECTED_EXIT_REASON",
                        VcpuExit.InternalError.UNEXPECTED_EXIT_REASON)
                .value("const KVM_SYSTEM_EVENT_SHUTDOWN", "SystemEvent.SHUTDOWN", VcpuExit.SystemEvent.SHUTDOWN)
                .value("const KVM_SYSTEM_EVENT_RESET", "SystemEvent.RESET", VcpuExit.SystemEvent.RESET)
                .value("const KVM_SYSTEM_EVENT_CRASH", "SystemEvent.CRASH", VcpuExit.SystemEvent.CRASH)
                .value("const KVM_SYNC_X86_REGS", "KvmRun.SYNC_X86_REGS", KvmRun.SYNC_X86_REGS)
                .value("const KVM_SYNC_X86_SREGS", "KvmRun.SYNC_X86_SREGS", KvmRun.SYNC_X86_SREGS)
                .value("const KVM_MEM_LOG_DIRTY_PAGES", "VmFd.MEM_LOG_DIRTY_PAGES", VmFd.MEM_LOG_DIRTY_PAGES)
                .value("const KVM_MEM_READONLY", "VmFd.MEM_READONLY", VmFd.MEM_READONLY)
                .value("const KVM_MSR_EXIT_REASON_INVAL", "VmFd.MSR_EXIT_REASON_INVAL", VmFd.MSR_EXIT_REASON_INVAL)
                .value("const KVM_MSR_EXIT_REASON_UNKNOWN", "VmFd.MSR_EXIT_REASON_UNKNOWN",
                        VmFd.MSR_EXIT_REASON_UNKNOWN)
                .value("const KVM_MSR_EXIT_REASON_FILTER", "VmFd.MSR_EXIT_REASON_FILTER", VmFd.MSR_EXIT_REASON_FILTER)
                .value("const KVM_MSR_FILTER_DEFAULT_ALLOW", "VmFd.MSR_FILTER_DEFAULT_ALLOW",
                        VmFd.MSR_FILTER_DEFAULT_ALLOW)
                .value("const KVM_MSR_FILTER_DEFAULT_DENY", "VmFd.MSR_FILTER_DEFAULT_DENY", VmFd.MSR_FILTER_DEFAULT_DENY)
                .value("const KVM_MSR_FILTER_MAX_RANGES", "VmFd.MSR_FILTER_MAX_RANGES", VmFd.MSR_FILTER_MAX_RANGES)
                .value("const KVM_MSR_FILTER_READ", "MsrFilterRange.READ", MsrFilterRange.READ)
                .value("const KVM_MSR_FILTER_WRITE", "MsrFilterRange.WRITE", MsrFilterRange.WRITE)
                .value("const KVM_CPUID_FLAG_SIGNIFCANT_INDEX", "CpuidEntry.FLAG_SIGNIFICANT_INDEX",
                        CpuidEntry.FLAG_SIGNIFICANT_INDEX)
                .value("const O_RDWR", "Native.O_RDWR", Native.O_RDWR)
                .value("const O_CLOEXEC", "Native.O_CLOEXEC", Native.O_CLOEXEC)
                .value("const PROT_READ", "Native.PROT_READ", Native.PROT_READ)
                .value("const PROT_WRITE", "Native.PROT_WRITE", Native.PROT_WRITE)
                .value("const MAP_SHARED", "Native.MAP_SHARED", Native.MAP_SHARED)
                .value("const MAP_PRIVATE", "Native.MAP_PRIVATE", Native.MAP_PRIVATE)
                .value("const MAP_ANONYMOUS", "Native.MAP_ANONYMOUS", Native.MAP_ANONYMOUS)
                .value("const MAP_NORESERVE", "Native.MAP_NORESERVE", Native.MAP_NORESERVE);
    }

    /** Each flat struct whole, then the offsets the kvm package keeps as constants. */
    private static void layouts(JavaSide java) {
        java.struct("Regs.LAYOUT", "kvm_regs", Regs.LAYOUT)
                .struct("VcpuFd.INTERRUPT", "kvm_interrupt", VcpuFd.INTERRUPT)
                .struct("VcpuFd.MSR_ENTRY", "kvm_msr_entry", VcpuFd.MSR_ENTRY)
                .struct("VcpuFd.MSRS_HEADER", "kvm_msrs", VcpuFd.MSRS_HEADER)
                .struct("Segment.LAYOUT", "kvm_segment", Segment.LAYOUT)
                .struct("DTable.LAYOUT", "kvm_dtable", DTable.LAYOUT)
                .struct("Sregs.LAYOUT", "kvm_sregs", Sregs.LAYOUT)
                .struct("CpuidEntry.LAYOUT", "kvm_cpuid_entry2", CpuidEntry.LAYOUT)
                .struct("CpuidEntry.CPUID2_HEADER", "kvm_cpuid2", CpuidEntry.CPUID2_HEADER)
                .struct("VmFd.USERSPACE_MEMORY_REGION", "kvm_userspace_memory_region", VmFd.USERSPACE_MEMORY_REGION)
                .struct("VmFd.ENABLE_CAP", "kvm_enable_cap", VmFd.ENABLE_CAP)
                .struct("VmFd.MSR_FILTER", "kvm_msr_filter", VmFd.MSR_FILTER)
                .struct("MsrFilterRange.LAYOUT", "kvm_msr_filter_range", MsrFilterRange.LAYOUT)
                .struct("KvmRun.SYNC_REGS", "kvm_sync_regs", KvmRun.SYNC_REGS)
                .struct("KickSignal.SIGACTION_LAYOUT", "sigaction", KickSignal.SIGACTION_LAYOUT);
        for (Reg reg : Reg.values()) {
            java.value("offsetof kvm_regs." + reg.name().toLowerCase(Locale.ROOT), "Regs.offset(" + reg + ")",
                    Regs.offset(reg));
        }
        for (SegmentRegister segment : SegmentRegister.values()) {
            java.value("offsetof kvm_sregs." + segment.name().toLowerCase(Locale.ROOT),
                    "SegmentRegister." + segment + ".offset", segment.offset);
        }
        java.value("offsetof kvm_segment.base", "Segment.BASE", Segment.BASE)
                .value("offsetof kvm_segment.limit", "Segment.LIMIT", Segment.LIMIT)
                .value("offsetof kvm_segment.selector", "Segment.SELECTOR", Segment.SELECTOR)
                .value("offsetof kvm_segment.type", "Segment.TYPE", Segment.TYPE)
                .value("offsetof kvm_segment.present", "Segment.PRESENT", Segment.PRESENT)
                .value("offsetof kvm_segment.dpl", "Segment.DPL", Segment.DPL)
                .value("offsetof kvm_segment.db", "Segment.DB", Segment.DB)
                .value("offsetof kvm_segment.s", "Segment.S", Segment.S)
                .value("offsetof kvm_segment.l", "Segment.L", Segment.L)
                .value("offsetof kvm_segment.g", "Segment.G", Segment.G)
                .value("offsetof kvm_segment.avl", "Segment.AVL", Segment.AVL)
                .value("offsetof kvm_segment.unusable", "Segment.UNUSABLE", Segment.UNUSABLE)
                .value("offsetof kvm_sregs.gdt", "Sregs.GDT", Sregs.GDT)
                .value("offsetof kvm_sregs.idt", "Sregs.IDT", Sregs.IDT)
                .value("offsetof kvm_sregs.cr0", "Sregs.CR0", Sregs.CR0)
                .value("offsetof kvm_sregs.cr2", "Sregs.CR2", Sregs.CR2)
                .value("offsetof kvm_sregs.cr3", "Sregs.CR3", Sregs.CR3)
                .value("offsetof kvm_sregs.cr4", "Sregs.CR4", Sregs.CR4)
                .value("offsetof kvm_sregs.cr8", "Sregs.CR8", Sregs.CR8)
                .value("offsetof kvm_sregs.efer", "Sregs.EFER", Sregs.EFER)
                .value("offsetof kvm_sregs.apic_base", "Sregs.APIC_BASE", Sregs.APIC_BASE)
                .value("offsetof kvm_sregs.interrupt_bitmap", "Sregs.INTERRUPT_BITMAP", Sregs.INTERRUPT_BITMAP)
                .value("offsetof kvm_cpuid2.nent", "CpuidEntry.NENT", CpuidEntry.NENT)
                .value("offsetof kvm_msr_filter_range.flags", "MsrFilterRange.FLAGS", MsrFilterRange.FLAGS)
                .value("offsetof kvm_msr_filter_range.nmsrs", "MsrFilterRange.NMSRS", MsrFilterRange.NMSRS)
                .value("offsetof kvm_msr_filter_range.base", "MsrFilterRange.BASE", MsrFilterRange.BASE)
                .value("offsetof kvm_msr_filter_range.bitmap", "MsrFilterRange.BITMAP", MsrFilterRange.BITMAP);
    }

    /** struct kvm_run: its size and every offset the kvm package reads or writes. */
    private static void kvmRun(JavaSide java) {
        java.value("sizeof kvm_run", "KvmRun.LAYOUT", KvmRun.LAYOUT.byteSize())
                .value("offsetof kvm_run.immediate_exit", "KvmRun.IMMEDIATE_EXIT",
                        KvmRun.LAYOUT.byteOffset(groupElement("immediate_exit")))
                .value("offsetof kvm_run.exit_reason", "KvmRun.EXIT_REASON", KvmRun.EXIT_REASON)
                .value("offsetof kvm_run.request_interrupt_window", "KvmRun.REQUEST_INTERRUPT_WINDOW",
                        KvmRun.REQUEST_INTERRUPT_WINDOW)
                .value("offsetof kvm_run.ready_for_interrupt_injection", "KvmRun.READY_FOR_INTERRUPT_INJECTION",
                        KvmRun.READY_FOR_INTERRUPT_INJECTION)
                .value("offsetof kvm_run.hw.hardware_exit_reason", "KvmRun.HW_REASON", KvmRun.HW_REASON)
                .value("offsetof kvm_run.fail_entry.hardware_entry_failure_reason", "KvmRun.FAIL_ENTRY_REASON",
                        KvmRun.FAIL_ENTRY_REASON)
                .value("offsetof kvm_run.fail_entry.cpu", "KvmRun.FAIL_ENTRY_CPU", KvmRun.FAIL_ENTRY_CPU)
                .value("offsetof kvm_run.io.direction", "KvmRun.IO_DIRECTION", KvmRun.IO_DIRECTION)
                .value("offsetof kvm_run.io.size", "KvmRun.IO_SIZE", KvmRun.IO_SIZE)
                .value("offsetof kvm_run.io.port", "KvmRun.IO_PORT", KvmRun.IO_PORT)
                .value("offsetof kvm_run.io.count", "KvmRun.IO_COUNT", KvmRun.IO_COUNT)
                .value("offsetof kvm_run.io.data_offset", "KvmRun.IO_DATA_OFFSET", KvmRun.IO_DATA_OFFSET)
                .value("offsetof kvm_run.debug.arch.exception", "KvmRun.DEBUG_EXCEPTION", KvmRun.DEBUG_EXCEPTION)
                .value("offsetof kvm_run.debug.arch.pc", "KvmRun.DEBUG_PC", KvmRun.DEBUG_PC)
                .value("offsetof kvm_run.debug.arch.dr6", "KvmRun.DEBUG_DR6", KvmRun.DEBUG_DR6)
                .value("offsetof kvm_run.debug.arch.dr7", "KvmRun.DEBUG_DR7", KvmRun.DEBUG_DR7)
                .value("offsetof kvm_run.mmio.phys_addr", "KvmRun.MMIO_PHYS_ADDR", KvmRun.MMIO_PHYS_ADDR)
                .value("offsetof kvm_run.mmio.data", "KvmRun.MMIO_DATA", KvmRun.MMIO_DATA)
                .value("offsetof kvm_run.mmio.len", "KvmRun.MMIO_LEN", KvmRun.MMIO_LEN)
                .value("offsetof kvm_run.mmio.is_write", "KvmRun.MMIO_IS_WRITE", KvmRun.MMIO_IS_WRITE)
                .value("offsetof kvm_run.internal.suberror", "KvmRun.INTERNAL_SUBERROR", KvmRun.INTERNAL_SUBERROR)
                .value("offsetof kvm_run.internal.ndata", "KvmRun.INTERNAL_NDATA", KvmRun.INTERNAL_NDATA)
                .value("offsetof kvm_run.internal.data", "KvmRun.INTERNAL_DATA", KvmRun.INTERNAL_DATA)
                .value("offsetof kvm_run.system_event.type", "KvmRun.SYSTEM_EVENT_TYPE", KvmRun.SYSTEM_EVENT_TYPE)
                .value("offsetof kvm_run.system_event.ndata", "KvmRun.SYSTEM_EVENT_NDATA", KvmRun.SYSTEM_EVENT_NDATA)
                .value("offsetof kvm_run.system_event.data", "KvmRun.SYSTEM_EVENT_DATA", KvmRun.SYSTEM_EVENT_DATA)
                .value("offsetof kvm_run.msr.error", "KvmRun.MSR_ERROR", KvmRun.MSR_ERROR)
                .value("offsetof kvm_run.msr.reason", "KvmRun.MSR_REASON", KvmRun.MSR_REASON)
                .value("offsetof kvm_run.msr.index", "KvmRun.MSR_INDEX", KvmRun.MSR_INDEX)
                .value("offsetof kvm_run.msr.data", "KvmRun.MSR_DATA", KvmRun.MSR_DATA)
                .value("offsetof kvm_run.kvm_valid_regs", "KvmRun.VALID_REGS", KvmRun.VALID_REGS)
                .value("offsetof kvm_run.kvm_dirty_regs", "KvmRun.DIRTY_REGS", KvmRun.DIRTY_REGS)
                .value("offsetof kvm_run.s.regs.regs", "KvmRun.S_REGS", KvmRun.S_REGS)
                .value("offsetof kvm_run.s.regs.sregs", "KvmRun.S_SREGS", KvmRun.S_SREGS)
                .value("offsetof kvm_run.s.regs.sregs.ss.dpl", "VcpuFd.CPL", VcpuFd.CPL);
    }

    /** Record name to the Java numbers that must equal it (several Java constants may share one record). */
    private static final class JavaSide {
        final Map<String, Map<String, Long>> expected = new LinkedHashMap<>();

        JavaSide value(String record, String java, long value) {
            expected.computeIfAbsent(record, name -> new LinkedHashMap<>()).put(java, value);
            return this;
        }

        /** The struct's size, and each named member's offset and size (padding skipped). */
        JavaSide struct(String java, String cName, StructLayout layout) {
            value("sizeof " + cName, java, layout.byteSize());
            long offset = 0;
            for (MemoryLayout member : layout.memberLayouts()) {
                if (!(member instanceof PaddingLayout)) {
                    String name = member.name().orElseThrow(() -> new AssertionError(java + " has an unnamed member"));
                    value("offsetof " + cName + "." + name, java + "." + name + " offset", offset);
                    value("sizeof " + cName + "." + name, java + "." + name + " size", member.byteSize());
                }
                offset += member.byteSize();
            }
            return this;
        }

        int count() {
            return expected.values().stream().mapToInt(Map::size).sum();
        }

        List<String> failures(Map<String, Long> headers) {
            List<String> failures = new ArrayList<>();
            expected.forEach((record, numbers) -> numbers.forEach((java, value) -> {
                Long c = headers.get(record);
                if (c == null) {
                    failures.add(java + " = " + value + " but the probe does not record " + record + ": add it to "
                            + SOURCE);
                } else if (!c.equals(value)) {
                    failures.add(java + " = " + value + " but the headers say " + c + " (" + record + ")");
                }
            }));
            return failures;
        }
    }

    private static void assertNoFailures(List<String> failures) {
        if (!failures.isEmpty()) {
            fail("The kvm package disagrees with the kernel headers:\n  " + String.join("\n  ", failures));
        }
    }

    // ---- the C side -----------------------------------------------------------

    private static synchronized Map<String, Long> probe() {
        if (records == null) {
            CProbe.assumeHeader(KVM_H, "linux-libc-dev");
            Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
            records = CProbe.records(base.resolve(SOURCE), Target.X86_64, work);
        }
        return records;
    }
}
