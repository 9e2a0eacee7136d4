package xenshim.api;

/**
 * How a domain's ports become pending and unmasked: Xen's {@code evtchn_port_ops}. {@link EventChannels}
 * calls it; {@link TwoLevelEvents} is the 2-level ABI's.
 */
public interface EventDelivery {

    /**
     * {@code evtchn_port_set_pending}: marks {@code port} pending and notifies {@code vcpu} unless masked.
     *
     * @return whether the port became pending now (false: it was pending already, and nothing was done)
     */
    boolean setPending(int vcpu, int port);

    /** {@code evtchn_port_clear_pending}: on close, so a re-bound port starts clean. */
    void clearPending(int port);

    /** {@code evtchn_port_unmask}: clears the mask and re-delivers a port that became pending meanwhile. */
    void unmask(int vcpu, int port);

    boolean isPending(int port);

    boolean isMasked(int port);
}
