package xenshim.handlers.sched;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;

import jakarta.inject.Inject;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.EventChannels;
import xenshim.api.GuestMemory;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.ShutdownState;
import xenshim.api.Vcpus;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenSched;

/**
 * {@code sched_op(int cmd, void *arg)}, as Xen 4.17's {@code do_sched_op}
 * (and {@code compat_sched_op}, the same code) serves it under the dummy XSM
 * policy. The structs are the same in both ABIs but {@code struct sched_poll}
 * (24 bytes, 16 in compat: its {@code ports} handle is 4 bytes there).
 *
 * <ul>
 * <li>{@code SCHEDOP_yield}: yields the vCPU's thread; 0.</li>
 * <li>{@code SCHEDOP_shutdown}: reads {@code struct sched_shutdown}
 *     ({@code -EFAULT}) and shuts the caller down with the reason, any
 *     value, as a u8 ({@code domain_shutdown}); 0.</li>
 * <li>{@code SCHEDOP_shutdown_code}: reads the same struct and records the
 *     reason unless one is recorded already (the first wins); 0.</li>
 * <li>{@code SCHEDOP_remote_shutdown}: reads
 *     {@code struct sched_remote_shutdown} ({@code -EFAULT}); the domain by
 *     id, where {@code DOMID_SELF} names none ({@code -ESRCH}); a caller
 *     that is not privileged gets {@code -EPERM}, even for itself
 *     ({@code XSM_DM_PRIV}; xenshim has no device models); else shuts the
 *     target down; 0.</li>
 * <li>{@code SCHEDOP_watchdog}: reads {@code struct sched_watchdog}
 *     ({@code -EFAULT}) and runs {@code domain_watchdog}: see
 *     {@link DomainWatchdogs}. A watchdog that expires shuts the domain down
 *     with {@code SHUTDOWN_watchdog} unless it is already shutting down.</li>
 * <li>{@code SCHEDOP_pin_override}: a caller that is not privileged gets
 *     {@code -EPERM} before anything is read; then {@code int32 pcpu}
 *     ({@code -EFAULT}); a pcpu at or above the host's CPU count is
 *     {@code -EINVAL} (Xen: {@code NR_CPUS}); else 0 — xenshim pins no
 *     vCPU thread, so the override has no effect.</li>
 * <li>{@code SCHEDOP_block} ({@code vcpu_block_enable_events}): clears the
 *     vCPU's {@code evtchn_upcall_mask}, blocks it, and unblocks it at once if
 *     events need delivery; 0. Blocking is a state ({@link Vcpus}) that the
 *     vCPU loop obeys once the call returns: it parks the vCPU until an event
 *     upcall unblocks it.</li>
 * <li>{@code SCHEDOP_poll}: reads {@code struct sched_poll} ({@code -EFAULT})
 *     and runs {@code do_poll}: more than 128 ports {@code -EINVAL}; the vCPU
 *     is blocked and polling any port before anything is looked at; events
 *     needing delivery return 0 at once; then each {@code evtchn_port_t} of
 *     the list is read ({@code -EFAULT}) and asked {@code evtchn_port_poll}
 *     ({@link EventChannels#poll}): a port that is not valid is
 *     {@code -EINVAL}, a pending one returns 0 at once. Otherwise the vCPU
 *     stays blocked, polling the one port it named (any port for several),
 *     until one becomes pending ({@link Vcpus#checkPollers}), an event
 *     upcall, or the {@code timeout} (absolute system time in ns, 0 for
 *     none: {@link Vcpus#pollDeadline}); 0. Every early way out leaves it
 *     neither blocked nor polling, as Xen's {@code out:} label.
 *     {@code guest_handle_okay} never fails for a translated (HVM) domain
 *     ({@code paging_mode_external}), so a bad list is found port by port.</li>
 * <li>anything else: {@code -ENOSYS}.</li>
 * </ul>
 *
 * <p>"Events need delivery" ({@code local_events_need_delivery}) is taken as
 * {@code evtchn_upcall_pending} set for the vCPU. Xen's
 * {@code hvm_local_events_need_delivery} also asks that the upcall could be
 * taken now ({@code !hvm_interrupt_blocked}: {@code RFLAGS.IF} set, no
 * interrupt shadow), which a handler cannot see; a guest blocks with
 * interrupts enabled ({@code sti; hlt}-style), so the two agree for it. A
 * guest that blocks with interrupts off and an upcall pending returns at once
 * here, where Xen would leave it blocked until another wake.
 *
 * <p>The state is the caller's {@link Vcpus} and {@link EventChannels}, so a
 * vCPU blocked through one handler is woken the same after a swap. An
 * in-process caller ({@code Lcall}) has no vCPU loop: the state it sets is
 * never waited on.
 */
