package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The blocked and poll state of {@code do_poll}, {@code evtchn_check_pollers} and {@code poll_timer_fn}. */
class VcpusTest {

    private final Vcpus vcpus = new Vcpus();
    private final List<Integer> woken = new ArrayList<>();

    @BeforeEach
    void setUp() {
        vcpus.setOnline(3);
        vcpus.bindWaker(woken::add);
    }

    @Test
    void aPollBlocksAndAnyPortWakesItUntilItIsNarrowed() {
        vcpus.startPoll(1);
        assertThat(vcpus.isBlocked(1)).isTrue();
        assertThat(vcpus.isPolling(1)).isTrue();
        assertThat(vcpus.polledPort(1)).isEqualTo(-1);

        vcpus.checkPollers(77); // any port, while the ports are being looked at
        assertThat(vcpus.isBlocked(1)).isFalse();
        assertThat(vcpus.isPolling(1)).isFalse();
        assertThat(woken).containsExactly(1);

        // narrowing a poll that was woken meanwhile leaves it woken
        vcpus.pollOn(1, 5, 1_000);
        assertThat(vcpus.isBlocked(1)).isFalse();
        assertThat(vcpus.pollDeadline(1)).as("not polling: no deadline").isZero();
    }

    @Test
    void aOnePortPollWakesOnlyForThatPort() {
        vcpus.startPoll(0);
        vcpus.pollOn(0, 5, 0);
        vcpus.checkPollers(6);
        assertThat(vcpus.isBlocked(0)).isTrue();
        assertThat(vcpus.polledPort(0)).isEqualTo(5);
        vcpus.checkPollers(5);
        assertThat(vcpus.isBlocked(0)).isFalse();
        assertThat(woken).containsExactly(0);
    }

    @Test
    void theDeadlineIsThePollsAndATimeoutWakesOnce() {
        vcpus.startPoll(2);
        vcpus.pollOn(2, -1, 123_456_789L);
        assertThat(vcpus.pollDeadline(2)).isEqualTo(123_456_789L);
        vcpus.pollTimedOut(2);
        assertThat(vcpus.isBlocked(2)).isFalse();
        assertThat(vcpus.pollDeadline(2)).isZero();
        vcpus.pollTimedOut(2); // poll_timer_fn after a wake: nothing
        assertThat(woken).containsExactly(2);

        // a later SCHEDOP_block sees no stale deadline
        vcpus.block(2);
        assertThat(vcpus.pollDeadline(2)).isZero();
    }

    @Test
    void cancellingAPollOrABlockWakesNobody() {
        vcpus.startPoll(0);
        vcpus.cancelPoll(0);
        vcpus.block(1);
        vcpus.cancelBlock(1);
        assertThat(vcpus.isBlocked(0)).isFalse();
        assertThat(vcpus.isPolling(0)).isFalse();
        assertThat(vcpus.isBlocked(1)).isFalse();
        vcpus.checkPollers(3);
        assertThat(woken).isEmpty();
    }

    @Test
    void aBlockedVcpuThatIsNotPollingIgnoresPortsButNotAnUnblock() {
        vcpus.block(0);
        vcpus.checkPollers(3);
        assertThat(vcpus.isBlocked(0)).isTrue();
        vcpus.unblock(0);
        vcpus.unblock(0);
        assertThat(woken).containsExactly(0);
    }
}
