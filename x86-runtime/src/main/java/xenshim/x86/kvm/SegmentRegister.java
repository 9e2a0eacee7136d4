package xenshim.x86.kvm;

import java.lang.foreign.MemoryLayout.PathElement;

/** The segment registers of {@code struct kvm_sregs}, in its order. */
public enum SegmentRegister {
    CS, DS, ES, FS, GS, SS, TR, LDT;

    /** Byte offset of this segment's {@code struct kvm_segment} inside {@code struct kvm_sregs}. */
    final long offset = Sregs.LAYOUT.byteOffset(PathElement.groupElement(name().toLowerCase(java.util.Locale.ROOT)));
}
