package xenshim.x86.memory;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;
import static xenshim.api.xen.XenErrno.XEN_ENOMEM;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLongArray;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Domain;
import xenshim.api.ForeignFrames;
import xenshim.api.FrameReferences;
import xenshim.api.GrantTable;
import xenshim.api.GuestAtomics;
import xenshim.api.PhysMap;
import xenshim.api.xen.XenGnttab;
import xenshim.api.xen.XenMemory;

/**
 * A domain's guest-physical memory (Xen's p2m) over one host mapping: the
 * guest's RAM pages followed by hypervisor-owned pages (shared_info, then the
 * frames of the domain's {@link GrantTable}, up to Xen's default
 * {@code max_grant_frames}), and the domain's RAM as other domains reach it
 * ({@link ForeignFrames}: a host page index is xenshim's mfn).
 *
 * <p>Each guest frame maps to a host page or to nothing (a hole). The frames
 * are handed to KVM as memory slots, one per run of frames whose host pages
 * are contiguous. A change to one frame touches only the run holding it and
 * its neighbours (split, shrink or merge: a few slot ioctls, no scan of the
 * whole map), so a guest cannot make one memory op cost more than a bounded
 * amount of work per frame. A hypervisor page mapped with
 * {@code XENMEM_add_to_physmap} keeps its content when the guest maps it
 * elsewhere; the frame it left becomes a hole, and the RAM page it covers is
 * given up, as on Xen.
 *
 * <p>References: a RAM page another domain holds ({@link #get}, for a grant
 * mapped or copied) may leave the p2m like any other, by
 * {@code decrease_reservation} or a page mapped over it, and the call
 * succeeds as Xen's {@code guest_remove_page} does; but the page stays the
 * domain's (counted in {@link #totalPages}) and out of the free pool until its
 * last {@link #put}, so it is never handed back to the guest under its user.
 * Moving a held page ({@code XENMAPSPACE_gmfn}) keeps the reference, which
 * names the host page, not the frame. Populating over RAM keeps the RAM.
 *
 * <p>Invariant: every run with a slot is exactly what KVM has in that slot.
 * If KVM refuses to add a slot, the run stays in the map without one: its
 * frames are still served, through MMIO exits ({@link #translate}), and the
 * error is logged. When KVM has too few slots for a change, the change is
 * refused ({@code -ENOMEM}) before anything is touched.
 */
public final class GuestPhysMemory implements PhysMap, ForeignFrames {

    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** The hypervisor page of shared_info. */
    public static final int SHARED_INFO_PAGE = 0;
    /** The hypervisor page of grant-table frame 0; frame i is page {@code GRANT_FRAME_PAGES + i}. */
    public static final int GRANT_FRAME_PAGES = 1;
    /** Hypervisor-owned pages after RAM: shared_info, then the grant-table frames. */
    public static final int HYPERVISOR_PAGES = GRANT_FRAME_PAGES + XenGnttab.DEFAULT_MAX_GRANT_FRAMES;
    /** Guest frames above this are refused: a 36-bit guest-physical space. */
    public static final long MAX_GPFN = (1L << 36) >>> PAGE_SHIFT;

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long NONE = -1;
    private static final Logger LOG = LoggerFactory.getLogger(GuestPhysMemory.class);

    /** Where KVM's memory slots go; {@link xenshim.x86.vm.Machine} binds it to the VM. */
    public interface Slots {
        /** KVM_SET_USER_MEMORY_REGION; an empty {@code host} deletes the slot. */
        void set(int slot, long guestPhysAddr, MemorySegment host);

        /** How many slots KVM allows. */
        int limit();

        /**
         * How the host changes a word of this memory that the guest's CPU changes with locked
         * instructions: the CPU's own atomics unless the backend's CPU is not atomic against a host
         * thread (the software CPU; see {@link GuestAtomics}).
         */
        default GuestAtomics atomics() {
            return GuestAtomics.HARDWARE;
        }

        /** Slots that go nowhere: guest memory with no CPU behind it, for dom0-side tests and benchmarks. */
        Slots NONE = new Slots() {
            @Override
            public void set(int slot, long guestPhysAddr, MemorySegment host) {
            }

            @Override
            public int limit() {
                return 32;
            }
        };
    }

