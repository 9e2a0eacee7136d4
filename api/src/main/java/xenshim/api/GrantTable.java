package xenshim.api;

import static xenshim.api.xen.XenGnttab.GNTST_bad_gntref;
import static xenshim.api.xen.XenGnttab.GNTST_bad_page;
import static xenshim.api.xen.XenGnttab.GNTST_eagain;
import static xenshim.api.xen.XenGnttab.GNTST_general_error;
import static xenshim.api.xen.XenGnttab.GNTST_okay;
import static xenshim.api.xen.XenGnttab.GTF_permit_access;
import static xenshim.api.xen.XenGnttab.GTF_readonly;
import static xenshim.api.xen.XenGnttab.GTF_reading;
import static xenshim.api.xen.XenGnttab.GTF_sub_page;
import static xenshim.api.xen.XenGnttab.GTF_type_mask;
import static xenshim.api.xen.XenGnttab.GTF_writing;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.XenErrno;
import xenshim.api.xen.XenGnttab;

/**
 * One domain's grant table as the granting side, v1 ({@code struct grant_table} of Xen 4.17's
 * {@code common/grant_table.c}): the shared frames the guest writes its {@code grant_entry_v1}s into,
 * hypervisor-owned and mapped into the guest's physmap with {@code XENMEM_add_to_physmap}
 * ({@code XENMAPSPACE_grant_table}); and the active entries, which count how a granted frame is pinned.
 * Owned by the platform and found by {@link #KEY}, so the grants survive a swap of the handler.
 *
 * <p>The guest writes an entry's 16-bit flags concurrently with Xen: every update of the flags here is
 * atomic on the 32-bit flags-and-domid word, as Xen's {@code guest_cmpxchg} and
 * {@code gnttab_clear_flags} are: setting {@code GTF_reading}/{@code GTF_writing} is a compare-and-set
 * retried at most five times (a guest changing the entry faster than that gets
 * {@code GNTST_general_error}, "unstable"), clearing them an atomic AND. So a guest that revokes a grant
 * with the documented compare-and-set on the flags (succeeding only while neither bit is set) cannot
 * revoke it while it is mapped, and one that overwrites the entry anyway leaves the mapping in place, as
 * on Xen: an active entry is not checked again until its last unpin. Both go through the domain's
 * {@link GuestAtomics}, so they are atomic against a guest on the software CPU too.
 *
 * <p>An active entry holds one reference on its frame ({@link ForeignFrames#get}) from its first pin to
 * its last, so a granted page that is mapped or being copied is never freed under its user. (Xen takes
 * one page reference per mapping; the effect on the page's life is the same.) Pin counts are Xen's
 * {@code GNTPIN_*}: four 8-bit counters, and a pin that would make one reach 128 is refused.
 *
 * <p>One lock per table ({@code gt->lock} and the active entries' locks in one). It may be held while
 * calling the domain's {@link ForeignFrames}; a platform's physmap must therefore not call into the table
 * while holding its own lock, except {@link #frameMappedAt}, which takes none.
 */
public final class GrantTable {

    /** Every domain's grant table; a domain the platform attached none to gets one with no RAM to grant. */
    public static final DomainKey<GrantTable> KEY = DomainKey.of("grant table", GrantTable::new);

    /** {@code sizeof(grant_entry_v1_t)}: the same in both ABIs. */
    public static final int ENTRY_SIZE = (int) AbiLayouts.X86_64.grant_entry_v1.byteSize();
    /** {@code SHGNT_PER_PAGE_V1}. */
    public static final int ENTRIES_PER_FRAME = (int) ForeignFrames.PAGE_SIZE / ENTRY_SIZE;
    /** {@code INVALID_GFN}: a frame not mapped in the physmap. */
    public static final long INVALID_GFN = -1;

    /** Where the table's frames live: hypervisor memory, off the guest's RAM. */
    @FunctionalInterface
    public interface FrameMemory {
        /** The memory of table frame {@code index}: 4 KiB, page aligned, native. Asked once per frame. */
        MemorySegment frame(int index);

        /** Frames of their own, off the Java heap. */
        static FrameMemory offHeap() {
            return index -> Arena.ofAuto().allocate(ForeignFrames.PAGE_SIZE, ForeignFrames.PAGE_SIZE);
        }
    }

