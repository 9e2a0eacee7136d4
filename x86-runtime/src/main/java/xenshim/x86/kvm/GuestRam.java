package xenshim.x86.kvm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

/**
 * Anonymous host memory for guest RAM: {@code mmap(MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE)},
 * so untouched pages cost nothing. The segment is shared (any thread may access it) and is
 * invalidated, then unmapped, by {@link #close()}. The contents are the guest's: treat every
 * value read from it as hostile.
 */
public final class GuestRam implements AutoCloseable {
    public static final long DEFAULT_SIZE = 128L << 20;

    private final Arena arena;
    private final MemorySegment memory;

    private GuestRam(Arena arena, MemorySegment memory) {
        this.arena = arena;
        this.memory = memory;
    }

    /** Maps {@code size} bytes (rounded up to a page) of zeroed memory. */
    public static GuestRam allocate(long size) {
        if (size <= 0) {
            throw new IllegalArgumentException("guest RAM size " + size);
        }
        long rounded = (size + Native.PAGE_SIZE - 1) & -Native.PAGE_SIZE;
        Arena arena = Arena.ofShared();
        try {
            return new GuestRam(arena, Native.mmap(rounded, Native.PROT_READ | Native.PROT_WRITE,
                    Native.MAP_PRIVATE | Native.MAP_ANONYMOUS | Native.MAP_NORESERVE, -1, arena));
        } catch (RuntimeException | Error e) {
            arena.close();
            throw e;
        }
    }

    /**
     * Maps {@code size} bytes and registers them as memory slot 0 at guest-physical address 0.
     * (No PCI hole: RAM above 3 GiB is simply contiguous.)
     */
    public static GuestRam create(VmFd vm, long size) {
        GuestRam ram = allocate(size);
        try {
            vm.setUserMemoryRegion(0, 0, 0, ram.memory);
        } catch (RuntimeException | Error e) {
            ram.close();
            throw e;
        }
        return ram;
    }

    /** The memory; offset = guest-physical address for RAM created by {@link #create}. */
    public MemorySegment segment() {
        return memory;
    }

    public long size() {
        return memory.byteSize();
    }

    /** Unmaps the memory. Close the VM (or delete the slot) first. */
    @Override
    public void close() {
        if (arena.scope().isAlive()) {
            arena.close();
        }
    }
}
