package xenshim.handlers.gnttab;

import static xenshim.api.xen.XenGnttab.GNTCOPY_dest_gref;
import static xenshim.api.xen.XenGnttab.GNTCOPY_source_gref;
import static xenshim.api.xen.XenGnttab.GNTST_bad_copy_arg;
import static xenshim.api.xen.XenGnttab.GNTST_bad_domain;
import static xenshim.api.xen.XenGnttab.GNTST_bad_page;
import static xenshim.api.xen.XenGnttab.GNTST_okay;
import static xenshim.api.xen.XenGnttab.GNTST_permission_denied;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import java.lang.foreign.MemorySegment;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.ForeignFrames;
import xenshim.api.GrantTable;
import xenshim.api.GuestMemory;
import xenshim.api.xen.XenDomains;

/**
 * One element of {@code GNTTABOP_copy}, as Xen 4.17's {@code gnttab_copy_one} does it: both domains
 * first (a side named by frame must be {@code DOMID_SELF}: {@code GNTST_permission_denied}; a domain that
 * does not exist {@code GNTST_bad_domain}; source before destination), then the source is claimed (read
 * pin of a grant to the caller, or a reference on the caller's frame: {@code GNTST_bad_page}), then the
 * destination (write pin or reference), then the range is checked: an offset plus {@code len} past the
 * page is {@code GNTST_bad_copy_arg}. The bytes are copied between the two frames themselves, and every
 * pin and reference is dropped before the next element. Xen keeps the last source and destination
 * claimed across the elements of one call; xenshim claims each element's afresh, which differs only in
 * when the access flags of a grant copied from twice in a row are cleared.
 */
final class CopyOp {

    private static final int PAGE_SIZE = (int) ForeignFrames.PAGE_SIZE;

    private final DomainDirectory domains;

    CopyOp(DomainDirectory domains) {
        this.domains = domains;
    }

    /** A claimed side of a copy: a pinned grant of {@code domain}, or a referenced frame of it. */
    private record Claim(Domain domain, int ref, long frame, boolean grant, boolean readonly) {

        /** A claim that did not happen: {@code frame} is its {@code GNTST_*}. */
        boolean failed() {
            return frame < 0;
        }

        MemorySegment page() {
            return grant ? domain.state(GrantTable.KEY).window(frame, readonly)
                    : readonly ? domain.state(ForeignFrames.KEY).readOnlyWindow(frame)
                    : domain.state(ForeignFrames.KEY).window(frame);
        }

        void release() {
            if (grant) {
                domain.state(GrantTable.KEY).release(ref, readonly);
            } else {
                domain.state(ForeignFrames.KEY).put(frame);
            }
        }
    }

    int copy(CallContext ctx, long op) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, op, l -> l.gnttab_copy);
        long source = op + COPY_SOURCE.offset(abi);
        long dest = op + COPY_DEST.offset(abi);
        int len = Short.toUnsignedInt(m.read16(op + COPY_LEN.offset(abi)));
        int flags = Short.toUnsignedInt(m.read16(op + COPY_FLAGS.offset(abi)));
        status(m, op + COPY_STATUS.offset(abi), copyOne(ctx, m, source, dest, len, flags));
        return 0;
    }

    private int copyOne(CallContext ctx, GuestMemory m, long source, long dest, int len, int flags) {
        boolean sourceGref = (flags & GNTCOPY_source_gref) != 0;
        boolean destGref = (flags & GNTCOPY_dest_gref) != 0;
        Locked sourceDomain = lockDomain(ctx, domid(m, source + PTR_DOMID.offset(ctx.abi())), sourceGref);
        if (sourceDomain.status() != GNTST_okay) {
            return sourceDomain.status();
        }
        Locked destDomain = lockDomain(ctx, domid(m, dest + PTR_DOMID.offset(ctx.abi())), destGref);
        if (destDomain.status() != GNTST_okay) {
            return destDomain.status();
        }
        Claim src = claim(ctx, m, source, sourceDomain.domain(), sourceGref, true);
        if (src.failed()) {
            return (int) src.frame();
        }
        try {
            Claim dst = claim(ctx, m, dest, destDomain.domain(), destGref, false);
            if (dst.failed()) {
                return (int) dst.frame();
            }
            try {
                int sourceOffset = Short.toUnsignedInt(m.read16(source + PTR_OFFSET.offset(ctx.abi())));
                int destOffset = Short.toUnsignedInt(m.read16(dest + PTR_OFFSET.offset(ctx.abi())));
                if (sourceOffset + len > PAGE_SIZE || destOffset + len > PAGE_SIZE) {
                    return GNTST_bad_copy_arg;
                }
                MemorySegment.copy(src.page(), sourceOffset, dst.page(), destOffset, len);
                return GNTST_okay;
            } finally {
                dst.release();
            }
        } finally {
            src.release();
        }
    }

    /** One side's domain, or the status that stops the copy. */
    private record Locked(Domain domain, int status) {
    }

    /**
     * {@code gnttab_copy_lock_domain}: only {@code DOMID_SELF} may name a frame
     * ({@code GNTST_permission_denied}); then the domain by any id ({@code GNTST_bad_domain}).
     */
    private Locked lockDomain(CallContext ctx, int domid, boolean gref) {
        if (domid != XenDomains.DOMID_SELF && !gref) {
            return new Locked(null, GNTST_permission_denied);
        }
        Domain domain = domains.byAnyId(ctx.domain(), domid).orElse(null);
        return new Locked(domain, domain == null ? GNTST_bad_domain : GNTST_okay);
    }

    /**
     * {@code gnttab_copy_claim_buf}: a read (source) or write pin of a grant to the caller, or a reference
     * on a frame of the caller; a failed claim holds the status ({@link GrantTable#acquire}'s, or
     * {@code GNTST_bad_page} for a frame that is not RAM).
     */
    private static Claim claim(CallContext ctx, GuestMemory m, long ptr, Domain domain, boolean gref,
                               boolean readonly) {
        Abi abi = ctx.abi();
        if (gref) {
            int ref = m.read32(ptr + PTR_U.offset(abi));
            long frame = domain.state(GrantTable.KEY).acquire(ref, ctx.domain().domid(), readonly, false);
            return new Claim(domain, ref, frame, true, readonly);
        }
        long gmfn = abi.readULong(m, ptr + PTR_U.offset(abi));
        long frame = domain.find(ForeignFrames.KEY).map(frames -> frames.get(gmfn)).orElse(ForeignFrames.NO_FRAME);
        return new Claim(domain, 0, frame == ForeignFrames.NO_FRAME ? GNTST_bad_page : frame, false, readonly);
    }
}
