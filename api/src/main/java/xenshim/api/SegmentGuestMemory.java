package xenshim.api;

import java.lang.foreign.MemorySegment;

/**
 * A bounds-checked arena as a caller's memory: addresses
 * {@code [base, base + segment.byteSize())} map onto the segment, anything
 * else faults. The memory of an in-process (dom0 backend) caller.
 */
public final class SegmentGuestMemory extends PagedGuestMemory {

    private final long base;
    private final long size;

    /**
     * @param segment the caller's memory
     * @param base    the caller address of the segment's first byte
     */
    public SegmentGuestMemory(MemorySegment segment, long base) {
        super(segment);
        this.base = base;
        this.size = segment.byteSize();
    }

    /** The caller address of the first byte. */
    public long base() {
        return base;
    }

    @Override
    protected long translate(long address, boolean write) {
        long offset = address - base;
        return Long.compareUnsigned(offset, size) < 0 ? offset : -1;
    }
}
