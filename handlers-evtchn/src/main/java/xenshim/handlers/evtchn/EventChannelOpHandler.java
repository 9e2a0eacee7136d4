package xenshim.handlers.evtchn;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EOPNOTSUPP;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;
import static xenshim.handlers.evtchn.EvtchnStructs.*;

import jakarta.inject.Inject;
import java.lang.foreign.StructLayout;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.EventChannels;
import xenshim.api.GuestMemory;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenDomains;
import xenshim.api.xen.XenEvtchn;

/**
 * {@code event_channel_op(int cmd, void *arg)}, as Xen 4.17's {@code do_event_channel_op} serves it for a
 * domain on the 2-level ABI under the dummy XSM policy, in both ABIs (the structs are the same size in
 * both; only {@code evtchn_init_control}'s alignment differs). The state is the domain's
 * {@link EventChannels}, so a swapped-in handler sees the ports an older one bound. Every struct is read
 * whole before anything is done ({@code copy_from_guest}: {@code -EFAULT}); an OUT field that cannot be
 * written back is {@code -EFAULT} with the port left bound, as in Xen ("cleaning up here would be a mess").
 *
 * <ul>
 * <li>{@code EVTCHNOP_alloc_unbound}: {@code dom} by {@code rcu_lock_domain_by_any_id} ({@code -ESRCH});
 *     a full table {@code -ENOSPC}; a caller that is neither {@code dom} nor privileged {@code -EPERM}
 *     ({@code XSM_TARGET}); {@code remote_dom} {@code DOMID_SELF} means the caller.</li>
 * <li>{@code EVTCHNOP_bind_interdomain}: the remote domain by id ({@code DOMID_SELF}: the caller;
 *     {@code -ESRCH}); a full local table {@code -ENOSPC}; a remote port that is invalid, not unbound, or
 *     reserved for another domain {@code -EINVAL}. The new local port is marked pending.</li>
 * <li>{@code EVTCHNOP_bind_virq}: virq ≥ {@code NR_VIRQS} or a global virq on a vCPU other than 0
 *     {@code -EINVAL}; no such vCPU {@code -ENOENT}; bound already {@code -EEXIST}; {@code -ENOSPC}.</li>
 * <li>{@code EVTCHNOP_bind_ipi}: no such vCPU {@code -ENOENT}; {@code -ENOSPC}.</li>
 * <li>{@code EVTCHNOP_bind_pirq}: {@code -EOPNOTSUPP}: xenshim's domains are HVM without
 *     {@code XEN_X86_EMU_USE_PIRQ}, which Xen refuses ({@code is_hvm_domain(d) && !has_pirq(d)}) since
 *     2022's "evtchn: refuse EVTCHNOP_bind_pirq for HVM domains without pirq support".</li>
 * <li>{@code EVTCHNOP_close}: an invalid, free or reserved port {@code -EINVAL}; the peer of an
 *     interdomain port becomes unbound, reserved for this domain again.</li>
 * <li>{@code EVTCHNOP_send}: interdomain: the peer's port pending; IPI: its own; unbound: dropped, 0;
 *     anything else or an invalid port {@code -EINVAL}. A domain can only send on its own ports.</li>
 * <li>{@code EVTCHNOP_status}: {@code -ESRCH}; an invalid port {@code -EINVAL}; then another domain's
 *     port to a caller that is not privileged {@code -EPERM} ({@code XSM_TARGET}).</li>
 * <li>{@code EVTCHNOP_bind_vcpu}: no such vCPU {@code -ENOENT}; an invalid port, or one that cannot move
 *     (per-vCPU VIRQ, IPI, free, reserved) {@code -EINVAL}.</li>
 * <li>{@code EVTCHNOP_unmask}: an invalid port {@code -EINVAL}; else unmasks and re-delivers.</li>
 * <li>{@code EVTCHNOP_reset}: {@code -ESRCH}; another domain to an unprivileged caller {@code -EPERM}
 *     ({@code XSM_TARGET}); another domain that its controller has not paused {@code -EINVAL} (xenshim
 *     pauses none, so only a domain's own reset succeeds; Xen 4.17 preempts long resets with
 *     {@code EVTCHNOP_reset_cont}; xenshim's at most 4096 closes are done in one entry).</li>
 * <li><b>FIFO.</b> Xen 4.17 always builds the FIFO ABI in, and a domain stays 2-level until
 *     {@code EVTCHNOP_init_control} succeeds; xenshim has no FIFO, so it answers as Xen built without
 *     {@code CONFIG_EVTCHN_FIFO} (the upstream change that made FIFO optional: {@code event_channel.h}'s
 *     stubs return {@code -EOPNOTSUPP}): {@code EVTCHNOP_init_control} {@code -EOPNOTSUPP};
 *     {@code EVTCHNOP_expand_array} {@code -EOPNOTSUPP}, which 4.17 itself answers for a domain that is
 *     not FIFO; {@code EVTCHNOP_set_priority} an invalid port {@code -EINVAL}, else {@code -ENOSYS}, as
 *     4.17's {@code evtchn_port_set_priority} answers for the 2-level ops, which have no
 *     {@code set_priority}. A guest (Linux's {@code xen_evtchn_fifo_init}) falls back to 2-level on the
 *     error. Each reads its struct first ({@code -EFAULT}).</li>
 * <li>anything else: {@code -ENOSYS}.</li>
 * </ul>
 *
 * <p>The first call latches the domain's {@code shared_info} width from the caller's ABI (what Xen's
 * {@code hvm_latch_shinfo_size} does at a guest's first PV operations) unless the platform latched it
 * already: a compat guest's table holds 1024 ports, a 64-bit one's 4096.
 */
