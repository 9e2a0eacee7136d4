package xenshim.api;

import java.util.Objects;

/**
 * The 2-level event ABI ({@code event_2l.c}) over a domain's {@link EventWords}: a bit per port in
 * {@code evtchn_pending} and {@code evtchn_mask}, a selector bit per word of them in each vCPU's
 * {@code evtchn_pending_sel}, and {@code evtchn_upcall_pending}. The bit operations happen in Xen's strict
 * order, each atomic, because the guest clears the same bits on other CPUs.
 */
public final class TwoLevelEvents implements EventDelivery {

    private final EventWords words;
    private final int bitsPerWord;
    private final Upcall upcall;

    /**
     * @param bitsPerWord {@code BITS_PER_EVTCHN_WORD(d)}: 64 for a 64-bit {@code shared_info}, 32 for a
     *                    compat one
     */
    public TwoLevelEvents(EventWords words, int bitsPerWord, Upcall upcall) {
        if (bitsPerWord != 32 && bitsPerWord != 64) {
            throw new IllegalArgumentException("bits per event word: " + bitsPerWord);
        }
        this.words = Objects.requireNonNull(words);
        this.bitsPerWord = bitsPerWord;
        this.upcall = Objects.requireNonNull(upcall);
    }

    /** {@code evtchn_2l_set_pending}. */
    @Override
    public boolean setPending(int vcpu, int port) {
        if (words.testAndSetPending(port)) {
            return false;
        }
        if (!words.testMask(port) && !words.testAndSetPendingSel(vcpu, port / bitsPerWord)) {
            markEventsPending(vcpu);
        }
        upcall.checkPollers(port);
        return true;
    }

    @Override
    public void clearPending(int port) {
        words.clearPending(port);
    }

    /** {@code evtchn_2l_unmask}. */
    @Override
    public void unmask(int vcpu, int port) {
        if (words.testAndClearMask(port) && words.testPending(port)
                && !words.testAndSetPendingSel(vcpu, port / bitsPerWord)) {
            markEventsPending(vcpu);
        }
    }

    @Override
    public boolean isPending(int port) {
        return words.testPending(port);
    }

    @Override
    public boolean isMasked(int port) {
        return words.testMask(port);
    }

    /** {@code vcpu_mark_events_pending}: the upcall is raised only when upcall_pending goes from 0 to 1. */
    private void markEventsPending(int vcpu) {
        if (!words.testAndSetUpcallPending(vcpu)) {
            upcall.raise(vcpu);
        }
    }
}
