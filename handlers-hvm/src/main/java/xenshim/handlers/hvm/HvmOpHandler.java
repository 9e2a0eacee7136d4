package xenshim.handlers.hvm;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;
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
import xenshim.api.EventChannels;
import xenshim.api.GuestMemory;
import xenshim.api.HvmParams;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.Vcpus;
import xenshim.api.XenClock;
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
 *     domid and index echoed. A VM86 TSS value Xen refuses with
 *     {@code domain_crash} when a domain sets it on itself is only refused
 *     here ({@code -EINVAL}).</li>
 * <li>{@code HVM_PARAM_CALLBACK_IRQ} ({@code hvm_set_callback_via}): any
 *     value is stored and the set returns 0, as in Xen. xenshim's domains
 *     have no emulated PIC or IO-APIC (as a PVH domain), so only the vector
 *     type ({@code HVM_PARAM_CALLBACK_TYPE_VECTOR} in bits 63:56, the vector
 *     in bits 7:0) takes effect: every online vCPU's upcall is then asserted
 *     again ({@code hvm_assert_evtchn_irq}, {@link EventChannels#assertUpcall}).
 *     The GSI and PCI INTx types, and "none", are stored and deliver
 *     nothing: Xen's {@code hvm_set_callback_via} returns early for them on
 *     such a domain. The runtime reads the stored value to choose the vector
 *     it injects.</li>
 * <li>{@code HVMOP_set_evtchn_upcall_vector}: a caller that is not HVM
 *     {@code -EINVAL}; {@code struct xen_hvm_evtchn_upcall_vector}
 *     ({@code -EFAULT}); a vector below 0x10 {@code -EINVAL}; a vCPU the
 *     domain lacks ({@code domain_vcpu}: not below {@code d->max_vcpus},
 *     {@link EventChannels#maxVcpus}; online or not) {@code -ENOENT}; else
 *     the vCPU's vector is set ({@link Vcpus#setUpcallVector}) and its upcall
 *     asserted again if {@code evtchn_upcall_pending} is set; 0. Xen 4.17
 *     injects the new vector even when nothing is pending (a spurious upcall
 *     a guest ignores); xenshim only when something is.</li>
 * <li>{@code HVMOP_get_time}: writes {@code struct xen_hvm_get_time} with
 *     {@code now} the platform's system time ({@link XenClock#now}, Xen's
 *     {@code NOW()}); {@code -EFAULT}; 0.</li>
 * <li>{@code HVMOP_flush_tlbs}: a non-NULL arg is {@code -EINVAL}, a caller
 *     that is not HVM is {@code -EINVAL}, else 0: KVM keeps the guest's TLBs
 *     coherent with its own page-table changes, so there is nothing to
 *     flush.</li>
 * <li>{@code HVMOP_guest_request_vm_event}: a non-NULL arg is
 *     {@code -EINVAL}, else 0 (there is no monitor to tell).</li>
 * <li>Not served yet, so {@code -ENOSYS}: {@code HVMOP_pagetable_dying},
 *     {@code HVMOP_xentrace}, {@code HVMOP_get_mem_type},
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
    /** {@code struct xen_hvm_evtchn_upcall_vector} members. */
    private static final Member UPCALL_VCPU = Member.of(l -> l.xen_hvm_evtchn_upcall_vector, "vcpu");
    private static final Member UPCALL_VECTOR = Member.of(l -> l.xen_hvm_evtchn_upcall_vector, "vector");
    /** {@code struct xen_hvm_get_time}'s one member. */
    private static final Member GET_TIME_NOW = Member.of(l -> l.xen_hvm_get_time, "now");
    /** The lowest per-vCPU upcall vector: 0..15 are exceptions. */
    static final int MIN_UPCALL_VECTOR = 0x10;

    private final DomainDirectory domains;
    private final XenClock clock;

    @Inject
    public HvmOpHandler(DomainDirectory domains, XenClock clock) {
        this.domains = Objects.requireNonNull(domains);
        this.clock = Objects.requireNonNull(clock);
    }

    /**
     * For plain {@link java.util.ServiceLoader} use (javac wants a no-argument
     * way to make a provider): a handler that knows only the caller itself
     * ({@code DOMID_SELF}), with a clock of its own. The dispatcher never
     * calls this; it constructs the handler with Guice and the platform's
     * {@link DomainDirectory} and {@link XenClock}.
     */
    public static HvmOpHandler provider() {
        return new HvmOpHandler(domid -> Optional.empty(), XenClock.startingNow());
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
        } else if (op == XenHvm.HVMOP_set_evtchn_upcall_vector) {
            return setEvtchnUpcallVector(ctx, arg);
        } else if (op == XenHvm.HVMOP_get_time) {
            ctx.memory().write64(arg + GET_TIME_NOW.offset(ctx.abi()), clock.now()); // copy_to_guest: -EFAULT
            return 0;
        }
        return -XEN_ENOSYS;
    }

    /** {@code hvmop_set_evtchn_upcall_vector}. */
    private static long setEvtchnUpcallVector(CallContext ctx, long arg) {
        Domain d = ctx.domain();
        if (!isHvm(d)) {
            return -XEN_EINVAL;
        }
        GuestMemory memory = ctx.memory();
        Abi abi = ctx.abi();
        int vcpu = memory.read32(arg + UPCALL_VCPU.offset(abi));
        int vector = Byte.toUnsignedInt(memory.read8(arg + UPCALL_VECTOR.offset(abi)));
        memory.read8(arg + abi.layouts().xen_hvm_evtchn_upcall_vector.byteSize() - 1); // the whole struct
        if (vector < MIN_UPCALL_VECTOR) {
            return -XEN_EINVAL;
        }
        EventChannels events = d.state(EventChannels.KEY);
        if (Integer.compareUnsigned(vcpu, events.maxVcpus()) >= 0) { // domain_vcpu
            return -XEN_ENOENT;
        }
        d.state(Vcpus.KEY).setUpcallVector(vcpu, vector);
        events.assertUpcall(vcpu); // hvm_assert_evtchn_irq
        return 0;
    }

    /**
     * What {@code hvm_set_callback_via} does once {@code HVM_PARAM_CALLBACK_IRQ} is stored, on a domain
     * without emulated PIC and IO-APIC: for the vector type, asserts every online vCPU's upcall again;
     * any other type returns early in Xen, so nothing.
     */
    private static void setCallbackVia(Domain d, long via) {
        if (via >>> 56 != XenHvm.HVM_PARAM_CALLBACK_TYPE_VECTOR) {
            return;
        }
        EventChannels events = d.state(EventChannels.KEY);
        Vcpus vcpus = d.state(Vcpus.KEY);
        for (int vcpu = 0; vcpu < events.maxVcpus(); vcpu++) {
            if (vcpus.isUp(vcpu)) {
                events.assertUpcall(vcpu);
            }
        }
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
        rc = HvmParamValues.set(caller, target.domain(), target.domain().state(HvmParams.KEY), index, value);
        if (rc == 0 && index == XenHvm.HVM_PARAM_CALLBACK_IRQ) {
            setCallbackVia(target.domain(), value); // after the store: the runtime reads the value to deliver
        }
        return rc;
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
