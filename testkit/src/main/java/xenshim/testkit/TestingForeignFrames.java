package xenshim.testkit;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import xenshim.api.Domain;
import xenshim.api.ForeignFrames;
import xenshim.api.FrameReferences;
import xenshim.api.GrantTable;
import xenshim.api.PhysMap;
import xenshim.api.xen.XenGnttab;
import xenshim.api.xen.XenMemory;

/**
 * A domain's RAM for tests, as the platform's physmap keeps it: {@code pages} pages of 4 KiB numbered
 * 0.. (xenshim's mfns), mapped at frames 0.. until a test balloons them out ({@link #decrease}) or moves
 * them; references as {@link ForeignFrames} describes them (a referenced page leaves the physmap but is
 * freed only by its last {@link #put}); and the domain's grant-table frames, mapped with
 * {@code XENMAPSPACE_grant_table}. {@link #attachTo} makes one and attaches it as the domain's
 * {@link ForeignFrames}, {@link PhysMap} and {@link GrantTable}.
 */
public final class TestingForeignFrames implements ForeignFrames, PhysMap {

    /** Frames at and above this are out of range. */
    public static final long GPFN_LIMIT = 1L << 20;
    private static final long PAGE = ForeignFrames.PAGE_SIZE;

    private final MemorySegment host;
    private final long pages;
    private final Map<Long, Long> ramAt = new HashMap<>();
    private final Map<Long, Integer> grantFrameAt = new HashMap<>();
    private final Deque<Long> freePages = new ArrayDeque<>();
    private final FrameReferences references;
    private final GrantTable grantTable;
    private long totalPages;
    private long maxMapped;

    /** {@code pages} pages of RAM at frames {@code 0..pages-1}, and a grant table of up to {@code maxGrantFrames}. */
    public TestingForeignFrames(int pages, int maxGrantFrames) {
        this.host = Arena.ofAuto().allocate(pages * PAGE, PAGE);
        this.pages = pages;
        this.references = new FrameReferences(pages);
        for (long gfn = 0; gfn < pages; gfn++) {
            ramAt.put(gfn, gfn);
        }
        this.totalPages = pages;
        this.maxMapped = pages - 1;
        this.grantTable = new GrantTable(maxGrantFrames, GrantTable.FrameMemory.offHeap(), this);
    }

    /** Attaches RAM of {@code pages} pages and a grant table of Xen's default limit to {@code domain}. */
    public static TestingForeignFrames attachTo(Domain domain, int pages) {
        return attachTo(domain, pages, XenGnttab.DEFAULT_MAX_GRANT_FRAMES);
    }

    /** Attaches RAM of {@code pages} pages and a grant table of up to {@code maxGrantFrames} to {@code domain}. */
    public static TestingForeignFrames attachTo(Domain domain, int pages, int maxGrantFrames) {
        TestingForeignFrames frames = new TestingForeignFrames(pages, maxGrantFrames);
        domain.attach(ForeignFrames.KEY, frames);
        domain.attach(PhysMap.KEY, frames);
        domain.attach(GrantTable.KEY, frames.grantTable);
        return frames;
    }

    /** The domain's grant table, whose frames this physmap maps. */
    public GrantTable grantTable() {
        return grantTable;
    }

    // ---- ForeignFrames ---------------------------------------------------------------------------------

    @Override
    public synchronized long get(long gfn) {
        Long page = ramAt.get(gfn);
        if (page == null) {
            return NO_FRAME;
        }
        references.get(page);
        return page;
    }

    @Override
    public synchronized void put(long mfn) {
        if (references.put(mfn)) {
            free(mfn);
        }
    }

    @Override
    public synchronized MemorySegment window(long mfn) {
        return page(references.requireHeld(mfn));
    }

    @Override
    public synchronized int references(long mfn) {
        return references.count(mfn);
    }

    // ---- what tests look at -------------------------------------------------------------------------------

    /** Page {@code mfn}'s memory, whatever holds it, for assertions and for playing the guest. */
    public MemorySegment page(long mfn) {
        if (mfn < 0 || mfn >= pages) {
            throw new IllegalArgumentException("no page " + mfn);
        }
        return host.asSlice(mfn * PAGE, PAGE);
    }

