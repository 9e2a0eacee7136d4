package xenshim.api;

import static xenshim.api.xen.XenGnttab.GNTMAP_application_map;
import static xenshim.api.xen.XenGnttab.GNTMAP_contains_pte;
import static xenshim.api.xen.XenGnttab.GNTMAP_device_map;
import static xenshim.api.xen.XenGnttab.GNTMAP_host_map;
import static xenshim.api.xen.XenGnttab.GNTMAP_readonly;
import static xenshim.api.xen.XenGnttab.GNTST_bad_gntref;
import static xenshim.api.xen.XenGnttab.GNTST_bad_handle;
import static xenshim.api.xen.XenGnttab.GNTST_general_error;
import static xenshim.api.xen.XenGnttab.GNTST_no_space;
import static xenshim.api.xen.XenGnttab.GNTST_okay;

import java.lang.foreign.MemorySegment;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;
import xenshim.api.xen.XenGnttab;

/**
 * One domain's mappings of other domains' grants, as the mapping side: its maptrack (the handles
 * {@code GNTTABOP_map_grant_ref} returns) and the frames of its physmap that hold grant mappings. Found by
 * {@link #KEY}, so a swapped-in handler unmaps what an older one mapped.
 *
 * <p>A mapping by the in-process dom0 ({@link DomainType#LOCAL}) is the granted page itself, zero copies:
 * {@link #segment} gives Java backend code a window onto the granting guest's frame, read-only for a
 * {@code GNTMAP_readonly} mapping. Its {@code host_addr} is the guest-physical address the mapping takes
 * in dom0's (auto-translated, RAM-less) physmap, as an HVM dom0's would; a second mapping at the same
 * address is refused, and unmapping needs the address back, as on Xen. An {@link DomainType#HVM} guest
 * cannot map grants yet: xenshim cannot put another domain's page into a guest's KVM physmap, so its
 * {@code create_grant_host_mapping} fails ({@code GNTST_general_error}, what Xen answers when the p2m
 * update fails).
 *
 * <p>Handles are taken in order from maptrack frames of {@link XenGnttab#MAPTRACK_PER_PAGE}, added as
 * needed up to the limit ({@code max_maptrack_frames}); a freed handle is reused after the free ones
 * before it, as Xen's free list (appending at its tail) does.
 */
public final class GrantMappings {

    /** Every domain's grant mappings. */
    public static final DomainKey<GrantMappings> KEY = DomainKey.of("grant mappings", GrantMappings::new);

    /** The status, handle and device address {@code GNTTABOP_map_grant_ref} reports. */
    public record MapResult(int status, int handle, long devBusAddr) {
        static MapResult failed(int status) {
            return new MapResult(status, 0, 0);
        }
    }

    /** One maptrack entry: whose grant, how mapped, where, and the pinned frame. */
    private record Mapping(Domain granter, int ref, int flags, long hostGfn, long frame) {
        boolean readonly() {
            return (flags & GNTMAP_readonly) != 0;
        }
    }

    /** Guest frames beyond 2^40 (52-bit guest-physical addresses) cannot be in any physmap. */
    private static final long MAX_GFN = 1L << 40;
    private static final int PAGE_SHIFT = 12;

    private final ReentrantLock lock = new ReentrantLock();
    private final int maxHandles;
    private final List<Mapping> maptrack = new ArrayList<>();
    private final ArrayDeque<Integer> free = new ArrayDeque<>();
    private final Map<Long, Integer> hostFrames = new HashMap<>();

    /** Xen's default limit: 1024 maptrack frames, 262144 handles. */
    public GrantMappings() {
        this(XenGnttab.DEFAULT_MAX_MAPTRACK_FRAMES);
    }

    /** @param maxMaptrackFrames {@code max_maptrack_frames}: at most 256 handles each */
    public GrantMappings(int maxMaptrackFrames) {
        if (maxMaptrackFrames < 0 || maxMaptrackFrames > XenGnttab.DEFAULT_MAX_MAPTRACK_FRAMES) {
            throw new IllegalArgumentException("max maptrack frames " + maxMaptrackFrames);
        }
        this.maxHandles = maxMaptrackFrames * XenGnttab.MAPTRACK_PER_PAGE;
    }

    // ---- handles -----------------------------------------------------------------------------------------

