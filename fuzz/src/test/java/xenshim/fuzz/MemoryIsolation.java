package xenshim.fuzz;

import static xenshim.api.xen.XenGnttab.GTF_permit_access;
import static xenshim.api.xen.XenGnttab.GTF_readonly;
import static xenshim.api.xen.XenGnttab.GTF_type_mask;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import xenshim.api.Domain;
import xenshim.api.GrantTable;
import xenshim.x86.memory.GuestPhysMemory;

/**
 * A domain's call must not change another domain's memory, except the pages that domain granted it
 * writable and the vcpu_infos its events are marked in. Before each call of an unprivileged domain the
 * other guests' RAM and dom0's memory are copied, with the pages the caller may write; after it, any
 * other page that changed is reported. (dom0 is privileged: Xen lets it manage other domains' memory.)
 * Reads across domains are checked by {@link CrossDomainAudit}.
 */
final class MemoryIsolation {

    private static final long PAGE = GuestPhysMemory.PAGE_SIZE;

    private final FuzzWorld world;
    private final Arena arena = Arena.ofConfined();
    private final List<MemorySegment> copies = new ArrayList<>();
    private final List<Set<Long>> writable = new ArrayList<>();
    private final MemorySegment dom0Copy;
    private Domain caller;

    MemoryIsolation(FuzzWorld world) {
        this.world = world;
        for (int i = 0; i < world.guests.size(); i++) {
            copies.add(arena.allocate(FuzzGuest.RAM, PAGE));
            writable.add(new HashSet<>());
        }
        dom0Copy = arena.allocate(FuzzWorld.DOM0_MEMORY, PAGE);
    }

    /** Before {@code caller}'s call. */
    void before(Domain who) {
        caller = who.isPrivileged() ? null : who;
        if (caller == null) {
            return;
        }
        for (int i = 0; i < world.guests.size(); i++) {
            FuzzGuest guest = world.guests.get(i);
            Set<Long> pages = writable.get(i);
            pages.clear();
            if (guest.domain == caller) {
                continue;
            }
            copies.get(i).copyFrom(guest.ram());
            pages.addAll(guest.vcpuInfoPages);
            GrantTable table = guest.phys.grantTable();
            for (int ref = 0; ref < table.nrEntries(); ref++) {
                int flags = table.flags(ref);
                if ((flags & GTF_type_mask) == GTF_permit_access && (flags & GTF_readonly) == 0
                        && table.domid(ref) == caller.domid()) {
                    pages.add(guest.hostPage(table.gfn(ref)));
                }
            }
        }
        dom0Copy.copyFrom(world.dom0Memory);
    }

    /** After the call: what it changed that it must not have. */
    List<String> after() {
        List<String> wrong = new ArrayList<>();
        if (caller == null) {
            return wrong;
        }
        for (int i = 0; i < world.guests.size(); i++) {
            FuzzGuest guest = world.guests.get(i);
            if (guest.domain == caller) {
                continue;
            }
            MemorySegment now = guest.ram();
            for (long page = 0; page < FuzzGuest.RAM_PAGES; page++) {
                if (!writable.get(i).contains(page) && changed(copies.get(i), now, page * PAGE, PAGE)) {
                    wrong.add(caller + "'s call changed " + guest.domain + "'s host page " + page
                            + ", which it was not granted");
                }
            }
        }
        if (changed(dom0Copy, world.dom0Memory, 0, FuzzWorld.DOM0_MEMORY)) {
            wrong.add(caller + "'s call changed dom0's memory");
        }
        return wrong;
    }

    private static boolean changed(MemorySegment before, MemorySegment now, long offset, long length) {
        return before.asSlice(offset, length).mismatch(now.asSlice(offset, length)) != -1;
    }

    void close() {
        arena.close();
    }
}
