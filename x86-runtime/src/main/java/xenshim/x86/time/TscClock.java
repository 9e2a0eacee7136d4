package xenshim.x86.time;

import java.util.Objects;
import java.util.function.LongSupplier;
import xenshim.api.XenClock;

/**
 * One vCPU's TSC against Xen's system time: what {@code vcpu_time_info} needs. The rate is KVM's own
 * (KVM_GET_TSC_KHZ) where the backend knows it; else it is measured (the software CPU's TSC is the host's,
 * whose rate nothing reports): a 20 ms calibration on first use, then re-measured over the whole time
 * since, so the error shrinks as the guest runs. Each
 * {@link #sample} pairs a TSC read with the system time half-way between the clock reads around it.
 * Used only on the vCPU's own thread (the TSC read is a vCPU register read).
 */
public final class TscClock {

    /** How long the first calibration spins (a read of the software CPU's TSC takes tens of microseconds). */
    static final long CALIBRATION_NS = 20_000_000;
    /** Re-measure the rate once this much time has passed since the base sample. */
    static final long REMEASURE_NS = 100_000_000;
    /** Reads per sample, the tightest kept. */
    static final int READS = 3;

    private final XenClock clock;
    private final LongSupplier tsc;
    private long baseTsc;
    private long baseNs;
    private long lastMeasuredNs;
    private final boolean known;
    private Scale scale;

    /**
     * {@code vcpu_time_info}'s {@code tsc_to_system_mul} and {@code tsc_shift}: ns =
     * ((tsc delta shifted by shift) * mul) >> 32, as Xen's {@code set_time_scale} computes them.
     */
    public record Scale(int mul, int shift, long hz) {

        public static Scale forHz(long ticksPerSecond) {
            if (ticksPerSecond <= 0) {
                throw new IllegalArgumentException("TSC rate " + ticksPerSecond);
            }
            long tps = ticksPerSecond;
            int shift = 0;
            while (tps > 2_000_000_000L) {
                tps >>>= 1;
                shift--;
            }
            while (tps <= 1_000_000_000L) {
                tps <<= 1;
                shift++;
            }
            long mul = (1_000_000_000L << 32) / tps; // tps in (1e9, 2e9]: mul < 2^32
            return new Scale((int) mul, shift, ticksPerSecond);
        }

        /** Nanoseconds for {@code delta} ticks, as a guest computes them (pvclock scaling). */
        public long toNanos(long delta) {
            long shifted = shift >= 0 ? delta << shift : delta >>> -shift;
            return Math.unsignedMultiplyHigh(shifted, Integer.toUnsignedLong(mul) << 32);
        }
    }

    /** A TSC value and the system time it was read at. */
    public record Sample(long tsc, long systemTime, Scale scale) {
    }

    /** A clock whose rate is measured. */
    public TscClock(XenClock clock, LongSupplier tsc) {
        this(clock, tsc, 0);
    }

    /**
     * @param knownHz the TSC's rate if the CPU backend knows it (KVM_GET_TSC_KHZ), used as it is and
     *                never re-measured; 0 to measure it
     */
    public TscClock(XenClock clock, LongSupplier tsc, long knownHz) {
        this.clock = Objects.requireNonNull(clock);
        this.tsc = Objects.requireNonNull(tsc);
        this.known = knownHz > 0;
        this.scale = known ? Scale.forHz(knownHz) : null;
    }

    /** A fresh pair, after calibrating if this is the first, with the rate measured so far. */
    public Sample sample() {
        long[] pair = read();
        if (scale == null) {
            baseTsc = pair[0];
            baseNs = pair[1];
            long until = baseNs + CALIBRATION_NS;
            while (clock.now() < until) {
                Thread.onSpinWait();
            }
            pair = read();
            measure(pair);
        } else if (!known && pair[1] - lastMeasuredNs >= REMEASURE_NS) {
            measure(pair);
        }
        return new Sample(pair[0], pair[1], scale);
    }

    private void measure(long[] pair) {
        long ns = pair[1] - baseNs;
        long ticks = pair[0] - baseTsc;
        if (ns > 0 && ticks > 0) {
            scale = Scale.forHz(Math.round(ticks * 1e9 / ns));
            lastMeasuredNs = pair[1];
        } else if (scale == null) {
            throw new IllegalStateException("the guest TSC does not advance (" + ticks + " ticks in " + ns + " ns)");
        }
    }

    /**
     * {TSC, system time at the middle of the read}: the tightest of a few reads, so one slowed by the
     * host (a first read that sets something up, a preemption) does not skew the pairing.
     */
    private long[] read() {
        long best = Long.MAX_VALUE;
        long[] pair = new long[2];
        for (int i = 0; i < READS; i++) {
            long before = clock.now();
            long value = tsc.getAsLong();
            long after = clock.now();
            if (after - before < best) {
                best = after - before;
                pair[0] = value;
                pair[1] = before + (after - before) / 2;
            }
        }
        return pair;
    }
}