    /** Frames {@code [first, first + pages)} on host pages {@code [host, host + pages)}; {@code slot} -1 if KVM has none for it. */
    private static final class Run {
        final long first;
        final long host;
        final long pages;
        int slot = -1;

        Run(long first, long host, long pages) {
            this.first = first;
            this.host = host;
            this.pages = pages;
        }

        long end() {
            return first + pages;
        }
    }

    /** What one frame change does to the runs: the runs it removes and the runs it adds. */
    private record Plan(long gpfn, long page, List<Run> removed, List<Run> added) {
        /** Slots it needs beyond those it frees. */
        int slotDelta() {
            int freed = 0;
            for (Run run : removed) {
                if (run.slot >= 0) {
                    freed++;
                }
            }
            return added.size() - freed;
        }
    }

    private final MemorySegment host;
    private final long ramPages;
    /** RAM frames' host pages: read without the lock ({@link #translate}), so each entry is read and written atomically. */
    private final AtomicLongArray ramP2m;
    /** Bumped after every change of a frame; see {@link #generation}. */
    private volatile long generation;
    private final TreeMap<Long, Long> highP2m = new TreeMap<>();
    private final Deque<Long> freeRam = new ArrayDeque<>();
    private final long[] hypervisorGpfn = new long[HYPERVISOR_PAGES];
    /** References on RAM pages, by host page: taken and dropped without the lock (see {@link #get}). */
    private final FrameReferences references;
    /** Each RAM page's window, writable and read-only, made on first use: a window is the same slice every time. */
    private final MemorySegment[] windows;
    private final MemorySegment[] readOnlyWindows;
    private final GrantTable grantTable;
    private final List<MemoryMapEntry> memoryMap;
    private final Slots slots;
    private final TreeMap<Long, Run> runs = new TreeMap<>();
    private final Deque<Integer> freeSlots = new ArrayDeque<>();
    private int nextSlot;
    private int slotted;
    private long totalPages;
    private long maxMappedGpfn;

    /**
     * @param host      RAM pages then {@link #HYPERVISOR_PAGES} pages, page aligned
     * @param ramBytes  the guest's RAM, mapped at guest-physical 0
     * @param memoryMap the e820 the guest is told about
     */
    public GuestPhysMemory(MemorySegment host, long ramBytes, List<MemoryMapEntry> memoryMap, Slots slots) {
        if (ramBytes % PAGE_SIZE != 0 || host.byteSize() != ramBytes + HYPERVISOR_PAGES * PAGE_SIZE) {
            throw new IllegalArgumentException("host memory must be RAM plus " + HYPERVISOR_PAGES + " pages");
        }
        this.host = host;
        this.ramPages = ramBytes >>> PAGE_SHIFT;
        this.ramP2m = new AtomicLongArray(Math.toIntExact(ramPages));
        this.references = new FrameReferences(ramP2m.length());
        this.windows = new MemorySegment[ramP2m.length()];
        this.readOnlyWindows = new MemorySegment[ramP2m.length()];
        for (int i = 0; i < ramP2m.length(); i++) {
            ramP2m.set(i, i);
        }
        Arrays.fill(hypervisorGpfn, NONE);
        this.totalPages = ramPages;
        this.maxMappedGpfn = ramPages - 1;
        this.memoryMap = List.copyOf(memoryMap);
        this.slots = slots;
        install(new Run(0, 0, ramPages));
        this.grantTable = new GrantTable(XenGnttab.DEFAULT_MAX_GRANT_FRAMES,
                index -> host.asSlice(hypervisorPageOffset(GRANT_FRAME_PAGES + index), PAGE_SIZE), this,
                slots.atomics());
    }

    /** How the host changes a word the guest also changes atomically (its {@link Slots#atomics()}). */
    public GuestAtomics atomics() {
        return slots.atomics();
    }

    /** The domain's grant table, whose frames are this memory's hypervisor pages. */
    public GrantTable grantTable() {
        return grantTable;
    }

