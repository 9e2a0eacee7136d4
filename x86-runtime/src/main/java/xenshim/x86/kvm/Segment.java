package xenshim.x86.kvm;

import static java.lang.foreign.MemoryLayout.PathElement.groupElement;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;

/**
 * {@code struct kvm_segment} (asm/kvm.h): a segment register with its hidden part.
 *
 * @param type the 4-bit descriptor type (e.g. 11 = execute/read accessed code, 3 = read/write
 *     accessed data, 11 with {@code s=false} = busy 64-bit/32-bit TSS)
 * @param s true for code/data, false for system descriptors
 * @param db default operand size (code) / big (data)
 * @param l 64-bit code segment
 */
public record Segment(long base, int limit, int selector, int type, boolean present, int dpl,
        boolean db, boolean s, boolean l, boolean g, boolean avl, boolean unusable) {

    /** {@code struct kvm_segment}: 24 bytes. */
    static final StructLayout LAYOUT = MemoryLayout.structLayout(
            JAVA_LONG.withName("base"), JAVA_INT.withName("limit"), JAVA_SHORT.withName("selector"),
            JAVA_BYTE.withName("type"), JAVA_BYTE.withName("present"), JAVA_BYTE.withName("dpl"),
            JAVA_BYTE.withName("db"), JAVA_BYTE.withName("s"), JAVA_BYTE.withName("l"), JAVA_BYTE.withName("g"),
            JAVA_BYTE.withName("avl"), JAVA_BYTE.withName("unusable"), JAVA_BYTE.withName("padding"))
            .withName("kvm_segment");

    static final long BASE = LAYOUT.byteOffset(groupElement("base"));
    static final long LIMIT = LAYOUT.byteOffset(groupElement("limit"));
    static final long SELECTOR = LAYOUT.byteOffset(groupElement("selector"));
    static final long TYPE = LAYOUT.byteOffset(groupElement("type"));
    static final long PRESENT = LAYOUT.byteOffset(groupElement("present"));
    static final long DPL = LAYOUT.byteOffset(groupElement("dpl"));
    static final long DB = LAYOUT.byteOffset(groupElement("db"));
    static final long S = LAYOUT.byteOffset(groupElement("s"));
    static final long L = LAYOUT.byteOffset(groupElement("l"));
    static final long G = LAYOUT.byteOffset(groupElement("g"));
    static final long AVL = LAYOUT.byteOffset(groupElement("avl"));
    static final long UNUSABLE = LAYOUT.byteOffset(groupElement("unusable"));

    /** A flat 64-bit ring-0 code segment (L=1, D=0). */
    public static Segment code64(int selector) {
        return new Segment(0, 0xFFFF_FFFF, selector, 11, true, 0, false, true, true, true, false, false);
    }

    /** A flat 32-bit ring-0 code segment. */
    public static Segment code32(int selector) {
        return new Segment(0, 0xFFFF_FFFF, selector, 11, true, 0, true, true, false, true, false, false);
    }

    /** A flat ring-0 read/write data segment. */
    public static Segment data(int selector) {
        return new Segment(0, 0xFFFF_FFFF, selector, 3, true, 0, true, true, false, true, false, false);
    }

    /** A busy TSS (type 11, what VMX entry checks want in TR). */
    public static Segment busyTss(int selector, long base, int limit) {
        return new Segment(base, limit, selector, 11, true, 0, false, false, false, false, false, false);
    }

    static Segment read(MemorySegment m, long at) {
        return new Segment(m.get(JAVA_LONG, at + BASE), m.get(JAVA_INT, at + LIMIT),
                Short.toUnsignedInt(m.get(JAVA_SHORT, at + SELECTOR)), Byte.toUnsignedInt(m.get(JAVA_BYTE, at + TYPE)),
                m.get(JAVA_BYTE, at + PRESENT) != 0, Byte.toUnsignedInt(m.get(JAVA_BYTE, at + DPL)),
                m.get(JAVA_BYTE, at + DB) != 0, m.get(JAVA_BYTE, at + S) != 0, m.get(JAVA_BYTE, at + L) != 0,
                m.get(JAVA_BYTE, at + G) != 0, m.get(JAVA_BYTE, at + AVL) != 0, m.get(JAVA_BYTE, at + UNUSABLE) != 0);
    }

    void write(MemorySegment m, long at) {
        m.asSlice(at, LAYOUT.byteSize()).fill((byte) 0);
        m.set(JAVA_LONG, at + BASE, base);
        m.set(JAVA_INT, at + LIMIT, limit);
        m.set(JAVA_SHORT, at + SELECTOR, (short) selector);
        m.set(JAVA_BYTE, at + TYPE, (byte) type);
        m.set(JAVA_BYTE, at + PRESENT, flag(present));
        m.set(JAVA_BYTE, at + DPL, (byte) dpl);
        m.set(JAVA_BYTE, at + DB, flag(db));
        m.set(JAVA_BYTE, at + S, flag(s));
        m.set(JAVA_BYTE, at + L, flag(l));
        m.set(JAVA_BYTE, at + G, flag(g));
        m.set(JAVA_BYTE, at + AVL, flag(avl));
        m.set(JAVA_BYTE, at + UNUSABLE, flag(unusable));
    }

    private static byte flag(boolean b) {
        return b ? (byte) 1 : 0;
    }
}
