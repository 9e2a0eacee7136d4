package xenshim.handlers.hvm;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;

import jakarta.inject.Inject;
import java.util.Objects;
import java.util.Optional;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.DomainType;
import xenshim.api.GuestMemory;
import xenshim.api.HvmParams;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.abi.Member;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenHvm;

/**
 * {@code hvm_op(unsigned long op, void *arg)}, as Xen 4.17's {@code do_hvm_op}
 * serves it under the dummy XSM policy. Both ABIs share the code and the
 * {@code struct xen_hvm_param} layout (16 bytes, {@code uint64_aligned_t}).
 *
 * <ul>
 * <li>{@code HVMOP_set_param} / {@code HVMOP_get_param}
 *     ({@code hvmop_set_param} / {@code hvmop_get_param}), checked in Xen's
 *     order: the 16-byte struct copy ({@code -EFAULT}); {@code index >=
 *     HVM_NR_PARAMS} ({@code -EINVAL}); the domain by any id, so
 *     {@code DOMID_SELF} or the caller's own id ({@code -ESRCH}); a target
 *     that is not HVM ({@code -EINVAL}; an in-process {@link DomainType#LOCAL}
 *     domain is not); then {@link HvmParamPolicy} ({@code -EPERM},
 *     {@code -EINVAL} for deprecated parameters) and {@link HvmParamValues}
 *     (per-parameter values, {@code -EEXIST} for set-once ones). Values live
 *     in the target's {@link HvmParams}. A get writes back the whole struct,
 *     domid and index echoed. Two simplifications: a VM86 TSS value Xen
 *     refuses with {@code domain_crash} when a domain sets it on itself is
 *     only refused here ({@code -EINVAL}), and {@code HVM_PARAM_CALLBACK_IRQ}
 *     is stored and returns 0 without setting up delivery yet (that comes
 *     with event channels).</li>
 * <li>{@code HVMOP_flush_tlbs}: a non-NULL arg is {@code -EINVAL}, a caller
 *     that is not HVM is {@code -EINVAL}, else 0: KVM keeps the guest's TLBs
 *     coherent with its own page-table changes, so there is nothing to
 *     flush.</li>
 * <li>{@code HVMOP_guest_request_vm_event}: a non-NULL arg is
 *     {@code -EINVAL}, else 0 (there is no monitor to tell).</li>
 * <li>Not served yet, so {@code -ENOSYS}: {@code HVMOP_pagetable_dying},
 *     {@code HVMOP_get_time}, {@code HVMOP_xentrace},
 *     {@code HVMOP_get_mem_type}, {@code HVMOP_set_evtchn_upcall_vector},
 *     {@code HVMOP_altp2m}.</li>
 * <li>Everything else, including the ops that moved to dm_op (2, 3, 4) or
 *     memory_op (12, 13) and the retired 6, 7, 8: {@code -ENOSYS}, as in
 *     Xen.</li>
 * </ul>
 */
@Hypercall(Hypercalls.__HYPERVISOR_hvm_op)
public final class HvmOpHandler implements HypercallHandler {

    /** {@code struct xen_hvm_param} members. */
    private static final Member PARAM_DOMID = Member.of(l -> l.xen_hvm_param, "domid");
    private static final Member PARAM_INDEX = Member.of(l -> l.xen_hvm_param, "index");
    private static final Member PARAM_VALUE = Member.of(l -> l.xen_hvm_param, "value");
    /** The two bytes of padding after {@code domid}, echoed back by a get as Xen copies the whole struct. */
    private static final long PARAM_PAD = 2;

    private final DomainDirectory domains;

    @Inject
    public HvmOpHandler(DomainDirectory domains) {
        this.domains = Objects.requireNonNull(domains);
    }

    /**
     * For plain {@link java.util.ServiceLoader} use (javac wants a no-argument
     * way to make a provider): a handler that knows only the caller itself
     * ({@code DOMID_SELF}). The dispatcher never calls this; it constructs
     * the handler with Guice and the platform's {@link DomainDirectory}.
     */
    public static HvmOpHandler provider() {
        return new HvmOpHandler(domid -> Optional.empty());
    }