    /**
     * Attaches this memory to {@code domain} as its {@link PhysMap} and {@link ForeignFrames}, its
     * {@link GrantTable} and its {@link GuestAtomics}.
     *
     * @throws IllegalStateException if the domain has any of them already (nothing is attached then)
     */
    public void attachTo(Domain domain) {
        if (domain.find(PhysMap.KEY).isPresent() || domain.find(ForeignFrames.KEY).isPresent()
                || domain.find(GrantTable.KEY).isPresent() || domain.find(GuestAtomics.KEY).isPresent()) {
            throw new IllegalStateException(domain + " already has guest memory, a grant table or guest atomics");
        }
        domain.attach(PhysMap.KEY, this);
        domain.attach(ForeignFrames.KEY, this);
        domain.attach(GrantTable.KEY, grantTable);
        domain.attach(GuestAtomics.KEY, atomics());
    }

    /** Host memory behind every frame: RAM, then hypervisor pages. */
    public MemorySegment host() {
        return host;
    }

    /** The host offset of hypervisor page {@code index} ({@link #SHARED_INFO_PAGE}, {@link #GRANT_FRAME_PAGES}..). */
    public long hypervisorPageOffset(int index) {
        return (ramPages + index) * PAGE_SIZE;
    }

    /** How many memory slots its CPU backend allows: how far the map can split before a change is {@code -ENOMEM}. */
    public int slotLimit() {
        return slots.limit();
    }

    /** The frame shared_info is mapped at, or -1. */
    public synchronized long sharedInfoGpfn() {
        return hypervisorGpfn[SHARED_INFO_PAGE];
    }

    /**
     * The host offset of guest-physical {@code gpa}, or -1 for a hole. The
     * rest of its page follows contiguously.
     *
     * <p>Lock-free for RAM frames, and safe against a concurrent change by a
     * writer holding the lock, because (1) every entry is read and written
     * atomically, so the answer is the frame's page before or after the
     * change, never a torn value; (2) the map only ever points into
     * {@link #host()}, this domain's own mapping, which stays mapped while any
     * vCPU runs, so even a stale answer never reaches another domain's memory
     * or unmapped memory; and (3) a caller that keeps a translation across
     * accesses checks {@link #generation} first, so it never uses one made
     * before a change (a {@code decrease_reservation} in the same hypercall,
     * say). What a stale answer can still do is what a guest racing its own
     * vCPUs can do: touch a page the domain itself is giving up at that moment.
     */
    public long translate(long gpa) {
        if (gpa < 0) {
            return NONE;
        }
        long gpfn = gpa >>> PAGE_SHIFT;
        long page;
        if (gpfn < ramPages) {
            page = ramP2m.get((int) gpfn);
        } else {
            synchronized (this) {
                page = highP2m.getOrDefault(gpfn, NONE);
            }
        }
        return page == NONE ? NONE : (page << PAGE_SHIFT) | (gpa & (PAGE_SIZE - 1));
    }

    /** A little-endian 64-bit value at a host offset from {@link #translate}. */
    long read64(long hostOffset) {
        return host.get(LE_LONG, hostOffset);
    }

    /** A little-endian 32-bit value at a host offset from {@link #translate}. */
    long read32(long hostOffset) {
        return Integer.toUnsignedLong(host.get(LE_INT, hostOffset));
    }

    @Override
    public synchronized long totalPages() {
        return totalPages;
    }

    @Override
    public long maxPages() {
        return ramPages;
    }

    @Override
    public synchronized long maxMappedGpfn() {
        return maxMappedGpfn;
    }

    @Override
    public List<MemoryMapEntry> memoryMap() {
        return memoryMap;
    }

    /**
     * A number that changes after every change of any frame's mapping: a
     * translation made under one generation may be kept while the generation is
     * the same (read it before translating).
     */
    public long generation() {
        return generation;
    }

    private long pageAt(long gpfn) {
        return gpfn < ramPages ? ramP2m.get((int) gpfn) : highP2m.getOrDefault(gpfn, NONE);
    }

