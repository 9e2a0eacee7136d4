package xenshim.x86.vm;

/**
 * Counts of durations in nanoseconds, in fixed log-linear buckets (HdrHistogram's idea, in one small
 * class): values 0..15 each have a bucket of their own, and from 16 up each power-of-two range
 * [2<sup>e</sup>, 2<sup>e+1</sup>) is split into {@value #SUB_BUCKETS} equal sub-buckets, so a bucket is
 * never wider than 1/16 of its lowest value. {@link #percentile} answers with the middle of the bucket its
 * rank falls in (no higher than the largest value recorded), which is therefore within
 * <b>1/32 (3.125 %)</b> of the value recorded at that rank, for any value from 0 to {@link Long#MAX_VALUE}.
 * That is finer than the noise of a hypercall's time and costs 960 counters (7.5 KiB) per histogram.
 *
 * <p>{@link #record} is a few shifts and one increment: no allocation, no loop. One thread writes; see
 * {@link HypercallStats} on reading from another.
 */
final class LatencyHistogram {

    /** log2 of {@link #SUB_BUCKETS}. */
    static final int SUB_BITS = 4;
    /** Sub-buckets per power of two: the relative width of a bucket is at most 1 / this. */
    static final int SUB_BUCKETS = 1 << SUB_BITS;
    /** 0..15 one bucket each, then 16 per power of two for exponents 4..62. */
    static final int BUCKETS = SUB_BUCKETS + (Long.SIZE - 1 - SUB_BITS) * SUB_BUCKETS;

    private final long[] counts = new long[BUCKETS];
    private long total;
    private long max;

    /** One value; a negative one (a clock that went back) counts as 0. */
    void record(long nanos) {
        long value = Math.max(0, nanos);
        counts[bucket(value)]++;
        total++;
        max = Math.max(max, value);
    }

    /** Values recorded. */
    long total() {
        return total;
    }

    /** The largest value recorded, exactly; 0 if none. */
    long max() {
        return max;
    }

    /**
     * The value at {@code percentile} by the nearest-rank rule (the smallest recorded value with at least
     * that share of all values at or below it), within 1/32 of it (class comment); 0 if nothing was
     * recorded; the largest value exactly at the top rank (100, or 99.9 of fewer than 1000 values). The
     * percentile is taken to four decimals (99.9999 is the finest).
     *
     * @param percentile 0..100
     * @throws IllegalArgumentException for a percentile outside 0..100
     */
    long percentile(double percentile) {
        checkPercentile(percentile);
        if (total == 0) {
            return 0;
        }
        long rank = Math.max(1, rank(Math.round(percentile * 10_000), total));
        if (rank >= total) {
            return max; // the largest value is known exactly
        }
        long seen = 0;
        for (int i = 0; i < counts.length; i++) {
            seen += counts[i];
            if (seen >= rank) {
                return Math.min(lowest(i) + width(i) / 2, max);
            }
        }
        return max; // not reached: total is the sum of counts (see addTo)
    }

    /** @throws IllegalArgumentException for a percentile outside 0..100 (or NaN) */
    static void checkPercentile(double percentile) {
        if (!(percentile >= 0 && percentile <= 100)) {
            throw new IllegalArgumentException("percentile " + percentile + " is not 0..100");
        }
    }

    /** ceil(total * partsPerMillion / 10^6) with no overflow for any total. */
    private static long rank(long partsPerMillion, long total) {
        long whole = total / 1_000_000;
        long rest = total % 1_000_000;
        return whole * partsPerMillion + (rest * partsPerMillion + 999_999) / 1_000_000;
    }

    /**
     * Adds these counts to {@code into}. Its total grows by the sum of the counts as read here, not by
     * {@link #total}, so that {@code into} stays consistent in itself even when this histogram's writer
     * runs meanwhile (its percentiles then find their rank whatever was half-updated).
     */
    void addTo(LatencyHistogram into) {
        long sum = 0;
        for (int i = 0; i < counts.length; i++) {
            long n = counts[i];
            into.counts[i] += n;
            sum += n;
        }
        into.total += sum;
        into.max = Math.max(into.max, max);
    }

    /** The bucket of a value {@code >= 0}. */
    static int bucket(long value) {
        if (value < SUB_BUCKETS) {
            return (int) value;
        }
        int exponent = Long.SIZE - 1 - Long.numberOfLeadingZeros(value); // 4..62
        int sub = (int) (value >>> (exponent - SUB_BITS)) & (SUB_BUCKETS - 1);
        return SUB_BUCKETS + (exponent - SUB_BITS) * SUB_BUCKETS + sub;
    }

    /** The lowest value of bucket {@code i}. */
    static long lowest(int i) {
        if (i < SUB_BUCKETS) {
            return i;
        }
        int shift = (i - SUB_BUCKETS) / SUB_BUCKETS; // exponent - SUB_BITS
        long sub = (i - SUB_BUCKETS) % SUB_BUCKETS;
        return (SUB_BUCKETS + sub) << shift;
    }

    /** How many values bucket {@code i} holds: 1 below 32, then doubling with each power of two. */
    static long width(int i) {
        return i < SUB_BUCKETS ? 1 : 1L << ((i - SUB_BUCKETS) / SUB_BUCKETS);
    }
}
