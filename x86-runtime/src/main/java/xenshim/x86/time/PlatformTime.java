package xenshim.x86.time;

import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.api.Timers;
import xenshim.api.XenClock;

/**
 * The platform's one clock and its timers: Xen's system time over the JVM's monotonic clock, and one
 * daemon thread that runs every domain's timer actions (vCPU timers, poll timeouts). Actions are short
 * and never block (they mark a port pending and kick a vCPU); one that throws is logged and the thread
 * goes on.
 */
public final class PlatformTime implements Timers {

    private static final Logger LOG = LoggerFactory.getLogger(PlatformTime.class);
    private static final PlatformTime SHARED = new PlatformTime(XenClock.startingNow());

    private final XenClock clock;
    /** Null for timers that never fire ({@link #stopped}). */
    private final ScheduledThreadPoolExecutor executor;

    public PlatformTime(XenClock clock) {
        this(clock, true);
    }

    private PlatformTime(XenClock clock, boolean fires) {
        this.clock = clock;
        this.executor = fires ? newExecutor() : null;
    }

    /**
     * Time whose timers are armed and cancelled as usual but never fire: for {@code xenshim replay},
     * where what timers did in the recorded run is in the recording, and an action running meanwhile
     * would change the state the replayed calls see. Arming reads the clock as it always does.
     */
    public static PlatformTime stopped(XenClock clock) {
        return new PlatformTime(clock, false);
    }

    private static ScheduledThreadPoolExecutor newExecutor() {
        ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
            Thread thread = new Thread(runnable, "xen-timers");
            thread.setDaemon(true);
            return thread;
        });
        executor.setRemoveOnCancelPolicy(true);
        return executor;
    }

    /** The process's platform time, for machines built outside a {@link xenshim.x86.Platform}. */
    public static PlatformTime shared() {
        return SHARED;
    }

    public XenClock clock() {
        return clock;
    }

    @Override
    public Timer at(long deadline, Runnable action) {
        long delay = Math.max(0, deadline - clock.now());
        if (executor == null) {
            return () -> { };
        }
        ScheduledFuture<?> future = executor.schedule(() -> {
            try {
                action.run();
            } catch (RuntimeException e) {
                LOG.error("a timer action failed", e);
            }
        }, delay, TimeUnit.NANOSECONDS);
        return () -> future.cancel(false);
    }
}
