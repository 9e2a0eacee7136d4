package xenshim.fuzz;

import java.lang.foreign.MemorySegment;
import java.util.Objects;
import xenshim.api.GuestMemory;

/** The caller's memory, every access counted against a {@link WorkBudget} before it is made. */
final class BoundedMemory implements GuestMemory {

    private final GuestMemory memory;
    private final WorkBudget budget;

    BoundedMemory(GuestMemory memory, WorkBudget budget) {
        this.memory = Objects.requireNonNull(memory);
        this.budget = Objects.requireNonNull(budget);
    }

    @Override
    public byte read8(long address) {
        budget.touch(1);
        return memory.read8(address);
    }

    @Override
    public short read16(long address) {
        budget.touch(2);
        return memory.read16(address);
    }

    @Override
    public int read32(long address) {
        budget.touch(4);
        return memory.read32(address);
    }

    @Override
    public long read64(long address) {
        budget.touch(8);
        return memory.read64(address);
    }

    @Override
    public void write8(long address, byte value) {
        budget.touch(1);
        memory.write8(address, value);
    }

    @Override
    public void write16(long address, short value) {
        budget.touch(2);
        memory.write16(address, value);
    }

    @Override
    public void write32(long address, int value) {
        budget.touch(4);
        memory.write32(address, value);
    }

    @Override
    public void write64(long address, long value) {
        budget.touch(8);
        memory.write64(address, value);
    }

    @Override
    public void read(long address, byte[] dst, int offset, int length) {
        budget.touch(length);
        memory.read(address, dst, offset, length);
    }

    @Override
    public void write(long address, byte[] src, int offset, int length) {
        budget.touch(length);
        memory.write(address, src, offset, length);
    }

    @Override
    public void read(long address, MemorySegment dst) {
        budget.touch(dst.byteSize());
        memory.read(address, dst);
    }

    @Override
    public void write(long address, MemorySegment src) {
        budget.touch(src.byteSize());
        memory.write(address, src);
    }

    @Override
    public void fill(long address, long length, byte value) {
        budget.touch(length);
        memory.fill(address, length, value);
    }
}
