package xenshim.api;

import java.util.Objects;
import xenshim.api.xen.XenEvtchn;

/**
 * One domain's vCPU timers: Xen's {@code v->singleshot_timer} ({@code set_timer_op},
 * {@code VCPUOP_set_singleshot_timer}) and {@code v->periodic_timer} ({@code VCPUOP_set_periodic_timer}).
 * Each sends {@code VIRQ_TIMER} to its vCPU when it fires ({@code send_timer_event}). The timers are the
 * platform's ({@link Timers}); this state is attached by the platform to each domain, so a swapped handler
 * finds the timers the old one armed.
 */
public final class VcpuTimers {

    public static final DomainKey<VcpuTimers> KEY = DomainKey.attached("vcpu timers");

    private static final int MAX = ArrayEventWords.MAX_VCPUS;

    private final Domain domain;
    private final XenClock clock;
    private final Timers timers;
    private final Timers.Timer[] singleshot = new Timers.Timer[MAX];
    private final long[] singleshotDeadline = new long[MAX];
    private final Timers.Timer[] periodic = new Timers.Timer[MAX];
    private final long[] period = new long[MAX];
    private final long[] periodicLast = new long[MAX];
    private boolean stopped;

    public VcpuTimers(Domain domain, XenClock clock, Timers timers) {
        this.domain = Objects.requireNonNull(domain);
        this.clock = Objects.requireNonNull(clock);
        this.timers = Objects.requireNonNull(timers);
    }

    public XenClock clock() {
        return clock;
    }

    /** {@code set_timer(&v->singleshot_timer, deadline)}: replaces an armed one. */
    public synchronized void setSingleshot(int vcpu, long deadline) {
        cancel(singleshot, vcpu);
        if (stopped) {
            return;
        }
        singleshotDeadline[vcpu] = deadline;
        singleshot[vcpu] = timers.at(deadline, () -> singleshotFired(vcpu, deadline));
    }

    /** {@code stop_timer(&v->singleshot_timer)}. */
    public synchronized void stopSingleshot(int vcpu) {
        cancel(singleshot, vcpu);
        singleshotDeadline[vcpu] = 0;
    }

    /** The deadline of {@code vcpu}'s armed singleshot timer, 0 if none. */
    public synchronized long singleshotDeadline(int vcpu) {
        return singleshotDeadline[vcpu];
    }

    /**
     * {@code vcpu_set_periodic_timer}: fires every {@code periodNs}; 0 stops it. As Xen's
     * {@code vcpu_periodic_timer_work_locked}, the first event is sent at once if a period has passed since
     * the vCPU's last periodic event (a vCPU that never had one: since system time 0), else at the end of
     * that period; each later one a period after the one before.
     */
    public void setPeriodic(int vcpu, long periodNs) {
        boolean send;
        synchronized (this) {
            cancel(periodic, vcpu);
            period[vcpu] = periodNs;
            if (periodNs == 0 || stopped) {
                return;
            }
            send = periodicWork(vcpu, periodNs);
        }
        if (send) {
            sendTimerEvent(vcpu);
        }
    }

    /** {@code v->periodic_period}: 0 when stopped. */
    public synchronized long period(int vcpu) {
        return period[vcpu];
    }

    /** Stops every timer for good: the domain is going away. */
    public synchronized void stopAll() {
        stopped = true;
        for (int vcpu = 0; vcpu < MAX; vcpu++) {
            cancel(singleshot, vcpu);
            cancel(periodic, vcpu);
            singleshotDeadline[vcpu] = 0;
            period[vcpu] = 0;
        }
    }

    private void armPeriodic(int vcpu, long deadline) {
        long p = period[vcpu];
        periodic[vcpu] = timers.at(deadline, () -> periodicFired(vcpu, p));
    }

    private void singleshotFired(int vcpu, long deadline) {
        synchronized (this) {
            if (singleshotDeadline[vcpu] != deadline || singleshot[vcpu] == null) {
                return; // re-armed or stopped meanwhile
            }
            singleshot[vcpu] = null;
            singleshotDeadline[vcpu] = 0;
        }
        sendTimerEvent(vcpu);
    }

    /**
     * {@code vcpu_periodic_timer_work}: once a period has passed since the last event, sends one and arms
     * the next a period after now; early, it arms the timer for the end of the period.
     */
    private void periodicFired(int vcpu, long armedPeriod) {
        boolean send;
        synchronized (this) {
            if (period[vcpu] != armedPeriod || periodic[vcpu] == null || stopped) {
                return;
            }
            send = periodicWork(vcpu, armedPeriod);
        }
        if (send) {
            sendTimerEvent(vcpu);
        }
    }

    /**
     * Arms the next periodic event; whether one is due now (the caller sends it, outside the lock). The sums
     * saturate where Xen's {@code s_time_t} ones would wrap negative (a period near {@code STIME_DELTA_MAX}),
     * which would fire the timer at once, again and again.
     */
    private boolean periodicWork(int vcpu, long p) {
        long now = clock.now();
        long next = saturatingAdd(periodicLast[vcpu], p);
        boolean send = now >= next;
        if (send) {
            periodicLast[vcpu] = now;
            next = saturatingAdd(now, p);
        }
        armPeriodic(vcpu, next);
        return send;
    }

    private static long saturatingAdd(long time, long period) {
        long sum = time + period;
        return sum < time ? Long.MAX_VALUE : sum;
    }

    /** {@code send_timer_event}: {@code VIRQ_TIMER} on {@code vcpu}. */
    private void sendTimerEvent(int vcpu) {
        domain.state(EventChannels.KEY).sendVirq(vcpu, XenEvtchn.VIRQ_TIMER);
    }

    private static void cancel(Timers.Timer[] armed, int vcpu) {
        Timers.Timer timer = armed[vcpu];
        armed[vcpu] = null;
        if (timer != null) {
            timer.cancel();
        }
    }
}
