package xenshim.handlers.memory;

import xenshim.api.abi.Member;

/** The struct members {@code memory_op} reads and writes, in both ABIs. */
final class MemopLayout {

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

    static final Member RESERVATION_EXTENT_START = Member.of(l -> l.xen_memory_reservation, "extent_start");
    static final Member RESERVATION_NR_EXTENTS = Member.of(l -> l.xen_memory_reservation, "nr_extents");
    static final Member RESERVATION_EXTENT_ORDER = Member.of(l -> l.xen_memory_reservation, "extent_order");
    static final Member RESERVATION_MEM_FLAGS = Member.of(l -> l.xen_memory_reservation, "mem_flags");
    static final Member RESERVATION_DOMID = Member.of(l -> l.xen_memory_reservation, "domid");

    static final Member MEMORY_DOMAIN_DOMID = Member.of(l -> l.xen_memory_domain, "domid");

    static final Member ATP_DOMID = Member.of(l -> l.xen_add_to_physmap, "domid");
    static final Member ATP_SIZE = Member.of(l -> l.xen_add_to_physmap, "size");
    static final Member ATP_SPACE = Member.of(l -> l.xen_add_to_physmap, "space");
    static final Member ATP_IDX = Member.of(l -> l.xen_add_to_physmap, "idx");
    static final Member ATP_GPFN = Member.of(l -> l.xen_add_to_physmap, "gpfn");

    static final Member MEMORY_MAP_NR_ENTRIES = Member.of(l -> l.xen_memory_map, "nr_entries");
    static final Member MEMORY_MAP_BUFFER = Member.of(l -> l.xen_memory_map, "buffer");

    private MemopLayout() {
    }
}
