package xenshim.api;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Objects;

/**
 * A {@link GuestMemory} whose addresses translate page by page (4 KiB) into
 * one backing segment: guest RAM behind the guest's page tables, an arena for
 * an in-process caller, or a test's fake memory with holes.
 *
 * <p>Subclasses implement {@link #translate}; this class splits accesses at
 * page boundaries, checks every page before it copies, and allocates nothing
 * on the paths that succeed.
 */
public abstract class PagedGuestMemory implements GuestMemory {

    /** Xen's {@code PAGE_SIZE} on x86. */
    public static final int PAGE_SIZE = 4096;
    private static final long PAGE_MASK = PAGE_SIZE - 1;

    private static final ValueLayout.OfShort LE_SHORT = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final MemorySegment backing;

    protected PagedGuestMemory(MemorySegment backing) {
        this.backing = Objects.requireNonNull(backing);
    }

    /**
     * Translates a caller address.
     *
     * @param address a caller address
     * @param write   whether the access writes
     * @return the offset in the backing segment of the byte at {@code address};
     *         the rest of its 4 KiB page must follow contiguously in the
     *         backing segment, as far as the segment goes: bytes past its end
     *         are not accessible, so a segment may end inside a page.
     *         {@code -1} if the page is not accessible.
     */
    protected abstract long translate(long address, boolean write);

    /** The segment that {@link #translate} offsets point into. */
    protected final MemorySegment backing() {
        return backing;
    }

    /**
     * The backing offset of {@code size} bytes at {@code address}, all in one
     * page; a {@link GuestFault} naming the first of them that is not
     * accessible if any is not.
     */
    private long at(long address, int size, boolean write) {
        long offset = translate(address, write);
        long room = offset < 0 ? 0 : Math.max(0, backing.byteSize() - offset);
        if (room < size) {
            throw new GuestFault(address + room, write ? "write" : "read");
        }
        return offset;
    }

    private static boolean withinPage(long address, int size) {
        return (address & PAGE_MASK) <= PAGE_SIZE - size;
    }

    @Override
    public byte read8(long address) {
        return backing.get(ValueLayout.JAVA_BYTE, at(address, 1, false));
    }

    @Override
    public short read16(long address) {
        return withinPage(address, 2) ? backing.get(LE_SHORT, at(address, 2, false)) : (short) readSplit(address, 2);
    }

    @Override
    public int read32(long address) {
        return withinPage(address, 4) ? backing.get(LE_INT, at(address, 4, false)) : (int) readSplit(address, 4);
    }

    @Override
    public long read64(long address) {
        return withinPage(address, 8) ? backing.get(LE_LONG, at(address, 8, false)) : readSplit(address, 8);
    }

    private long readSplit(long address, int size) {
        checkRange(address, size, false);
        long value = 0;
        for (int i = size - 1; i >= 0; i--) {
            value = (value << 8) | (read8(address + i) & 0xFF);
        }
        return value;
    }

    @Override
    public void write8(long address, byte value) {
        backing.set(ValueLayout.JAVA_BYTE, at(address, 1, true), value);
    }

    @Override
    public void write16(long address, short value) {
        if (withinPage(address, 2)) {
            backing.set(LE_SHORT, at(address, 2, true), value);
        } else {
            writeSplit(address, value, 2);
        }
    }

    @Override
    public void write32(long address, int value) {
        if (withinPage(address, 4)) {
            backing.set(LE_INT, at(address, 4, true), value);
        } else {
            writeSplit(address, value, 4);
        }
    }

    @Override
    public void write64(long address, long value) {
        if (withinPage(address, 8)) {
            backing.set(LE_LONG, at(address, 8, true), value);
        } else {
            writeSplit(address, value, 8);
        }
    }

    private void writeSplit(long address, long value, int size) {
        checkRange(address, size, true);
        for (int i = 0; i < size; i++) {
            write8(address + i, (byte) (value >>> (8 * i)));
        }
    }

    /**
     * Throws {@link GuestFault}, naming the first byte that is not accessible,
     * unless every byte of {@code [address, address+length)} is: each page's
     * part of the range is checked whole, so a backing segment that ends
     * inside a page is caught too.
     *
     * <p>Addresses are unsigned, and a range that runs past 2<sup>64</sup> wraps to address 0, as
     * Xen's {@code __hvm_copy} does: every page is translated on its own, so the wrapped pages are
     * checked like any other.
     */
    public final void checkRange(long address, long length, boolean write) {
        for (long done = 0; done < length; ) {
            long a = address + done;
            int chunk = chunk(a, length - done);
            at(a, chunk, write);
            done += chunk;
        }
    }

    /** How many of {@code remaining} bytes from {@code address} lie in its page. */
    private static int chunk(long address, long remaining) {
        return (int) Math.min(remaining, PAGE_SIZE - (address & PAGE_MASK));
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, dst.length);
        copy(address, MemorySegment.ofArray(dst).asSlice(offset, length), false);
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        Objects.checkFromIndexSize(offset, length, src.length);
        copy(address, MemorySegment.ofArray(src).asSlice(offset, length), true);
    }

    @Override
    public void read(long address, MemorySegment dst) {
        copy(address, dst, false);
    }

    @Override
    public void write(long address, MemorySegment src) {
        copy(address, src, true);
    }

    /** Copies page by page after checking the whole range, so a fault copies nothing. */
    private void copy(long address, MemorySegment local, boolean toGuest) {
        long length = local.byteSize();
        checkRange(address, length, toGuest);
        long done = 0;
        while (done < length) {
            long a = address + done;
            int chunk = chunk(a, length - done);
            long offset = at(a, chunk, toGuest);
            if (toGuest) {
                MemorySegment.copy(local, done, backing, offset, chunk);
            } else {
                MemorySegment.copy(backing, offset, local, done, chunk);
            }
            done += chunk;
        }
    }

    @Override
    public void fill(long address, long length, byte value) {
        checkRange(address, length, true);
        long done = 0;
        while (done < length) {
            long a = address + done;
            int chunk = chunk(a, length - done);
            backing.asSlice(at(a, chunk, true), chunk).fill(value);
            done += chunk;
        }
    }
}
