package xenshim.x86.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;

/**
 * {@code struct kvm_msr_filter_range} (asm/kvm.h): MSRs {@code base .. base+nmsrs-1}; for the
 * accesses in {@code flags}, bit i of {@code bitmap} set = allow (KVM handles it), clear = deny
 * (exit to user space when KVM_MSR_EXIT_REASON_FILTER is enabled, else #GP).
 *
 * @param flags {@link #READ} and/or {@link #WRITE}
 * @param bitmap at least {@code ceil(nmsrs/8)} bytes, bit i of byte i/8 for MSR base+i; copied
 */
public record MsrFilterRange(int flags, int base, int nmsrs, byte[] bitmap) {

    /** {@code KVM_MSR_FILTER_READ}. */
    public static final int READ = 1;
    /** {@code KVM_MSR_FILTER_WRITE}. */
    public static final int WRITE = 2;

    /** {@code struct kvm_msr_filter_range}: flags u32, nmsrs u32, base u32, pad, bitmap u8*; 24 bytes. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("flags"), JAVA_INT.withName("nmsrs"), JAVA_INT.withName("base"),
            MemoryLayout.paddingLayout(4), ADDRESS.withName("bitmap")).withName("kvm_msr_filter_range");

    static final long FLAGS = LAYOUT.byteOffset(groupElement("flags"));
    static final long NMSRS = LAYOUT.byteOffset(groupElement("nmsrs"));
    static final long BASE = LAYOUT.byteOffset(groupElement("base"));
    static final long BITMAP = LAYOUT.byteOffset(groupElement("bitmap"));

    public MsrFilterRange {
        if ((flags & ~(READ | WRITE)) != 0 || flags == 0) {
            throw new IllegalArgumentException("flags must be READ, WRITE or both: " + flags);
        }
        if (nmsrs <= 0 || bitmap.length < (nmsrs + 7) / 8) {
            throw new IllegalArgumentException("bitmap of " + bitmap.length + " bytes for " + nmsrs + " MSRs");
        }
        bitmap = bitmap.clone();
    }

    /** A range whose every MSR, for the accesses in {@code flags}, exits to user space. */
    public static MsrFilterRange exitOn(int flags, int base, int nmsrs) {
        return new MsrFilterRange(flags, base, nmsrs, new byte[(nmsrs + 7) / 8]);
    }

    @Override
    public byte[] bitmap() {
        return bitmap.clone();
    }
}
