package xenshim.handlers.gnttab;

import static xenshim.api.xen.XenGnttab.GNTST_bad_domain;
import static xenshim.api.xen.XenGnttab.GNTST_okay;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.GrantMappings;
import xenshim.api.GuestMemory;

/**
 * The elements of {@code GNTTABOP_map_grant_ref}, {@code GNTTABOP_unmap_grant_ref} and
 * {@code GNTTABOP_unmap_and_replace}; the checks and statuses are {@link GrantMappings}'. A struct that
 * cannot be read or written back is {@code -EFAULT} for the whole call, with the elements before it done.
 */
final class MapOps {

    private final DomainDirectory domains;

    MapOps(DomainDirectory domains) {
        this.domains = domains;
    }

    /**
     * {@code map_grant_ref}: {@code dom} by id only ({@code rcu_lock_domain_by_id}: {@code DOMID_SELF} is
     * {@code GNTST_bad_domain}, the caller's own id is fine). On success the handle and
     * {@code dev_bus_addr} are written back; a failure leaves them as they were.
     */
    int map(CallContext ctx, long op) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, op, l -> l.gnttab_map_grant_ref);
        long hostAddr = m.read64(op + MAP_HOST_ADDR.offset(abi));
        int flags = m.read32(op + MAP_FLAGS.offset(abi));
        int ref = m.read32(op + MAP_REF.offset(abi));
        int dom = domid(m, op + MAP_DOM.offset(abi));
        Domain rd = domains.byId(dom).orElse(null);
        GrantMappings.MapResult result = rd == null ? new GrantMappings.MapResult(GNTST_bad_domain, 0, 0)
                : GrantMappings.map(ctx.domain(), rd, ref, flags, hostAddr);
        if (result.status() == GNTST_okay) {
            m.write32(op + MAP_HANDLE.offset(abi), result.handle());
            m.write64(op + MAP_DEV_BUS_ADDR.offset(abi), result.devBusAddr());
        }
        status(m, op + MAP_STATUS.offset(abi), result.status());
        return 0;
    }

    /** {@code unmap_grant_ref}: only the status is written back. */
    static int unmap(CallContext ctx, long op) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, op, l -> l.gnttab_unmap_grant_ref);
        long hostAddr = m.read64(op + UNMAP_HOST_ADDR.offset(abi));
        long devBusAddr = m.read64(op + UNMAP_DEV_BUS_ADDR.offset(abi));
        int handle = m.read32(op + UNMAP_HANDLE.offset(abi));
        status(m, op + UNMAP_STATUS.offset(abi), GrantMappings.unmap(ctx.domain(), handle, hostAddr, devBusAddr, 0));
        return 0;
    }

    /**
     * {@code unmap_and_replace}: an unmap without a device address whose {@code new_addr} must be 0 for a
     * translated mapper ({@code replace_grant_p2m_mapping}: {@code GNTST_general_error} otherwise).
     */
    static int unmapAndReplace(CallContext ctx, long op) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, op, l -> l.gnttab_unmap_and_replace);
        long hostAddr = m.read64(op + REPLACE_HOST_ADDR.offset(abi));
        long newAddr = m.read64(op + REPLACE_NEW_ADDR.offset(abi));
        int handle = m.read32(op + REPLACE_HANDLE.offset(abi));
        status(m, op + REPLACE_STATUS.offset(abi), GrantMappings.unmap(ctx.domain(), handle, hostAddr, 0, newAddr));
        return 0;
    }
}
