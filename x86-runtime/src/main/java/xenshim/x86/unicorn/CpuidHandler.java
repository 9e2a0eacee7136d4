package xenshim.x86.unicorn;

import xenshim.x86.kvm.CpuidEntry;

/**
 * Answers the guest's {@code cpuid} inside Unicorn's instruction hook (Xen's leaves at
 * 0x40000000, a masked leaf 1, ...). Runs on the vCPU thread while the guest's block runs; must
 * return quickly. It may throw: the hook catches everything, lets the instruction run as Unicorn's
 * own CPU model answers it, stops the guest and reports an {@link UnicornExit.Error}.
 */
@FunctionalInterface
public interface CpuidHandler {

    /** Unicorn's own CPU model (QEMU's {@code qemu64}) answers every leaf. */
    CpuidHandler NONE = (leaf, subleaf) -> null;

    /**
     * The answer for {@code leaf} (eax) and {@code subleaf} (ecx): its eax, ebx, ecx and edx are
     * what the guest reads (the other fields are ignored); null to let Unicorn's CPU model answer.
     */
    CpuidEntry cpuid(int leaf, int subleaf);
}