    private void put(long gpfn, long page) {
        if (gpfn < ramPages) {
            ramP2m.set((int) gpfn, page);
        } else if (page == NONE) {
            highP2m.remove(gpfn);
        } else {
            highP2m.put(gpfn, page);
        }
        if (page != NONE) {
            maxMappedGpfn = Math.max(maxMappedGpfn, gpfn);
        }
        // after the entry: a reader that sees this generation sees the new entry too (the writer holds the lock)
        generation++;
    }

    private boolean isRam(long page) {
        return page != NONE && page < ramPages;
    }

    /** A RAM page leaves the p2m: back to the free pool, unless another domain holds it (then at its last put). */
    private void releaseRam(long page) {
        if (references.release(page)) {
            freeRam.push(page);
            totalPages--;
        }
    }

    /** Records where hypervisor page {@code index} is mapped, telling the grant table about its frames. */
    private void setHypervisorGpfn(int index, long gpfn) {
        hypervisorGpfn[index] = gpfn;
        if (index >= GRANT_FRAME_PAGES) {
            grantTable.frameMappedAt(index - GRANT_FRAME_PAGES, gpfn == NONE ? GrantTable.INVALID_GFN : gpfn);
        }
    }

    /**
     * {@inheritDoc}
     *
     * <p>{@code XENMAPSPACE_grant_table} grows the grant table first if {@code idx} is beyond it and within
     * its limit ({@code -EINVAL} otherwise, a v2 status index included), before this map's lock is taken:
     * the table may call into this memory under its own lock, never the other way round.
     */
    @Override
    public int addToPhysmap(int space, long idx, long gpfn) {
        if (gpfn < 0 || gpfn >= MAX_GPFN) {
            return -XEN_EINVAL;
        }
        if (space == XenMemory.XENMAPSPACE_grant_table) {
            int rc = grantTable.growForMapping(idx);
            return rc < 0 ? rc : mapHypervisorPageLocked(GRANT_FRAME_PAGES + (int) idx, gpfn);
        }
        synchronized (this) {
            return switch (space) {
                case XenMemory.XENMAPSPACE_shared_info -> idx != 0 ? -XEN_EINVAL
                        : mapHypervisorPage(SHARED_INFO_PAGE, gpfn);
                case XenMemory.XENMAPSPACE_gmfn -> moveRam(idx, gpfn);
                default -> -XEN_EINVAL;
            };
        }
    }

    private synchronized int mapHypervisorPageLocked(int index, long gpfn) {
        return mapHypervisorPage(index, gpfn);
    }

    /** Maps hypervisor page {@code index} at {@code gpfn}; the frame it was at becomes a hole. */
    private int mapHypervisorPage(int index, long gpfn) {
        long old = hypervisorGpfn[index];
        if (old == gpfn) {
            return 0;
        }
        // unmapping the old frame afterwards can split a run: one more slot at most
        Plan map = plan(gpfn, ramPages + index);
        if (!fits(map.slotDelta() + (old == NONE ? 0 : 1))) {
            return -XEN_ENOMEM;
        }
        giveUp(map);
        if (old != NONE) {
            apply(plan(old, NONE));
        }
        setHypervisorGpfn(index, gpfn);
        return 0;
    }

    /** XENMAPSPACE_gmfn: the RAM page at {@code idx} moves to {@code gpfn}. */
    private int moveRam(long idx, long gpfn) {
        if (idx < 0 || idx >= MAX_GPFN || !isRam(pageAt(idx))) {
            return -XEN_EINVAL;
        }
        if (idx == gpfn) {
            return 0;
        }
        Plan move = plan(gpfn, pageAt(idx));
        if (!fits(move.slotDelta() + 1)) {
            return -XEN_ENOMEM;
        }
        giveUp(move);
        apply(plan(idx, NONE));
        return 0;
    }

    /** Applies {@code plan}, giving up the RAM page or unhooking the hypervisor page that was at its frame. */
    private void giveUp(Plan plan) {
        long previous = pageAt(plan.gpfn());
        apply(plan);
        if (isRam(previous)) {
            releaseRam(previous);
        } else if (previous != NONE) {
            setHypervisorGpfn((int) (previous - ramPages), NONE);
        }
    }

