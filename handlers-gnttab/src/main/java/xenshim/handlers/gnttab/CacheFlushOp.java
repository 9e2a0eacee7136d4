package xenshim.handlers.gnttab;

import static xenshim.api.xen.XenErrno.XEN_EILSEQ;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_EOPNOTSUPP;
import static xenshim.api.xen.XenGnttab.GNTTAB_CACHE_CLEAN;
import static xenshim.api.xen.XenGnttab.GNTTAB_CACHE_INVAL;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.ForeignFrames;
import xenshim.api.GrantMappings;
import xenshim.api.GuestMemory;

/**
 * {@code GNTTABOP_cache_flush}, whose elements end the call on an error (there is no status field), as
 * Xen 4.17's {@code cache_flush} on x86 answers: an offset, length or op out of range {@code -EINVAL}
 * (which {@code GNTTAB_CACHE_SOURCE_GREF} is too, being outside the op mask: Xen's later
 * {@code -EOPNOTSUPP} for it cannot be reached); a zero length or op is
 * nothing to do (but {@code -EILSEQ} if the call carries a continuation's progress); a device address
 * that names no page {@code -EINVAL}; then x86's cache maintenance: an invalidate alone
 * {@code -EOPNOTSUPP}, a clean (with or without invalidate) 0.
 *
 * <p>Deviation: xenshim's frame numbers are per domain, so {@code dev_bus_addr} can only name a page
 * through one of the caller's grant mappings (the {@code dev_bus_addr} its map returned, the purpose
 * of the op); the caller's own pages, which Xen also flushes, are {@code -EINVAL} here. Xen's search of
 * the granting table is what its progress in {@code cmd} (above {@code GNTTABOP_CONTINUATION_ARG_SHIFT})
 * records; xenshim's search is a lookup that never needs continuing, so only the {@code -EILSEQ} rule
 * reads it.
 */
final class CacheFlushOp {

    private static final int PAGE_SIZE = (int) ForeignFrames.PAGE_SIZE;

    private CacheFlushOp() {
    }

    /** An element for one call: {@code progress} is {@code cmd}'s bits above the op, zeroed after the first element. */
    static Batch.Element forCall(int progress) {
        int[] curRef = {progress};
        return (ctx, op) -> {
            int rc = flush(ctx, op, curRef[0]);
            curRef[0] = 0;
            return rc;
        };
    }

    private static int flush(CallContext ctx, long op, int curRef) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, op, l -> l.gnttab_cache_flush);
        long devBusAddr = m.read64(op + FLUSH_A.offset(abi));
        int offset = Short.toUnsignedInt(m.read16(op + FLUSH_OFFSET.offset(abi)));
        int length = Short.toUnsignedInt(m.read16(op + FLUSH_LENGTH.offset(abi)));
        int what = m.read32(op + FLUSH_OP.offset(abi));
        if (offset >= PAGE_SIZE || length > PAGE_SIZE || offset + length > PAGE_SIZE
                || (what & ~(GNTTAB_CACHE_INVAL | GNTTAB_CACHE_CLEAN)) != 0) {
            return -XEN_EINVAL;
        }
        if (length == 0 || what == 0) {
            return curRef == 0 ? 0 : -XEN_EILSEQ;
        }
        if (!ctx.domain().state(GrantMappings.KEY).hasMappingAt(devBusAddr & -PAGE_SIZE)) {
            return -XEN_EINVAL;
        }
        return what == GNTTAB_CACHE_INVAL ? -XEN_EOPNOTSUPP : 0;
    }
}
