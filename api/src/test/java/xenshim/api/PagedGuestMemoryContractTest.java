package xenshim.api;

import java.util.List;
import xenshim.api.contract.GuestMemoryContract;

/** Page-translated memories with holes, read-only pages and a wrap past 2<sup>64</sup> keep the {@link GuestMemory} contract. */
class PagedGuestMemoryContractTest extends GuestMemoryContract {

    private static final long BASE = PagedGuestMemoryTest.BASE;
    private static final long TOP = PagedGuestMemoryTest.TopAndBottom.TOP;

    @Override
    protected List<Shape> shapes() {
        return List.of(
                new Shape("three pages, the middle one unmapped, the last read-only", () -> {
                    var memory = new PagedGuestMemoryTest.Holey();
                    return new Subject(memory, memory.backing(), pages(BASE, 3, List.of(1), List.of(2)),
                            List.of(BASE, BASE + PAGE, BASE + 2L * PAGE, BASE + 3L * PAGE));
                }),
                new Shape("the top page and page 0", () -> {
                    var memory = new PagedGuestMemoryTest.TopAndBottom(true);
                    return new Subject(memory, memory.backing(), pages(TOP, 2, List.of(), List.of()),
                            List.of(TOP, PAGE + 0L));
                }),
                new Shape("the top page alone", () -> {
                    var memory = new PagedGuestMemoryTest.TopAndBottom(false);
                    return new Subject(memory, memory.backing(), pages(TOP, 1, List.of(), List.of()),
                            List.of(TOP));
                }));
    }
}