    @Override
    public synchronized boolean populate(long gpfn, int order) {
        if (order < 0 || order > 30 || gpfn < 0 || gpfn > MAX_GPFN - (1L << order)) {
            return false;
        }
        long count = 1L << order;
        long needed = 0;
        for (long i = 0; i < count; i++) {
            if (!isRam(pageAt(gpfn + i))) {
                needed++;
            }
        }
        if (needed == 0) {
            return true;
        }
        if (totalPages + needed > ramPages || needed > freeRam.size()) {
            return false;
        }
        for (long i = 0; i < count; i++) {
            if (!isRam(pageAt(gpfn + i))) {
                Plan plan = plan(gpfn + i, freeRam.peek());
                if (!fits(plan.slotDelta())) {
                    return false; // the pages done so far stay, as Xen's extent loop leaves them
                }
                long page = freeRam.pop();
                host.asSlice(page << PAGE_SHIFT, PAGE_SIZE).fill((byte) 0);
                giveUp(plan);
                totalPages++;
            }
        }
        return true;
    }

    @Override
    public synchronized int decrease(long gpfn, int order) {
        if (order < 0 || order > 30 || gpfn < 0 || gpfn > MAX_GPFN - (1L << order)) {
            return -XEN_EINVAL;
        }
        long count = 1L << order;
        for (long i = 0; i < count; i++) {
            long page = pageAt(gpfn + i);
            if (!isRam(page)) {
                return -XEN_ENOENT; // the pages before it are gone, as in Xen's guest_remove_page loop
            }
            Plan plan = plan(gpfn + i, NONE);
            if (!fits(plan.slotDelta())) {
                return -XEN_ENOMEM;
            }
            apply(plan);
            releaseRam(page);
        }
        return 0;
    }

    // ---- ForeignFrames ----------------------------------------------------------------------------------

    /**
     * {@inheritDoc}
     *
     * <p>Lock-free for RAM frames, as {@link #translate} is: the reference is taken on the page the frame
     * maps to, and the frame is looked at again afterwards; if it changed meanwhile, the reference is put
     * back and the frame looked up anew. A page that leaves the p2m is released only after its frame
     * changed ({@link FrameReferences#release} after {@code put(gpfn, ...)}), so a reference that
     * survives the second look was taken before the release, which then keeps the page.
     */
    @Override
    public long get(long gfn) {
        if (gfn < 0 || gfn >= MAX_GPFN) {
            return NO_FRAME;
        }
        if (gfn >= ramPages) {
            synchronized (this) {
                return reference(gfn);
            }
        }
        for (;;) {
            long page = ramP2m.get((int) gfn);
            if (!isRam(page)) {
                return NO_FRAME;
            }
            references.get(page);
            if (ramP2m.get((int) gfn) == page) {
                return page;
            }
            put(page);
        }
    }

    /** {@link #get} of a frame above RAM, under the lock. */
    private long reference(long gfn) {
        long page = pageAt(gfn);
        if (!isRam(page)) {
            return NO_FRAME;
        }
        references.get(page);
        return page;
    }

    /** Lock-free but for the rare last put of a page that left the p2m meanwhile, which frees it. */
    @Override
    public void put(long mfn) {
        if (references.put(mfn)) {
            synchronized (this) {
                freeRam.push(mfn);
                totalPages--;
            }
        }
    }

    @Override
    public MemorySegment window(long mfn) {
        int page = (int) references.requireHeld(mfn);
        MemorySegment window = windows[page];
        if (window == null) {
            window = host.asSlice((long) page << PAGE_SHIFT, PAGE_SIZE);
            windows[page] = window; // a benign race: every thread makes the same slice, published by its final fields
        }
        return window;
    }

    @Override
    public MemorySegment readOnlyWindow(long mfn) {
        int page = (int) references.requireHeld(mfn);
        MemorySegment window = readOnlyWindows[page];
        if (window == null) {
            window = host.asSlice((long) page << PAGE_SHIFT, PAGE_SIZE).asReadOnly();
            readOnlyWindows[page] = window;
        }
        return window;
    }

