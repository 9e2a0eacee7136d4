package xenshim.x86.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import xenshim.api.XenClock;

class TscClockTest {

    /** Xen's set_time_scale: a second of ticks scales to a second, to within a nanosecond or two. */
    @ParameterizedTest
    @ValueSource(longs = {2_445_000_000L, 1_000_000_000L, 3_000_000_001L, 100_000_000L, 25_000_000L, 5_000_000_000L})
    void aSecondOfTicksIsASecond(long hz) {
        TscClock.Scale scale = TscClock.Scale.forHz(hz);
        assertThat(Integer.toUnsignedLong(scale.mul())).isGreaterThanOrEqualTo(1L << 31);
        assertThat(scale.toNanos(hz)).isCloseTo(1_000_000_000L, within(2L));
        assertThat(scale.toNanos(hz / 1000)).isCloseTo(1_000_000L, within(2L));
    }

    @Test
    void theShiftIsXensForTheUsualRates() {
        assertThat(TscClock.Scale.forHz(2_445_000_000L).shift()).isEqualTo(-1);
        assertThat(TscClock.Scale.forHz(1_500_000_000L).shift()).isZero();
        assertThat(TscClock.Scale.forHz(100_000_000L).shift()).isEqualTo(4);
    }

    /** A fake TSC at 2.5 GHz against a fake clock: the measured rate is exact and samples pair up. */
    @Test
    void calibratesAgainstTheClockAndPairsEachSample() {
        AtomicLong now = new AtomicLong(1_000);
        XenClock clock = new XenClock() {
            @Override
            public long now() {
                return now.addAndGet(10); // time moves as the clock is read, as a real one does
            }

            @Override
            public long wallclockAtZero() {
                return 0;
            }
        };
        TscClock tsc = new TscClock(clock, () -> now.get() * 5 / 2 + 7_000);
        TscClock.Sample first = tsc.sample();
        assertThat(first.scale().hz()).isCloseTo(2_500_000_000L, within(10_000L));
        assertThat(first.tsc()).isCloseTo(first.systemTime() * 5 / 2 + 7_000, within(50L));
        now.addAndGet(TscClock.REMEASURE_NS);
        TscClock.Sample later = tsc.sample();
        assertThat(later.scale().hz()).isCloseTo(2_500_000_000L, within(100L));
        assertThat(later.systemTime() + later.scale().toNanos(1_000_000)).isCloseTo(later.systemTime() + 400_000,
                within(1L));
    }
}
