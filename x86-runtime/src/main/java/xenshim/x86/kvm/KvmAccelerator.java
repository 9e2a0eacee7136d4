package xenshim.x86.kvm;

import java.lang.foreign.MemorySegment;
import java.util.List;
import xenshim.x86.cpu.Accelerator;
import xenshim.x86.cpu.CpuidLeaf;
import xenshim.x86.cpu.HypercallTrap;
import xenshim.x86.cpu.Reg;
import xenshim.x86.cpu.VirtualCpu;
import xenshim.x86.memory.GuestPhysMemory;

/**
 * KVM as a CPU backend: one VM whose memory slots are the machine's runs of
 * guest frames, with the hypercall-page MSR trapped to user space by an MSR
 * filter, and vCPUs in PVH's entry state (flat 32-bit protected mode with a
 * busy TSS, as VMX entry checks want).
 */
public final class KvmAccelerator implements Accelerator {

    private static final int KVM_CAP_NR_MEMSLOTS = 10;

    private final Kvm kvm;
    private final VmFd vm;
    private final int slotLimit;
    private final HypercallTrap trap;

    private KvmAccelerator(Kvm kvm, VmFd vm, int slotLimit, int trappedMsr) {
        this.kvm = kvm;
        this.vm = vm;
        this.slotLimit = slotLimit;
        this.trap = new HypercallTrap(trappedMsr, false);
    }

    /**
     * Opens {@code /dev/kvm} and creates a VM whose accesses to MSR
     * {@code trappedMsr} exit to user space.
     *
     * @throws KvmException if KVM is missing or refuses
     */
    public static KvmAccelerator open(int trappedMsr) {
        Kvm kvm = Kvm.open();
        VmFd vm = null;
        try {
            vm = kvm.createVm();
            vm.enableCap(Kvm.CAP_X86_USER_SPACE_MSR, VmFd.MSR_EXIT_REASON_FILTER);
            vm.setMsrFilter(VmFd.MSR_FILTER_DEFAULT_ALLOW,
                    List.of(MsrFilterRange.exitOn(MsrFilterRange.READ | MsrFilterRange.WRITE, trappedMsr, 1)));
            return new KvmAccelerator(kvm, vm, Math.max(1, kvm.checkExtension(KVM_CAP_NR_MEMSLOTS)), trappedMsr);
        } catch (RuntimeException | Error e) {
            if (vm != null) {
                closeOne(e, vm::close);
            }
            closeOne(e, kvm::close);
            throw e;
        }
    }

    @Override
    public String name() {
        return "kvm";
    }

    /** The MSR {@link #open} was told to trap; the exit for an {@code out} comes with RIP just past it. */
    @Override
    public HypercallTrap hypercallTrap() {
        return trap;
    }

    @Override
    public GuestPhysMemory.Slots memorySlots() {
        return new GuestPhysMemory.Slots() {
            @Override
            public void set(int slot, long guestPhysAddr, MemorySegment host) {
                vm.setUserMemoryRegion(slot, 0, guestPhysAddr, host);
            }

            @Override
            public int limit() {
                return slotLimit;
            }
        };
    }

    @Override
    public List<CpuidLeaf> supportedCpuid() {
        return kvm.supportedCpuid().stream()
                .map(e -> new CpuidLeaf(e.function(), e.index(), (e.flags() & CpuidEntry.FLAG_SIGNIFICANT_INDEX) != 0,
                        e.eax(), e.ebx(), e.ecx(), e.edx()))
                .toList();
    }

    @Override
    public VirtualCpu createVcpu(int id, long entry, long startInfo, List<CpuidLeaf> cpuid) {
        VcpuFd fd = vm.createVcpu(id);
        try {
            fd.setCpuid2(cpuid.stream().map(l -> new CpuidEntry(l.function(), l.index(),
                    l.significantIndex() ? CpuidEntry.FLAG_SIGNIFICANT_INDEX : 0,
                    l.eax(), l.ebx(), l.ecx(), l.edx())).toList());
            fd.setSregs(fd.getSregs()
                    .withCs(Segment.code32(0x08))
                    .withDataSegments(Segment.data(0x10))
                    .withTr(Segment.busyTss(0x18, 0, 0x67))
                    .withGdt(new DTable(0, 0))
                    .withIdt(new DTable(0, 0))
                    .withControl(Sregs.CR0_PE | Sregs.CR0_ET, 0, 0, 0));
            fd.setRegs(Regs.INITIAL.with(Reg.RIP, entry).with(Reg.RBX, startInfo));
            fd.enableSyncRegs();
            return new KvmVcpu(fd);
        } catch (RuntimeException | Error e) {
            closeOne(e, fd::close);
            throw e;
        }
    }

    /** Closes the VM, then {@code /dev/kvm}; a vCPU fd still open keeps the VM alive in the kernel. */
    @Override
    public void close() {
        RuntimeException failure = new RuntimeException("closing KVM failed");
        closeOne(failure, vm::close);
        closeOne(failure, kvm::close);
        if (failure.getSuppressed().length > 0) {
            throw failure;
        }
    }

    private static void closeOne(Throwable failure, Runnable close) {
        try {
            close.run();
        } catch (RuntimeException | Error e) {
            failure.addSuppressed(e);
        }
    }
}
