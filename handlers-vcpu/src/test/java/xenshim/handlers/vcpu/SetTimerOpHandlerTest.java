package xenshim.handlers.vcpu;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.VcpuTimers;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.HandlerHarness;
import xenshim.testkit.TestingTimers;

/** {@code set_timer_op} through the testkit's harness, in both ABIs (compat passes the timeout in two registers). */
class SetTimerOpHandlerTest {

    private static final long MS = TimedGuest.MS;
    /** A minute after boot: above 2^32 ns, so both halves of a compat timeout matter. */
    private static final long NOW = 60_000 * MS;

    private final TimedGuest guest = new TimedGuest(4, NOW);
    private final TestingTimers timers = guest.timers;
    private final Domain domain = guest.domain;
    private final VcpuTimers vcpuTimers = guest.vcpuTimers;

    /** set_timer_op(timeout) as a vCPU of {@code abi} passes it. */
    private long setTimer(Abi abi, int vcpu, long timeout) {
        HandlerHarness harness = HandlerHarness.of(new SetTimerOpHandler()).domain(domain).abi(abi).vcpu(vcpu);
        return abi == Abi.X86_64 ? harness.call(timeout) : harness.call(timeout & 0xFFFF_FFFFL, timeout >>> 32);
    }

    private boolean pending() {
        return guest.timerPending();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void armsTheCallersSingleshotTimerWhichSendsVirqTimer(Abi abi) {
        assertThat(setTimer(abi, 0, NOW + 7 * MS)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW + 7 * MS);
        timers.advance(7 * MS - 1);
        assertThat(pending()).isFalse();
        timers.advance(1);
        assertThat(pending()).isTrue();
        assertThat(vcpuTimers.singleshotDeadline(0)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void zeroStopsTheTimer(Abi abi) {
        setTimer(abi, 0, NOW + 7 * MS);
        assertThat(setTimer(abi, 0, 0)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isZero();
        timers.advance(1_000 * MS);
        assertThat(pending()).isFalse();
        assertThat(setTimer(abi, 0, 0)).as("none armed").isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aNegativeTimeoutFiresIn100Ms(Abi abi) {
        assertThat(setTimer(abi, 0, -1)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW + 100 * MS);
        assertThat(setTimer(abi, 0, Long.MIN_VALUE)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW + 100 * MS);
        timers.advance(100 * MS);
        assertThat(pending()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aTimeoutTwoToThe50NsAheadOrMoreFiresIn100Ms(Abi abi) {
        long huge = 1L << 50;
        assertThat(setTimer(abi, 0, NOW + huge - 1)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).as("just under 2^50 ahead").isEqualTo(NOW + huge - 1);
        assertThat(setTimer(abi, 0, NOW + huge)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW + 100 * MS);
        assertThat(setTimer(abi, 0, Long.MAX_VALUE)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW + 100 * MS);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aTimeoutThatHasPassedFiresAtOnce(Abi abi) {
        assertThat(setTimer(abi, 0, NOW - 5 * MS)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW - 5 * MS);
        timers.runDue();
        assertThat(pending()).isTrue();
    }

    @Test
    void compatTakesTheHighHalfFromTheSecondArgument() {
        HandlerHarness compat = HandlerHarness.of(new SetTimerOpHandler()).domain(domain).abi(Abi.X86_32);
        long timeout = NOW + 3 * MS; // above 2^32: both halves matter
        assertThat(timeout >>> 32).isNotZero();
        assertThat(compat.call(timeout & 0xFFFF_FFFFL, timeout >>> 32)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(timeout);
        assertThat(compat.call(timeout & 0xFFFF_FFFFL, 0)).as("the low half alone has passed").isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(timeout & 0xFFFF_FFFFL);
    }

    @Test
    void nativeTakesTheTimeoutFromTheFirstArgumentAlone() {
        HandlerHarness native64 = HandlerHarness.of(new SetTimerOpHandler()).domain(domain).abi(Abi.X86_64);
        assertThat(native64.call(NOW + 3 * MS, 0xFFFF_FFFFL)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW + 3 * MS);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void eachVcpuHasItsOwnTimer(Abi abi) {
        setTimer(abi, 0, NOW + 5 * MS);
        assertThat(setTimer(abi, 1, NOW + 9 * MS)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW + 5 * MS);
        assertThat(vcpuTimers.singleshotDeadline(1)).isEqualTo(NOW + 9 * MS);
        setTimer(abi, 1, 0);
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(NOW + 5 * MS);
        assertThat(vcpuTimers.singleshotDeadline(1)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aTimerSetAgainReplacesTheArmedOne(Abi abi) {
        setTimer(abi, 0, NOW + 5 * MS);
        setTimer(abi, 0, NOW + 20 * MS);
        timers.advance(10 * MS);
        assertThat(pending()).isFalse();
        timers.advance(10 * MS);
        assertThat(pending()).isTrue();
        assertThat(timers.fired()).isEqualTo(1);
    }

    @Test
    void aDomainWithoutVcpuTimersFails() {
        HandlerHarness bare = HandlerHarness.of(new SetTimerOpHandler()).domain(FakeDomains.guest(8));
        assertThat(bare.call(NOW)).isEqualTo(-XEN_EIO);
        assertThat(bare.failures()).singleElement().isInstanceOf(IllegalStateException.class);
    }
}
