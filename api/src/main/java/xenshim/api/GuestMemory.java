package xenshim.api;

import java.lang.foreign.MemorySegment;

/**
 * A caller's address space, little-endian, as a handler sees it.
 *
 * <p>Every method checks the whole range before it reads or writes, and is
 * all or nothing: if any byte of the range is not accessible it throws
 * {@link GuestFault} naming the first such byte (the guest gets
 * {@code -XEN_EFAULT}), and neither guest memory nor the Java-side buffer
 * has been touched. It never touches memory outside the caller's, and never
 * throws anything else for a bad address. A zero-length access touches
 * nothing and never faults. Addresses are unsigned: a range that runs past
 * 2<sup>64</sup> wraps to address 0. (A handler that copies a struct with
 * several calls may have done the earlier ones when a later one faults, as
 * Xen's {@code copy_to_guest} of the fields one by one may.)
 *
 * <p>Lengths are Java {@code int}s or segment sizes chosen by the handler: a
 * handler must cap a guest-supplied length before it asks for a copy.
 */
public interface GuestMemory {

    byte read8(long address);

    short read16(long address);

    int read32(long address);

    long read64(long address);

    void write8(long address, byte value);

    void write16(long address, short value);

    void write32(long address, int value);

    void write64(long address, long value);

    /** Copies {@code length} guest bytes at {@code address} into {@code dst[offset..]}. */
    void read(long address, byte[] dst, int offset, int length);

    /** Copies {@code src[offset..offset+length)} to the guest at {@code address}. */
    void write(long address, byte[] src, int offset, int length);

    /** Fills {@code dst} with the guest bytes at {@code address} ({@code dst.byteSize()} bytes). */
    void read(long address, MemorySegment dst);

    /** Copies all of {@code src} to the guest at {@code address}. */
    void write(long address, MemorySegment src);

    /** Sets {@code length} guest bytes at {@code address} to {@code value}. */
    void fill(long address, long length, byte value);

    /** Reads {@code length} bytes into a new array. */
    default byte[] readBytes(long address, int length) {
        byte[] bytes = new byte[length];
        read(address, bytes, 0, length);
        return bytes;
    }
}
