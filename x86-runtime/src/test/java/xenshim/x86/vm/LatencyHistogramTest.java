package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/**
 * The histogram's buckets and its promise: every percentile within 1/32 of the exact one, checked
 * against the nearest-rank percentile of the very values placed in it.
 */
class LatencyHistogramTest {

    private static final double[] PERCENTILES = {0, 1, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99, 100};

    /** The nearest-rank percentile of sorted values: the smallest with at least p % at or below it. */
    private static long exact(long[] sorted, double p) {
        int rank = (int) Math.max(1, Math.ceil(p / 100 * sorted.length - 1e-9));
        return sorted[rank - 1];
    }

    private static void assertWithinBound(long[] values) {
        LatencyHistogram histogram = new LatencyHistogram();
        for (long v : values) {
            histogram.record(v);
        }
        long[] sorted = values.clone();
        Arrays.sort(sorted);
        assertThat(histogram.total()).isEqualTo(values.length);
        assertThat(histogram.max()).isEqualTo(sorted[sorted.length - 1]);
        for (double p : PERCENTILES) {
            long want = exact(sorted, p);
            assertThat((double) Math.abs(histogram.percentile(p) - want)).as("p%s of %d values", p, values.length)
                    .isLessThanOrEqualTo(want / 32.0);
        }
    }

    @Test
    void everyValueLiesInItsBucketAndNoBucketIsWiderThanASixteenthOfItsLowestValue() {
        List<Long> values = new ArrayList<>();
        for (long v = 0; v < 100_000; v++) {
            values.add(v);
        }
        for (int e = 4; e < 63; e++) {
            for (long d = -2; d <= 2; d++) {
                values.add((1L << e) + d);
            }
        }
        values.add(Long.MAX_VALUE);
        SplittableRandom random = new SplittableRandom(10);
        for (int i = 0; i < 100_000; i++) {
            values.add(random.nextLong() >>> (1 + random.nextInt(63)));
        }
        for (long v : values) {
            int bucket = LatencyHistogram.bucket(v);
            long lowest = LatencyHistogram.lowest(bucket);
            long width = LatencyHistogram.width(bucket);
            assertThat(bucket).as("bucket of %d", v).isBetween(0, LatencyHistogram.BUCKETS - 1);
            assertThat(v).as("bucket %d holds %d", bucket, v).isGreaterThanOrEqualTo(lowest);
            assertThat(v - lowest).as("bucket %d holds %d", bucket, v).isLessThan(width);
            assertThat(width).as("bucket %d", bucket).isLessThanOrEqualTo(Math.max(1, lowest / 16));
        }
        assertThat(LatencyHistogram.bucket(Long.MAX_VALUE)).isEqualTo(LatencyHistogram.BUCKETS - 1);
    }

    @Test
    void valuesBelow32AreExact() {
        LatencyHistogram histogram = new LatencyHistogram();
        for (int v = 0; v < 32; v++) {
            histogram.record(v);
        }
        for (int v = 1; v <= 32; v++) {
            assertThat(histogram.percentile(v * 100.0 / 32)).isEqualTo(v - 1);
        }
    }

    @Test
    void oneToATenThousandMicroseconds() {
        long[] values = new long[10_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = (i + 1) * 1_000L;
        }
        assertWithinBound(values);
        LatencyHistogram histogram = new LatencyHistogram();
        for (long v : values) {
            histogram.record(v);
        }
        assertThat(histogram.percentile(50)).isBetween(5_000_000L - 5_000_000 / 32, 5_000_000L + 5_000_000 / 32);
        assertThat(histogram.percentile(100)).isEqualTo(10_000_000);
    }

    @Test
    void aGeometricSpreadFromNanosecondsToSecondsShuffled() {
        long[] values = new long[3_000];
        for (int i = 0; i < values.length; i++) {
            values[i] = Math.round(Math.pow(1.01, i)); // 1 ns .. 9 s
        }
        SplittableRandom random = new SplittableRandom(7);
        for (int i = values.length - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            long t = values[i];
            values[i] = values[j];
            values[j] = t;
        }
        assertWithinBound(values);
    }

    @Test
    void aSlowTailShowsFromP999OnlyWhenItIsThatLarge() {
        LatencyHistogram fast = new LatencyHistogram();
        for (int i = 0; i < 999; i++) {
            fast.record(2_000);
        }
        fast.record(50_000_000); // one call in 1000 takes 50 ms
        assertThat(fast.percentile(99)).isBetween(2_000 - 2_000 / 32L, 2_000 + 2_000 / 32L);
        assertThat(fast.percentile(99.9)).as("rank 999 of 1000 is still fast").isBetween(1_937L, 2_063L);
        assertThat(fast.percentile(100)).isEqualTo(50_000_000);

        LatencyHistogram slow = new LatencyHistogram();
        for (int i = 0; i < 998; i++) {
            slow.record(2_000);
        }
        slow.record(50_000_000);
        slow.record(50_000_000);
        assertThat(slow.percentile(99.9)).as("rank 999 of 1000 is slow")
                .isBetween(50_000_000 - 50_000_000 / 32L, 50_000_000L);
    }

    @Test
    void theEmptyHistogramAnswersZero() {
        LatencyHistogram histogram = new LatencyHistogram();
        assertThat(histogram.total()).isZero();
        assertThat(histogram.max()).isZero();
        for (double p : PERCENTILES) {
            assertThat(histogram.percentile(p)).isZero();
        }
        LatencyHistogram merged = new LatencyHistogram();
        histogram.addTo(merged);
        assertThat(merged.total()).isZero();
        assertThat(merged.percentile(50)).isZero();
    }

    @Test
    void aNegativeDurationCountsAsZeroAndABadPercentileIsRefused() {
        LatencyHistogram histogram = new LatencyHistogram();
        histogram.record(-5);
        assertThat(histogram.percentile(50)).isZero();
        assertThat(histogram.total()).isOne();
        assertThatThrownBy(() -> histogram.percentile(100.5)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("100.5");
        assertThatThrownBy(() -> histogram.percentile(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void mergedHistogramsAnswerAsOneThatSawEveryValue() {
        SplittableRandom random = new SplittableRandom(3);
        LatencyHistogram all = new LatencyHistogram();
        LatencyHistogram merged = new LatencyHistogram();
        for (int part = 0; part < 3; part++) {
            LatencyHistogram one = new LatencyHistogram();
            for (int i = 0; i < 1_000 * (part + 1); i++) {
                long v = random.nextLong(1, 1L << (10 + 8 * part)); // each part its own range
                one.record(v);
                all.record(v);
            }
            one.addTo(merged);
        }
        assertThat(merged.total()).isEqualTo(all.total()).isEqualTo(6_000);
        assertThat(merged.max()).isEqualTo(all.max());
        for (double p : PERCENTILES) {
            assertThat(merged.percentile(p)).as("p%s", p).isEqualTo(all.percentile(p));
        }
    }
}
