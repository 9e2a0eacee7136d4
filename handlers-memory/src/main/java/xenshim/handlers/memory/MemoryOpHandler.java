package xenshim.handlers.memory;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;

import jakarta.inject.Inject;
import java.util.Objects;
import java.util.Optional;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.PhysMap;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenMemory;

/**
 * {@code memory_op(unsigned long cmd, void *arg)} for HVM/PVH callers, as Xen
 * 4.17's {@code hvm_memory_op}, {@code do_memory_op} and x86
 * {@code arch_memory_op} serve it under the dummy XSM policy. {@code cmd}
 * holds the op in its low six bits and a continuation's
 * {@code start_extent} above them ({@code MEMOP_EXTENT_SHIFT}); for a compat
 * caller it is 32-bit. A domain's memory is its {@link PhysMap}.
 *
 * <ul>
 * <li>{@code increase_reservation}, {@code decrease_reservation},
 *     {@code populate_physmap}: the number of extents done, never an errno;
 *     see {@link Reservation}.</li>
 * <li>{@code current_reservation}, {@code maximum_reservation},
 *     {@code maximum_gpfn}: {@code start_extent != 0} is {@code -EINVAL};
 *     the 2-byte {@code domid} copy {@code -EFAULT}; the domain by any id
 *     {@code -ESRCH}; a foreign domain for an unprivileged caller
 *     {@code -EPERM}; then the physmap's total pages, {@code max_pages} or
 *     highest mapped gpfn (0 for a domain without a physmap).</li>
 * <li>{@code maximum_ram_page}: {@code start_extent != 0} is {@code -EINVAL};
 *     no arg, no permission check; Xen returns the host's {@code max_page}
 *     (one past the highest machine frame). xenshim's "host" is the VM, so
 *     this is one past the caller's highest mapped gpfn (0 without a
 *     physmap).</li>
 * <li>{@code add_to_physmap}: see {@link AddToPhysmap}.</li>
 * <li>{@code memory_map}: see {@link MemoryMap}. Like every arch op, it is
 *     matched against the whole {@code cmd}, so a non-zero
 *     {@code start_extent} makes it {@code -ENOSYS}.</li>
 * <li>{@code machine_memory_map}, {@code machphys_mapping}: {@code -ENOSYS}
 *     for HVM ({@code hvm_memory_op}).</li>
 * <li>anything else ({@code exchange}, {@code remove_from_physmap},
 *     {@code add_to_physmap_batch}, {@code set_memory_map}, ...):
 *     {@code -ENOSYS}, not served yet.</li>
 * </ul>
 */
@Hypercall(Hypercalls.__HYPERVISOR_memory_op)
public final class MemoryOpHandler implements HypercallHandler {

    private final DomainDirectory domains;

    @Inject
    public MemoryOpHandler(DomainDirectory domains) {
        this.domains = Objects.requireNonNull(domains);
    }

    /**
     * For plain {@link java.util.ServiceLoader} use (javac wants a no-argument
     * way to make a provider): a handler that knows only the caller itself
     * ({@code DOMID_SELF}). The dispatcher never calls this; it constructs
     * the handler with Guice and the platform's {@link DomainDirectory}.
     */
    public static MemoryOpHandler provider() {
        return new MemoryOpHandler(domid -> Optional.empty());
    }

    @Override
    public long handle(CallContext ctx, long cmd, long arg, long a2, long a3, long a4) {
        int op = (int) (cmd & XenMemory.MEMOP_CMD_MASK);
        long startExtent = cmd >>> XenMemory.MEMOP_EXTENT_SHIFT;
        return switch (op) {
            case XenMemory.XENMEM_increase_reservation, XenMemory.XENMEM_decrease_reservation,
                 XenMemory.XENMEM_populate_physmap -> Reservation.serve(ctx, domains, op, startExtent, arg, a2, a3, a4);
            case XenMemory.XENMEM_maximum_ram_page -> startExtent != 0 ? -XEN_EINVAL : maximumRamPage(ctx.domain());
            case XenMemory.XENMEM_current_reservation, XenMemory.XENMEM_maximum_reservation,
                 XenMemory.XENMEM_maximum_gpfn -> startExtent != 0 ? -XEN_EINVAL : reservationStat(ctx, op, arg);
            case XenMemory.XENMEM_add_to_physmap -> AddToPhysmap.serve(ctx, domains, startExtent, arg, a2, a3, a4);
            default -> archMemoryOp(ctx, cmd, arg);
        };
    }

    /** {@code hvm_memory_op}'s refusals, then x86 {@code arch_memory_op}, which compares the whole cmd. */
    private static long archMemoryOp(CallContext ctx, long cmd, long arg) {
        if (cmd == XenMemory.XENMEM_memory_map) {
            return MemoryMap.serve(ctx, arg);
        }
        return -XEN_ENOSYS; // machine_memory_map and machphys_mapping for HVM, and everything not served
    }

    /** {@code XENMEM_maximum_ram_page}: xenshim's {@code max_page}. */
    private static long maximumRamPage(Domain caller) {
        return caller.find(PhysMap.KEY).map(physMap -> physMap.maxMappedGpfn() + 1).orElse(0L);
    }

    /** {@code XENMEM_current_reservation}, {@code maximum_reservation}, {@code maximum_gpfn}. */
    private long reservationStat(CallContext ctx, int op, long arg) {
        int domid = Short.toUnsignedInt(ctx.memory().read16(arg + MemopLayout.MEMORY_DOMAIN_DOMID.offset(ctx.abi())));
        Domain caller = ctx.domain();
        Domain target = domains.byAnyId(caller, domid).orElse(null);
        if (target == null) {
            return -XEN_ESRCH;
        }
        if (target != caller && !caller.isPrivileged()) { // xsm_memory_stat_reservation(XSM_TARGET)
            return -XEN_EPERM;
        }
        PhysMap physMap = target.find(PhysMap.KEY).orElse(null);
        if (physMap == null) {
            return 0;
        }
        return switch (op) {
            case XenMemory.XENMEM_current_reservation -> physMap.totalPages();
            case XenMemory.XENMEM_maximum_reservation -> physMap.maxPages();
            default -> physMap.maxMappedGpfn();
        };
    }
}
