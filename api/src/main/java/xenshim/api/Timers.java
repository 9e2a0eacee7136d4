package xenshim.api;

/**
 * The platform's timers, on its {@link XenClock}: Xen's {@code set_timer}. A handler never starts a thread or
 * a timer of its own (its state must survive a swap); it arms one of these through the domain's state
 * ({@link VcpuTimers}).
 */
public interface Timers {

    /**
     * Runs {@code action} once, on a platform thread, at system time {@code deadline} (at once if that has
     * passed). The action must not block.
     */
    Timer at(long deadline, Runnable action);

    /** An armed timer. */
    interface Timer {

        /** {@code stop_timer}: the action will not run unless it has started already. */
        void cancel();
    }
}
