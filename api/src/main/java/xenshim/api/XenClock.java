package xenshim.api;

/**
 * Xen's one clock, bound by the platform: system time ({@code NOW()}, nanoseconds since the platform
 * started; what timers, {@code vcpu_time_info.system_time} and {@code SCHEDOP_poll} timeouts count in) and
 * the wallclock at system time 0 ({@code shared_info.wc_sec/wc_nsec}).
 */
public interface XenClock {

    /** {@code NOW()}: system time in nanoseconds, never negative, never going back. */
    long now();

    /** The wallclock (nanoseconds since the Unix epoch) at system time 0. */
    long wallclockAtZero();

    /** A clock over the JVM's monotonic clock, with system time 0 now. */
    static XenClock startingNow() {
        long origin = System.nanoTime();
        java.time.Instant wall = java.time.Instant.now();
        long wallAtZero = wall.getEpochSecond() * 1_000_000_000L + wall.getNano();
        return new XenClock() {
            @Override
            public long now() {
                return System.nanoTime() - origin;
            }

            @Override
            public long wallclockAtZero() {
                return wallAtZero;
            }
        };
    }
}
