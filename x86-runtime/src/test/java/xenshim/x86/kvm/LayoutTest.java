package xenshim.x86.kvm;

import xenshim.x86.cpu.Reg;
import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * Struct sizes, offsets and ioctl numbers against numbers written by hand from linux/kvm.h and
 * asm/kvm.h on x86-64 (kernel headers 6.x), so they are checked even where gcc or the headers are
 * missing; {@link KvmHeadersTest} checks the same constants, and more, against the headers
 * themselves. Needs no KVM.
 */
class LayoutTest {

    @Test
    void structSizesMatchTheKernelHeaders() {
        assertThat(Regs.LAYOUT.byteSize()).isEqualTo(144);
        assertThat(Sregs.LAYOUT.byteSize()).isEqualTo(312);
        assertThat(Segment.LAYOUT.byteSize()).isEqualTo(24);
        assertThat(DTable.LAYOUT.byteSize()).isEqualTo(16);
        assertThat(CpuidEntry.LAYOUT.byteSize()).isEqualTo(40);
        assertThat(CpuidEntry.CPUID2_HEADER.byteSize()).isEqualTo(8);
        assertThat(VmFd.USERSPACE_MEMORY_REGION.byteSize()).isEqualTo(32);
        assertThat(VmFd.ENABLE_CAP.byteSize()).isEqualTo(104);
        assertThat(VmFd.MSR_FILTER.byteSize()).isEqualTo(392);
        assertThat(MsrFilterRange.LAYOUT.byteSize()).isEqualTo(24);
        assertThat(KvmRun.LAYOUT.byteSize()).isEqualTo(2352);
        assertThat(KvmRun.SYNC_REGS.byteSize()).isEqualTo(520);
        assertThat(KickSignal.SIGACTION_LAYOUT.byteSize()).isEqualTo(152);
    }

    @Test
    void kvmRunOffsetsMatchTheKernelHeaders() {
        assertThat(KvmRun.EXIT_REASON).isEqualTo(8);
        assertThat(KvmRun.IO_DIRECTION).isEqualTo(32);
        assertThat(KvmRun.IO_SIZE).isEqualTo(33);
        assertThat(KvmRun.IO_PORT).isEqualTo(34);
        assertThat(KvmRun.IO_COUNT).isEqualTo(36);
        assertThat(KvmRun.IO_DATA_OFFSET).isEqualTo(40);
        assertThat(KvmRun.MMIO_PHYS_ADDR).isEqualTo(32);
        assertThat(KvmRun.MMIO_DATA).isEqualTo(40);
        assertThat(KvmRun.MMIO_LEN).isEqualTo(48);
        assertThat(KvmRun.MMIO_IS_WRITE).isEqualTo(52);
        assertThat(KvmRun.MSR_ERROR).isEqualTo(32);
        assertThat(KvmRun.MSR_REASON).isEqualTo(40);
        assertThat(KvmRun.MSR_INDEX).isEqualTo(44);
        assertThat(KvmRun.MSR_DATA).isEqualTo(48);
        assertThat(KvmRun.INTERNAL_SUBERROR).isEqualTo(32);
        assertThat(KvmRun.INTERNAL_NDATA).isEqualTo(36);
        assertThat(KvmRun.INTERNAL_DATA).isEqualTo(40);
        assertThat(KvmRun.SYSTEM_EVENT_DATA).isEqualTo(40);
        assertThat(KvmRun.FAIL_ENTRY_CPU).isEqualTo(40);
        assertThat(KvmRun.DEBUG_PC).isEqualTo(40);
        assertThat(KvmRun.DEBUG_DR7).isEqualTo(56);
        assertThat(KvmRun.VALID_REGS).isEqualTo(288);
        assertThat(KvmRun.DIRTY_REGS).isEqualTo(296);
        assertThat(KvmRun.S_REGS).isEqualTo(304);
        assertThat(KvmRun.S_SREGS).isEqualTo(448);
        assertThat(SegmentRegister.TR.offset).isEqualTo(144);
        assertThat(SegmentRegister.SS.offset).isEqualTo(120);
        assertThat(Segment.DPL).isEqualTo(16);
        // syncedCpl() reads SS.DPL (offsetof(kvm_run, s.regs.sregs.ss.dpl)), not CS.DPL (464).
        assertThat(VcpuFd.CPL).isEqualTo(448 + 120 + 16);
        assertThat(Sregs.GDT).isEqualTo(192);
        assertThat(Sregs.IDT).isEqualTo(208);
        assertThat(Sregs.CR0).isEqualTo(224);
        assertThat(Sregs.EFER).isEqualTo(264);
        assertThat(Sregs.INTERRUPT_BITMAP).isEqualTo(280);
        assertThat(Segment.L).isEqualTo(19);
        assertThat(Segment.UNUSABLE).isEqualTo(22);
        assertThat(Regs.offset(Reg.RIP)).isEqualTo(128);
        assertThat(MsrFilterRange.BITMAP).isEqualTo(16);
    }