@Hypercall(Hypercalls.__HYPERVISOR_event_channel_op)
public final class EventChannelOpHandler implements HypercallHandler {

    private final DomainDirectory domains;

    @Inject
    public EventChannelOpHandler(DomainDirectory domains) {
        this.domains = Objects.requireNonNull(domains);
    }

    /**
     * For plain {@link java.util.ServiceLoader} use (javac wants a no-argument way to make a provider): a
     * handler that knows no other domain. The dispatcher constructs it with Guice instead.
     */
    public static EventChannelOpHandler provider() {
        return new EventChannelOpHandler(domid -> Optional.empty());
    }

    @Override
    public long handle(CallContext ctx, long a0, long arg, long a2, long a3, long a4) {
        int cmd = (int) a0;
        Domain caller = ctx.domain();
        caller.state(EventChannels.KEY).latchSharedInfoWidth(ctx.abi());
        return switch (cmd) {
            case XenEvtchn.EVTCHNOP_alloc_unbound -> allocUnbound(ctx, arg);
            case XenEvtchn.EVTCHNOP_bind_interdomain -> bindInterdomain(ctx, arg);
            case XenEvtchn.EVTCHNOP_bind_virq -> bindVirq(ctx, arg);
            case XenEvtchn.EVTCHNOP_bind_ipi -> bindIpi(ctx, arg);
            case XenEvtchn.EVTCHNOP_bind_pirq -> {
                copyIn(ctx, arg, l -> l.evtchn_bind_pirq);
                yield -XEN_EOPNOTSUPP;
            }
            case XenEvtchn.EVTCHNOP_close -> {
                int port = copyIn(ctx, arg, l -> l.evtchn_close).read32(arg + CLOSE_PORT.offset(ctx.abi()));
                yield EventChannels.close(caller, port);
            }
            case XenEvtchn.EVTCHNOP_send -> {
                int port = copyIn(ctx, arg, l -> l.evtchn_send).read32(arg + SEND_PORT.offset(ctx.abi()));
                yield EventChannels.send(caller, port);
            }
            case XenEvtchn.EVTCHNOP_status -> status(ctx, arg);
            case XenEvtchn.EVTCHNOP_bind_vcpu -> {
                GuestMemory m = copyIn(ctx, arg, l -> l.evtchn_bind_vcpu);
                int port = m.read32(arg + BIND_VCPU_PORT.offset(ctx.abi()));
                int vcpu = m.read32(arg + BIND_VCPU_VCPU.offset(ctx.abi()));
                yield caller.state(EventChannels.KEY).bindVcpu(port, vcpu);
            }
            case XenEvtchn.EVTCHNOP_unmask -> {
                int port = copyIn(ctx, arg, l -> l.evtchn_unmask).read32(arg + UNMASK_PORT.offset(ctx.abi()));
                yield caller.state(EventChannels.KEY).unmask(port);
            }
            case XenEvtchn.EVTCHNOP_reset -> reset(ctx, arg);
            case XenEvtchn.EVTCHNOP_init_control -> {
                copyIn(ctx, arg, l -> l.evtchn_init_control);
                yield -XEN_EOPNOTSUPP;
            }
            case XenEvtchn.EVTCHNOP_expand_array -> {
                copyIn(ctx, arg, l -> l.evtchn_expand_array);
                yield -XEN_EOPNOTSUPP;
            }
            case XenEvtchn.EVTCHNOP_set_priority -> {
                int port = copyIn(ctx, arg, l -> l.evtchn_set_priority)
                        .read32(arg + SET_PRIORITY_PORT.offset(ctx.abi()));
                yield caller.state(EventChannels.KEY).isValid(port) ? -XEN_ENOSYS : -XEN_EINVAL;
            }
            default -> -XEN_ENOSYS;
        };
    }

    /**
     * {@code copy_from_guest} of a whole struct: its first and last bytes are read, so a struct that runs
     * into an unmapped page faults ({@code -EFAULT}) before anything is done.
     */
    private static GuestMemory copyIn(CallContext ctx, long arg, Function<AbiLayouts, StructLayout> struct) {
        GuestMemory memory = ctx.memory();
        long size = struct.apply(ctx.abi().layouts()).byteSize();
        memory.read8(arg);
        memory.read8(arg + size - 1);
        return memory;
    }

