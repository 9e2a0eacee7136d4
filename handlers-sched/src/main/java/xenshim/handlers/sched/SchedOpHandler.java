package xenshim.handlers.sched;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;

import jakarta.inject.Inject;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.GuestMemory;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.ShutdownState;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenSched;

/**
 * {@code sched_op(int cmd, void *arg)}, as Xen 4.17's {@code do_sched_op}
 * (and {@code compat_sched_op}, the same code) serves it under the dummy XSM
 * policy. The structs used here are the same in both ABIs.
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
 * <li>{@code SCHEDOP_block}, {@code SCHEDOP_poll}: {@code -ENOSYS} for now;
 *     they need event channels to wake the vCPU.</li>
 * <li>anything else: {@code -ENOSYS}.</li>
 * </ul>
 */
@Hypercall(Hypercalls.__HYPERVISOR_sched_op)
public final class SchedOpHandler implements HypercallHandler {

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
            default -> -XEN_ENOSYS; // SCHEDOP_block and SCHEDOP_poll too, until event channels
        };
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
