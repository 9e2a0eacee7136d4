package xenshim.handlers.gnttab;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;
import static xenshim.api.xen.XenGnttab.GNTST_bad_domain;
import static xenshim.api.xen.XenGnttab.GNTST_bad_virt_addr;
import static xenshim.api.xen.XenGnttab.GNTST_general_error;
import static xenshim.api.xen.XenGnttab.GNTST_okay;
import static xenshim.api.xen.XenGnttab.GNTST_permission_denied;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.GuestFault;
import xenshim.api.GuestMemory;
import xenshim.api.GrantTable;

/**
 * The sub-ops that describe a table rather than change grants: {@code setup_table}, {@code query_size},
 * {@code set_version}, {@code get_version} and {@code get_status_frames}, as Xen 4.17's
 * {@code gnttab_setup_table} and siblings answer them. {@code dom} is found by any id
 * ({@code DOMID_SELF} is the caller); another domain's table is the business of a privileged caller only
 * ({@code XSM_TARGET}).
 */
final class TableInfo {

    private final DomainDirectory domains;

    TableInfo(DomainDirectory domains) {
        this.domains = domains;
    }

    /** The dummy XSM policy's {@code XSM_TARGET}. */
    static boolean target(Domain caller, Domain d) {
        return caller == d || caller.isPrivileged();
    }

    /** The domain {@code dom} names, by any id; null if there is none. */
    private Domain find(CallContext ctx, int dom) {
        return domains.byAnyId(ctx.domain(), dom).orElse(null);
    }

    /** Whether the caller may look at {@code d}'s table: {@code GNTST_bad_domain}, {@code GNTST_permission_denied} or okay. */
    private static int access(CallContext ctx, Domain d) {
        return d == null ? GNTST_bad_domain : !target(ctx.domain(), d) ? GNTST_permission_denied : GNTST_okay;
    }

    /**
     * {@code gnttab_setup_table}: {@code count} must be 1 ({@code -EINVAL}); then the table of {@code dom}
     * grows to at least {@code nr_frames} (beyond its limit {@code GNTST_general_error}) and the gfn each of
     * the first {@code nr_frames} frames is mapped at ({@code INVALID_GFN} if it is not) goes to
     * {@code frame_list}; a frame that cannot be written makes the status {@code GNTST_bad_virt_addr}
     * and the rest are still written. Only the status is written back.
     */
    long setup(CallContext ctx, long uop, int count) {
        if (count != 1) {
            return -XEN_EINVAL;
        }
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, uop, l -> l.gnttab_setup_table);
        int dom = domid(m, uop + SETUP_DOM.offset(abi));
        long nrFrames = Integer.toUnsignedLong(m.read32(uop + SETUP_NR_FRAMES.offset(abi)));
        long frameList = abi.readULong(m, uop + SETUP_FRAME_LIST.offset(abi));
        Domain d = find(ctx, dom);
        int status = access(ctx, d);
        if (status == GNTST_okay) {
            GrantTable table = d.state(GrantTable.KEY);
            status = table.setup(nrFrames);
            for (int i = 0; status != GNTST_general_error && i < nrFrames; i++) {
                try {
                    abi.writeULong(m, frameList + (long) i * abi.longSize(), table.frameGfn(i));
                } catch (GuestFault fault) {
                    status = GNTST_bad_virt_addr;
                }
            }
        }
        status(m, uop + SETUP_STATUS.offset(abi), status);
        return 0;
    }

    /** {@code gnttab_query_size}: {@code count} 1; the table's frames and limit, or a status. */
    long querySize(CallContext ctx, long uop, int count) {
        if (count != 1) {
            return -XEN_EINVAL;
        }
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, uop, l -> l.gnttab_query_size);
        Domain d = find(ctx, domid(m, uop + QUERY_DOM.offset(abi)));
        int status = access(ctx, d);
        if (status == GNTST_okay) {
            GrantTable table = d.state(GrantTable.KEY);
            m.write32(uop + QUERY_NR_FRAMES.offset(abi), table.nrFrames());
            m.write32(uop + QUERY_MAX_NR_FRAMES.offset(abi), table.maxFrames());
        }
        status(m, uop + QUERY_STATUS.offset(abi), status);
        return 0;
    }

    /**
     * {@code gnttab_set_version} on a Xen whose grant tables go up to v1 ({@code gnttab=max-ver:1}, the
     * per-domain {@code max_grant_version} 1): version 1 is what the table is (0); 2 is {@code -ENOSYS}
     * ("behave as before set_version was introduced"); any other {@code -EINVAL}. The table's version is
     * written back in every case; {@code count} is not looked at.
     */
    static long setVersion(CallContext ctx, long uop) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, uop, l -> l.gnttab_set_version);
        int version = m.read32(uop + SET_VERSION_VERSION.offset(abi));
        int rc = version == 1 ? 0 : version == 2 ? -XEN_ENOSYS : -XEN_EINVAL;
        m.write32(uop + SET_VERSION_VERSION.offset(abi), ctx.domain().state(GrantTable.KEY).version());
        return rc;
    }

    /** {@code gnttab_get_version}: {@code -ESRCH}, {@code -EPERM} ({@code XSM_TARGET}), else the version. */
    long getVersion(CallContext ctx, long uop) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, uop, l -> l.gnttab_get_version);
        Domain d = find(ctx, domid(m, uop + GET_VERSION_DOM.offset(abi)));
        if (d == null) {
            return -XEN_ESRCH;
        }
        if (!target(ctx.domain(), d)) {
            return -XEN_EPERM;
        }
        m.write32(uop + GET_VERSION_VERSION.offset(abi), d.state(GrantTable.KEY).version());
        return 0;
    }

    /**
     * {@code gnttab_get_status_frames}: {@code count} 1; a v1 table has no status frames, so any
     * {@code nr_frames} but 0 is {@code GNTST_general_error}, and 0 is {@code GNTST_okay} with nothing written.
     */
    long getStatusFrames(CallContext ctx, long uop, int count) {
        if (count != 1) {
            return -XEN_EINVAL;
        }
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, uop, l -> l.gnttab_get_status_frames);
        int nrFrames = m.read32(uop + STATUS_FRAMES_NR_FRAMES.offset(abi));
        int status = access(ctx, find(ctx, domid(m, uop + STATUS_FRAMES_DOM.offset(abi))));
        if (status == GNTST_okay && nrFrames != 0) {
            status = GNTST_general_error;
        }
        status(m, uop + STATUS_FRAMES_STATUS.offset(abi), status);
        return 0;
    }
}
