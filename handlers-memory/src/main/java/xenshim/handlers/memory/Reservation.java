package xenshim.handlers.memory;

import java.util.function.LongPredicate;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.GuestFault;
import xenshim.api.GuestMemory;
import xenshim.api.PhysMap;
import xenshim.api.xen.XenMemory;

/**
 * {@code XENMEM_increase_reservation}, {@code XENMEM_decrease_reservation}
 * and {@code XENMEM_populate_physmap}, as Xen 4.17's {@code do_memory_op}
 * serves them: the result is always the number of extents done, never an
 * errno. Every early failure (the struct cannot be read, too many extents,
 * {@code start_extent >= nr_extents}, no such domain, refused
 * {@code mem_flags}, a foreign target for an unprivileged caller, too large
 * an extent order) returns {@code start_extent}; a failure at extent
 * {@code i} returns {@code i}. A guest fault is caught here for that reason.
 *
 * <p>Long calls are preempted as in Xen: between extents (never before the
 * first of an entry) the loop asks {@link CallContext#preemptCheck} and, if
 * told to, returns a continuation whose {@code cmd} carries the extents done
 * above {@code MEMOP_EXTENT_SHIFT}; the re-entered call starts there.
 *
 * <p>Deviations, all returning what Xen returns for an allocation failure:
 * {@code increase_reservation} allocates pages without mapping them, which
 * xenshim's physmap cannot do (and its domains are built at
 * {@code max_pages}), so it does no extent; a target without a
 * {@link PhysMap} (not translated) does no extent; populate-on-demand for
 * another domain is not supported and does no extent (on oneself it stops
 * at once, as in Xen).
 */
final class Reservation {

    /** {@code UINT_MAX >> MEMOP_EXTENT_SHIFT}: more extents than a continuation can encode. */
    static final long MAX_NR_EXTENTS = 0xFFFF_FFFFL >>> XenMemory.MEMOP_EXTENT_SHIFT;
    /**
     * {@code MAX_ORDER} on x86: the largest order at all, and the populate-on-demand limit.
     * It is also {@code max_order()} for the control domain ({@code PAGEALLOC_MAX_ORDER}, the same
     * 18 on x86), so one constant serves both.
     */
    static final int MAX_ORDER = 18;

    private Reservation() {
    }

    /** Set in {@link #forEachExtent}'s result when it stopped for preemption, not at the end or a failure. */
    private static final long PREEMPTED = 1L << 62;

    /**
     * Serves one reservation op; {@code op} is one of the three, {@code a2..a4} the
     * registers a continuation leaves as they were.
     */
    static long serve(CallContext ctx, DomainDirectory domains, int op, long startExtent, long arg,
                      long a2, long a3, long a4) {
        Abi abi = ctx.abi();
        GuestMemory memory = ctx.memory();
        long extentStart;
        long nrExtents;
        int extentOrder;
        int memFlags;
        int domid;
        try {
            extentStart = abi.readULong(memory, arg + MemopLayout.RESERVATION_EXTENT_START.offset(abi));
            nrExtents = abi.readULong(memory, arg + MemopLayout.RESERVATION_NR_EXTENTS.offset(abi));
            extentOrder = memory.read32(arg + MemopLayout.RESERVATION_EXTENT_ORDER.offset(abi));
            memFlags = memory.read32(arg + MemopLayout.RESERVATION_MEM_FLAGS.offset(abi));
            domid = Short.toUnsignedInt(memory.read16(arg + MemopLayout.RESERVATION_DOMID.offset(abi)));
        } catch (GuestFault fault) {
            return startExtent;
        }
        if (Long.compareUnsigned(nrExtents, MAX_NR_EXTENTS) > 0
                || Long.compareUnsigned(startExtent, nrExtents) >= 0) {
            return startExtent;
        }
        Domain caller = ctx.domain();
        Domain target = domains.byAnyId(caller, domid).orElse(null);
        if (target == null || !MemFlags.acceptable(caller, memFlags)) {
            return startExtent;
        }
        if (target != caller && !caller.isPrivileged()) { // xsm_memory_adjust_reservation(XSM_TARGET)
            return startExtent;
        }
        boolean pod = op == XenMemory.XENMEM_populate_physmap && MemFlags.populateOnDemand(memFlags);
        int maxOrder = pod ? MAX_ORDER : maxOrder(caller);
        if (Integer.compareUnsigned(extentOrder, maxOrder) > 0) {
            return startExtent;
        }
        PhysMap physMap = target.find(PhysMap.KEY).orElse(null);
        if (physMap == null) {
            return startExtent;
        }
        long done = switch (op) {
            case XenMemory.XENMEM_populate_physmap -> pod
                    ? startExtent // PoD on oneself stops at once in Xen; for another domain xenshim has none
                    : forEachExtent(ctx, extentStart, startExtent, nrExtents,
                            gpfn -> physMap.populate(gpfn, extentOrder));
            case XenMemory.XENMEM_decrease_reservation ->
                    forEachExtent(ctx, extentStart, startExtent, nrExtents,
                            gmfn -> physMap.decrease(gmfn, extentOrder) == 0);
            default -> startExtent; // increase_reservation: no unmapped allocation in xenshim
        };
        if ((done & PREEMPTED) != 0) {
            long cmd = op | ((done & ~PREEMPTED) << XenMemory.MEMOP_EXTENT_SHIFT);
            return ctx.createContinuation(cmd, arg, a2, a3, a4);
        }
        return done;
    }

    /** {@code max_order(current->domain)} on x86 with the default {@code memop-max-order}. */
    static int maxOrder(Domain caller) {
        return caller.isPrivileged() ? MAX_ORDER : XenMemory.DOMU_MAX_ORDER;
    }

    /**
     * The extent loop of {@code populate_physmap} and {@code decrease_reservation}:
     * each {@code extent_start[i]} (an ABI {@code xen_pfn_t}) is handed to
     * {@code extent}, until one fails or cannot be read. Returns the index
     * reached: the number of extents done, with {@link #PREEMPTED} set if the
     * caller asked it to stop there. At least one extent per entry, then as many
     * as the caller's time slice allows.
     */
    private static long forEachExtent(CallContext ctx, long list, long start, long nrExtents,
                                      LongPredicate extent) {
        Abi abi = ctx.abi();
        GuestMemory memory = ctx.memory();
        long i = start;
        for (; i < nrExtents; i++) {
            if (i != start && ctx.preemptCheck()) {
                return i | PREEMPTED;
            }
            long frame;
            try {
                frame = abi.readULong(memory, list + i * abi.longSize());
            } catch (GuestFault fault) {
                break;
            }
            if (!extent.test(frame)) {
                break;
            }
        }
        return i;
    }
}
