package xenshim.api.abi;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import xenshim.api.Abi;

/**
 * Builds a {@link StructLayout} the way a C compiler lays out a struct for
 * one ABI: each member at its alignment, padding between, size rounded to
 * the struct's alignment. On x86-32, 8-byte integers align to 4 inside
 * structs, which is what makes many compat layouts differ.
 */
public final class CStruct {

    private final Abi abi;
    private final String name;
    private final List<MemoryLayout> members = new ArrayList<>();
    private long offset;
    private long alignment = 1;

    private CStruct(Abi abi, String name) {
        this.abi = abi;
        this.name = name;
    }

    /** Starts {@code struct name} for {@code abi}. */
    public static CStruct of(Abi abi, String name) {
        return new CStruct(abi, name);
    }

    public CStruct u8(String member) {
        return add(ValueLayout.JAVA_BYTE, 1, member);
    }

    public CStruct u16(String member) {
        return add(ValueLayout.JAVA_SHORT, 2, member);
    }

    public CStruct u32(String member) {
        return add(ValueLayout.JAVA_INT, 4, member);
    }

    public CStruct u64(String member) {
        return add(ValueLayout.JAVA_LONG, abi == Abi.X86_64 ? 8 : 4, member);
    }

    /** {@code unsigned long} / {@code xen_ulong_t} / {@code xen_pfn_t}: the ABI's long. */
    public CStruct ulong(String member) {
        return abi == Abi.X86_64 ? add(ValueLayout.JAVA_LONG, 8, member) : add(ValueLayout.JAVA_INT, 4, member);
    }

    /** {@code xen_ulong_t member[count]}: an array of the ABI's longs. */
    public CStruct ulongs(String member, long count) {
        long size = abi == Abi.X86_64 ? 8 : 4;
        return add(MemoryLayout.sequenceLayout(count, abi == Abi.X86_64 ? ValueLayout.JAVA_LONG : ValueLayout.JAVA_INT),
                size, member);
    }

    /** {@code uint64_t member[count]}. */
    public CStruct u64s(String member, long count) {
        return add(MemoryLayout.sequenceLayout(count, ValueLayout.JAVA_LONG.withByteAlignment(abi == Abi.X86_64 ? 8 : 4)),
                abi == Abi.X86_64 ? 8 : 4, member);
    }

    /** {@code XEN_GUEST_HANDLE(...)}: a pointer-sized guest address (4 bytes in compat). */
    public CStruct handle(String member) {
        return ulong(member);
    }

    /** {@code char member[length]} or {@code uint8_t member[length]}. */
    public CStruct bytes(String member, long length) {
        return add(MemoryLayout.sequenceLayout(length, ValueLayout.JAVA_BYTE), 1, member);
    }

    /** A nested struct, or an array of {@code count} of them. */
    public CStruct struct(String member, StructLayout layout, long count) {
        MemoryLayout item = count == 1 ? layout : MemoryLayout.sequenceLayout(count, layout);
        return add(item, layout.byteAlignment(), member);
    }

    private CStruct add(MemoryLayout layout, long align, String member) {
        long aligned = (offset + align - 1) / align * align;
        if (aligned > offset) {
            members.add(MemoryLayout.paddingLayout(aligned - offset));
        }
        members.add(layout.withByteAlignment(align).withName(member));
        offset = aligned + layout.byteSize();
        alignment = Math.max(alignment, align);
        return this;
    }

    public StructLayout build() {
        long size = (offset + alignment - 1) / alignment * alignment;
        if (size > offset) {
            members.add(MemoryLayout.paddingLayout(size - offset));
        }
        return MemoryLayout.structLayout(members.toArray(MemoryLayout[]::new)).withByteAlignment(alignment)
                .withName(name);
    }
}