    @Test
    void ioctlNumbersMatchTheKernelHeaders() {
        assertThat(Kvm.KVM_GET_API_VERSION).isEqualTo(0xae00L);
        assertThat(Kvm.KVM_CREATE_VM).isEqualTo(0xae01L);
        assertThat(Kvm.KVM_CHECK_EXTENSION).isEqualTo(0xae03L);
        assertThat(Kvm.KVM_GET_VCPU_MMAP_SIZE).isEqualTo(0xae04L);
        assertThat(Kvm.KVM_GET_SUPPORTED_CPUID).isEqualTo(0xc008ae05L);
        assertThat(VmFd.KVM_SET_USER_MEMORY_REGION).isEqualTo(0x4020ae46L);
        assertThat(VmFd.KVM_CREATE_VCPU).isEqualTo(0xae41L);
        assertThat(VmFd.KVM_SET_TSS_ADDR).isEqualTo(0xae47L);
        assertThat(VmFd.KVM_SET_IDENTITY_MAP_ADDR).isEqualTo(0x4008ae48L);
        assertThat(VmFd.KVM_CREATE_IRQCHIP).isEqualTo(0xae60L);
        assertThat(VmFd.KVM_ENABLE_CAP).isEqualTo(0x4068aea3L);
        assertThat(VmFd.KVM_X86_SET_MSR_FILTER).isEqualTo(0x4188aec6L);
        assertThat(VcpuFd.KVM_RUN).isEqualTo(0xae80L);
        assertThat(VcpuFd.KVM_GET_REGS).isEqualTo(0x8090ae81L);
        assertThat(VcpuFd.KVM_SET_REGS).isEqualTo(0x4090ae82L);
        assertThat(VcpuFd.KVM_GET_SREGS).isEqualTo(0x8138ae83L);
        assertThat(VcpuFd.KVM_SET_SREGS).isEqualTo(0x4138ae84L);
        assertThat(VcpuFd.KVM_SET_CPUID2).isEqualTo(0x4008ae90L);
    }

    @Test
    void errnoMessages() {
        assertThat(new KvmException("KVM_CREATE_VM", 13)).hasMessage("KVM_CREATE_VM failed: EACCES (13)");
        assertThat(KvmException.errnoName(17)).isEqualTo("EEXIST");
        assertThat(KvmException.errnoName(22)).isEqualTo("EINVAL");
        assertThat(KvmException.errnoName(133)).isEqualTo("EHWPOISON");
        assertThat(KvmException.errnoName(999)).isEqualTo("errno 999");
    }

    @Test
    void regsWith() {
        Regs r = Regs.INITIAL.with(Reg.R10, 5).with(Reg.RIP, 0x1000);
        assertThat(r.r10()).isEqualTo(5);
        assertThat(r.get(Reg.RIP)).isEqualTo(0x1000);
        assertThat(r.rflags()).isEqualTo(2);
    }
}
