package xenshim.handlers.memory;

import java.lang.foreign.StructLayout;
import xenshim.api.Abi;
import xenshim.api.abi.AbiLayouts;

/**
 * The struct offsets {@code memory_op} reads, for one ABI, computed once from
 * {@link AbiLayouts} so that a call allocates nothing.
 */
final class MemopLayout {

    private static final MemopLayout X86_64 = new MemopLayout(Abi.X86_64);
    private static final MemopLayout X86_32 = new MemopLayout(Abi.X86_32);

    /**
     * Xen's {@code struct e820entry} ({@code xen/arch/x86/include/asm/e820.h},
     * {@code __attribute__((packed))}): {@code uint64_t addr; uint64_t size;
     * uint32_t type;}, 20 bytes in both ABIs. The public headers do not define
     * it ({@code memory.h} only says the buffer holds e820 entries), so the
     * ABI probe cannot check it.
     */
    static final long E820_ADDR = 0;
    static final long E820_SIZE = 8;
    static final long E820_TYPE = 16;
    static final long E820_ENTRY_SIZE = 20;

    /** Size of {@code xen_pfn_t} / {@code xen_ulong_t} (8, or 4 for compat). */
    final int pfnSize;

    // struct xen_memory_reservation
    final long reservationExtentStart;
    final long reservationNrExtents;
    final long reservationExtentOrder;
    final long reservationMemFlags;
    final long reservationDomid;

    // struct xen_memory_domain
    final long memoryDomainDomid;

    // struct xen_add_to_physmap
    final long atpDomid;
    final long atpSize;
    final long atpSpace;
    final long atpIdx;
    final long atpGpfn;

    // struct xen_memory_map
    final long memoryMapNrEntries;
    final long memoryMapBuffer;

    private MemopLayout(Abi abi) {
        AbiLayouts layouts = abi.layouts();
        pfnSize = abi.longSize();
        StructLayout r = layouts.xen_memory_reservation;
        reservationExtentStart = AbiLayouts.offset(r, "extent_start");
        reservationNrExtents = AbiLayouts.offset(r, "nr_extents");
        reservationExtentOrder = AbiLayouts.offset(r, "extent_order");
        reservationMemFlags = AbiLayouts.offset(r, "mem_flags");
        reservationDomid = AbiLayouts.offset(r, "domid");
        memoryDomainDomid = AbiLayouts.offset(layouts.xen_memory_domain, "domid");
        StructLayout atp = layouts.xen_add_to_physmap;
        atpDomid = AbiLayouts.offset(atp, "domid");
        atpSize = AbiLayouts.offset(atp, "size");
        atpSpace = AbiLayouts.offset(atp, "space");
        atpIdx = AbiLayouts.offset(atp, "idx");
        atpGpfn = AbiLayouts.offset(atp, "gpfn");
        memoryMapNrEntries = AbiLayouts.offset(layouts.xen_memory_map, "nr_entries");
        memoryMapBuffer = AbiLayouts.offset(layouts.xen_memory_map, "buffer");
    }

    static MemopLayout of(Abi abi) {
        return abi == Abi.X86_64 ? X86_64 : X86_32;
    }
}
