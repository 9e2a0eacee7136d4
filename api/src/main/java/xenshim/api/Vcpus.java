package xenshim.api;

import java.util.Arrays;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.atomic.AtomicLongArray;
import java.util.function.IntConsumer;
import xenshim.api.xen.XenVcpu;

/**
 * The per-vCPU scheduling state of one domain that handlers change and the vCPU loop obeys: Xen's
 * {@code _VPF_blocked} and poll state ({@code SCHEDOP_block}, {@code SCHEDOP_poll}), the per-vCPU event
 * upcall vector ({@code HVMOP_set_evtchn_upcall_vector}), the runstate and its guest area. Found by
 * {@link #KEY}, so it survives a swap of the handlers.
 *
 * <p>Blocking is a state, never a sleeping handler: a handler sets it and returns; the vCPU loop sees
 * {@link #isBlocked} after the call and parks its thread until {@link #unblock} (an event, a kick, a poll
 * timeout, a stop). The platform {@link #bindWaker binds} what wakes a parked vCPU thread.
 */
public final class Vcpus {

    public static final DomainKey<Vcpus> KEY = DomainKey.of("vcpus", Vcpus::new);

    private static final int MAX = ArrayEventWords.MAX_VCPUS;

    private final AtomicIntegerArray blocked = new AtomicIntegerArray(MAX);
    /** {@code v->poll_evtchn}: 0 none, -1 several ports, else the one port polled. */
    private final AtomicIntegerArray pollEvtchn = new AtomicIntegerArray(MAX);
    /** {@code d->poll_mask}. */
    private final AtomicIntegerArray polling = new AtomicIntegerArray(MAX);
    private final AtomicLongArray pollDeadline = new AtomicLongArray(MAX);
    private final AtomicIntegerArray upcallVector = new AtomicIntegerArray(MAX);
    private final Runstate[] runstates = new Runstate[MAX];
    private final long[] runstateArea = new long[MAX];
    private volatile int online = 1;
    private volatile IntConsumer waker = vcpu -> { };

    public Vcpus() {
        for (int i = 0; i < MAX; i++) {
            runstates[i] = new Runstate(i == 0 ? XenVcpu.RUNSTATE_running : XenVcpu.RUNSTATE_offline);
        }
    }

    /** The platform's way of waking a parked vCPU thread (any thread; must not block). */
    public void bindWaker(IntConsumer wake) {
        waker = Objects.requireNonNull(wake);
    }

    /** How many vCPUs are up (vCPUs 0..n-1); 1 until the platform says more. */
    public void setOnline(int vcpus) {
        if (vcpus < 1 || vcpus > MAX) {
            throw new IllegalArgumentException("vcpus: " + vcpus);
        }
        online = vcpus;
    }

    /** {@code VCPUOP_is_up}: whether {@code vcpu} exists and is up. */
    public boolean isUp(int vcpu) {
        return vcpu >= 0 && vcpu < online;
    }

    // ---- the event upcall vector ----------------------------------------------------------------------------

    /** {@code v->arch.hvm.evtchn_upcall_vector}: 0 for none. */
    public int upcallVector(int vcpu) {
        return upcallVector.get(vcpu);
    }

    public void setUpcallVector(int vcpu, int vector) {
        upcallVector.set(vcpu, vector & 0xFF);
    }

    // ---- blocking -------------------------------------------------------------------------------------------

    /** Sets {@code _VPF_blocked}: the vCPU loop parks the vCPU after this call returns. */
    public void block(int vcpu) {
        blocked.set(vcpu, 1);
    }

    /**
     * {@code vcpu_block}'s way out when events need delivery already: clears {@code _VPF_blocked} without a
     * wake, since the vCPU is running (it is the one blocking).
     */
    public void cancelBlock(int vcpu) {
        blocked.set(vcpu, 0);
    }

    public boolean isBlocked(int vcpu) {
        return blocked.get(vcpu) != 0;
    }

    /**
     * {@code vcpu_unblock}: clears {@code _VPF_blocked} and wakes the parked vCPU; any thread. Xen's
     * {@code vcpu_kick} after an event upcall does this too.
     */
    public void unblock(int vcpu) {
        if (blocked.getAndSet(vcpu, 0) != 0) {
            waker.accept(vcpu);
        }
    }

