package xenshim.x86.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_INT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct kvm_cpuid_entry2} (asm/kvm.h): one CPUID leaf/sub-leaf.
 *
 * @param flags {@link #FLAG_SIGNIFICANT_INDEX} if {@code index} selects a sub-leaf
 */
public record CpuidEntry(int function, int index, int flags, int eax, int ebx, int ecx, int edx) {

    /** {@code KVM_CPUID_FLAG_SIGNIFCANT_INDEX} (sic). */
    public static final int FLAG_SIGNIFICANT_INDEX = 1;

    /** {@code struct kvm_cpuid_entry2}: function, index, flags, eax, ebx, ecx, edx, padding[3]; 40 bytes. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_INT.withName("function"), JAVA_INT.withName("index"), JAVA_INT.withName("flags"),
            JAVA_INT.withName("eax"), JAVA_INT.withName("ebx"), JAVA_INT.withName("ecx"), JAVA_INT.withName("edx"),
            MemoryLayout.sequenceLayout(3, JAVA_INT).withName("padding")).withName("kvm_cpuid_entry2");

    /** {@code struct kvm_cpuid2}: nent, padding, entries[] (flexible); 8 bytes as sizeof counts it. */
    static final StructLayout CPUID2_HEADER = MemoryLayout.structLayout(
            JAVA_INT.withName("nent"), JAVA_INT.withName("padding")).withName("kvm_cpuid2");

    static final long NENT = CPUID2_HEADER.byteOffset(groupElement("nent"));
    private static final long FUNCTION = LAYOUT.byteOffset(groupElement("function"));
    private static final long INDEX = LAYOUT.byteOffset(groupElement("index"));
    private static final long FLAGS = LAYOUT.byteOffset(groupElement("flags"));
    private static final long EAX = LAYOUT.byteOffset(groupElement("eax"));
    private static final long EBX = LAYOUT.byteOffset(groupElement("ebx"));
    private static final long ECX = LAYOUT.byteOffset(groupElement("ecx"));
    private static final long EDX = LAYOUT.byteOffset(groupElement("edx"));

    /** Byte offset of entry {@code i} in a {@code struct kvm_cpuid2}. */
    static long entryOffset(int i) {
        return CPUID2_HEADER.byteSize() + i * LAYOUT.byteSize();
    }

    static CpuidEntry read(MemorySegment m, long at) {
        return new CpuidEntry(m.get(JAVA_INT, at + FUNCTION), m.get(JAVA_INT, at + INDEX), m.get(JAVA_INT, at + FLAGS),
                m.get(JAVA_INT, at + EAX), m.get(JAVA_INT, at + EBX), m.get(JAVA_INT, at + ECX), m.get(JAVA_INT, at + EDX));
    }

    void write(MemorySegment m, long at) {
        m.asSlice(at, LAYOUT.byteSize()).fill((byte) 0);
        m.set(JAVA_INT, at + FUNCTION, function);
        m.set(JAVA_INT, at + INDEX, index);
        m.set(JAVA_INT, at + FLAGS, flags);
        m.set(JAVA_INT, at + EAX, eax);
        m.set(JAVA_INT, at + EBX, ebx);
        m.set(JAVA_INT, at + ECX, ecx);
        m.set(JAVA_INT, at + EDX, edx);
    }

    @Override
    public String toString() {
        return "CpuidEntry[%#x.%d flags=%d eax=%08x ebx=%08x ecx=%08x edx=%08x]"
                .formatted(function, index, flags, eax, ebx, ecx, edx);
    }
}
