package xenshim.handlers.memory;

import static xenshim.api.xen.XenErrno.XEN_ENOSYS;

import java.util.List;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.GuestMemory;
import xenshim.api.PhysMap;
import xenshim.api.PhysMap.MemoryMapEntry;

/**
 * {@code XENMEM_memory_map}, as Xen 4.17's x86 {@code arch_memory_op} serves
 * it: always for the caller; the {@code struct xen_memory_map} copy
 * ({@code -EFAULT}); no memory map, or no {@link PhysMap} at all, is
 * {@code -ENOSYS} ("backwards compatibility", not {@code -ENOENT}); else
 * {@code min(nr_entries, entries)} packed 20-byte {@code e820entry}s are
 * written to {@code buffer} and {@code nr_entries} is written back (a fault
 * in either is {@code -EFAULT}); 0. A short buffer is silently truncated.
 */
final class MemoryMap {

    private MemoryMap() {
    }

    static long serve(CallContext ctx, long arg) {
        Abi abi = ctx.abi();
        GuestMemory memory = ctx.memory();
        long nrEntries = Integer.toUnsignedLong(memory.read32(arg + MemopLayout.MEMORY_MAP_NR_ENTRIES.offset(abi)));
        long buffer = abi.readULong(memory, arg + MemopLayout.MEMORY_MAP_BUFFER.offset(abi));

        List<MemoryMapEntry> e820 = ctx.domain().find(PhysMap.KEY).map(PhysMap::memoryMap).orElse(List.of());
        if (e820.isEmpty()) {
            return -XEN_ENOSYS;
        }
        int nr = (int) Math.min(nrEntries, e820.size());
        for (int i = 0; i < nr; i++) {
            MemoryMapEntry entry = e820.get(i);
            long at = buffer + (long) i * MemopLayout.E820_ENTRY_SIZE;
            memory.write64(at + MemopLayout.E820_ADDR, entry.address());
            memory.write64(at + MemopLayout.E820_SIZE, entry.size());
            memory.write32(at + MemopLayout.E820_TYPE, entry.type());
        }
        memory.write32(arg + MemopLayout.MEMORY_MAP_NR_ENTRIES.offset(abi), nr);
        abi.writeULong(memory, arg + MemopLayout.MEMORY_MAP_BUFFER.offset(abi), buffer);
        return 0;
    }
}
