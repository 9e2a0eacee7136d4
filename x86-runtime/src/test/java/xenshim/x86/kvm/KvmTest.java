package xenshim.x86.kvm;

import xenshim.x86.cpu.Reg;
import xenshim.api.Abi;
import xenshim.x86.vm.HypercallRegisters;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.x86.kvm.TinyGuest.*;

import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** Real KVM: capabilities, a tiny 64-bit guest and its exits. Skipped without a usable /dev/kvm. */
class KvmTest {

    @BeforeEach
    void needKvm() {
        NeedsKvm.assumeKvm(getClass());
    }

    @Test
    void apiVersionIs12AndCapsAnswer() {
        try (Kvm kvm = Kvm.open()) {
            assertThat(kvm.apiVersion()).isEqualTo(12);
            assertThat(kvm.checkExtension(Kvm.CAP_USER_MEMORY)).isPositive();
            assertThat(kvm.checkExtension(Kvm.CAP_SYNC_REGS) & 3).isEqualTo(3);
            assertThat(kvm.vcpuMmapSize()).isGreaterThanOrEqualTo(2352);
        }
    }

    @Test
    void supportedCpuidHasLeaves0And1() {
        try (Kvm kvm = Kvm.open()) {
            List<CpuidEntry> cpuid = kvm.supportedCpuid();
            assertThat(cpuid).anyMatch(e -> e.function() == 0 && e.eax() >= 1);
            assertThat(cpuid).anyMatch(e -> e.function() == 1);
        }
    }

    @Test
    void sregsRoundTrip() {
        try (TinyGuest g = new TinyGuest(HLT)) {
            Sregs s = g.cpu.getSregs();
            assertThat(s.cs().l()).isTrue();
            assertThat(s.efer() & Sregs.EFER_LMA).isNotZero();
            assertThat(s.cr3()).isEqualTo(PML4);
            assertThat(g.cpu.getRegs().rip()).isEqualTo(CODE);
        }
    }

    @Test
    void outThenHlt() {
        try (TinyGuest g = new TinyGuest(concat(movEax(0x1234), outEax(0xE4), HLT))) {
            VcpuExit exit = g.cpu.run();
            assertThat(exit).isInstanceOf(VcpuExit.Io.class);
            VcpuExit.Io io = (VcpuExit.Io) exit;
            assertThat(io.isOut()).isTrue();
            assertThat(io.port()).isEqualTo(0xE4);
            assertThat(io.size()).isEqualTo(4);
            assertThat(io.count()).isEqualTo(1);
            assertThat(io.data()).isEqualTo(0x1234);
            assertThat(g.cpu.run()).isEqualTo(VcpuExit.Hlt.INSTANCE);
        }
    }

    @Test
    void inGetsTheDataTheVmmSupplies() {
        // in $0x60,%al ; out %eax,$0xe4 ; hlt   (eax preset to 0x11223300 so only al changes)
        byte[] code = concat(movEax(0x11223300), bytes(0xE4, 0x60), outEax(0xE4), HLT);
        try (TinyGuest g = new TinyGuest(code)) {
            VcpuExit.Io in = (VcpuExit.Io) g.cpu.run();
            assertThat(in.isIn()).isTrue();
            assertThat(in.port()).isEqualTo(0x60);
            assertThat(in.size()).isEqualTo(1);
            in.setData(0xFF);
            VcpuExit.Io out = (VcpuExit.Io) g.cpu.run();
            assertThat(out.data()).isEqualTo(0x112233FF);
        }
    }

