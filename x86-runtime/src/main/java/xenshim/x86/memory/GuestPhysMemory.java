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
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import xenshim.api.PhysMap;
import xenshim.api.xen.XenMemory;

/**
 * A domain's guest-physical memory (Xen's p2m) over one host mapping: the
 * guest's RAM pages followed by a few hypervisor-owned pages (shared_info).
 *
 * <p>Each guest frame maps to a host page or to nothing (a hole). The frames
 * are handed to KVM as memory slots, one per run of frames whose host pages
 * are contiguous, and the slots are updated whenever the map changes. A
 * hypervisor page mapped with {@code XENMEM_add_to_physmap} keeps its content
 * when the guest maps it elsewhere; the frame it left becomes a hole, and the
 * RAM page it covers is given up, as on Xen.
 */
public final class GuestPhysMemory implements PhysMap {

    public static final int PAGE_SHIFT = 12;
    public static final long PAGE_SIZE = 1L << PAGE_SHIFT;
    /** Hypervisor-owned pages after RAM: shared_info is the first. */
    public static final int HYPERVISOR_PAGES = 1;
    /** Guest frames above this are refused: a 36-bit guest-physical space. */
    public static final long MAX_GPFN = (1L << 36) >>> PAGE_SHIFT;

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long NONE = -1;

    /** Where KVM's memory slots go; {@link xenshim.x86.vm.Machine} binds it to the VM. */
    public interface Slots {
        /** KVM_SET_USER_MEMORY_REGION; an empty {@code host} deletes the slot. */
        void set(int slot, long guestPhysAddr, MemorySegment host);

        /** How many slots KVM allows. */
        int limit();
    }

    private record Run(long firstGpfn, long hostPage, long pages) {
    }

