package xenshim.testkit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.Timers;
import xenshim.api.VcpuTimers;
import xenshim.api.xen.XenEvtchn;

class TestingTimersTest {

    private static final long MS = 1_000_000;

    private final TestingTimers timers = new TestingTimers(TestingClock.at(1_000 * MS));
    private final List<String> log = new ArrayList<>();

    private Runnable record(String name) {
        return () -> log.add(name + "@" + timers.clock().now());
    }

    @Test
    void firesInDeadlineOrderWithTheClockAtEachDeadline() {
        long t0 = timers.clock().now();
        timers.at(t0 + 30, record("c"));
        timers.at(t0 + 10, record("a"));
        timers.at(t0 + 20, record("b"));
        assertThat(timers.pending()).containsExactly(t0 + 10, t0 + 20, t0 + 30);

        assertThat(timers.advance(25)).isEqualTo(2);
        assertThat(log).containsExactly("a@" + (t0 + 10), "b@" + (t0 + 20));
        assertThat(timers.clock().now()).isEqualTo(t0 + 25);

        assertThat(timers.advance(100)).isEqualTo(1);
        assertThat(log).containsExactly("a@" + (t0 + 10), "b@" + (t0 + 20), "c@" + (t0 + 30));
        assertThat(timers.clock().now()).isEqualTo(t0 + 125);
        assertThat(timers.pending()).isEmpty();
        assertThat(timers.fired()).isEqualTo(3);
    }

    @Test
    void oneDeadlineFiresInArmingOrder() {
        long t = timers.clock().now() + 5;
        timers.at(t, record("first"));
        timers.at(t, record("second"));
        timers.at(t, record("third"));
        timers.advance(5);
        assertThat(log).containsExactly("first@" + t, "second@" + t, "third@" + t);
    }

    @Test
    void aCancelledTimerNeverFires() {
        long t0 = timers.clock().now();
        Timers.Timer kept = timers.at(t0 + 1, record("kept"));
        Timers.Timer cancelled = timers.at(t0 + 2, record("cancelled"));
        cancelled.cancel();
        cancelled.cancel();
        assertThat(timers.pending()).containsExactly(t0 + 1);
        timers.advance(10);
        assertThat(log).containsExactly("kept@" + (t0 + 1));
        kept.cancel(); // after it fired: nothing
        assertThat(timers.fired()).isEqualTo(1);
    }

    @Test
    void aPastDeadlineRunsAtTheNextRunDueNeverInsideAt() {
        long t0 = timers.clock().now();
        timers.at(t0 - 50, record("late"));
        timers.at(-1, record("negative"));
        assertThat(log).isEmpty();
        assertThat(timers.runDue()).isEqualTo(2);
        assertThat(log).containsExactly("negative@" + t0, "late@" + t0);
        assertThat(timers.clock().now()).isEqualTo(t0);
    }

    @Test
    void aTimerArmedByAnActionFiresInTheSameAdvanceWhenDue() {
        long t0 = timers.clock().now();
        Runnable[] tick = new Runnable[1];
        tick[0] = () -> {
            log.add("tick@" + timers.clock().now());
            timers.at(timers.clock().now() + 10, tick[0]);
        };
        timers.at(t0 + 10, tick[0]);
        assertThat(timers.advance(35)).isEqualTo(3);
        assertThat(log).containsExactly("tick@" + (t0 + 10), "tick@" + (t0 + 20), "tick@" + (t0 + 30));
        assertThat(timers.pending()).containsExactly(t0 + 40);
    }

    @Test
    void aRunawayTimerIsStopped() {
        Runnable[] again = new Runnable[1];
        again[0] = () -> timers.at(timers.clock().now(), again[0]);
        timers.at(timers.clock().now(), again[0]);
        assertThatThrownBy(timers::runDue).isInstanceOf(IllegalStateException.class).hasMessageContaining("runaway");
    }

    @Test
    void timeNeverGoesBack() {
        assertThatThrownBy(() -> timers.advance(-1)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> timers.advanceTo(timers.clock().now() - 1))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---- with VcpuTimers attached by FakeDomains --------------------------------------------------------

    @Test
    void attachedVcpuTimersSendVirqTimerWhenTheTestMovesTime() {
        Domain domain = FakeDomains.guest(1);
        VcpuTimers vcpuTimers = FakeDomains.attachVcpuTimers(domain, timers);
        assertThat(domain.state(VcpuTimers.KEY)).isSameAs(vcpuTimers);
        assertThat(vcpuTimers.clock()).isSameAs(timers.clock());
        EventChannels channels = domain.state(EventChannels.KEY);
        int port = channels.bindVirq(XenEvtchn.VIRQ_TIMER, 0);

        vcpuTimers.setSingleshot(0, timers.clock().now() + 5 * MS);
        timers.advance(4 * MS);
        assertThat(channels.delivery().isPending(port)).isFalse();
        timers.advance(MS);
        assertThat(channels.delivery().isPending(port)).isTrue();
        assertThat(vcpuTimers.singleshotDeadline(0)).isZero();
        assertThatThrownBy(() -> FakeDomains.attachVcpuTimers(domain, timers))
                .isInstanceOf(IllegalStateException.class);
    }
}
