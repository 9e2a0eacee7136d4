package xenshim.testkit;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.BitSet;
import xenshim.api.PagedGuestMemory;

/**
 * Guest memory for tests: {@code pages} pages of 4 KiB from {@code base},
 * zeroed, every one mapped and writable until a test punches a hole
 * ({@link #unmap}) or makes one read-only ({@link #readOnly}). Anything
 * outside the range faults too. Works for either ABI: the ABI only changes
 * how handlers read structs, not the memory.
 */
public final class FakeGuestMemory extends PagedGuestMemory {

    private final long base;
    private final int pages;
    private final BitSet unmapped = new BitSet();
    private final BitSet readOnly = new BitSet();

    private FakeGuestMemory(long base, int pages) {
        super(Arena.ofAuto().allocate((long) pages * PAGE_SIZE, PAGE_SIZE));
        this.base = base;
        this.pages = pages;
    }

    /**
     * @param base  first guest address, page aligned
     * @param pages number of 4 KiB pages
     */
    public static FakeGuestMemory of(long base, int pages) {
        if ((base & (PAGE_SIZE - 1)) != 0 || pages <= 0) {
            throw new IllegalArgumentException("base must be page aligned and pages positive");
        }
        return new FakeGuestMemory(base, pages);
    }

    /** Sixteen pages at 0x10000: enough for most handler tests. */
    public static FakeGuestMemory standard() {
        return of(0x10000, 16);
    }

    public long base() {
        return base;
    }

    /** One past the last address. */
    public long end() {
        return base + (long) pages * PAGE_SIZE;
    }

    /** The address of page {@code index}. */
    public long page(int index) {
        return base + (long) index * PAGE_SIZE;
    }

    /** Makes the page holding {@code address} fault on every access. */
    public FakeGuestMemory unmap(long address) {
        unmapped.set(index(address));
        return this;
    }

    /** Makes the page holding {@code address} fault on writes. */
    public FakeGuestMemory readOnly(long address) {
        readOnly.set(index(address));
        return this;
    }

    /** The raw bytes behind the fake memory, for assertions that bypass the checks. */
    public MemorySegment raw() {
        return backing();
    }

    private int index(long address) {
        long offset = address - base;
        if (offset < 0 || offset >= (long) pages * PAGE_SIZE) {
            throw new IllegalArgumentException("address 0x" + Long.toHexString(address) + " is outside the fake memory");
        }
        return (int) (offset / PAGE_SIZE);
    }

    @Override
    protected long translate(long address, boolean write) {
        long offset = address - base;
        if (offset < 0 || offset >= (long) pages * PAGE_SIZE) {
            return -1;
        }
        int page = (int) (offset / PAGE_SIZE);
        if (unmapped.get(page) || (write && readOnly.get(page))) {
            return -1;
        }
        return offset;
    }
}
