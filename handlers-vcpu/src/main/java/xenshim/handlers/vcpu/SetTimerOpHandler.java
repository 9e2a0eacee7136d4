package xenshim.handlers.vcpu;

import jakarta.inject.Inject;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;
import xenshim.api.VcpuTimers;
import xenshim.api.xen.Hypercalls;

/**
 * {@code set_timer_op(s_time_t timeout)}, Xen 4.17.5's {@code do_set_timer_op} (common/sched/core.c) on the
 * calling vCPU's singleshot timer ({@link VcpuTimers}, which sends {@code VIRQ_TIMER} when it fires). Always
 * returns 0.
 *
 * <ul>
 * <li>{@code timeout} 0: stops the timer.</li>
 * <li>{@code timeout} negative, or at least 2<sup>50</sup> ns (about 13 days) after now: sets the timer for
 *     now + 100 ms. This is Xen's workaround for Linux guests whose jiffies arithmetic wraps, and for old
 *     guests that ask for a far timeout when they want none.</li>
 * <li>else: sets the timer for {@code timeout}, an absolute system time (one that has passed fires at
 *     once).</li>
 * </ul>
 *
 * <p>The 64-bit timeout is the first argument on x86-64; a compat caller passes it in two registers,
 * {@code compat_set_timer_op(uint32_t lo, uint32_t hi)}: the low half in the first (ebx), the high half in
 * the second (ecx).
 *
 * <p>Needs the domain's {@link VcpuTimers}, which the platform attaches; without them the call fails
 * ({@code -EIO}, logged).
 */
@Hypercall(Hypercalls.__HYPERVISOR_set_timer_op)
public final class SetTimerOpHandler implements HypercallHandler {

    /** Timeouts this far ahead, or more, count as "huge" ({@code offset >> 50}). */
    private static final long HUGE_TIMEOUT = 1L << 50;
    /** What a huge timeout is replaced with: {@code MILLISECS(100)} from now. */
    private static final long HUGE_TIMEOUT_REPLACEMENT = 100 * VcpuStructs.MILLISECS;

    @Inject
    public SetTimerOpHandler() {
    }

    @Override
    public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
        long timeout = ctx.abi() == Abi.X86_64 ? a0 : (a1 << 32) | (a0 & 0xFFFF_FFFFL);
        int vcpu = ctx.vcpuId();
        VcpuTimers timers = ctx.domain().state(VcpuTimers.KEY);
        long now = timers.clock().now();
        long offset = timeout - now;
        if (timeout == 0) {
            timers.stopSingleshot(vcpu);
        } else if (timeout < 0 || offset >= HUGE_TIMEOUT) {
            timers.setSingleshot(vcpu, now + HUGE_TIMEOUT_REPLACEMENT);
        } else {
            timers.setSingleshot(vcpu, timeout);
        }
        return 0;
    }
}
