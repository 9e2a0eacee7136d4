package xenshim.handlers.gnttab;

import static xenshim.api.xen.XenGnttab.GNTCOPY_dest_gref;
import static xenshim.api.xen.XenGnttab.GNTCOPY_source_gref;
import static xenshim.api.xen.XenGnttab.GNTST_bad_copy_arg;
import static xenshim.api.xen.XenGnttab.GNTST_bad_domain;
import static xenshim.api.xen.XenGnttab.GNTST_bad_page;
import static xenshim.api.xen.XenGnttab.GNTST_okay;
import static xenshim.api.xen.XenGnttab.GNTST_permission_denied;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.ForeignFrames;
import xenshim.api.GrantTable;
import xenshim.api.GuestMemory;
import xenshim.api.xen.XenDomains;

/**
 * {@code GNTTABOP_copy}, as Xen 4.17's {@code gnttab_copy} and {@code gnttab_copy_one} do it. Per element:
 * both domains first (a side named by frame must be {@code DOMID_SELF}: {@code GNTST_permission_denied}; a
 * domain that does not exist {@code GNTST_bad_domain}; source before destination), then the source is
 * claimed (read pin of a grant to the caller, or a reference on the caller's frame: {@code GNTST_bad_page}),
 * then the destination (write pin or reference), then the range is checked: an offset plus {@code len}
 * past the page is {@code GNTST_bad_copy_arg}. The bytes are copied between the two frames themselves.
 *
 * <p>As Xen does, the last source and destination claimed are kept across the elements of one call
 * ({@code gnttab_copy_buf}): an element naming the same grant (or frame) on a side as the one before uses
 * the claim it holds, and a different one releases it first ({@code gnttab_copy_release_buf}, which clears
 * the grant's access flags once nothing else pins it) then claims anew. Both claims are released, and the
 * domains looked up again, when either side's domid changes or an element fails, and at the end of the
 * call (preempted, faulted or done). So while a batch copies from a grant, its {@code GTF_reading} stays
 * set from the first element naming it to the first that does not. Unlike Xen's
 * {@code gnttab_copy_buf_valid}, a grant claim never serves an element that names a frame (or the other
 * way round) whatever the numbers, and the frame-naming check ({@code GNTST_permission_denied}) is made
 * for every element, not only when the domids change.
 */
final class CopyOp {

    private static final int PAGE_SIZE = (int) ForeignFrames.PAGE_SIZE;

    static {
        for (Abi abi : Abi.values()) {
            if (COPY_FLAGS.offset(abi) != COPY_LEN.offset(abi) + 2 || PTR_OFFSET.offset(abi) != PTR_DOMID.offset(abi) + 2) {
                throw new ExceptionInInitializerError("gnttab_copy's len/flags or domid/offset are not adjacent");
            }
        }
    }

    private final DomainDirectory domains;

    CopyOp(DomainDirectory domains) {
        this.domains = domains;
    }

    /** The whole batch: {@code count} structs from {@code uop}, preempted and continued as {@link Batch} does. */
    long run(CallContext ctx, int cmd, long uop, int count, long a3, long a4) {
        Copier copier = new Copier(ctx, domains);
        try {
            return Batch.run(ctx, cmd, uop, count, size(ctx.abi(), l -> l.gnttab_copy), 1, copier, a3, a4);
        } finally {
            copier.releaseAll();
        }
    }

    /** One call's elements and the two claims it keeps between them ({@code gnttab_copy}'s {@code src}, {@code dest}). */
    private static final class Copier implements Batch.Element {

        private final DomainDirectory domains;
        private final Domain caller;
        private final int ldomid;
        private final Abi abi;
        private final long size;
        private final long sourceOffset;
        private final long destOffset;
        private final long lenOffset;
        private final long statusOffset;
        private final long ptrU;
        private final long ptrDomid;
        private final Claim source = new Claim(true);
        private final Claim dest = new Claim(false);

        Copier(CallContext ctx, DomainDirectory domains) {
            this.domains = domains;
            this.caller = ctx.domain();
            this.ldomid = caller.domid();
            this.abi = ctx.abi();
            this.size = size(abi, l -> l.gnttab_copy);
            this.sourceOffset = COPY_SOURCE.offset(abi);
            this.destOffset = COPY_DEST.offset(abi);
            this.lenOffset = COPY_LEN.offset(abi);
            this.statusOffset = COPY_STATUS.offset(abi);
            this.ptrU = PTR_U.offset(abi);
            this.ptrDomid = PTR_DOMID.offset(abi);
        }

        /**
         * {@code copy_from_guest} of the struct: its last byte, then its fields, all read before anything is
         * done (a struct whose first and last bytes can be read can be read whole); then the copy, and the
         * status back.
         */
        @Override
        public int serve(CallContext ctx, long op) {
            GuestMemory m = ctx.memory();
            m.read8(op + size - 1);
            int status = copyOne(m, op);
            if (status != GNTST_okay) {
                releaseAll();
            }
            status(m, op + statusOffset, status);
            return 0;
        }