    /**
     * The first half of {@code do_poll}, before any port is looked at: {@code _VPF_blocked}, polling any port
     * ({@code poll_evtchn} -1), set in Xen's order, so that a port becoming pending from now on wakes it.
     */
    public void startPoll(int vcpu) {
        pollDeadline.set(vcpu, 0);
        blocked.set(vcpu, 1);
        pollEvtchn.set(vcpu, -1);
        polling.set(vcpu, 1);
    }

    /**
     * The second half of {@code do_poll}, once none of the ports is pending: the poll is on {@code port}
     * alone (-1: any, for several ports or none) and times out at system time {@code deadline} (0: never).
     * A poll woken meanwhile stays woken.
     */
    public void pollOn(int vcpu, int port, long deadline) {
        pollEvtchn.set(vcpu, port);
        pollDeadline.set(vcpu, deadline);
    }

    /** {@code do_poll}'s {@code out:} label (an event is there already, or an error): not polling, not blocked. */
    public void cancelPoll(int vcpu) {
        pollEvtchn.set(vcpu, 0);
        polling.set(vcpu, 0);
        blocked.set(vcpu, 0);
    }

    public boolean isPolling(int vcpu) {
        return polling.get(vcpu) != 0;
    }

    /** {@code v->poll_evtchn}: the one port polled; -1 any (several ports); 0 when not polling. */
    public int polledPort(int vcpu) {
        return isPolling(vcpu) ? pollEvtchn.get(vcpu) : 0;
    }

    /**
     * The system time {@code vcpu}'s poll times out at; 0 for none, or when it is not polling (so a stale
     * deadline never ends a later {@code SCHEDOP_block}). Read by the vCPU's own loop.
     */
    public long pollDeadline(int vcpu) {
        long deadline = pollDeadline.get(vcpu);
        return isPolling(vcpu) ? deadline : 0;
    }

    /** {@code poll_timer_fn}: the poll's time is up. */
    public void pollTimedOut(int vcpu) {
        if (polling.getAndSet(vcpu, 0) != 0) {
            pollEvtchn.set(vcpu, 0);
            unblock(vcpu);
        }
    }

    /**
     * {@code evtchn_check_pollers}: {@code port} became pending; wakes each vCPU polling it or several
     * ports. Called by {@link EventDelivery} with the table's lock held.
     */
    public void checkPollers(int port) {
        int n = online;
        for (int vcpu = 0; vcpu < n; vcpu++) {
            int polled = pollEvtchn.get(vcpu);
            if ((polled <= 0 || polled == port) && polling.get(vcpu) != 0 && polling.getAndSet(vcpu, 0) != 0) {
                pollEvtchn.set(vcpu, 0);
                unblock(vcpu);
            }
        }
    }

    // ---- runstate -------------------------------------------------------------------------------------------

    /** {@code vcpu_runstate_change}: {@code vcpu} enters {@code state} at system time {@code now}. */
    public void runstateChange(int vcpu, int state, long now) {
        runstates[vcpu].change(state, now);
    }

    /** A copy of {@code vcpu}'s {@code struct vcpu_runstate_info} (times up to its last change, as Xen's). */
    public RunstateInfo runstate(int vcpu) {
        return runstates[vcpu].snapshot();
    }

    /** The guest-virtual address of {@code vcpu}'s runstate area, 0 for none. */
    public long runstateArea(int vcpu) {
        return runstateArea[vcpu];
    }

    public void setRunstateArea(int vcpu, long address) {
        runstateArea[vcpu] = address;
    }

    /**
     * {@code struct vcpu_runstate_info}.
     *
     * @param time nanoseconds spent in each {@code RUNSTATE_*}, indexed by state
     */
    public record RunstateInfo(int state, long stateEntryTime, long[] time) {
        public RunstateInfo {
            time = time.clone();
        }

        @Override
        public long[] time() {
            return time.clone();
        }
    }

    private static final class Runstate {
        private int state;
        private long entry;
        private final long[] time = new long[4];

        Runstate(int state) {
            this.state = state;
        }

        synchronized void change(int next, long now) {
            time[state] += Math.max(0, now - entry);
            state = next;
            entry = now;
        }

        synchronized RunstateInfo snapshot() {
            return new RunstateInfo(state, entry, Arrays.copyOf(time, 4));
        }
    }
}
