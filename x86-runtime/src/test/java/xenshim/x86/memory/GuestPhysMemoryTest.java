package xenshim.x86.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;
import static xenshim.api.xen.XenErrno.XEN_ENOMEM;
import static xenshim.api.xen.XenMemory.XENMAPSPACE_gmfn;
import static xenshim.api.xen.XenMemory.XENMAPSPACE_gmfn_range;
import static xenshim.api.xen.XenMemory.XENMAPSPACE_grant_table;
import static xenshim.api.xen.XenMemory.XENMAPSPACE_shared_info;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xenshim.api.ForeignFrames;
import xenshim.api.GrantTable;
import xenshim.api.PhysMap.MemoryMapEntry;
import xenshim.api.xen.XenGnttab;

class GuestPhysMemoryTest {

    static final long PAGE = GuestPhysMemory.PAGE_SIZE;
    static final long RAM_PAGES = 64;
    static final long RAM = RAM_PAGES * PAGE;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment host = arena.allocate(RAM + GuestPhysMemory.HYPERVISOR_PAGES * PAGE, PAGE);

    @AfterEach
    void free() {
        arena.close();
    }

    private GuestPhysMemory phys(RecordingSlots slots) {
        return new GuestPhysMemory(host, RAM, List.of(new MemoryMapEntry(0, RAM, MemoryMapEntry.E820_RAM)), slots);
    }

    private long hostPage(GuestPhysMemory phys, long gpfn) {
        long h = phys.translate(gpfn << 12);
        return h < 0 ? -1 : h >>> 12;
    }

    private void mark(GuestPhysMemory phys, long gpfn, long value) {
        host.set(ValueLayout.JAVA_LONG, phys.translate(gpfn << 12), value);
    }

    private long marker(GuestPhysMemory phys, long gpfn) {
        return host.get(ValueLayout.JAVA_LONG, phys.translate(gpfn << 12));
    }

