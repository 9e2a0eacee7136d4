package xenshim.handlers.memory;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import xenshim.api.PhysMap;
import xenshim.api.xen.XenMemory;

/**
 * A test double for the platform's physmap, modelled on Xen's p2m for an HVM
 * domain: each frame holds a RAM page (numbered as it was allocated), a
 * hypervisor page (shared_info, a grant frame) or nothing. Mapping a page at a
 * frame drops what was there (a RAM page goes back, a hypervisor page is
 * unmapped from its old frame), as {@code xenmem_add_to_physmap_one} does.
 */
final class FakePhysMap implements PhysMap {

    /** Frames at and above this are out of range. */
    static final long GPFN_LIMIT = 1L << 20;

    /** gpfn -> RAM page number. */
    final TreeMap<Long, Long> ram = new TreeMap<>();
    /** gpfn -> hypervisor page ("shared_info", "grant:<idx>"). */
    final TreeMap<Long, String> hypervisor = new TreeMap<>();
    final long maxPages;
    final List<String> added = new ArrayList<>();
    List<MemoryMapEntry> e820 = List.of();
    long maxMapped;
    /** addToPhysmap fails with this once it has been called this many times (never when negative). */
    int failAfter = -1;
    private long nextPage;

    FakePhysMap(long maxPages, long populated) {
        this.maxPages = maxPages;
        for (long gpfn = 0; gpfn < populated; gpfn++) {
            putRam(gpfn, nextPage++);
        }
    }

    private void putRam(long gpfn, long page) {
        hypervisor.remove(gpfn);
        ram.put(gpfn, page);
        maxMapped = Math.max(maxMapped, gpfn);
    }

    @Override
    public long totalPages() {
        return ram.size();
    }

    @Override
    public long maxPages() {
        return maxPages;
    }

    @Override
    public long maxMappedGpfn() {
        return maxMapped;
    }

    @Override
    public int addToPhysmap(int space, long idx, long gpfn) {
        added.add(space + ":" + Long.toHexString(idx) + "->" + Long.toHexString(gpfn));
        if (failAfter >= 0 && added.size() > failAfter) {
            return -XEN_EINVAL;
        }
        switch (space) {
            case XenMemory.XENMAPSPACE_gmfn -> {
                Long page = ram.remove(idx);
                if (page == null) {
                    return -XEN_EINVAL;
                }
                ram.remove(gpfn);
                putRam(gpfn, page);
            }
            case XenMemory.XENMAPSPACE_shared_info -> {
                if (idx != 0) {
                    return -XEN_EINVAL;
                }
                mapHypervisorPage("shared_info", gpfn);
            }
            default -> mapHypervisorPage(space == XenMemory.XENMAPSPACE_grant_table ? "grant:" + Long.toHexString(idx)
                    : "space" + space + ":" + Long.toHexString(idx), gpfn);
        }
        return 0;
    }

    private void mapHypervisorPage(String page, long gpfn) {
        hypervisor.values().remove(page); // its old frame becomes a hole
        ram.remove(gpfn);
        hypervisor.put(gpfn, page);
        maxMapped = Math.max(maxMapped, gpfn);
    }

    @Override
    public boolean populate(long gpfn, int order) {
        long pages = 1L << order;
        if (gpfn < 0 || gpfn + pages > GPFN_LIMIT) {
            return false;
        }
        long fresh = 0;
        for (long p = gpfn; p < gpfn + pages; p++) {
            fresh += ram.containsKey(p) ? 0 : 1;
        }
        if (ram.size() + fresh > maxPages) {
            return false;
        }
        for (long p = gpfn; p < gpfn + pages; p++) {
            if (!ram.containsKey(p)) {
                putRam(p, nextPage++);
            }
        }
        return true;
    }

    @Override
    public int decrease(long gpfn, int order) {
        long pages = 1L << order;
        for (long p = gpfn; p < gpfn + pages; p++) {
            if (ram.remove(p) == null) {
                return -XEN_ENOENT;
            }
        }
        return 0;
    }

    @Override
    public List<MemoryMapEntry> memoryMap() {
        return e820;
    }
}