    @Test
    void syncedRegsReadAndWriteWithoutIoctls() {
        // mov $0x1234,%eax ; out %eax,$0xe4 ; out %eax,$0xe4 ; hlt
        byte[] code = concat(movEax(0x1234), outEax(0xE4), outEax(0xE4), HLT);
        try (TinyGuest g = new TinyGuest(code)) {
            g.cpu.enableSyncRegs();
            VcpuExit.Io first = (VcpuExit.Io) g.cpu.run();
            assertThat(first.data()).isEqualTo(0x1234);
            assertThat(g.cpu.syncedReg(Reg.RAX)).isEqualTo(0x1234);
            // Where RIP is on an OUT exit depends on KVM: at the out (VMX/SVM fast PIO) or already
            // past it (kvm_pvm, which emulates the out and writes RIP back before exiting).
            assertThat(g.cpu.syncedReg(Reg.RIP)).isIn(CODE + 5, CODE + 7);
            assertThat(g.cpu.syncedReg(Reg.RIP)).isEqualTo(g.cpu.getRegs().rip());
            assertThat(g.cpu.syncedReg(Reg.RSP)).isEqualTo(STACK_TOP);
            assertThat(HypercallRegisters.abi(g.cpu.syncedEfer(), g.cpu.syncedCsL())).isEqualTo(Abi.X86_64);
            assertThat(g.cpu.syncedCsL()).isTrue();
            assertThat(g.cpu.syncedCsDb()).isFalse();
            assertThat(g.cpu.syncedCpl()).isZero().isEqualTo(g.cpu.getSregs().ss().dpl());
            assertThat(g.cpu.syncedCr3()).isEqualTo(PML4);
            assertThat(g.cpu.syncedCr0() & Sregs.CR0_PG).isNotZero();
            assertThat(g.cpu.syncedCr4() & Sregs.CR4_PAE).isNotZero();
            assertThat(g.cpu.syncedEfer() & (Sregs.EFER_LMA | Sregs.EFER_LME)).isEqualTo(Sregs.EFER_LMA | Sregs.EFER_LME);
            assertThat(g.cpu.syncedCsBase()).isZero();
            assertThat(g.cpu.syncedSregs()).isEqualTo(g.cpu.getSregs());
            assertThat(g.cpu.syncedRegs()).isEqualTo(g.cpu.getRegs());

            g.cpu.setSyncedReg(Reg.RAX, 0xCAFEBABEL);
            VcpuExit.Io second = (VcpuExit.Io) g.cpu.run();
            assertThat(second.data()).isEqualTo(0xCAFEBABEL);
            assertThat(g.cpu.syncedReg(Reg.RIP)).isIn(CODE + 7, CODE + 9);
            assertThat(g.cpu.run()).isInstanceOf(VcpuExit.Hlt.class);
            assertThat(g.cpu.getRegs().rax()).isEqualTo(0xCAFEBABEL);
        }
    }

    @Test
    void syncedCplIsSsDplNotCsDpl() {
        // Ring 3 on a conforming ring-0 code segment: CS.DPL is 0, the CPL (SS.DPL) is 3.
        // IOPL 3 lets the out through; the pages are made user-accessible.
        try (TinyGuest g = new TinyGuest(concat(movEax(0x55), outEax(0xE4), HLT))) {
            java.lang.foreign.MemorySegment m = g.ram.segment();
            m.set(java.lang.foreign.ValueLayout.JAVA_LONG, PML4, PDPT | 0x7);
            m.set(java.lang.foreign.ValueLayout.JAVA_LONG, PDPT, PD | 0x7);
            m.set(java.lang.foreign.ValueLayout.JAVA_LONG, PD, 0x87);
            Segment conformingRing0 = new Segment(0, 0xFFFF_FFFF, 0x08 | 3, 15, true, 0, false, true, true, true,
                    false, false);
            Segment ring3Data = new Segment(0, 0xFFFF_FFFF, 0x10 | 3, 3, true, 3, true, true, false, true, false,
                    false);
            g.cpu.setSregs(g.cpu.getSregs().withCs(conformingRing0).withDataSegments(ring3Data));
            g.cpu.setRegs(g.cpu.getRegs().with(Reg.RFLAGS, 0x3002));
            g.cpu.enableSyncRegs();
            assertThat(((VcpuExit.Io) g.cpu.run()).data()).isEqualTo(0x55);
            assertThat(g.cpu.syncedSregs().cs().dpl()).isZero();
            assertThat(g.cpu.syncedCpl()).isEqualTo(3);
        }
    }

    @Test
    void msrFilterTrapsWrmsrAndRdmsr() {
        // wrmsr 0x40000000 <- 0x00000001_00002001 ; rdmsr 0x40000000 ; out %eax ; mov %edx,%eax ; out %eax ; hlt
        byte[] code = concat(movEcx(0x40000000), movEax(0x2001), movEdx(1), WRMSR,
                RDMSR, outEax(0xE4), bytes(0x89, 0xD0), outEax(0xE4), HLT);
        try (TinyGuest g = new TinyGuest(code, vm -> {
            vm.enableCap(Kvm.CAP_X86_USER_SPACE_MSR, VmFd.MSR_EXIT_REASON_FILTER);
            vm.setMsrFilter(VmFd.MSR_FILTER_DEFAULT_ALLOW, List.of(
                    MsrFilterRange.exitOn(MsrFilterRange.READ | MsrFilterRange.WRITE, 0x40000000, 1)));
        })) {
            VcpuExit.MsrWrite w = (VcpuExit.MsrWrite) g.cpu.run();
            assertThat(w.index()).isEqualTo(0x40000000);
            assertThat(w.data()).isEqualTo(0x1_00002001L);
            assertThat(w.reason()).isEqualTo(VcpuExit.MSR_REASON_FILTER);
            w.complete();
            VcpuExit.MsrRead r = (VcpuExit.MsrRead) g.cpu.run();
            assertThat(r.index()).isEqualTo(0x40000000);
            r.complete(0x89ABCDEF_01234567L);
            assertThat(((VcpuExit.Io) g.cpu.run()).data()).isEqualTo(0x01234567L);
            assertThat(((VcpuExit.Io) g.cpu.run()).data()).isEqualTo(0x89ABCDEFL);
            assertThat(g.cpu.run()).isInstanceOf(VcpuExit.Hlt.class);
        }
    }

