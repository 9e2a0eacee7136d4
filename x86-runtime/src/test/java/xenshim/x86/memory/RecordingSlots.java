package xenshim.x86.memory;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** A test double for KVM's memory slots: records every KVM_SET_USER_MEMORY_REGION and refuses what KVM would. */
final class RecordingSlots implements GuestPhysMemory.Slots {

    /** One installed slot: guest-physical start, offset into the host segment, length. */
    record Slot(long gpa, long hostOffset, long size) {
        long end() {
            return gpa + size;
        }
    }

    record Op(int slot, long gpa, long hostOffset, long size) {
    }

    private final MemorySegment base;
    private final int limit;
    final TreeMap<Integer, Slot> active = new TreeMap<>();
    final List<Op> ops = new ArrayList<>();

    RecordingSlots(MemorySegment base, int limit) {
        this.base = base;
        this.limit = limit;
    }

    @Override
    public void set(int slot, long guestPhysAddr, MemorySegment host) {
        if (slot < 0 || slot >= limit) {
            throw new IllegalStateException("KVM refuses slot " + slot + " (limit " + limit + ")");
        }
        if (host.byteSize() == 0) {
            if (active.remove(slot) == null) {
                throw new IllegalStateException("deleting slot " + slot + " that is not installed");
            }
            ops.add(new Op(slot, guestPhysAddr, -1, 0));
            return;
        }
        if (active.containsKey(slot)) {
            throw new IllegalStateException("slot " + slot + " is in use; KVM cannot move or resize it in place");
        }
        long offset = host.address() - base.address();
        if (offset < 0 || offset + host.byteSize() > base.byteSize() || offset % 4096 != 0 || guestPhysAddr % 4096 != 0) {
            throw new IllegalStateException("bad slot host range");
        }
        Slot s = new Slot(guestPhysAddr, offset, host.byteSize());
        for (Slot other : active.values()) {
            if (s.gpa() < other.end() && other.gpa() < s.end()) {
                throw new IllegalStateException("KVM refuses overlapping slots: " + s + " and " + other);
            }
        }
        active.put(slot, s);
        ops.add(new Op(slot, guestPhysAddr, offset, host.byteSize()));
    }

    @Override
    public int limit() {
        return limit;
    }

    /** The guest-physical page → host offset mapping KVM would see. */
    Map<Long, Long> kvmView() {
        TreeMap<Long, Long> view = new TreeMap<>();
        for (Slot s : active.values()) {
            for (long p = 0; p < s.size(); p += 4096) {
                view.put((s.gpa() + p) >>> 12, s.hostOffset() + p);
            }
        }
        return view;
    }

    /** Asserts that KVM's slots map exactly the frames the p2m maps, to the same host pages. */
    void assertConsistentWith(GuestPhysMemory phys, long... extraGpfns) {
        Map<Long, Long> view = kvmView();
        TreeMap<Long, Long> p2m = new TreeMap<>();
        long limitGpfn = phys.maxPages() + 16;
        for (long g = 0; g < limitGpfn; g++) {
            long h = phys.translate(g << 12);
            if (h >= 0) {
                p2m.put(g, h);
            }
        }
        for (long g : extraGpfns) {
            long h = phys.translate(g << 12);
            if (h >= 0) {
                p2m.put(g, h);
            }
        }
        for (var e : view.entrySet()) {
            if (e.getKey() >= limitGpfn && java.util.Arrays.stream(extraGpfns).noneMatch(x -> x == e.getKey())) {
                p2m.putIfAbsent(e.getKey(), phys.translate(e.getKey() << 12));
            }
        }
        assertThat(view).as("KVM slots vs p2m").isEqualTo(p2m);
        assertThat(active.size()).isLessThanOrEqualTo(limit);
    }
}
