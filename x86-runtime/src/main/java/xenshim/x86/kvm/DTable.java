package xenshim.x86.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/** {@code struct kvm_dtable} (asm/kvm.h): a descriptor-table register (GDTR, IDTR). */
public record DTable(long base, int limit) {

    /** {@code struct kvm_dtable}: base u64, limit u16, padding u16[3]; 16 bytes. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("base"), JAVA_SHORT.withName("limit"),
            MemoryLayout.sequenceLayout(3, JAVA_SHORT).withName("padding")).withName("kvm_dtable");

    private static final long BASE = LAYOUT.byteOffset(groupElement("base"));
    private static final long LIMIT = LAYOUT.byteOffset(groupElement("limit"));

    static DTable read(MemorySegment m, long at) {
        return new DTable(m.get(JAVA_LONG, at + BASE), Short.toUnsignedInt(m.get(JAVA_SHORT, at + LIMIT)));
    }

    void write(MemorySegment m, long at) {
        m.asSlice(at, LAYOUT.byteSize()).fill((byte) 0);
        m.set(JAVA_LONG, at + BASE, base);
        m.set(JAVA_SHORT, at + LIMIT, (short) limit);
    }
}
