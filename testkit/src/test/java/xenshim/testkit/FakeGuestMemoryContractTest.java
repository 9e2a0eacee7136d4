package xenshim.testkit;

import java.util.List;
import xenshim.api.contract.GuestMemoryContract;

/** The fake memory handler tests run on keeps the same contract as the real ones, holes and read-only pages included. */
class FakeGuestMemoryContractTest extends GuestMemoryContract {

    @Override
    protected List<Shape> shapes() {
        return List.of(
                new Shape("six pages, page 2 unmapped, page 4 read-only", () -> {
                    FakeGuestMemory memory = FakeGuestMemory.of(0x10000, 6);
                    memory.unmap(memory.page(2)).readOnly(memory.page(4));
                    return new Subject(memory, memory.raw(), pages(memory.base(), 6, List.of(2), List.of(4)),
                            List.of(memory.base(), memory.page(2), memory.page(3), memory.page(4), memory.page(5),
                                    memory.end()));
                }),
                new Shape("the top page and page 0", () -> {
                    FakeGuestMemory memory = FakeGuestMemory.of(-PAGE, 2);
                    return new Subject(memory, memory.raw(), pages(-PAGE, 2, List.of(), List.of()),
                            List.of(memory.base(), memory.end()));
                }),
                new Shape("the top page, page 0 read-only", () -> {
                    FakeGuestMemory memory = FakeGuestMemory.of(-PAGE, 2);
                    memory.readOnly(0);
                    return new Subject(memory, memory.raw(), pages(-PAGE, 2, List.of(), List.of(1)),
                            List.of(memory.base(), memory.end()));
                }));
    }
}