    /** {@code get_maptrack_handle}: the next free handle, adding a maptrack frame if there is room; -1 if none. */
    private int takeHandle() {
        lock.lock();
        try {
            if (free.isEmpty() && maptrack.size() < maxHandles) {
                for (int i = 0; i < XenGnttab.MAPTRACK_PER_PAGE; i++) {
                    free.add(maptrack.size());
                    maptrack.add(null);
                }
            }
            Integer handle = free.poll();
            return handle == null ? -1 : handle;
        } finally {
            lock.unlock();
        }
    }

    /** {@code put_maptrack_handle}; call with the lock held. */
    private void putHandle(int handle) {
        maptrack.set(handle, null);
        free.add(handle);
    }

    private void returnHandle(int handle) {
        lock.lock();
        try {
            putHandle(handle);
        } finally {
            lock.unlock();
        }
    }

    /** How many handles map something now. */
    public int activeMappings() {
        lock.lock();
        try {
            return maptrack.size() - free.size();
        } finally {
            lock.unlock();
        }
    }

    // ---- map and unmap ---------------------------------------------------------------------------------

    /**
     * {@code map_grant_ref}: {@code ld} maps {@code rd}'s grant {@code ref}. In Xen's order: neither
     * {@code GNTMAP_host_map} nor {@code GNTMAP_device_map} ({@code GNTST_bad_gntref}); device, application
     * or PTE mappings, which a translated mapper cannot make ({@code GNTST_general_error}); no free handle
     * ({@code GNTST_no_space}); the pin ({@link GrantTable#acquire}); then the host mapping at
     * {@code hostAddr}: only {@code GNTMAP_host_map} with at most {@code GNTMAP_readonly}, and a physmap
     * frame that holds no other grant mapping ({@code GNTST_general_error}, the pin undone).
     *
     * @param rd the granting domain, found by the caller ({@code GNTST_bad_domain} if it cannot)
     */
    public static MapResult map(Domain ld, Domain rd, int ref, int flags, long hostAddr) {
        if ((flags & (GNTMAP_device_map | GNTMAP_host_map)) == 0) {
            return MapResult.failed(GNTST_bad_gntref);
        }
        if ((flags & (GNTMAP_device_map | GNTMAP_application_map | GNTMAP_contains_pte)) != 0) {
            return MapResult.failed(GNTST_general_error); // paging_mode_external(ld): no device mapping
        }
        GrantMappings self = ld.state(KEY);
        int handle = self.takeHandle();
        if (handle < 0) {
            return MapResult.failed(GNTST_no_space);
        }
        GrantTable rgt = rd.state(GrantTable.KEY);
        boolean readonly = (flags & GNTMAP_readonly) != 0;
        long frame = rgt.acquire(ref, ld.domid(), readonly, true);
        if (frame < 0) {
            self.returnHandle(handle);
            return MapResult.failed((int) frame);
        }
        int rc = self.createHostMapping(ld, handle, new Mapping(rd, ref, flags, hostAddr >>> PAGE_SHIFT, frame));
        if (rc != GNTST_okay) {
            self.returnHandle(handle);
            rgt.release(ref, readonly);
            return MapResult.failed(rc);
        }
        return new MapResult(GNTST_okay, handle, frame << PAGE_SHIFT);
    }

    /** {@code create_grant_p2m_mapping}, then the maptrack entry. */
    private int createHostMapping(Domain ld, int handle, Mapping mapping) {
        if ((mapping.flags() & ~GNTMAP_readonly) != GNTMAP_host_map) {
            return GNTST_general_error;
        }
        if (ld.type() != DomainType.LOCAL || mapping.hostGfn() >= MAX_GFN) {
            return GNTST_general_error; // no foreign page in a guest's KVM physmap; a gfn no physmap has
        }
        lock.lock();
        try {
            if (hostFrames.putIfAbsent(mapping.hostGfn(), handle) != null) {
                return GNTST_general_error; // the p2m refuses to replace a grant mapping
            }
            maptrack.set(handle, mapping);
            return GNTST_okay;
        } finally {
            lock.unlock();
        }
    }