    /** The page at {@code gfn} now, or -1 for anything but RAM. */
    public synchronized long pageAt(long gfn) {
        return ramAt.getOrDefault(gfn, -1L);
    }

    /** Whether page {@code mfn} is back in the free pool. */
    public synchronized boolean isFree(long mfn) {
        return freePages.contains(mfn);
    }

    // ---- PhysMap ---------------------------------------------------------------------------------------

    /** A page leaves the physmap: back to the pool, unless referenced. */
    private void release(long page) {
        if (references.release(page)) {
            free(page);
        }
    }

    private void free(long page) {
        freePages.push(page);
        totalPages--;
    }

    /** Empties {@code gfn}: its RAM page released, a grant frame there unhooked. */
    private void clear(long gfn) {
        Long page = ramAt.remove(gfn);
        if (page != null) {
            release(page);
        }
        Integer frame = grantFrameAt.remove(gfn);
        if (frame != null) {
            grantTable.frameMappedAt(frame, GrantTable.INVALID_GFN);
        }
    }

    @Override
    public synchronized long totalPages() {
        return totalPages;
    }

    @Override
    public long maxPages() {
        return pages;
    }

    @Override
    public synchronized long maxMappedGpfn() {
        return maxMapped;
    }

    @Override
    public int addToPhysmap(int space, long idx, long gpfn) {
        if (gpfn < 0 || gpfn >= GPFN_LIMIT) {
            return -XEN_EINVAL;
        }
        if (space == XenMemory.XENMAPSPACE_grant_table) {
            int rc = grantTable.growForMapping(idx); // before this physmap's lock, as the table asks
            return rc < 0 ? rc : mapGrantFrame((int) idx, gpfn);
        }
        if (space == XenMemory.XENMAPSPACE_gmfn) {
            return moveRam(idx, gpfn);
        }
        return -XEN_EINVAL;
    }

    private synchronized int mapGrantFrame(int index, long gpfn) {
        long old = grantTable.frameGfn(index);
        if (old == gpfn) {
            return 0;
        }
        clear(gpfn);
        if (old != GrantTable.INVALID_GFN) {
            grantFrameAt.remove(old);
        }
        grantFrameAt.put(gpfn, index);
        grantTable.frameMappedAt(index, gpfn);
        maxMapped = Math.max(maxMapped, gpfn);
        return 0;
    }

    private synchronized int moveRam(long idx, long gpfn) {
        Long page = ramAt.get(idx);
        if (page == null) {
            return -XEN_EINVAL;
        }
        if (idx == gpfn) {
            return 0;
        }
        ramAt.remove(idx);
        clear(gpfn);
        ramAt.put(gpfn, page);
        maxMapped = Math.max(maxMapped, gpfn);
        return 0;
    }

    /** Populates holes with pages from the free pool, zeroed; RAM already there stays. */
    @Override
    public synchronized boolean populate(long gpfn, int order) {
        if (order < 0 || order > 20 || gpfn < 0 || gpfn > GPFN_LIMIT - (1L << order)) {
            return false;
        }
        for (long g = gpfn; g < gpfn + (1L << order); g++) {
            if (ramAt.containsKey(g)) {
                continue;
            }
            if (freePages.isEmpty()) {
                return false;
            }
            long page = freePages.pop();
            page(page).fill((byte) 0);
            clear(g);
            ramAt.put(g, page);
            totalPages++;
            maxMapped = Math.max(maxMapped, g);
        }
        return true;
    }

    /** Balloons out the RAM at {@code [gpfn, gpfn + 2^order)}; a referenced page is freed by its last put. */
    @Override
    public synchronized int decrease(long gpfn, int order) {
        if (order < 0 || order > 20 || gpfn < 0 || gpfn > GPFN_LIMIT - (1L << order)) {
            return -XEN_EINVAL;
        }
        for (long g = gpfn; g < gpfn + (1L << order); g++) {
            Long page = ramAt.remove(g);
            if (page == null) {
                return -XEN_ENOENT;
            }
            release(page);
        }
        return 0;
    }

    @Override
    public List<MemoryMapEntry> memoryMap() {
        return List.of(new MemoryMapEntry(0, pages * PAGE, MemoryMapEntry.E820_RAM));
    }
}
