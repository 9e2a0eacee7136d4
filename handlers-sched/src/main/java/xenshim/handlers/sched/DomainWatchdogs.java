package xenshim.handlers.sched;

import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSPC;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import xenshim.api.Domain;
import xenshim.api.DomainKey;
import xenshim.api.ShutdownState;
import xenshim.api.xen.XenSched;

/**
 * A domain's watchdog timers ({@code d->watchdog_timer}, {@code watchdog_inuse_map}),
 * as Xen 4.17's {@code domain_watchdog} keeps them: two slots, ids 1 and 2.
 * Kept as domain state, so a running watchdog survives a shim swap. A slot
 * that fires stays in use until the guest frees it, as in Xen.
 */
final class DomainWatchdogs {

    /** {@code NR_DOMAIN_WATCHDOG_TIMERS}. */
    static final int NR_DOMAIN_WATCHDOG_TIMERS = 2;

    /** Every domain's watchdogs, made on first use. */
    static final DomainKey<DomainWatchdogs> KEY = DomainKey.of("sched_op watchdogs", DomainWatchdogs::new);

    private final boolean[] inUse = new boolean[NR_DOMAIN_WATCHDOG_TIMERS];
    private final long[] generation = new long[NR_DOMAIN_WATCHDOG_TIMERS];
    private final ScheduledFuture<?>[] timers = new ScheduledFuture<?>[NR_DOMAIN_WATCHDOG_TIMERS];

    /**
     * {@code domain_watchdog(d, id, timeout)}.
     *
     * @param id      0 to allocate a slot, else the slot's id (1-based)
     * @param timeout seconds, unsigned; 0 frees slot {@code id} (but arms a new slot for "now")
     * @return the new id for {@code id == 0}, else 0; or {@code -EINVAL} / {@code -ENOSPC}
     */
    synchronized long watchdog(Domain domain, long id, long timeout, ScheduledExecutorService timer) {
        if (id > NR_DOMAIN_WATCHDOG_TIMERS) {
            return -XEN_EINVAL;
        }
        if (id == 0) {
            for (int slot = 0; slot < NR_DOMAIN_WATCHDOG_TIMERS; slot++) {
                if (!inUse[slot]) {
                    inUse[slot] = true;
                    arm(domain, slot, timeout, timer);
                    return slot + 1;
                }
            }
            return -XEN_ENOSPC;
        }
        int slot = (int) id - 1;
        if (!inUse[slot]) {
            return -XEN_EINVAL;
        }
        if (timeout == 0) {
            stop(slot);
            inUse[slot] = false;
        } else {
            arm(domain, slot, timeout, timer);
        }
        return 0;
    }

    /** Whether slot {@code id} (1-based) is allocated. */
    synchronized boolean inUse(int id) {
        return inUse[id - 1];
    }

    private void arm(Domain domain, int slot, long timeout, ScheduledExecutorService timer) {
        stop(slot);
        long armed = generation[slot];
        timers[slot] = timer.schedule(() -> expire(domain, slot, armed), timeout, TimeUnit.SECONDS);
    }

    private void stop(int slot) {
        generation[slot]++;
        if (timers[slot] != null) {
            timers[slot].cancel(false);
            timers[slot] = null;
        }
    }

    /** {@code domain_watchdog_timeout}: shuts the domain down unless it already is, or the slot was re-armed or freed. */
    private void expire(Domain domain, int slot, long armed) {
        synchronized (this) {
            if (generation[slot] != armed || !inUse[slot]) {
                return;
            }
            timers[slot] = null;
        }
        ShutdownState shutdown = domain.state(ShutdownState.KEY);
        if (!shutdown.isShuttingDown()) {
            shutdown.shutdown(XenSched.SHUTDOWN_watchdog);
        }
    }
}