@Hypercall(Hypercalls.__HYPERVISOR_sched_op)
public final class SchedOpHandler implements HypercallHandler {

    /** {@code do_poll}'s "fairly arbitrary limit" on {@code nr_ports}. */
    static final int MAX_POLL_PORTS = 128;
    /** {@code sizeof(evtchn_port_t)}. */
    private static final long EVTCHN_PORT_SIZE = 4;

    private final DomainDirectory domains;
    private final ScheduledExecutorService timer;

    @Inject
    public SchedOpHandler(DomainDirectory domains) {
        this(domains, WatchdogTimer.shared());
    }

    /** With a timer of the caller's choice, for tests. */
    SchedOpHandler(DomainDirectory domains, ScheduledExecutorService timer) {
        this.domains = Objects.requireNonNull(domains);
        this.timer = Objects.requireNonNull(timer);
    }

    /**
     * For plain {@link java.util.ServiceLoader} use (javac wants a no-argument
     * way to make a provider): a handler that knows no other domain. The
     * dispatcher never calls this; it constructs the handler with Guice and
     * the platform's {@link DomainDirectory}.
     */
    public static SchedOpHandler provider() {
        return new SchedOpHandler(domid -> Optional.empty());
    }

    @Override
    public long handle(CallContext ctx, long a0, long arg, long a2, long a3, long a4) {
        int cmd = (int) a0;
        return switch (cmd) {
            case XenSched.SCHEDOP_yield -> {
                Thread.yield();
                yield 0;
            }
            case XenSched.SCHEDOP_shutdown -> {
                int reason = ctx.memory().read32(arg + SchedStructs.SHUTDOWN_REASON.offset(ctx.abi()));
                ctx.domain().state(ShutdownState.KEY).shutdown(reason);
                yield 0;
            }
            case XenSched.SCHEDOP_shutdown_code -> {
                int reason = ctx.memory().read32(arg + SchedStructs.SHUTDOWN_REASON.offset(ctx.abi()));
                ctx.domain().state(ShutdownState.KEY).setCode(reason);
                yield 0;
            }
            case XenSched.SCHEDOP_remote_shutdown -> remoteShutdown(ctx, arg);
            case XenSched.SCHEDOP_watchdog -> watchdog(ctx, arg);
            case XenSched.SCHEDOP_pin_override -> pinOverride(ctx, arg);
            case XenSched.SCHEDOP_block -> block(ctx);
            case XenSched.SCHEDOP_poll -> poll(ctx, arg);
            default -> -XEN_ENOSYS;
        };
    }

    /** {@code local_events_need_delivery}, as this HVM shim takes it: {@code evtchn_upcall_pending} is set. */
    private static boolean eventsNeedDelivery(EventChannels events, int vcpu) {
        return events.words().upcallPending(vcpu);
    }

    /** {@code vcpu_block_enable_events}. */
    private static long block(CallContext ctx) {
        int vcpu = ctx.vcpuId();
        EventChannels events = ctx.domain().state(EventChannels.KEY);
        Vcpus vcpus = ctx.domain().state(Vcpus.KEY);
        events.words().setUpcallMask(vcpu, false); // local_event_delivery_enable
        vcpus.block(vcpu);
        if (eventsNeedDelivery(events, vcpu)) { // checked after blocking: a wake cannot slip in between
            vcpus.cancelBlock(vcpu);
        }
        return 0;
    }

