package xenshim.api;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.List;
import xenshim.api.contract.GuestMemoryContract;

/**
 * {@link SegmentGuestMemory} keeps the {@link GuestMemory} contract wherever
 * its segment starts and ends, page-aligned or not: an in-process caller's
 * arena ends where it ends.
 */
class SegmentGuestMemoryContractTest extends GuestMemoryContract {

    private static final long BASE = 0x40_0000;

    @Override
    protected List<Shape> shapes() {
        return List.of(
                segment("two pages and 100 bytes at a page", BASE, 2L * PAGE + 100),
                segment("one page and 77 bytes at an unaligned base", BASE + 0x123, PAGE + 77),
                segment("12 bytes inside a page", BASE + 0x800, 12),
                segment("the top page and 100 bytes past 2^64", -PAGE, PAGE + 100),
                segment("the last 100 bytes below 2^64", -100, 100));
    }

    private static Shape segment(String name, long base, long size) {
        return new Shape(name, () -> {
            MemorySegment bytes = Arena.ofAuto().allocate(size);
            return new Subject(new SegmentGuestMemory(bytes, base), bytes, segment(base, size),
                    List.of(base, base + size));
        });
    }
}