    /** Between two guests' memories: host to host, with no window. */
    @Override
    public void copy(long mfn, int offset, ForeignFrames to, long toMfn, int toOffset, int length) {
        if (!(to instanceof GuestPhysMemory other)) {
            ForeignFrames.super.copy(mfn, offset, to, toMfn, toOffset, length);
            return;
        }
        Objects.checkFromIndexSize(offset, length, PAGE_SIZE);
        Objects.checkFromIndexSize(toOffset, length, PAGE_SIZE);
        MemorySegment.copy(host, (references.requireHeld(mfn) << PAGE_SHIFT) + offset,
                other.host, (other.references.requireHeld(toMfn) << PAGE_SHIFT) + toOffset, length);
    }

    @Override
    public int references(long mfn) {
        return references.count(mfn);
    }

    /** Whether KVM has room for {@code delta} more slots. */
    private boolean fits(int delta) {
        return slotted + delta <= slots.limit();
    }

    /** The run holding frame {@code gpfn}, or null. */
    private Run containing(long gpfn) {
        Map.Entry<Long, Run> e = runs.floorEntry(gpfn);
        return e != null && gpfn < e.getValue().end() ? e.getValue() : null;
    }

    /**
     * How mapping frame {@code gpfn} to host {@code page} ({@link #NONE}: a
     * hole) changes the runs: the run holding it is split around it, and a new
     * page joins a neighbouring run when the host pages are contiguous.
     * Changes nothing; {@link #apply} does.
     */
    private Plan plan(long gpfn, long page) {
        List<Run> removed = new ArrayList<>(3);
        List<Run> added = new ArrayList<>(3);
        Run left = null;
        Run right = null;
        Run holder = containing(gpfn);
        if (holder != null) {
            removed.add(holder);
            if (gpfn > holder.first) {
                left = new Run(holder.first, holder.host, gpfn - holder.first);
                added.add(left);
            }
            if (gpfn + 1 < holder.end()) {
                right = new Run(gpfn + 1, holder.host + (gpfn + 1 - holder.first), holder.end() - gpfn - 1);
                added.add(right);
            }
        } else {
            Map.Entry<Long, Run> before = runs.lowerEntry(gpfn);
            left = before != null && before.getValue().end() == gpfn ? before.getValue() : null;
            right = runs.get(gpfn + 1);
        }
        if (page != NONE) {
            long first = gpfn;
            long hostPage = page;
            long pages = 1;
            if (left != null && left.host + left.pages == page) {
                first = left.first;
                hostPage = left.host;
                pages += left.pages;
                retire(left, removed, added);
            }
            if (right != null && hostPage + (right.first - first) == right.host) {
                pages += right.pages;
                retire(right, removed, added);
            }
            added.add(new Run(first, hostPage, pages));
        }
        return new Plan(gpfn, page, removed, added);
    }

    /** Carries out a plan made against the current runs, in the p2m and in KVM. */
    private void apply(Plan plan) {
        if (pageAt(plan.gpfn()) == plan.page()) {
            return;
        }
        for (Run run : plan.removed()) {
            uninstall(run);
        }
        put(plan.gpfn(), plan.page());
        for (Run run : plan.added()) {
            install(run);
        }
    }

    /** A neighbour merged into the new run: an existing run is removed, a new piece is not added. */
    private static void retire(Run run, List<Run> removed, List<Run> added) {
        if (!added.remove(run)) {
            removed.add(run);
        }
    }

    private void uninstall(Run run) {
        if (run.slot >= 0) {
            slots.set(run.slot, run.first << PAGE_SHIFT, MemorySegment.NULL);
            freeSlots.push(run.slot);
            slotted--;
        }
        runs.remove(run.first);
    }

    private void install(Run run) {
        runs.put(run.first, run);
        int slot = freeSlots.isEmpty() ? nextSlot++ : freeSlots.pop();
        try {
            slots.set(slot, run.first << PAGE_SHIFT, host.asSlice(run.host << PAGE_SHIFT, run.pages << PAGE_SHIFT));
            run.slot = slot;
            slotted++;
        } catch (RuntimeException e) {
            freeSlots.push(slot);
            LOG.error("KVM refused a memory slot for frames 0x{}..0x{}; they are served by MMIO exits from now on",
                    Long.toHexString(run.first), Long.toHexString(run.end() - 1), e);
        }
    }
}
