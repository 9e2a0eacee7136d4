package xenshim.handlers.sched;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;

/** The one daemon thread that runs every domain's watchdog timers. */
final class WatchdogTimer {

    private WatchdogTimer() {
    }

    private static final class Holder {
        static final ScheduledThreadPoolExecutor TIMER = create();

        private static ScheduledThreadPoolExecutor create() {
            ScheduledThreadPoolExecutor executor = new ScheduledThreadPoolExecutor(1, runnable -> {
                Thread thread = new Thread(runnable, "xenshim-sched-watchdog");
                thread.setDaemon(true);
                return thread;
            });
            executor.setRemoveOnCancelPolicy(true);
            return executor;
        }
    }

    /** The shared timer, started on first use. */
    static ScheduledExecutorService shared() {
        return Holder.TIMER;
    }
}
