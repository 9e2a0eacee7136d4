package xenshim.api;

/**
 * Xen's {@code vcpu_mark_events_pending} after {@code evtchn_upcall_pending} is set: make the vCPU take its
 * event upcall (inject the callback vector at its next interrupt window, kick it out of its run call, wake
 * it from a block). Bound by the runtime; called from any thread, with an event-channel table's lock held,
 * so it must not block.
 */
@FunctionalInterface
public interface Upcall {

    /** Does nothing: events stay pending in the words until the guest looks. */
    Upcall NONE = vcpu -> { };

    void raise(int vcpu);

    /**
     * Xen's {@code evtchn_check_pollers}: {@code port} just became pending (masked or not), so a vCPU
     * polling it in {@code SCHEDOP_poll} wakes. Same thread and lock as {@link #raise}. The default polls
     * nothing.
     */
    default void checkPollers(int port) {
    }

    /**
     * The domain's events have a consumer in the process (Xen's {@code consumer_is_xen}: dom0's
     * backends): {@code port} just became pending, so run what consumes it. Called after the caller
     * released every event-channel lock, on its thread, as Xen's {@code evtchn_send} calls an in-Xen
     * consumer's {@code xen_notification_fn} without holding the channel's lock: the consumer may take
     * locks and make hypercalls, and its work never holds up another domain's events. The default
     * consumes nothing: a guest takes its events itself, through {@link #raise} and its pollers.
     */
    default void consume(int port) {
    }
}
