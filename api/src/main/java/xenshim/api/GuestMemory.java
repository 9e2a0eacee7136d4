package xenshim.api;

import java.lang.foreign.MemorySegment;

/**
 * A caller's address space, little-endian, as a handler sees it.
 *
 * <p>Every method checks the whole range before it reads or writes: a bad
 * address throws {@link GuestFault} (the guest gets {@code -XEN_EFAULT}),
 * never touches memory outside the caller's, and never throws anything
 * else for a bad address. A write that faults part-way may have written the
 * bytes before the fault, as Xen's {@code copy_to_guest} may.
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