    /** {@code SCHEDOP_poll}: {@code copy_from_guest} of {@code struct sched_poll}, then {@code do_poll}. */
    private static long poll(CallContext ctx, long arg) {
        GuestMemory memory = ctx.memory();
        Abi abi = ctx.abi();
        long ports = abi.readULong(memory, arg + SchedStructs.POLL_PORTS.offset(abi));
        long nrPorts = Integer.toUnsignedLong(memory.read32(arg + SchedStructs.POLL_NR_PORTS.offset(abi)));
        long timeout = memory.read64(arg + SchedStructs.POLL_TIMEOUT.offset(abi));
        if (nrPorts > MAX_POLL_PORTS) {
            return -XEN_EINVAL;
        }
        // guest_handle_okay(ports, nr_ports) holds for every translated domain: nothing to check here.
        int vcpu = ctx.vcpuId();
        EventChannels events = ctx.domain().state(EventChannels.KEY);
        Vcpus vcpus = ctx.domain().state(Vcpus.KEY);
        vcpus.startPoll(vcpu);
        boolean polling = false;
        try {
            if (eventsNeedDelivery(events, vcpu)) {
                return 0;
            }
            int port = 0;
            for (long i = 0; i < nrPorts; i++) {
                port = memory.read32(ports + i * EVTCHN_PORT_SIZE); // a fault is -EFAULT, through out:
                int pending = events.poll(port);
                if (pending != 0) {
                    return Math.min(pending, 0); // -EINVAL, or 0: that port is pending
                }
            }
            vcpus.pollOn(vcpu, nrPorts == 1 ? port : -1, timeout);
            polling = true;
            return 0;
        } finally {
            if (!polling) {
                vcpus.cancelPoll(vcpu); // out:
            }
        }
    }

    private long remoteShutdown(CallContext ctx, long arg) {
        GuestMemory memory = ctx.memory();
        int domid = Short.toUnsignedInt(memory.read16(arg + SchedStructs.REMOTE_SHUTDOWN_DOMAIN_ID.offset(ctx.abi())));
        int reason = memory.read32(arg + SchedStructs.REMOTE_SHUTDOWN_REASON.offset(ctx.abi()));
        Domain target = domains.byId(domid).orElse(null); // rcu_lock_domain_by_id: no DOMID_SELF
        if (target == null) {
            return -XEN_ESRCH;
        }
        if (!ctx.domain().isPrivileged()) { // xsm_schedop_shutdown(XSM_DM_PRIV)
            return -XEN_EPERM;
        }
        target.state(ShutdownState.KEY).shutdown(reason);
        return 0;
    }

    private long watchdog(CallContext ctx, long arg) {
        GuestMemory memory = ctx.memory();
        long id = Integer.toUnsignedLong(memory.read32(arg + SchedStructs.WATCHDOG_ID.offset(ctx.abi())));
        long timeout = Integer.toUnsignedLong(memory.read32(arg + SchedStructs.WATCHDOG_TIMEOUT.offset(ctx.abi())));
        Domain caller = ctx.domain();
        return caller.state(DomainWatchdogs.KEY).watchdog(caller, id, timeout, timer);
    }

    private static long pinOverride(CallContext ctx, long arg) {
        if (!ctx.domain().isPrivileged()) { // is_hardware_domain, checked before the copy
            return -XEN_EPERM;
        }
        int pcpu = ctx.memory().read32(arg + SchedStructs.PIN_OVERRIDE_PCPU.offset(ctx.abi()));
        if (pcpu >= Runtime.getRuntime().availableProcessors()) {
            return -XEN_EINVAL;
        }
        return 0; // a negative pcpu removes the override; xenshim pins nothing either way
    }
}
