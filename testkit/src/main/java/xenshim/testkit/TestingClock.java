package xenshim.testkit;

import xenshim.api.XenClock;

/**
 * A {@link XenClock} that moves only when the test says: system time starts where the test puts it and
 * never goes back, as {@code NOW()} never does.
 *
 * <pre>{@code
 * var clock = TestingClock.at(1_000_000_000L); // 1 s after boot
 * clock.advance(5_000_000);                     // 5 ms later
 * }</pre>
 */
public final class TestingClock implements XenClock {

    /** The wallclock at system time 0 unless a test says otherwise: 2024-01-01T00:00:00Z. */
    public static final long DEFAULT_WALLCLOCK_AT_ZERO = 1_704_067_200L * 1_000_000_000L;

    private final long wallclockAtZero;
    private long now;

    private TestingClock(long now, long wallclockAtZero) {
        if (now < 0) {
            throw new IllegalArgumentException("system time is never negative: " + now);
        }
        this.now = now;
        this.wallclockAtZero = wallclockAtZero;
    }

    /** A clock at system time {@code now}, with {@link #DEFAULT_WALLCLOCK_AT_ZERO}. */
    public static TestingClock at(long now) {
        return new TestingClock(now, DEFAULT_WALLCLOCK_AT_ZERO);
    }

    /** A clock at system time {@code now} whose wallclock at system time 0 is {@code wallclockAtZero}. */
    public static TestingClock at(long now, long wallclockAtZero) {
        return new TestingClock(now, wallclockAtZero);
    }

    @Override
    public synchronized long now() {
        return now;
    }

    @Override
    public long wallclockAtZero() {
        return wallclockAtZero;
    }

    /**
     * Moves system time to {@code time}.
     *
     * @throws IllegalArgumentException if that is before the current time
     */
    public synchronized void set(long time) {
        if (time < now) {
            throw new IllegalArgumentException("system time never goes back: " + time + " < " + now);
        }
        now = time;
    }

    /** Moves system time on by {@code nanos} (at least 0). */
    public synchronized void advance(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("system time never goes back: " + nanos);
        }
        now = Math.addExact(now, nanos);
    }
}
