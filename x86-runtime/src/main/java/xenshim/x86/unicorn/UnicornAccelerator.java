package xenshim.x86.unicorn;

import java.lang.foreign.MemorySegment;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import xenshim.api.GuestAtomics;
import xenshim.x86.cpu.Accelerator;
import xenshim.x86.cpu.CpuidLeaf;
import xenshim.x86.cpu.HypercallTrap;
import xenshim.x86.cpu.VirtualCpu;
import xenshim.x86.memory.GuestPhysMemory;

/**
 * The software CPU as a backend ({@code --accel tcg}): one Unicorn engine
 * (QEMU's TCG) running the guest over the machine's own guest RAM, mapped
 * into the engine run by run as {@link GuestPhysMemory} lays it out.
 *
 * <p>What differs from KVM, and why:
 * <ul>
 * <li>Unicorn 2.0.1 cannot hook {@code wrmsr}, so the hypercall page is
 *     announced through {@link UnicornCpu#MSR_VM_HSAVE_PA}, an MSR its CPU
 *     keeps and that no guest without SVM uses; CPUID 0x40000002 names it, as
 *     Xen's leaf names the MSR a guest must write. The engine watches it until
 *     the guest has written it.</li>
 * <li>It stops only between translated blocks, so each hypercall stub ends
 *     its block after its {@code out} ({@link HypercallTrap#endBlockAfterOut}).</li>
 * <li>A guest's {@code lock}ed instructions are atomic against its own
 *     engine only (TCG without {@code CF_PARALLEL}), so a host thread changes
 *     event bits and grant flags through {@link UnicornCpu#guestAtomics()},
 *     which waits until the guest is between instructions.</li>
 * <li>One vCPU: a second one needs a second engine over the same RAM, not
 *     built yet (and its locked instructions would not be atomic against the
 *     first's).</li>
 * </ul>
 */
public final class UnicornAccelerator implements Accelerator {

    private static final HypercallTrap TRAP = new HypercallTrap(UnicornCpu.MSR_VM_HSAVE_PA, true);

    private final UnicornCpu cpu;
    /** Slot to the guest-physical range it maps, so that deleting a slot can unmap it. */
    private final Map<Integer, long[]> slots = new HashMap<>();
    private boolean vcpuCreated;

    private UnicornAccelerator(UnicornCpu cpu) {
        this.cpu = cpu;
    }

    /**
     * Opens an engine.
     *
     * @param hypercallMsr ignored: this backend traps {@link UnicornCpu#MSR_VM_HSAVE_PA} (see the class comment)
     * @throws UnicornException if the library is missing (saying which package to install) or refuses
     */
    public static UnicornAccelerator open(int hypercallMsr) {
        return new UnicornAccelerator(UnicornCpu.open());
    }

    /** Why the software CPU cannot run here (the library is missing), if it cannot. */
    public static java.util.Optional<String> unavailableReason() {
        return UnicornCpu.unavailableReason();
    }

    @Override
    public String name() {
        return "tcg";
    }

    @Override
    public HypercallTrap hypercallTrap() {
        return TRAP;
    }

    @Override
    public GuestPhysMemory.Slots memorySlots() {
        return new GuestPhysMemory.Slots() {
            @Override
            public void set(int slot, long guestPhysAddr, MemorySegment host) {
                long[] old = slots.remove(slot);
                if (old != null) {
                    cpu.unmap(old[0], old[1]);
                    // code translated from the frames that moved must not run again; the guest maps
                    // linear to physical 1:1 on this engine (see the package comment), so the range
                    // names its translations. A whole-cache flush would cost ~150 ms.
                    cpu.invalidateTranslations(old[0], old[1]);
                }
                if (host.byteSize() > 0) {
                    cpu.mapRam(guestPhysAddr, host); // new frames: nothing translated from them yet
                    slots.put(slot, new long[] {guestPhysAddr, host.byteSize()});
                }
            }

            @Override
            public int limit() {
                return 4096;
            }

            /** The guest's locked instructions are not atomic against a host thread here: see RunExclusion. */
            @Override
            public GuestAtomics atomics() {
                return cpu.guestAtomics();
            }
        };
    }

    /** None of its own: Unicorn's CPU model answers every leaf xenshim does not. */
    @Override
    public List<CpuidLeaf> supportedCpuid() {
        return List.of();
    }

    @Override
    public VirtualCpu createVcpu(int id, long entry, long startInfo, List<CpuidLeaf> cpuid) {
        if (vcpuCreated || id != 0) {
            throw new UnsupportedOperationException("the software CPU runs one vCPU (vcpu0) per machine");
        }
        cpu.setPortHandler(PortHandler.EXIT_ON_OUT);
        cpu.enterPvh(entry, startInfo);
        vcpuCreated = true;
        return new UnicornVcpu(cpu, id, cpuid, TRAP.msr());
    }

    /** The engine is the vCPU's; it is closed with it (or here, if no vCPU was made). */
    @Override
    public void close() {
        if (!vcpuCreated) {
            cpu.close();
        }
    }
}
