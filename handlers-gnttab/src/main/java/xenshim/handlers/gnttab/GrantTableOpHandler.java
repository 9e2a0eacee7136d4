package xenshim.handlers.gnttab;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenGnttab.*;

import jakarta.inject.Inject;
import java.lang.foreign.StructLayout;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import xenshim.api.CallContext;
import xenshim.api.DomainDirectory;
import xenshim.api.GrantMappings;
import xenshim.api.GrantTable;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;

/**
 * {@code grant_table_op(unsigned int cmd, void *uop, unsigned int count)}, as Xen 4.17's
 * {@code do_grant_table_op} serves an HVM domain (and the in-process dom0, an auto-translated domain
 * too) with v1 grant tables and the dummy XSM policy, in both ABIs. The state is the domains'
 * {@link GrantTable} (what each grants) and {@link GrantMappings} (what each maps), so a swapped-in
 * handler sees the grants and mappings of an older one.
 *
 * <p>First, as Xen: a {@code count} that is negative as an int is {@code -EINVAL}; so are bits above
 * {@code GNTTABOP_CMD_MASK} in {@code cmd} for any op but {@code cache_flush}; an unknown op is
 * {@code -ENOSYS}.
 *
 * <ul>
 * <li>Batches of {@code count} structs, each with its status: {@code map_grant_ref},
 *     {@code unmap_grant_ref}, {@code unmap_and_replace} ({@link MapOps}), {@code copy} ({@link CopyOp}),
 *     {@code transfer} ({@link TransferOp}), {@code swap_grant_ref} ({@link SwapOp}), {@code cache_flush}
 *     ({@link CacheFlushOp}); a struct that cannot be read or written back ends the call with
 *     {@code -EFAULT}. Long batches are preempted between elements (unmaps between groups of 32) and
 *     continued as Xen continues them ({@link Batch}).</li>
 * <li>{@code setup_table}, {@code query_size}, {@code get_status_frames}: {@code count} must be 1;
 *     {@code set_version}, {@code get_version}: see {@link TableInfo}. xenshim's tables are v1 only, so
 *     {@code set_version(2)} is {@code -ENOSYS}, what Xen answers with {@code gnttab=max-ver:1}.</li>
 * <li>{@code dump_table}: {@code -ENOSYS}. Xen 4.17's {@code do_grant_table_op} has no case for it (the
 *     header keeps the number); it never reads the struct.</li>
 * </ul>
 */
@Hypercall(Hypercalls.__HYPERVISOR_grant_table_op)
public final class GrantTableOpHandler implements HypercallHandler {

    /** {@code GNTTAB_UNMAP_BATCH_SIZE}: unmaps are preempted between groups of this many. */
    static final int UNMAP_BATCH_SIZE = 32;

    private final TableInfo tables;
    private final MapOps maps;
    private final CopyOp copies;

    @Inject
    public GrantTableOpHandler(DomainDirectory domains) {
        Objects.requireNonNull(domains);
        this.tables = new TableInfo(domains);
        this.maps = new MapOps(domains);
        this.copies = new CopyOp(domains);
    }

    /**
     * For plain {@link java.util.ServiceLoader} use (javac wants a no-argument way to make a provider): a
     * handler that knows no other domain. The dispatcher constructs it with Guice instead.
     */
    public static GrantTableOpHandler provider() {
        return new GrantTableOpHandler(domid -> Optional.empty());
    }

    @Override
    public long handle(CallContext ctx, long a0, long uop, long a2, long a3, long a4) {
        int count = (int) a2;
        if (count < 0) {
            return -XEN_EINVAL;
        }
        int cmd = (int) a0 & GNTTABOP_CMD_MASK;
        int progress = (int) a0 & ~GNTTABOP_CMD_MASK;
        if (cmd != GNTTABOP_cache_flush && progress != 0) {
            return -XEN_EINVAL;
        }
        return switch (cmd) {
            case GNTTABOP_map_grant_ref -> batch(ctx, cmd, uop, count, l -> l.gnttab_map_grant_ref, 1, maps::map, a3, a4);
            case GNTTABOP_unmap_grant_ref -> batch(ctx, cmd, uop, count, l -> l.gnttab_unmap_grant_ref,
                    UNMAP_BATCH_SIZE, MapOps::unmap, a3, a4);
            case GNTTABOP_unmap_and_replace -> batch(ctx, cmd, uop, count, l -> l.gnttab_unmap_and_replace,
                    UNMAP_BATCH_SIZE, MapOps::unmapAndReplace, a3, a4);
            case GNTTABOP_copy -> copies.run(ctx, cmd, uop, count, a3, a4);
            case GNTTABOP_transfer -> batch(ctx, cmd, uop, count, l -> l.gnttab_transfer, 1, TransferOp::transfer,
                    a3, a4);
            case GNTTABOP_swap_grant_ref -> batch(ctx, cmd, uop, count, l -> l.gnttab_swap_grant_ref, 1,
                    SwapOp::swap, a3, a4);
            case GNTTABOP_cache_flush -> batch(ctx, cmd, uop, count, l -> l.gnttab_cache_flush, 1,
                    CacheFlushOp.forCall(progress), a3, a4);
            case GNTTABOP_setup_table -> tables.setup(ctx, uop, count);
            case GNTTABOP_query_size -> tables.querySize(ctx, uop, count);
            case GNTTABOP_set_version -> TableInfo.setVersion(ctx, uop);
            case GNTTABOP_get_version -> tables.getVersion(ctx, uop);
            case GNTTABOP_get_status_frames -> tables.getStatusFrames(ctx, uop, count);
            default -> -XEN_ENOSYS;
        };
    }

    private static long batch(CallContext ctx, int cmd, long uop, int count,
                              Function<AbiLayouts, StructLayout> struct, int chunk, Batch.Element element,
                              long a3, long a4) {
        long stride = GnttabStructs.size(ctx.abi(), struct);
        return Batch.run(ctx, cmd, uop, count, stride, chunk, element, a3, a4);
    }
}
