package xenshim.x86.cpu;

import java.util.List;
import xenshim.x86.memory.GuestPhysMemory;

/**
 * A CPU backend for one machine ("accelerator", in QEMU's word): KVM, or a
 * software CPU. It runs the guest's vCPUs over the machine's guest RAM, which
 * the runtime owns and maps for every backend the same way.
 */
public interface Accelerator extends AutoCloseable {

    /** {@code kvm}, {@code tcg}: as {@code --accel} names it. */
    String name();

    /** How this backend's CPUs trap a hypercall and the hypercall-page MSR. */
    HypercallTrap hypercallTrap();

    /** Where {@link GuestPhysMemory} installs its runs of frames for this backend's CPUs. */
    GuestPhysMemory.Slots memorySlots();

    /** The CPUID leaves this backend's CPUs can show, its own hypervisor leaves included. */
    List<CpuidLeaf> supportedCpuid();

    /**
     * Creates vCPU {@code id} in PVH's entry state: 32-bit flat protected
     * mode, paging off, RIP at {@code entry}, RBX = {@code startInfo},
     * showing exactly {@code cpuid}.
     */
    VirtualCpu createVcpu(int id, long entry, long startInfo, List<CpuidLeaf> cpuid);

    @Override
    void close();
}
