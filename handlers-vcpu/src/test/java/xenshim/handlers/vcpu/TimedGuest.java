package xenshim.handlers.vcpu;

import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.VcpuTimers;
import xenshim.api.xen.XenEvtchn;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.TestingClock;
import xenshim.testkit.TestingTimers;

/**
 * A guest with two vCPUs (vCPU 0 up, vCPU 1 down), its {@link VcpuTimers} on {@link TestingTimers}, and
 * {@code VIRQ_TIMER} bound for vCPU 0, as both handlers' tests want it.
 */
final class TimedGuest {

    static final long MS = 1_000_000;

    final TestingTimers timers;
    final Domain domain;
    final VcpuTimers vcpuTimers;
    final EventChannels channels;
    final int timerPort;

    TimedGuest(int domid, long now) {
        timers = new TestingTimers(TestingClock.at(now));
        domain = FakeDomains.guest(domid);
        vcpuTimers = FakeDomains.attachVcpuTimers(domain, timers);
        channels = domain.state(EventChannels.KEY);
        channels.setMaxVcpus(2);
        timerPort = channels.bindVirq(XenEvtchn.VIRQ_TIMER, 0);
    }

    /** Whether {@code VIRQ_TIMER} is pending for vCPU 0. */
    boolean timerPending() {
        return channels.delivery().isPending(timerPort);
    }

    /** Whether {@code VIRQ_TIMER} is pending for vCPU 0; clears it, as the guest's handler would. */
    boolean takeTimerEvent() {
        boolean pending = timerPending();
        channels.delivery().clearPending(timerPort);
        return pending;
    }
}