    @Test
    void failedWrmsrInjectsGp() {
        // With a zero-limit IDT, the #GP from a failed wrmsr triple-faults.
        byte[] code = concat(movEcx(0x40000000), movEax(0), movEdx(0), WRMSR, HLT);
        try (TinyGuest g = new TinyGuest(code, vm -> {
            vm.enableCap(Kvm.CAP_X86_USER_SPACE_MSR, VmFd.MSR_EXIT_REASON_FILTER);
            vm.setMsrFilter(VmFd.MSR_FILTER_DEFAULT_ALLOW,
                    List.of(MsrFilterRange.exitOn(MsrFilterRange.WRITE, 0x40000000, 1)));
        })) {
            g.cpu.setSregs(g.cpu.getSregs().withIdt(new DTable(0, 0)));
            VcpuExit.MsrWrite w = (VcpuExit.MsrWrite) g.cpu.run();
            w.fail();
            assertThat(g.cpu.run()).isInstanceOf(VcpuExit.Shutdown.class);
        }
    }

    @Test
    void mmioOutsideRamExitsAndReadsBack() {
        // mov 0x1000000(,1),%eax  (gpa 16 MiB, no slot; identity map covers only 2 MiB, so map 16 MiB via PD[8])
        // a32 mov eax, [0x1000000]: 67 8B 04 25 00 00 00 01 ; out %eax,$0xe4 ; hlt
        byte[] code = concat(bytes(0x8B, 0x04, 0x25, 0x00, 0x00, 0x00, 0x01), outEax(0xE4), HLT);
        try (TinyGuest g = new TinyGuest(code)) {
            g.ram.segment().set(java.lang.foreign.ValueLayout.JAVA_LONG, PD + 8 * 8, 0x1000000L | 0x83);
            VcpuExit.Mmio m = (VcpuExit.Mmio) g.cpu.run();
            assertThat(m.physAddr()).isEqualTo(0x1000000L);
            assertThat(m.isWrite()).isFalse();
            assertThat(m.len()).isEqualTo(4);
            m.setData(0xFFFFFFFFL);
            assertThat(((VcpuExit.Io) g.cpu.run()).data()).isEqualTo(0xFFFFFFFFL);
        }
    }

    @Test
    void tripleFaultIsShutdown() {
        // lidt [rip+2]; ud2; then a 10-byte all-zero IDT descriptor
        byte[] code = concat(bytes(0x0F, 0x01, 0x1D, 0x02, 0x00, 0x00, 0x00), UD2, new byte[10]);
        try (TinyGuest g = new TinyGuest(code)) {
            VcpuExit exit = g.cpu.run();
            assertThat(exit).isEqualTo(VcpuExit.Shutdown.INSTANCE);
        }
    }

    @Test
    void duplicateVcpuIdFailsWithEexist() {
        try (Kvm kvm = Kvm.open(); VmFd vm = kvm.createVm(); VcpuFd cpu = vm.createVcpu(0)) {
            assertThat(cpu.id()).isZero();
            assertThatThrownBy(() -> vm.createVcpu(0))
                    .isInstanceOf(KvmException.class)
                    .hasMessage("KVM_CREATE_VCPU failed: EEXIST (17)")
                    .satisfies(e -> assertThat(((KvmException) e).errno()).isEqualTo(17));
        }
    }

    @Test
    void immediateExitReturnsIntrOnceWithoutEnteringTheGuest() {
        try (TinyGuest g = new TinyGuest(concat(movEax(7), outEax(0xE4), HLT))) {
            g.cpu.immediateExit(true);
            assertThat(g.cpu.run()).isEqualTo(VcpuExit.Intr.INSTANCE);
            assertThat(((VcpuExit.Io) g.cpu.run()).data()).isEqualTo(7);
        }
    }

    @Test
    void guestRamIsZeroedAndSized() {
        try (GuestRam ram = GuestRam.allocate(5000)) {
            assertThat(ram.size()).isEqualTo(8192);
            assertThat(ram.segment().get(java.lang.foreign.ValueLayout.JAVA_LONG, 4096)).isZero();
        }
    }
}