    @Test
    void startsAsOneRamRun() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        assertThat(slots.active).containsExactly(java.util.Map.entry(0, new RecordingSlots.Slot(0, 0, RAM)));
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
        assertThat(phys.maxPages()).isEqualTo(RAM_PAGES);
        assertThat(phys.maxMappedGpfn()).isEqualTo(RAM_PAGES - 1);
        assertThat(phys.sharedInfoGpfn()).isEqualTo(-1);
        assertThat(phys.translate(0x1234)).isEqualTo(0x1234);
        assertThat(phys.translate(RAM)).as("first frame after RAM").isEqualTo(-1);
        assertThat(phys.translate(-1)).isEqualTo(-1);
        assertThat(phys.hypervisorPageOffset(0)).isEqualTo(RAM);
        assertThat(phys.memoryMap()).hasSize(1);
    }

    @Test
    void sharedInfoInsideRamGivesUpThatRamPageAndSplitsTheSlots() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);

        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 10)).isZero();

        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES - 1);
        assertThat(phys.sharedInfoGpfn()).isEqualTo(10);
        assertThat(phys.translate((10 << 12) + 0x18)).isEqualTo(phys.hypervisorPageOffset(0) + 0x18);
        assertThat(slots.active.values()).containsExactlyInAnyOrder(
                new RecordingSlots.Slot(0, 0, 10 * PAGE),
                new RecordingSlots.Slot(10 * PAGE, RAM, PAGE),
                new RecordingSlots.Slot(11 * PAGE, 11 * PAGE, (RAM_PAGES - 11) * PAGE));
        slots.assertConsistentWith(phys);
        // mapping it again at the same frame changes nothing
        int before = slots.ops.size();
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 10)).isZero();
        assertThat(slots.ops).hasSize(before);
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES - 1);
    }

    @Test
    void sharedInfoKeepsItsContentWhenRemappedAndTheOldFrameStaysAHole() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 10)).isZero();
        host.set(ValueLayout.JAVA_LONG, phys.translate(10 << 12) + 8, 0x5A5A_1234_5678L);

        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 20)).isZero();

        assertThat(phys.sharedInfoGpfn()).isEqualTo(20);
        assertThat(host.get(ValueLayout.JAVA_LONG, phys.translate(20 << 12) + 8)).isEqualTo(0x5A5A_1234_5678L);
        assertThat(phys.translate(10 << 12)).as("old frame").isEqualTo(-1);
        assertThat(phys.totalPages()).as("RAM at 10 not given back; RAM at 20 given up").isEqualTo(RAM_PAGES - 2);
        slots.assertConsistentWith(phys);
    }

    @Test
    void sharedInfoAboveRam() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        host.set(ValueLayout.JAVA_LONG, RAM, 42L);

        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 0xF0000)).isZero();

        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
        assertThat(phys.sharedInfoGpfn()).isEqualTo(0xF0000);
        assertThat(phys.translate(0xF0000L << 12)).isEqualTo(RAM);
        assertThat(host.get(ValueLayout.JAVA_LONG, phys.translate(0xF0000L << 12))).isEqualTo(42L);
        assertThat(phys.maxMappedGpfn()).isEqualTo(0xF0000);
        assertThat(slots.active.values()).contains(new RecordingSlots.Slot(0xF0000L << 12, RAM, PAGE));
        slots.assertConsistentWith(phys, 0xF0000);

        // move it back into RAM: the high frame becomes a hole, its slot goes
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 3)).isZero();
        assertThat(phys.translate(0xF0000L << 12)).isEqualTo(-1);
        assertThat(slots.active.values()).noneMatch(s -> s.gpa() == 0xF0000L << 12);
        assertThat(phys.maxMappedGpfn()).as("only ever grows, like p2m->max_mapped_pfn").isEqualTo(0xF0000);
        slots.assertConsistentWith(phys, 0xF0000);
    }

    @Test
    void refusesBadArguments() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        int ops = slots.ops.size();
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 1, 10)).isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, -1, 10)).isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, GuestPhysMemory.MAX_GPFN)).isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, Long.MAX_VALUE)).isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, -1)).isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_grant_table, 64, 10)).as("beyond max_grant_frames")
                .isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_grant_table, 0x8000_0000L, 10)).as("a v2 status frame")
                .isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_gmfn_range, 0, 10)).isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(99, 0, 10)).isEqualTo(-XEN_EINVAL);
        assertThat(slots.ops).as("nothing touched").hasSize(ops);
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
        assertThat(phys.sharedInfoGpfn()).isEqualTo(-1);
        // the last frame below MAX_GPFN is fine
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, GuestPhysMemory.MAX_GPFN - 1)).isZero();
    }

    @Test
    void gmfnMovesARamPage() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        mark(phys, 5, 0x5555);
        long page5 = hostPage(phys, 5);

        assertThat(phys.addToPhysmap(XENMAPSPACE_gmfn, 5, 30)).isZero();

        assertThat(hostPage(phys, 30)).isEqualTo(page5);
        assertThat(marker(phys, 30)).isEqualTo(0x5555);
        assertThat(phys.translate(5 << 12)).isEqualTo(-1);
        assertThat(phys.totalPages()).as("the RAM at 30 was given up").isEqualTo(RAM_PAGES - 1);
        slots.assertConsistentWith(phys);

        assertThat(phys.addToPhysmap(XENMAPSPACE_gmfn, 5, 31)).as("from a hole").isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_gmfn, RAM_PAGES + 3, 31)).as("from beyond RAM").isEqualTo(-XEN_EINVAL);
        assertThat(phys.addToPhysmap(XENMAPSPACE_gmfn, 30, 30)).as("onto itself").isZero();
        assertThat(hostPage(phys, 30)).isEqualTo(page5);

        // a gmfn moved above RAM
        assertThat(phys.addToPhysmap(XENMAPSPACE_gmfn, 30, 0x1000)).isZero();
        assertThat(marker(phys, 0x1000)).isEqualTo(0x5555);
        assertThat(phys.maxMappedGpfn()).isEqualTo(0x1000);
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES - 1);
        slots.assertConsistentWith(phys, 0x1000);
    }

    @Test
    void sharedInfoIsNotAGmfn() {
        GuestPhysMemory phys = phys(new RecordingSlots(host, 32));
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 10)).isZero();
        assertThat(phys.addToPhysmap(XENMAPSPACE_gmfn, 10, 40)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void decreaseMakesHolesAndPopulateFillsThem() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        mark(phys, 9, 0x99);

        assertThat(phys.decrease(8, 2)).isZero();
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES - 4);
        for (long g = 8; g < 12; g++) {
            assertThat(phys.translate(g << 12)).as("gpfn %d", g).isEqualTo(-1);
        }
        slots.assertConsistentWith(phys);

        assertThat(phys.decrease(8, 0)).as("a hole").isEqualTo(-XEN_ENOENT);
        assertThat(phys.decrease(RAM_PAGES + 5, 0)).as("never populated").isEqualTo(-XEN_ENOENT);
        assertThat(phys.decrease(0, -1)).isEqualTo(-XEN_EINVAL);
        assertThat(phys.decrease(-1, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(phys.decrease(GuestPhysMemory.MAX_GPFN, 0)).isEqualTo(-XEN_EINVAL);

        assertThat(phys.populate(8, 2)).isTrue();
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
        assertThat(marker(phys, 9)).as("populated pages are zeroed").isZero();
        slots.assertConsistentWith(phys);

        assertThat(phys.populate(40, 0)).as("already RAM: needs nothing").isTrue();
        assertThat(phys.populate(RAM_PAGES + 1, 0)).as("beyond max_pages").isFalse();
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
        slots.assertConsistentWith(phys);
    }

    @Test
    void populateUpToMaxPagesAndNoFurther() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        assertThat(phys.decrease(16, 1)).isZero();
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES - 2);

        assertThat(phys.populate(0x2000, 2)).as("4 pages, only 2 free").isFalse();
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES - 2);
        assertThat(phys.translate(0x2000L << 12)).isEqualTo(-1);

        assertThat(phys.populate(0x2000, 1)).isTrue();
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
        assertThat(phys.translate(0x2001L << 12)).isNotEqualTo(-1);
        assertThat(phys.maxMappedGpfn()).isEqualTo(0x2001);
        slots.assertConsistentWith(phys, 0x2000, 0x2001);

        assertThat(phys.populate(16, 0)).isFalse();
        assertThat(phys.populate(-1, 0)).isFalse();
        assertThat(phys.populate(0, 31)).isFalse();
        assertThat(phys.populate(GuestPhysMemory.MAX_GPFN, 0)).isFalse();
    }

    @Test
    void populateOverSharedInfoUnhooksIt() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 10)).isZero();
        assertThat(phys.populate(10, 0)).isTrue();
        assertThat(phys.sharedInfoGpfn()).isEqualTo(-1);
        assertThat(phys.translate(10 << 12)).isBetween(0L, RAM - 1);
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
        slots.assertConsistentWith(phys);
    }

    @Test
    void slotExhaustionIsEnomemAndKeepsKvmConsistent() {
        RecordingSlots slots = new RecordingSlots(host, 3);
        GuestPhysMemory phys = phys(slots);
        assertThat(phys.decrease(RAM_PAGES - 1, 0)).isZero(); // 1 run
        assertThat(phys.decrease(10, 0)).isZero();            // 2 runs
        assertThat(phys.decrease(12, 0)).isZero();            // 3 runs
        slots.assertConsistentWith(phys);
        long total = phys.totalPages();

        assertThat(phys.decrease(14, 0)).as("a 4th run").isEqualTo(-XEN_ENOMEM);

        slots.assertConsistentWith(phys);
        assertThat(slots.active).hasSize(3);
        assertThat(phys.totalPages()).isEqualTo(total);
        assertThat(phys.translate(14 << 12)).as("the frame is still RAM").isEqualTo(14 * PAGE);

        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 20)).isEqualTo(-XEN_ENOMEM);
        slots.assertConsistentWith(phys);
        assertThat(phys.sharedInfoGpfn()).isEqualTo(-1);
        assertThat(phys.totalPages()).isEqualTo(total);

        assertThat(phys.populate(0x3000, 0)).isFalse();
        slots.assertConsistentWith(phys, 0x3000);
        assertThat(phys.totalPages()).isEqualTo(total);

        // filling a hole merges runs and works
        assertThat(phys.populate(12, 0)).isTrue();
        slots.assertConsistentWith(phys);
        assertThat(slots.active).hasSizeLessThanOrEqualTo(3);
    }

    @Test
    void maxMappedGpfnTracksTheHighestFrame() {
        GuestPhysMemory phys = phys(new RecordingSlots(host, 32));
        assertThat(phys.maxMappedGpfn()).isEqualTo(RAM_PAGES - 1);
        assertThat(phys.decrease(RAM_PAGES - 1, 0)).isZero();
        assertThat(phys.maxMappedGpfn()).isEqualTo(RAM_PAGES - 1);
        assertThat(phys.populate(0x500, 0)).isTrue();
        assertThat(phys.maxMappedGpfn()).isEqualTo(0x500);
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 0x400)).isZero();
        assertThat(phys.maxMappedGpfn()).isEqualTo(0x500);
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 0x800)).isZero();
        assertThat(phys.maxMappedGpfn()).isEqualTo(0x800);
    }

    @Test
    void eachFrameChangeCostsAFewSlotUpdatesNotAScanOfTheMap() {
        RecordingSlots slots = new RecordingSlots(host, 1000);
        GuestPhysMemory phys = phys(slots);
        for (long gpfn = 1; gpfn < RAM_PAGES; gpfn += 2) {
            int before = slots.ops.size();
            assertThat(phys.decrease(gpfn, 0)).isZero();
            // the run holding the frame goes, at most two pieces of it come back
            assertThat(slots.ops.size() - before).isLessThanOrEqualTo(3);
        }
        slots.assertConsistentWith(phys);
        for (long gpfn = 1; gpfn < RAM_PAGES; gpfn += 2) {
            int before = slots.ops.size();
            assertThat(phys.populate(gpfn, 0)).isTrue();
            // two neighbours and the new page become one run: three removals and one addition at most
            assertThat(slots.ops.size() - before).isLessThanOrEqualTo(4);
        }
        slots.assertConsistentWith(phys);
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
    }

    @Test
    void populatingAFrameThatIsAlreadyRamChangesNothing() {
        RecordingSlots slots = new RecordingSlots(host, 8);
        GuestPhysMemory phys = phys(slots);
        int before = slots.ops.size();
        for (int i = 0; i < 10_000; i++) {
            assertThat(phys.populate(5, 0)).isTrue();
        }
        assertThat(slots.ops.size()).isEqualTo(before);
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
    }

    // ---- grant-table frames and references ---------------------------------------------------------------

    @Test
    void grantTableFramesAreHypervisorPagesMappedWhereTheGuestAsks() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        GrantTable table = phys.grantTable();
        assertThat(table.nrFrames()).isEqualTo(1);

        assertThat(phys.addToPhysmap(XENMAPSPACE_grant_table, 2, 0x50)).isZero();

        assertThat(table.nrFrames()).as("grown to make frame 2").isEqualTo(3);
        assertThat(table.frameGfn(2)).isEqualTo(0x50);
        assertThat(phys.translate(0x50L << 12))
                .isEqualTo(phys.hypervisorPageOffset(GuestPhysMemory.GRANT_FRAME_PAGES + 2));
        table.writeEntry(2 * GrantTable.ENTRIES_PER_FRAME + 1, XenGnttab.GTF_permit_access, 0, 7);
        assertThat(host.get(ValueLayout.JAVA_SHORT, phys.translate((0x50L << 12) + 8)))
                .as("the guest sees the entry").isEqualTo((short) XenGnttab.GTF_permit_access);

        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 0x50)).isZero();
        assertThat(table.frameGfn(2)).as("shared_info mapped over it").isEqualTo(GrantTable.INVALID_GFN);
        slots.assertConsistentWith(phys, 0x50);
    }

    @Test
    void aReferencedPageLeavesThePhysmapButIsFreedOnlyByItsLastPut() {
        RecordingSlots slots = new RecordingSlots(host, 32);
        GuestPhysMemory phys = phys(slots);
        long frame = phys.get(5);
        assertThat(frame).isEqualTo(5);
        phys.window(frame).set(ValueLayout.JAVA_LONG, 0, 0xABCDL);

        assertThat(phys.decrease(5, 0)).as("guest_remove_page succeeds").isZero();
        assertThat(phys.totalPages()).as("still the domain's while referenced").isEqualTo(RAM_PAGES);
        assertThat(phys.decrease(6, 0)).isZero();
        assertThat(phys.populate(5, 0)).isTrue();
        assertThat(hostPage(phys, 5)).as("the free page, not the referenced one").isEqualTo(6);
        assertThat(phys.window(frame).get(ValueLayout.JAVA_LONG, 0)).as("untouched").isEqualTo(0xABCDL);

        phys.put(frame);
        assertThat(phys.totalPages()).isEqualTo(RAM_PAGES - 1);
        assertThat(phys.references(frame)).isZero();
        assertThat(phys.populate(6, 0)).as("now it can be reused").isTrue();
        assertThat(hostPage(phys, 6)).isEqualTo(5);
    }

    /**
     * References are taken without the lock: threads that hold a frame's page while another balloons that
     * frame out and in again never see the page handed back (zeroed by populate) under them, and every
     * page ends up either mapped or free, none lost.
     */
    @Test
    void referencesTakenWithoutTheLockNeverLoseAPageToABalloon() throws InterruptedException {
        try (Arena shared = Arena.ofShared()) {
            MemorySegment memory = shared.allocate(RAM + GuestPhysMemory.HYPERVISOR_PAGES * PAGE, PAGE);
            GuestPhysMemory phys = new GuestPhysMemory(memory, RAM,
                    List.of(new MemoryMapEntry(0, RAM, MemoryMapEntry.E820_RAM)), new RecordingSlots(memory, 32));
            assertThat(phys.decrease(40, 2)).as("four spare pages: more than the holders can keep released").isZero();
            AtomicBoolean stop = new AtomicBoolean();
            AtomicReference<String> failure = new AtomicReference<>();
            AtomicLong held = new AtomicLong();
            Thread[] holders = new Thread[2];
            for (int t = 0; t < holders.length; t++) {
                long offset = 8L * (t + 1);
                holders[t] = new Thread(() -> {
                    for (long n = 1; !stop.get(); n++) {
                        long frame = phys.get(5);
                        if (frame == ForeignFrames.NO_FRAME) {
                            continue;
                        }
                        MemorySegment page = phys.window(frame);
                        page.set(ValueLayout.JAVA_LONG, offset, n);
                        Thread.onSpinWait();
                        if (page.get(ValueLayout.JAVA_LONG, offset) != n) {
                            failure.compareAndSet(null, "page " + frame + " was handed back while held");
                        }
                        held.incrementAndGet();
                        phys.put(frame);
                    }
                });
                holders[t].start();
            }
            for (int i = 0; i < 20_000 || held.get() < 1000; i++) {
                assertThat(phys.decrease(5, 0)).isZero();
                assertThat(phys.populate(5, 0)).isTrue();
            }
            stop.set(true);
            for (Thread holder : holders) {
                holder.join();
            }
            assertThat(failure.get()).isNull();
            assertThat(phys.totalPages()).as("every page mapped again or free").isEqualTo(RAM_PAGES - 4);
            for (long mfn = 0; mfn < RAM_PAGES; mfn++) {
                assertThat(phys.references(mfn)).isZero();
            }
            assertThat(phys.populate(40, 2)).as("the pool has all four back").isTrue();
            assertThat(phys.totalPages()).isEqualTo(RAM_PAGES);
        }
    }

    @Test
    void aReferenceFollowsAMovedPage() {
        GuestPhysMemory phys = phys(new RecordingSlots(host, 32));
        long frame = phys.get(9);
        assertThat(phys.addToPhysmap(XENMAPSPACE_gmfn, 9, 0x70)).isZero();
        assertThat(hostPage(phys, 0x70)).isEqualTo(frame);
        phys.put(frame);
        assertThat(phys.totalPages()).as("still mapped, not freed").isEqualTo(RAM_PAGES);
    }

    @Test
    void onlyRamCanBeReferenced() {
        GuestPhysMemory phys = phys(new RecordingSlots(host, 32));
        assertThat(phys.addToPhysmap(XENMAPSPACE_shared_info, 0, 3)).isZero();
        assertThat(phys.get(3)).as("shared_info").isEqualTo(ForeignFrames.NO_FRAME);
        assertThat(phys.get(RAM_PAGES)).as("a hole").isEqualTo(ForeignFrames.NO_FRAME);
        assertThat(phys.get(-1)).isEqualTo(ForeignFrames.NO_FRAME);
        assertThat(phys.get(Long.MAX_VALUE)).isEqualTo(ForeignFrames.NO_FRAME);
        assertThatThrownBy(() -> phys.window(4)).isInstanceOf(IllegalStateException.class);
        assertThatThrownBy(() -> phys.put(4)).isInstanceOf(IllegalStateException.class);
    }
}