    /** A bind's result: an errno as it is, or the new port written to the struct's OUT field and 0. */
    private static long portOut(GuestMemory memory, long address, int port) {
        if (port < 0) {
            return port;
        }
        memory.write32(address, port);
        return 0;
    }

    private static int domid(GuestMemory memory, long address) {
        return Short.toUnsignedInt(memory.read16(address));
    }

    private long allocUnbound(CallContext ctx, long arg) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, arg, l -> l.evtchn_alloc_unbound);
        int dom = domid(m, arg + ALLOC_UNBOUND_DOM.offset(abi));
        int remote = domid(m, arg + ALLOC_UNBOUND_REMOTE_DOM.offset(abi));
        Domain d = domains.byAnyId(ctx.domain(), dom).orElse(null);
        if (d == null) {
            return -XEN_ESRCH;
        }
        int port = d.state(EventChannels.KEY).allocUnbound(d, ctx.domain(), remote);
        return portOut(m, arg + ALLOC_UNBOUND_PORT.offset(abi), port);
    }

    private long bindInterdomain(CallContext ctx, long arg) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, arg, l -> l.evtchn_bind_interdomain);
        int rdom = domid(m, arg + BIND_INTERDOMAIN_REMOTE_DOM.offset(abi));
        int rport = m.read32(arg + BIND_INTERDOMAIN_REMOTE_PORT.offset(abi));
        Domain caller = ctx.domain();
        Domain remote = rdom == XenDomains.DOMID_SELF || rdom == caller.domid()
                ? caller : domains.byId(rdom).orElse(null); // rcu_lock_domain_by_id after DOMID_SELF → self
        if (remote == null) {
            return -XEN_ESRCH;
        }
        int lport = EventChannels.bindInterdomain(caller, remote, rport);
        return portOut(m, arg + BIND_INTERDOMAIN_LOCAL_PORT.offset(abi), lport);
    }

    private static long bindVirq(CallContext ctx, long arg) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, arg, l -> l.evtchn_bind_virq);
        int virq = m.read32(arg + BIND_VIRQ_VIRQ.offset(abi));
        int vcpu = m.read32(arg + BIND_VIRQ_VCPU.offset(abi));
        int port = ctx.domain().state(EventChannels.KEY).bindVirq(virq, vcpu);
        return portOut(m, arg + BIND_VIRQ_PORT.offset(abi), port);
    }

    private static long bindIpi(CallContext ctx, long arg) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, arg, l -> l.evtchn_bind_ipi);
        int vcpu = m.read32(arg + BIND_IPI_VCPU.offset(abi));
        int port = ctx.domain().state(EventChannels.KEY).bindIpi(vcpu);
        return portOut(m, arg + BIND_IPI_PORT.offset(abi), port);
    }

    private long status(CallContext ctx, long arg) {
        Abi abi = ctx.abi();
        GuestMemory m = copyIn(ctx, arg, l -> l.evtchn_status);
        int dom = domid(m, arg + STATUS_DOM.offset(abi));
        int port = m.read32(arg + STATUS_PORT.offset(abi));
        Domain d = domains.byAnyId(ctx.domain(), dom).orElse(null);
        if (d == null) {
            return -XEN_ESRCH;
        }
        int[] errno = new int[1];
        EventChannels.PortStatus status = d.state(EventChannels.KEY).status(d, ctx.domain(), port, errno);
        if (status == null) {
            return errno[0];
        }
        m.write32(arg + STATUS_STATUS.offset(abi), status.evtchnStat());
        m.write32(arg + STATUS_VCPU.offset(abi), status.vcpu());
        long u = arg + STATUS_U.offset(abi);
        switch (status.state()) {
            case UNBOUND -> m.write16(u, (short) status.remoteDom());
            case INTERDOMAIN -> {
                m.write16(u, (short) status.remoteDom());
                m.write32(arg + STATUS_U_INTERDOMAIN_PORT.offset(abi), status.remotePort());
            }
            case VIRQ -> m.write32(u, status.virq());
            default -> {
                // closed, IPI: the union is left as the caller passed it, as Xen copies it back
            }
        }
        return 0;
    }

    private long reset(CallContext ctx, long arg) {
        int dom = domid(copyIn(ctx, arg, l -> l.evtchn_reset), arg + RESET_DOM.offset(ctx.abi()));
        Domain caller = ctx.domain();
        Domain d = domains.byAnyId(caller, dom).orElse(null);
        if (d == null) {
            return -XEN_ESRCH;
        }
        if (d != caller && !caller.isPrivileged()) { // xsm_evtchn_reset(XSM_TARGET)
            return -XEN_EPERM;
        }
        return EventChannels.reset(d, caller);
    }
}