    /**
     * {@code unmap_common} and {@code unmap_common_complete} for {@code GNTTABOP_unmap_grant_ref} and
     * {@code GNTTABOP_unmap_and_replace}: a handle beyond the maptrack or not in use
     * ({@code GNTST_bad_handle}); a non-zero {@code devBusAddr} that is not the mapping's
     * ({@code GNTST_general_error}); then, for a non-zero {@code hostAddr}, {@code replace_grant_p2m_mapping}:
     * a non-zero {@code newAddr}, or a physmap frame at {@code hostAddr} that does not hold this grant's
     * frame, is {@code GNTST_general_error}; else the mapping goes, the handle is freed and the pin dropped.
     * A zero {@code hostAddr} unmaps nothing and is {@code GNTST_okay}, as on Xen.
     *
     * @param handle the guest's handle, unsigned
     */
    public static int unmap(Domain ld, int handle, long hostAddr, long devBusAddr, long newAddr) {
        GrantMappings self = ld.state(KEY);
        Mapping unmapped;
        self.lock.lock();
        try {
            if (Integer.compareUnsigned(handle, self.maptrack.size()) >= 0 || self.maptrack.get(handle) == null) {
                return GNTST_bad_handle;
            }
            Mapping mapping = self.maptrack.get(handle);
            if (devBusAddr != 0 && devBusAddr != mapping.frame() << PAGE_SHIFT) {
                return GNTST_general_error;
            }
            if (hostAddr == 0) {
                return GNTST_okay;
            }
            int rc = self.removeHostMapping(mapping, hostAddr >>> PAGE_SHIFT, newAddr);
            if (rc != GNTST_okay) {
                return rc;
            }
            self.putHandle(handle);
            unmapped = mapping;
        } finally {
            self.lock.unlock();
        }
        unmapped.granter().state(GrantTable.KEY).release(unmapped.ref(), unmapped.readonly());
        return GNTST_okay;
    }

    /** {@code replace_grant_p2m_mapping}; call with the lock held. */
    private int removeHostMapping(Mapping mapping, long gfn, long newAddr) {
        if (newAddr != 0) {
            return GNTST_general_error;
        }
        Integer there = hostFrames.get(gfn);
        Mapping held = there == null ? null : maptrack.get(there);
        if (held == null || held.granter() != mapping.granter() || held.frame() != mapping.frame()) {
            return GNTST_general_error; // not a grant mapping of this frame
        }
        hostFrames.remove(gfn);
        return GNTST_okay;
    }

    /**
     * {@code gnttab_release_mappings}: drops every mapping of a dying domain, unpinning what it mapped.
     *
     * @return how many mappings there were
     */
    public static int releaseAll(Domain ld) {
        GrantMappings self = ld.find(KEY).orElse(null);
        if (self == null) {
            return 0;
        }
        List<Mapping> released = new ArrayList<>();
        self.lock.lock();
        try {
            for (int handle = 0; handle < self.maptrack.size(); handle++) {
                Mapping mapping = self.maptrack.get(handle);
                if (mapping != null) {
                    released.add(mapping);
                    self.putHandle(handle);
                }
            }
            self.hostFrames.clear();
        } finally {
            self.lock.unlock();
        }
        for (Mapping mapping : released) {
            mapping.granter().state(GrantTable.KEY).release(mapping.ref(), mapping.readonly());
        }
        return released.size();
    }

    // ---- what dom0's Java code uses --------------------------------------------------------------------

    /**
     * The granted page behind {@code handle}: the granting domain's frame itself, 4 KiB, read-only for a
     * read-only mapping. Valid until the handle is unmapped (and while the granting domain's memory lives);
     * do not keep it beyond.
     *
     * @throws IllegalArgumentException if {@code handle} maps nothing
     */
    public MemorySegment segment(int handle) {
        Mapping mapping = mapping(handle);
        return mapping.granter().state(GrantTable.KEY).window(mapping.frame(), mapping.readonly());
    }

    /** Whether {@code handle} maps something now. */
    public boolean isMapped(int handle) {
        lock.lock();
        try {
            return handle >= 0 && handle < maptrack.size() && maptrack.get(handle) != null;
        } finally {
            lock.unlock();
        }
    }

    /** Whether a live mapping reports {@code devBusAddr} as its device address ({@code GNTTABOP_cache_flush}). */
    public boolean hasMappingAt(long devBusAddr) {
        lock.lock();
        try {
            for (Mapping mapping : maptrack) {
                if (mapping != null && mapping.frame() << PAGE_SHIFT == devBusAddr) {
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    private Mapping mapping(int handle) {
        lock.lock();
        try {
            Mapping mapping = handle >= 0 && handle < maptrack.size() ? maptrack.get(handle) : null;
            if (mapping == null) {
                throw new IllegalArgumentException("grant handle " + handle + " maps nothing");
            }
            return mapping;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public String toString() {
        return "GrantMappings[" + activeMappings() + " of " + maxHandles + "]";
    }
}