    /** The flags-and-domid word of an entry: flags in the low half on a little-endian host. */
    private static final VarHandle WORD = ValueLayout.JAVA_INT.varHandle();
    private static final int HSTW = 1;
    private static final int HSTR = 1 << 8;
    /** {@code GNTPIN_hstw_mask | GNTPIN_devw_mask}. */
    private static final int WRITE_PINS = 0x00FF_00FF;
    /** A pin counter at 128: refused before it can wrap. */
    private static final int PIN_OVERFLOW = 0x8080_8080;
    private static final int FRAME_OFFSET = (int) AbiLayouts.offset(AbiLayouts.X86_64.grant_entry_v1, "frame");
    private static final long NO_MFN = ForeignFrames.NO_FRAME;

    static {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new ExceptionInInitializerError("grant entries are read as little-endian words");
        }
    }

    private final ReentrantLock lock = new ReentrantLock();
    private final int maxFrames;
    private final FrameMemory memory;
    private final ForeignFrames ram;
    /** Every update of an entry's flags, innermost (under {@link #lock}). */
    private final GuestAtomics atomics;
    private final MemorySegment[] frames;
    /** Active entries by frame and index, allocated as the table grows. */
    private final int[][] pin;
    private final int[][] mapper;
    private final long[][] mfn;
    private final AtomicLongArray frameGfn;
    private volatile int nrFrames;

    /** A table with Xen's default limit, off-heap frames and no RAM to grant (every pin is {@code GNTST_bad_page}). */
    public GrantTable() {
        this(XenGnttab.DEFAULT_MAX_GRANT_FRAMES, FrameMemory.offHeap(), ForeignFrames.NONE);
    }

    /**
     * A v1 table of {@code INITIAL_NR_GRANT_FRAMES} frames that grows up to {@code maxFrames}
     * ({@code grant_table_init}).
     *
     * @param ram the domain's RAM, whose frames its entries grant
     * @throws IllegalArgumentException if {@code maxFrames} is below 1 or above Xen's
     *                                  {@code opt_max_grant_frames} (64), which Xen refuses too
     */
    public GrantTable(int maxFrames, FrameMemory memory, ForeignFrames ram) {
        this(maxFrames, memory, ram, GuestAtomics.HARDWARE);
    }

    /**
     * A table whose frames the guest's CPU changes as {@code atomics} says: its flag updates go through it
     * (the software CPU's guest is not atomic against a host thread otherwise; see {@link GuestAtomics}).
     */
    public GrantTable(int maxFrames, FrameMemory memory, ForeignFrames ram, GuestAtomics atomics) {
        if (maxFrames < XenGnttab.INITIAL_NR_GRANT_FRAMES || maxFrames > XenGnttab.DEFAULT_MAX_GRANT_FRAMES) {
            throw new IllegalArgumentException("max grant frames " + maxFrames + " is not 1.."
                    + XenGnttab.DEFAULT_MAX_GRANT_FRAMES);
        }
        this.maxFrames = maxFrames;
        this.memory = Objects.requireNonNull(memory);
        this.ram = Objects.requireNonNull(ram);
        this.atomics = Objects.requireNonNull(atomics);
        this.frames = new MemorySegment[maxFrames];
        this.pin = new int[maxFrames][];
        this.mapper = new int[maxFrames][];
        this.mfn = new long[maxFrames][];
        this.frameGfn = new AtomicLongArray(maxFrames);
        for (int i = 0; i < maxFrames; i++) {
            frameGfn.set(i, INVALID_GFN);
        }
        lock.lock();
        try {
            grow(XenGnttab.INITIAL_NR_GRANT_FRAMES);
        } finally {
            lock.unlock();
        }
    }

    /** {@code gt_version}: xenshim's tables are always v1. */
    public int version() {
        return 1;
    }

    /** {@code nr_grant_frames}. */
    public int nrFrames() {
        return nrFrames;
    }

    /** {@code max_grant_frames}. */
    public int maxFrames() {
        return maxFrames;
    }

    /** {@code nr_grant_entries}: 512 per frame. */
    public int nrEntries() {
        return nrFrames * ENTRIES_PER_FRAME;
    }

    // ---- frames and the physmap ---------------------------------------------------------------------------

    /** {@code gnttab_grow_table}; call with the lock held and {@code wanted <= maxFrames}. */
    private void grow(int wanted) {
        for (int f = nrFrames; f < wanted; f++) {
            MemorySegment frame = memory.frame(f);
            if (frame.byteSize() != ForeignFrames.PAGE_SIZE) {
                throw new IllegalStateException("grant frame memory must be one page, not " + frame.byteSize());
            }
            frame.fill((byte) 0);
            frames[f] = frame;
            pin[f] = new int[ENTRIES_PER_FRAME];
            mapper[f] = new int[ENTRIES_PER_FRAME];
            mfn[f] = new long[ENTRIES_PER_FRAME];
            Arrays.fill(mfn[f], NO_MFN);
        }
        if (wanted > nrFrames) {
            nrFrames = wanted;
        }
    }

    /**
     * {@code GNTTABOP_setup_table}'s part of the table: at least {@code frames} frames.
     *
     * @param frames the guest's {@code nr_frames}, unsigned
     * @return {@code GNTST_okay}, or {@code GNTST_general_error} beyond {@link #maxFrames()}
     */
    public int setup(long frames) {
        if (Long.compareUnsigned(frames, maxFrames) > 0) {
            return GNTST_general_error;
        }
        lock.lock();
        try {
            grow((int) frames);
            return GNTST_okay;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code gnttab_get_shared_frame_mfn} for {@code XENMAPSPACE_grant_table}: grows the table so that frame
     * {@code idx} exists, if the limit allows. An index with {@code XENMAPIDX_grant_table_status} set names
     * a v2 status frame, which a v1 table never has: it is out of range like any other.
     *
     * @param idx the guest's index, unsigned
     * @return 0, or {@code -EINVAL} for an index beyond the limit
     */
    public int growForMapping(long idx) {
        if (Long.compareUnsigned(idx, maxFrames) >= 0) {
            return -XenErrno.XEN_EINVAL;
        }
        lock.lock();
        try {
            grow((int) idx + 1);
            return 0;
        } finally {
            lock.unlock();
        }
    }

    /** The memory of frame {@code index}, as the guest sees it once mapped. */
    public MemorySegment frame(int index) {
        if (index < 0 || index >= nrFrames) {
            throw new IllegalArgumentException("no grant frame " + index);
        }
        return frames[index];
    }

    /**
     * The physmap records where frame {@code index} is mapped ({@link #INVALID_GFN}: nowhere). Takes no
     * lock, so the physmap may call it under its own.
     */
    public void frameMappedAt(int index, long gfn) {
        frameGfn.set(index, gfn);
    }

    /** {@code gnttab_get_frame_gfn}: where frame {@code index} is mapped, or {@link #INVALID_GFN}. */
    public long frameGfn(int index) {
        return frameGfn.get(index);
    }

    // ---- entries ---------------------------------------------------------------------------------------------

    private static int frameOf(int ref) {
        return ref / ENTRIES_PER_FRAME;
    }

    private static long offsetOf(int ref) {
        return (long) (ref % ENTRIES_PER_FRAME) * ENTRY_SIZE;
    }

    private void checkRef(int ref) {
        if (ref < 0 || ref >= nrEntries()) {
            throw new IllegalArgumentException("grant ref " + ref + " is beyond the table's " + nrEntries());
        }
    }

    private int word(int ref) {
        return (int) WORD.getVolatile(frames[frameOf(ref)], offsetOf(ref));
    }

    /**
     * Writes entry {@code ref} as the domain builder does for the reserved entries
     * ({@code GNTTAB_RESERVED_CONSOLE}, {@code GNTTAB_RESERVED_XENSTORE}): the frame, then the flags and
     * domid in one store, so a reader never sees the flags before the frame.
     *
     * @throws IllegalArgumentException for a ref beyond the table, or a value that does not fit its field
     */
    public void writeEntry(int ref, int flags, int domid, long gfn) {
        checkRef(ref);
        if ((flags & ~0xFFFF) != 0 || (domid & ~0xFFFF) != 0 || (gfn & ~0xFFFF_FFFFL) != 0) {
            throw new IllegalArgumentException("flags, domid or gfn out of range: " + flags + ", " + domid + ", "
                    + gfn);
        }
        MemorySegment frame = frames[frameOf(ref)];
        frame.set(ValueLayout.JAVA_INT, offsetOf(ref) + FRAME_OFFSET, (int) gfn);
        WORD.setVolatile(frame, offsetOf(ref), flags | (domid << 16));
    }

    /** Entry {@code ref}'s flags as the guest sees them. */
    public int flags(int ref) {
        checkRef(ref);
        return word(ref) & 0xFFFF;
    }

    /** Entry {@code ref}'s domid. */
    public int domid(int ref) {
        checkRef(ref);
        return word(ref) >>> 16;
    }

    /** Entry {@code ref}'s frame (a gfn of this domain). */
    public long gfn(int ref) {
        checkRef(ref);
        return Integer.toUnsignedLong(frames[frameOf(ref)].get(ValueLayout.JAVA_INT, offsetOf(ref) + FRAME_OFFSET));
    }

    /** Active entry {@code ref}'s pin counts ({@code act->pin}); 0 when nothing holds it. */
    public int pin(int ref) {
        checkRef(ref);
        lock.lock();
        try {
            return pin[frameOf(ref)][ref % ENTRIES_PER_FRAME];
        } finally {
            lock.unlock();
        }
    }

    // ---- pinning -------------------------------------------------------------------------------------------

    /**
     * Pins entry {@code ref} for domain {@code ldomid}'s host access: Xen's {@code map_grant_ref} (for a
     * mapping) and {@code acquire_grant_for_copy} (for a copy) up to the page reference. Checks, in Xen's
     * order: the ref in range ({@code GNTST_bad_gntref}); an entry pinned already must be pinned by
     * {@code ldomid} with room in its counters ({@code GNTST_general_error}); on the first pin, or the first
     * writable one, the entry must permit access to {@code ldomid} ({@code GTF_sub_page} refused for a
     * mapping) and not be {@code GTF_readonly} for a writable pin, and {@code GTF_reading}
     * ({@code GTF_writing}) is set by compare-and-set ({@code GNTST_general_error}); on the first pin the
     * granted frame must be RAM of this domain ({@code GNTST_bad_page}, the flags set just now cleared).
     *
     * @param ref      the guest's grant reference, unsigned
     * @param readonly a read-only pin
     * @param mapping  for a mapping rather than a copy
     * @return the frame's number ({@code >= 0}), or a negative {@code GNTST_*}
     */
    public long acquire(int ref, int ldomid, boolean readonly, boolean mapping) {
        lock.lock();
        try {
            return acquireLocked(ref, ldomid, readonly, mapping);
        } finally {
            lock.unlock();
        }
    }

    /**
     * A copy's claim moving on to the next grant of this table, as Xen's {@code gnttab_copy_release_buf}
     * then {@code gnttab_copy_claim_buf} move it: {@link #release release(heldRef, readonly)}, then
     * {@link #acquire acquire(ref, ldomid, readonly, false)}, under one hold of the lock.
     *
     * @return what {@link #acquire} returns
     * @throws IllegalStateException as {@link #release} does (the release is not done then, nor the acquire)
     */
    public long releaseAndAcquire(int heldRef, int ref, int ldomid, boolean readonly) {
        checkRef(heldRef);
        lock.lock();
        try {
            releaseLocked(heldRef, readonly);
            return acquireLocked(ref, ldomid, readonly, false);
        } finally {
            lock.unlock();
        }
    }

    private long acquireLocked(int ref, int ldomid, boolean readonly, boolean mapping) {
        if (Integer.compareUnsigned(ref, nrEntries()) >= 0) {
            return GNTST_bad_gntref;
        }
        int f = frameOf(ref);
        int i = ref % ENTRIES_PER_FRAME;
        int pins = pin[f][i];
        if (pins != 0 && (mapper[f][i] != ldomid || (pins & PIN_OVERFLOW) != 0)) {
            return GNTST_general_error;
        }
        if (pins == 0 || (!readonly && (pins & WRITE_PINS) == 0)) {
            int rc = setStatus(ref, ldomid, readonly, mapping, pins != 0);
            if (rc != GNTST_okay) {
                return rc;
            }
            if (pins == 0) {
                long frame = ram.get(gfn(ref));
                if (frame == ForeignFrames.NO_FRAME) {
                    clearIdle(ref, pins, readonly);
                    return GNTST_bad_page;
                }
                mapper[f][i] = ldomid;
                mfn[f][i] = frame;
            }
        }
        pin[f][i] = pins + (readonly ? HSTR : HSTW);
        return mfn[f][i];
    }

    /** {@code _set_status_v1}: checks the entry and sets the access flags with a bounded compare-and-set. */
    private int setStatus(int ref, int ldomid, boolean readonly, boolean mapping, boolean pinned) {
        MemorySegment frame = frames[frameOf(ref)];
        long offset = offsetOf(ref);
        int mask = GTF_type_mask | (mapping ? GTF_sub_page : 0);
        int word = (int) WORD.getVolatile(frame, offset);
        for (int retries = 0; ; retries++) {
            int flags = word & 0xFFFF;
            if (!pinned && ((flags & mask) != GTF_permit_access || (word >>> 16) != ldomid)) {
                return GNTST_general_error;
            }
            int update = word | GTF_reading;
            if (!readonly) {
                if ((flags & GTF_readonly) != 0) {
                    return GNTST_general_error;
                }
                update |= GTF_writing;
            }
            int seen = atomics.compareAndExchange(frame, offset, word, update);
            if (seen == word) {
                return GNTST_okay;
            }
            if (retries == 4) {
                return GNTST_general_error; // the entry is unstable: the guest keeps changing it
            }
            word = seen;
        }
    }

    /** Clears what no pin needs any more: {@code GTF_writing} after the last writable one, {@code GTF_reading} after the last. */
    private void clearIdle(int ref, int pins, boolean readonly) {
        int clear = 0;
        if (!readonly && (pins & WRITE_PINS) == 0) {
            clear |= GTF_writing;
        }
        if (pins == 0) {
            clear |= GTF_reading;
        }
        if (clear != 0) {
            atomics.getAndBitwiseAnd(frames[frameOf(ref)], offsetOf(ref), ~clear);
        }
    }

    /**
     * Drops one host pin {@link #acquire} took ({@code unmap_common_complete}, {@code release_grant_for_copy},
     * or the undo of a failed map): clears the access flags no pin needs any more, and after the last pin
     * drops the frame's reference.
     *
     * @throws IllegalStateException if the entry has no such pin (a bug in the caller)
     */
    public void release(int ref, boolean readonly) {
        checkRef(ref);
        lock.lock();
        try {
            releaseLocked(ref, readonly);
        } finally {
            lock.unlock();
        }
    }

    private void releaseLocked(int ref, boolean readonly) {
        int f = frameOf(ref);
        int i = ref % ENTRIES_PER_FRAME;
        int pins = pin[f][i];
        int mask = readonly ? 0xFF00 : 0xFF;
        if ((pins & mask) == 0) {
            throw new IllegalStateException("grant ref " + ref + " has no " + (readonly ? "read" : "write")
                    + " pin to release");
        }
        pins -= readonly ? HSTR : HSTW;
        pin[f][i] = pins;
        clearIdle(ref, pins, readonly);
        if (pins == 0) {
            ram.put(mfn[f][i]);
            mfn[f][i] = NO_MFN;
        }
    }

    /** The RAM whose frames this table's entries grant: where {@link #acquire}'s frame numbers are. */
    public ForeignFrames frames() {
        return ram;
    }

    /** The 4 KiB of a frame this table holds pinned ({@code map_domain_page}), read-only if asked. */
    public MemorySegment window(long frame, boolean readonly) {
        return readonly ? ram.readOnlyWindow(frame) : ram.window(frame);
    }

    /**
     * {@code swap_grant_ref}: swaps two entries. {@code GNTST_bad_gntref} for a ref beyond the table (a
     * first, then b), nothing for a ref swapped with itself, {@code GNTST_eagain} for a pinned entry.
     */
    public int swap(int refA, int refB) {
        lock.lock();
        try {
            if (Integer.compareUnsigned(refA, nrEntries()) >= 0 || Integer.compareUnsigned(refB, nrEntries()) >= 0) {
                return GNTST_bad_gntref;
            }
            if (refA == refB) {
                return GNTST_okay;
            }
            if (pin[frameOf(refA)][refA % ENTRIES_PER_FRAME] != 0 || pin[frameOf(refB)][refB % ENTRIES_PER_FRAME] != 0) {
                return GNTST_eagain;
            }
            MemorySegment a = frames[frameOf(refA)];
            MemorySegment b = frames[frameOf(refB)];
            long entryA = a.get(ValueLayout.JAVA_LONG, offsetOf(refA));
            a.set(ValueLayout.JAVA_LONG, offsetOf(refA), b.get(ValueLayout.JAVA_LONG, offsetOf(refB)));
            b.set(ValueLayout.JAVA_LONG, offsetOf(refB), entryA);
            return GNTST_okay;
        } finally {
            lock.unlock();
        }
    }
}
