package xenshim.handlers.memory;

import static xenshim.api.xen.XenErrno.XEN_EACCES;
import static xenshim.api.xen.XenErrno.XEN_EDOM;
import static xenshim.api.xen.XenErrno.XEN_EILSEQ;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EOVERFLOW;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.GuestMemory;
import xenshim.api.PhysMap;
import xenshim.api.xen.XenMemory;

/**
 * {@code XENMEM_add_to_physmap}, in the order of Xen 4.17's
 * {@code do_memory_op}, {@code xatp_permission_check} and
 * {@code xenmem_add_to_physmap}: {@code start_extent} wider than the 16-bit
 * {@code size} ({@code -EDOM}); the struct copy ({@code -EFAULT});
 * {@code XENMAPSPACE_gmfn_foreign}, which only the batch op takes
 * ({@code -ENOSYS}); the domain by any id ({@code -ESRCH}); a target
 * without a {@link PhysMap}, i.e. not translated ({@code -EACCES});
 * {@code XENMAPSPACE_dev_mmio} unless a privileged domain maps into itself
 * ({@code -EACCES}); a foreign target for an unprivileged caller
 * ({@code -EPERM}); {@code gpfn == INVALID_GFN} ({@code -EINVAL}). Then one
 * frame of the space is mapped by the target's physmap, whose result is
 * returned; or, for {@code XENMAPSPACE_gmfn_range}, {@code size} frames from
 * {@code start_extent} on as {@code XENMAPSPACE_gmfn}, stopping at the first
 * failure ({@code size < start_extent} is {@code -EILSEQ}, a range that
 * wraps is {@code -EOVERFLOW}). A range is preempted between frames as Xen
 * 4.17 preempts it: the frames done so far go into the continuation's
 * {@code cmd} above {@code MEMOP_EXTENT_SHIFT}, and the struct in guest
 * memory is left as it is (Xen works on its own copy; older Xen versions
 * advanced {@code idx}, {@code gpfn} and {@code size} in the guest's struct
 * instead, 4.17 does not).
 *
 * <p>For a compat caller {@code idx} and {@code gpfn} are 32-bit and
 * zero-extended, as Xen's compat translation does, so a compat
 * {@code gpfn} of {@code 0xffffffff} is not {@code INVALID_GFN} (all ones in
 * 64 bits) and goes to the physmap, as in Xen.
 */
final class AddToPhysmap {

    /** {@code INVALID_GFN}: {@code ~0UL}. */
    static final long INVALID_GFN = -1L;

    private AddToPhysmap() {
    }

    static long serve(CallContext ctx, DomainDirectory domains, long startExtent, long arg,
                      long a2, long a3, long a4) {
        if (Long.compareUnsigned(startExtent, 0xFFFF) > 0) {
            return -XEN_EDOM;
        }
        Abi abi = ctx.abi();
        GuestMemory memory = ctx.memory();
        int domid = Short.toUnsignedInt(memory.read16(arg + MemopLayout.ATP_DOMID.offset(abi)));
        int size = Short.toUnsignedInt(memory.read16(arg + MemopLayout.ATP_SIZE.offset(abi)));
        int space = memory.read32(arg + MemopLayout.ATP_SPACE.offset(abi));
        long idx = abi.readULong(memory, arg + MemopLayout.ATP_IDX.offset(abi));
        long gpfn = abi.readULong(memory, arg + MemopLayout.ATP_GPFN.offset(abi));

        if (space == XenMemory.XENMAPSPACE_gmfn_foreign) {
            return -XEN_ENOSYS;
        }
        Domain caller = ctx.domain();
        Domain target = domains.byAnyId(caller, domid).orElse(null);
        if (target == null) {
            return -XEN_ESRCH;
        }
        PhysMap physMap = target.find(PhysMap.KEY).orElse(null);
        int rc = permissionCheck(caller, target, physMap, space);
        if (rc != 0) {
            return rc;
        }
        if (gpfn == INVALID_GFN) {
            return -XEN_EINVAL;
        }
        if (space != XenMemory.XENMAPSPACE_gmfn_range) {
            return physMap.addToPhysmap(space, idx, gpfn);
        }
        long done = addRange(ctx, physMap, idx, gpfn, size, (int) startExtent);
        if (done > 0) { // preempted with this many frames done, as do_memory_op continues it
            return ctx.createContinuation(XenMemory.XENMEM_add_to_physmap | (done << XenMemory.MEMOP_EXTENT_SHIFT),
                    arg, a2, a3, a4);
        }
        return done;
    }

    /** {@code xatp_permission_check}. */
    private static int permissionCheck(Domain caller, Domain target, PhysMap physMap, int space) {
        if (physMap == null) { // !paging_mode_translate(d)
            return -XEN_EACCES;
        }
        if (space == XenMemory.XENMAPSPACE_dev_mmio && !(target.isPrivileged() && target == caller)) {
            return -XEN_EACCES;
        }
        if (target != caller && !caller.isPrivileged()) { // xsm_add_to_physmap(XSM_TARGET)
            return -XEN_EPERM;
        }
        return 0;
    }

    /**
     * The {@code XENMAPSPACE_gmfn_range} part of {@code xenmem_add_to_physmap}: 0 when the range is done,
     * a negative errno at the first failure, or the frames done (from the start of the range) when the
     * caller asked to preempt, which it may between frames but not after the last one.
     */
    private static long addRange(CallContext ctx, PhysMap physMap, long idx, long gpfn, int size, int start) {
        if (size < start) {
            return -XEN_EILSEQ;
        }
        if (Long.compareUnsigned(gpfn + size, gpfn) < 0 || Long.compareUnsigned(idx + size, idx) < 0) {
            return -XEN_EOVERFLOW;
        }
        for (int i = start; i < size; i++) {
            int rc = physMap.addToPhysmap(XenMemory.XENMAPSPACE_gmfn, idx + i, gpfn + i);
            if (rc < 0) {
                return rc;
            }
            if (i + 1 < size && ctx.preemptCheck()) {
                return i + 1;
            }
        }
        return 0;
    }
}
