package xenshim.api;

import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import xenshim.api.xen.XenEvtchn;

/**
 * {@link EventWords} held in the JVM: room for the 64-bit ABI's 4096 ports and {@link #MAX_VCPUS} vCPUs.
 * Xen keeps a domain's {@code shared_info} in a page of its own from the domain's creation, so events sent
 * before the guest maps it are recorded there and seen once it does; this is that page until the runtime
 * binds the guest's.
 */
public final class ArrayEventWords implements EventWords {

    /** {@code HVM_MAX_VCPUS} of Xen 4.17's x86 HVM guests. */
    public static final int MAX_VCPUS = 128;

    private final AtomicLongArray pending = new AtomicLongArray(XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64 / 64);
    private final AtomicLongArray mask = new AtomicLongArray(XenEvtchn.EVTCHN_2L_NR_CHANNELS_X86_64 / 64);
    private final AtomicLongArray pendingSel = new AtomicLongArray(MAX_VCPUS);
    private final AtomicIntegerArray upcallPending = new AtomicIntegerArray(MAX_VCPUS);
    private final AtomicIntegerArray upcallMask = new AtomicIntegerArray(MAX_VCPUS);

    private static boolean testAndSet(AtomicLongArray words, int bit) {
        long m = 1L << (bit & 63);
        return (words.getAndUpdate(bit >>> 6, w -> w | m) & m) != 0;
    }

    private static boolean testAndClear(AtomicLongArray words, int bit) {
        long m = 1L << (bit & 63);
        return (words.getAndUpdate(bit >>> 6, w -> w & ~m) & m) != 0;
    }

    private static boolean test(AtomicLongArray words, int bit) {
        return (words.get(bit >>> 6) & (1L << (bit & 63))) != 0;
    }

    @Override
    public boolean testAndSetPending(int port) {
        return testAndSet(pending, Objects.checkIndex(port, 64 * pending.length()));
    }

    @Override
    public boolean testPending(int port) {
        return test(pending, Objects.checkIndex(port, 64 * pending.length()));
    }

    @Override
    public void clearPending(int port) {
        testAndClear(pending, Objects.checkIndex(port, 64 * pending.length()));
    }

    /** Clears {@code evtchn_pending[port]} in one atomic step; whether it was set (the event, taken). */
    public boolean testAndClearPending(int port) {
        return testAndClear(pending, Objects.checkIndex(port, 64 * pending.length()));
    }

    @Override
    public boolean testMask(int port) {
        return test(mask, Objects.checkIndex(port, 64 * mask.length()));
    }

    @Override
    public void setMask(int port) {
        testAndSet(mask, Objects.checkIndex(port, 64 * mask.length()));
    }

    @Override
    public boolean testAndClearMask(int port) {
        return testAndClear(mask, Objects.checkIndex(port, 64 * mask.length()));
    }

    @Override
    public boolean testAndSetPendingSel(int vcpu, int bit) {
        long m = 1L << Objects.checkIndex(bit, 64);
        return (pendingSel.getAndUpdate(vcpu, w -> w | m) & m) != 0;
    }

    @Override
    public boolean testPendingSel(int vcpu, int bit) {
        return (pendingSel.get(vcpu) & (1L << Objects.checkIndex(bit, 64))) != 0;
    }

    @Override
    public boolean testAndSetUpcallPending(int vcpu) {
        return upcallPending.getAndSet(vcpu, 1) != 0;
    }

    @Override
    public boolean upcallPending(int vcpu) {
        return upcallPending.get(vcpu) != 0;
    }

    @Override
    public boolean upcallMasked(int vcpu) {
        return upcallMask.get(vcpu) != 0;
    }

    @Override
    public void setUpcallMask(int vcpu, boolean masked) {
        upcallMask.set(vcpu, masked ? 1 : 0);
    }
}