    @Override
    public long handle(CallContext ctx, long op, long arg, long a2, long a3, long a4) {
        if (op == XenHvm.HVMOP_set_param) {
            return setParam(ctx, arg);
        } else if (op == XenHvm.HVMOP_get_param) {
            return getParam(ctx, arg);
        } else if (op == XenHvm.HVMOP_flush_tlbs) {
            return arg != 0 ? -XEN_EINVAL : flushTlbAll(ctx.domain());
        } else if (op == XenHvm.HVMOP_guest_request_vm_event) {
            return arg != 0 ? -XEN_EINVAL : 0;
        }
        return -XEN_ENOSYS;
    }

    /** {@code hvmop_flush_tlb_all}. */
    private static long flushTlbAll(Domain caller) {
        return isHvm(caller) ? 0 : -XEN_EINVAL;
    }

    /** {@code hvmop_set_param}. */
    private long setParam(CallContext ctx, long arg) {
        GuestMemory memory = ctx.memory();
        Abi abi = ctx.abi();
        int domid = Short.toUnsignedInt(memory.read16(arg + PARAM_DOMID.offset(abi)));
        int index = memory.read32(arg + PARAM_INDEX.offset(abi));
        long value = memory.read64(arg + PARAM_VALUE.offset(abi));
        Domain caller = ctx.domain();
        Target target = target(caller, domid, index);
        if (target.domain() == null) {
            return target.errno();
        }
        int rc = HvmParamPolicy.allowSet(caller, target.domain(), index);
        if (rc != 0) {
            return rc;
        }
        return HvmParamValues.set(caller, target.domain(), target.domain().state(HvmParams.KEY), index, value);
    }

    /** {@code hvmop_get_param}. */
    private long getParam(CallContext ctx, long arg) {
        GuestMemory memory = ctx.memory();
        Abi abi = ctx.abi();
        short rawDomid = memory.read16(arg + PARAM_DOMID.offset(abi));
        short pad = memory.read16(arg + PARAM_PAD);
        int index = memory.read32(arg + PARAM_INDEX.offset(abi));
        memory.read64(arg + PARAM_VALUE.offset(abi)); // Xen copies in the whole struct: a fault here is -EFAULT too
        Domain caller = ctx.domain();
        Target target = target(caller, Short.toUnsignedInt(rawDomid), index);
        if (target.domain() == null) {
            return target.errno();
        }
        int rc = HvmParamPolicy.allowGet(caller, target.domain(), index);
        if (rc != 0) {
            return rc;
        }
        long value = HvmParamValues.get(target.domain().state(HvmParams.KEY), index);
        // __copy_to_guest of the whole struct, as it was read, with the value filled in.
        memory.write16(arg + PARAM_DOMID.offset(abi), rawDomid);
        memory.write16(arg + PARAM_PAD, pad);
        memory.write32(arg + PARAM_INDEX.offset(abi), index);
        memory.write64(arg + PARAM_VALUE.offset(abi), value);
        return 0;
    }

    /** The domain a param op acts on, or the errno that stops it. */
    private record Target(Domain domain, long errno) {
    }

    /**
     * The checks {@code hvmop_set_param} and {@code hvmop_get_param} share, in
     * Xen's order: the index ({@code -EINVAL}), the domain ({@code -ESRCH}),
     * an HVM domain ({@code -EINVAL}).
     */
    private Target target(Domain caller, int domid, int index) {
        if (Integer.compareUnsigned(index, XenHvm.HVM_NR_PARAMS) >= 0) {
            return new Target(null, -XEN_EINVAL);
        }
        Domain target = domains.byAnyId(caller, domid).orElse(null);
        if (target == null) {
            return new Target(null, -XEN_ESRCH);
        }
        return isHvm(target) ? new Target(target, 0) : new Target(null, -XEN_EINVAL);
    }

    /** {@code is_hvm_domain}: a KVM guest is; the in-process dom0 is not. */
    private static boolean isHvm(Domain domain) {
        return domain.type() == DomainType.HVM;
    }
}
