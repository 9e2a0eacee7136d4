package xenshim.api;

import java.util.List;

/**
 * A translated domain's guest-physical memory as the hypervisor manages it
 * (Xen's p2m): which frames are RAM, where hypervisor-owned pages such as
 * shared_info are mapped, and the memory map the toolstack gave the domain.
 * The platform attaches one to each domain it builds.
 *
 * <p>Operations take guest frame numbers (4 KiB pages) and report errors as
 * negative Xen errnos, so a handler can return them as they are.
 */
public interface PhysMap {

    /** Attached by the platform to each domain with guest memory. */
    DomainKey<PhysMap> KEY = DomainKey.attached("physmap");

    /** {@code domain_tot_pages}: RAM pages the domain has now. */
    long totalPages();

    /** {@code d->max_pages}. */
    long maxPages();

    /** The highest guest frame ever mapped ({@code p2m->max_mapped_pfn}). */
    long maxMappedGpfn();

    /**
     * {@code XENMEM_add_to_physmap} for one frame of {@code space}: maps
     * hypervisor page {@code idx} of that space at {@code gpfn}, moving it if it
     * was mapped elsewhere (the old frame becomes a hole) and dropping the RAM
     * page that was at {@code gpfn}.
     *
     * @return 0, or a negative Xen errno
     */
    int addToPhysmap(int space, long idx, long gpfn);

    /** Adds RAM at {@code [gpfn, gpfn + 2^order)}; false if it cannot (no memory left, out of range). */
    boolean populate(long gpfn, int order);

    /**
     * Removes the RAM at {@code [gpfn, gpfn + 2^order)}, giving it back.
     *
     * @return 0, or a negative Xen errno ({@code -ENOENT} for a frame that is not populated)
     */
    int decrease(long gpfn, int order);

    /** The memory map the domain was built with (Xen's per-domain e820). */
    List<MemoryMapEntry> memoryMap();

    /** One e820 entry: {@code struct e820entry { uint64 addr; uint64 size; uint32 type; }}. */
    record MemoryMapEntry(long address, long size, int type) {
        public static final int E820_RAM = 1;
        public static final int E820_RESERVED = 2;
    }
}