        private int copyOne(GuestMemory m, long op) {
            // len and flags, and each side's domid and offset, are adjacent 16-bit fields: one read a pair
            int lenFlags = m.read32(op + lenOffset);
            int len = lenFlags & 0xFFFF;
            boolean sourceGref = (lenFlags & (GNTCOPY_source_gref << 16)) != 0;
            boolean destGref = (lenFlags & (GNTCOPY_dest_gref << 16)) != 0;
            long sourceKey = key(m, op + sourceOffset, sourceGref);
            long destKey = key(m, op + destOffset, destGref);
            int sourceDomidAt = m.read32(op + sourceOffset + ptrDomid);
            int destDomidAt = m.read32(op + destOffset + ptrDomid);
            int sourceDomid = sourceDomidAt & 0xFFFF;
            int destDomid = destDomidAt & 0xFFFF;
            // gnttab_copy_lock_domains, source then destination; the domains are kept while the domids are
            if (sourceDomid != XenDomains.DOMID_SELF && !sourceGref) {
                return GNTST_permission_denied;
            }
            if (sourceDomid != source.domid || destDomid != dest.domid) {
                releaseAll();
                if (!source.lock(domains, caller, sourceDomid)) {
                    return GNTST_bad_domain;
                }
            }
            if (destDomid != XenDomains.DOMID_SELF && !destGref) {
                return GNTST_permission_denied;
            }
            if (destDomid != dest.domid && !dest.lock(domains, caller, destDomid)) {
                return GNTST_bad_domain;
            }
            int rc = source.claim(sourceGref, sourceKey, ldomid);
            if (rc != GNTST_okay) {
                return rc;
            }
            rc = dest.claim(destGref, destKey, ldomid);
            if (rc != GNTST_okay) {
                return rc;
            }
            int sourceAt = sourceDomidAt >>> 16;
            int destAt = destDomidAt >>> 16;
            if (sourceAt + len > PAGE_SIZE || destAt + len > PAGE_SIZE) {
                return GNTST_bad_copy_arg;
            }
            source.frames.copy(source.frame, sourceAt, dest.frames, dest.frame, destAt, len);
            return GNTST_okay;
        }

        /** {@code u.ref} (unsigned) or {@code u.gmfn}. */
        private long key(GuestMemory m, long ptr, boolean gref) {
            return gref ? Integer.toUnsignedLong(m.read32(ptr + ptrU)) : abi.readULong(m, ptr + ptrU);
        }

        /** Both claims released and both domains let go ({@code gnttab_copy_release_buf}, {@code gnttab_copy_unlock_domains}). */
        void releaseAll() {
            source.release();
            dest.release();
            source.unlock();
            dest.unlock();
        }
    }

    /**
     * One side of the copies ({@code struct gnttab_copy_buf}): the domain it names, and what it holds of it
     * (a pinned grant or a referenced frame) with the page's memory.
     */
    private static final class Claim {

        /** No domain: a domid is 16 bits. */
        private static final int NONE = -1;

        private final boolean readonly;
        int domid = NONE;
        private Domain domain;
        private GrantTable table;
        /** The domain's RAM, for frames named by number. */
        private ForeignFrames ram;
        private boolean held;
        private boolean grant;
        /** The ref (unsigned) or gmfn held. */
        private long key;
        /** What the claim holds: the frame, in {@link #frames} (the grant table's RAM for a grant). */
        long frame;
        ForeignFrames frames;

        Claim(boolean readonly) {
            this.readonly = readonly;
        }

        /** {@code rcu_lock_domain_by_any_id}: false for a domain that does not exist. */
        boolean lock(DomainDirectory domains, Domain caller, int domid) {
            domain = domains.byAnyId(caller, domid).orElse(null);
            if (domain == null) {
                return false;
            }
            this.domid = domid;
            return true;
        }

        void unlock() {
            domain = null;
            table = null;
            ram = null;
            domid = NONE;
        }

        /**
         * {@code gnttab_copy_claim_buf} unless the claim held is the one asked for: a read (source) or write
         * pin of a grant to the caller ({@link GrantTable#acquire}'s status), or a reference on a frame of
         * the caller ({@code GNTST_bad_page} for one that is not RAM). What was held before is released first.
         */
        int claim(boolean gref, long key, int ldomid) {
            if (held && grant == gref && this.key == key) {
                return GNTST_okay;
            }
            long got;
            if (gref) {
                if (table == null) {
                    table = domain.state(GrantTable.KEY);
                }
                if (held && grant) {
                    held = false;
                    got = table.releaseAndAcquire((int) this.key, (int) key, ldomid, readonly);
                } else {
                    release();
                    got = table.acquire((int) key, ldomid, readonly, false);
                }
                if (got < 0) {
                    return (int) got;
                }
            } else {
                release();
                if (ram == null) {
                    ram = domain.find(ForeignFrames.KEY).orElse(ForeignFrames.NONE);
                }
                got = ram.get(key);
                if (got == ForeignFrames.NO_FRAME) {
                    return GNTST_bad_page;
                }
            }
            held = true;
            grant = gref;
            this.key = key;
            frame = got;
            frames = gref ? table.frames() : ram;
            return GNTST_okay;
        }

        /** {@code gnttab_copy_release_buf}: drops the pin or the reference held, if any. */
        void release() {
            if (!held) {
                return;
            }
            held = false;
            if (grant) {
                table.release((int) key, readonly);
            } else {
                ram.put(frame);
            }
        }
    }
}
