package xenshim.api;

/**
 * The words of one domain's 2-level event-channel ABI: {@code shared_info.evtchn_pending[]} and
 * {@code evtchn_mask[]}, and each vCPU's {@code vcpu_info.evtchn_pending_sel} and
 * {@code evtchn_upcall_pending} and {@code evtchn_upcall_mask}. The guest writes the same words, so every operation is one atomic bit
 * operation, as Xen's {@code guest_test_and_set_bit} and friends.
 *
 * <p>Port {@code p}'s bit is bit {@code p} of the array in little-endian order, whatever the guest's word
 * size; the selector bit for port {@code p} is {@code p / bitsPerWord} (64 for a 64-bit
 * {@code shared_info}, 32 for a compat one), which the caller computes. {@link ArrayEventWords} keeps the
 * words in the JVM (Xen's own {@code shared_info} page before the guest maps it; a fake for tests); the
 * runtime binds the guest's mapped page.
 */
public interface EventWords {

    /** Sets {@code evtchn_pending[port]}; whether it was set already. */
    boolean testAndSetPending(int port);

    boolean testPending(int port);

    void clearPending(int port);

    boolean testMask(int port);

    /** Sets {@code evtchn_mask[port]} (the guest's own operation; for tests and diagnostics). */
    void setMask(int port);

    /** Clears {@code evtchn_mask[port]}; whether it was set. */
    boolean testAndClearMask(int port);

    /** Sets bit {@code bit} of {@code vcpu}'s {@code evtchn_pending_sel}; whether it was set already. */
    boolean testAndSetPendingSel(int vcpu, int bit);

    boolean testPendingSel(int vcpu, int bit);

    /** Sets {@code vcpu}'s {@code evtchn_upcall_pending} to 1; whether it was 1 already. */
    boolean testAndSetUpcallPending(int vcpu);

    boolean upcallPending(int vcpu);

    /**
     * {@code vcpu}'s {@code evtchn_upcall_mask}: a PV guest's "events off". An HVM guest's upcall is an
     * interrupt, gated by its {@code RFLAGS.IF} instead, and Xen does not look at this byte for it.
     */
    boolean upcallMasked(int vcpu);

    /**
     * Sets or clears {@code vcpu}'s {@code evtchn_upcall_mask}: Xen's {@code local_event_delivery_disable}
     * / {@code _enable}, which {@code SCHEDOP_block} calls.
     */
    void setUpcallMask(int vcpu, boolean masked);
}
