package xenshim.handlers.memory;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;

import java.util.ArrayList;
import java.util.List;
import java.util.TreeSet;
import xenshim.api.PhysMap;
import xenshim.api.xen.XenMemory;

/** A test double for the platform's physmap: a set of RAM gpfns below a limit, with max_pages. */
final class FakePhysMap implements PhysMap {

    /** Frames at and above this are out of range. */
    static final long GPFN_LIMIT = 1L << 20;

    final TreeSet<Long> ram = new TreeSet<>();
    final long maxPages;
    final List<String> added = new ArrayList<>();
    List<MemoryMapEntry> e820 = List.of();
    long maxMapped;
    /** addToPhysmap fails with this once it has been called this many times (never when negative). */
    int failAfter = -1;

    FakePhysMap(long maxPages, long populated) {
        this.maxPages = maxPages;
        for (long gpfn = 0; gpfn < populated; gpfn++) {
            map(gpfn);
        }
    }

    private void map(long gpfn) {
        ram.add(gpfn);
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
        if (space == XenMemory.XENMAPSPACE_shared_info && idx != 0) {
            return -XEN_EINVAL;
        }
        if (space == XenMemory.XENMAPSPACE_gmfn && !ram.remove(idx)) {
            return -XEN_EINVAL;
        }
        ram.remove(gpfn);
        maxMapped = Math.max(maxMapped, gpfn);
        return 0;
    }

    @Override
    public boolean populate(long gpfn, int order) {
        long pages = 1L << order;
        if (gpfn < 0 || gpfn + pages > GPFN_LIMIT) {
            return false;
        }
        long fresh = 0;
        for (long p = gpfn; p < gpfn + pages; p++) {
            fresh += ram.contains(p) ? 0 : 1;
        }
        if (ram.size() + fresh > maxPages) {
            return false;
        }
        for (long p = gpfn; p < gpfn + pages; p++) {
            map(p);
        }
        return true;
    }

    @Override
    public int decrease(long gpfn, int order) {
        long pages = 1L << order;
        for (long p = gpfn; p < gpfn + pages; p++) {
            if (!ram.remove(p)) {
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