    private final MemorySegment host;
    private final long ramPages;
    private final long[] ramP2m;
    private final TreeMap<Long, Long> highP2m = new TreeMap<>();
    private final Deque<Long> freeRam = new ArrayDeque<>();
    private final long[] hypervisorGpfn = new long[HYPERVISOR_PAGES];
    private final List<MemoryMapEntry> memoryMap;
    private final Slots slots;
    private final Map<Run, Integer> installed = new HashMap<>();
    private final Deque<Integer> freeSlots = new ArrayDeque<>();
    private int nextSlot;
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
        this.ramP2m = new long[Math.toIntExact(ramPages)];
        for (int i = 0; i < ramP2m.length; i++) {
            ramP2m[i] = i;
        }
        Arrays.fill(hypervisorGpfn, NONE);
        this.totalPages = ramPages;
        this.maxMappedGpfn = ramPages - 1;
        this.memoryMap = List.copyOf(memoryMap);
        this.slots = slots;
        updateSlots();
    }

    /** Host memory behind every frame: RAM, then hypervisor pages. */
    public MemorySegment host() {
        return host;
    }

    /** The host offset of hypervisor page {@code index} (0 = shared_info). */
    public long hypervisorPageOffset(int index) {
        return (ramPages + index) * PAGE_SIZE;
    }

    /** The frame shared_info is mapped at, or -1. */
    public synchronized long sharedInfoGpfn() {
        return hypervisorGpfn[0];
    }

    /**
     * The host offset of guest-physical {@code gpa}, or -1 for a hole. The
     * rest of its page follows contiguously. Lock-free: the map only ever
     * points into {@link #host()}.
     */
    public long translate(long gpa) {
        if (gpa < 0) {
            return NONE;
        }
        long gpfn = gpa >>> PAGE_SHIFT;
        long page;
        if (gpfn < ramPages) {
            page = ramP2m[(int) gpfn];
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

    private long get(long gpfn) {
        return gpfn < ramPages ? ramP2m[(int) gpfn] : highP2m.getOrDefault(gpfn, NONE);
    }

    private void put(long gpfn, long page) {
        if (gpfn < ramPages) {
            ramP2m[(int) gpfn] = page;
        } else if (page == NONE) {
            highP2m.remove(gpfn);
        } else {
            highP2m.put(gpfn, page);
        }
        if (page != NONE) {
            maxMappedGpfn = Math.max(maxMappedGpfn, gpfn);
        }
    }

    private boolean isRam(long page) {
        return page != NONE && page < ramPages;
    }

    /** Empties frame {@code gpfn}: a RAM page there is given up, a hypervisor page unhooked. */
    private void clear(long gpfn) {
        long page = get(gpfn);
        if (isRam(page)) {
            freeRam.push(page);
            totalPages--;
        } else if (page != NONE) {
            hypervisorGpfn[(int) (page - ramPages)] = NONE;
        }
        put(gpfn, NONE);
    }

    @Override
    public synchronized int addToPhysmap(int space, long idx, long gpfn) {
        if (gpfn < 0 || gpfn >= MAX_GPFN) {
            return -XEN_EINVAL;
        }
        long page;
        switch (space) {
            case XenMemory.XENMAPSPACE_shared_info -> {
                if (idx != 0) {
                    return -XEN_EINVAL;
                }
                page = ramPages;
            }
            case XenMemory.XENMAPSPACE_gmfn -> {
                if (idx < 0 || idx >= MAX_GPFN || !isRam(get(idx))) {
                    return -XEN_EINVAL;
                }
                if (idx == gpfn) {
                    return 0;
                }
                Snapshot before = snapshot();
                page = get(idx);
                put(idx, NONE);
                clear(gpfn);
                put(gpfn, page);
                return commit(before);
            }
            // No grant table frames exist yet: every index is out of range, as for a domain with max_grant_frames 0.
            default -> {
                return -XEN_EINVAL;
            }
        }
        int index = (int) (page - ramPages);
        if (hypervisorGpfn[index] == gpfn) {
            return 0;
        }
        Snapshot before = snapshot();
        if (hypervisorGpfn[index] != NONE) {
            put(hypervisorGpfn[index], NONE);
        }
        clear(gpfn);
        put(gpfn, page);
        hypervisorGpfn[index] = gpfn;
        return commit(before);
    }

    @Override
    public synchronized boolean populate(long gpfn, int order) {
        long count = 1L << order;
        if (order < 0 || order > 30 || gpfn < 0 || gpfn > MAX_GPFN - count) {
            return false;
        }
        long needed = 0;
        for (long i = 0; i < count; i++) {
            if (!isRam(get(gpfn + i))) {
                needed++;
            }
        }
        if (totalPages + needed > ramPages || needed > freeRam.size()) {
            return false;
        }
        Snapshot before = snapshot();
        for (long i = 0; i < count; i++) {
            if (!isRam(get(gpfn + i))) {
                clear(gpfn + i);
                long page = freeRam.pop();
                host.asSlice(page << PAGE_SHIFT, PAGE_SIZE).fill((byte) 0);
                put(gpfn + i, page);
                totalPages++;
            }
        }
        return commit(before) == 0;
    }

    @Override
    public synchronized int decrease(long gpfn, int order) {
        long count = 1L << order;
        if (order < 0 || order > 30 || gpfn < 0 || gpfn > MAX_GPFN - count) {
            return -XEN_EINVAL;
        }
        Snapshot before = snapshot();
        for (long i = 0; i < count; i++) {
            if (!isRam(get(gpfn + i))) {
                int rc = commit(before);
                return rc != 0 ? rc : -XEN_ENOENT;
            }
            clear(gpfn + i);
        }
        return commit(before);
    }

    /**
     * Brings KVM's slots in line with the map; -ENOMEM if KVM has too few, and
     * then the map goes back to {@code before}, which the old slots still
     * describe (else KVM would keep mapping frames the p2m calls holes, over
     * pages that may be handed out again).
     */
    private int commit(Snapshot before) {
        if (updateSlots()) {
            return 0;
        }
        restore(before);
        return -XEN_ENOMEM;
    }

    /** The mutable p2m state, to undo a change KVM's slots cannot follow. */
    private record Snapshot(long[] ram, TreeMap<Long, Long> high, ArrayDeque<Long> free, long[] hypervisor,
                            long totalPages, long maxMappedGpfn) {
    }

    private Snapshot snapshot() {
        return new Snapshot(ramP2m.clone(), new TreeMap<>(highP2m), new ArrayDeque<>(freeRam), hypervisorGpfn.clone(),
                totalPages, maxMappedGpfn);
    }

    private void restore(Snapshot s) {
        System.arraycopy(s.ram(), 0, ramP2m, 0, ramP2m.length);
        highP2m.clear();
        highP2m.putAll(s.high());
        freeRam.clear();
        freeRam.addAll(s.free());
        System.arraycopy(s.hypervisor(), 0, hypervisorGpfn, 0, hypervisorGpfn.length);
        totalPages = s.totalPages();
        maxMappedGpfn = s.maxMappedGpfn();
    }

    private boolean updateSlots() {
        List<Run> runs = runs();
        if (runs.size() > slots.limit()) {
            return false;
        }
        Map<Run, Integer> wanted = new HashMap<>();
        List<Run> added = new ArrayList<>();
        for (Run run : runs) {
            Integer slot = installed.get(run);
            if (slot != null) {
                wanted.put(run, slot);
            } else {
                added.add(run);
            }
        }
        for (var old : installed.entrySet()) {
            if (!wanted.containsKey(old.getKey())) {
                slots.set(old.getValue(), old.getKey().firstGpfn() << PAGE_SHIFT, MemorySegment.NULL);
                freeSlots.push(old.getValue());
            }
        }
        for (Run run : added) {
            int slot = freeSlots.isEmpty() ? nextSlot++ : freeSlots.pop();
            slots.set(slot, run.firstGpfn() << PAGE_SHIFT,
                    host.asSlice(run.hostPage() << PAGE_SHIFT, run.pages() << PAGE_SHIFT));
            wanted.put(run, slot);
        }
        installed.clear();
        installed.putAll(wanted);
        return true;
    }

    private List<Run> runs() {
        List<Run> runs = new ArrayList<>();
        long start = NONE;
        long startPage = NONE;
        long length = 0;
        for (long gpfn = 0; gpfn < ramPages; gpfn++) {
            long page = ramP2m[(int) gpfn];
            if (length > 0 && page == startPage + length && gpfn == start + length) {
                length++;
                continue;
            }
            if (length > 0) {
                runs.add(new Run(start, startPage, length));
            }
            start = gpfn;
            startPage = page;
            length = page == NONE ? 0 : 1;
        }
        if (length > 0) {
            runs.add(new Run(start, startPage, length));
        }
        for (var high : highP2m.entrySet()) {
            runs.add(new Run(high.getKey(), high.getValue(), 1));
        }
        return runs;
    }
}
