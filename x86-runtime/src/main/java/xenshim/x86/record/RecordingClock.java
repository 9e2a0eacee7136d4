package xenshim.x86.record;

import java.util.Objects;
import java.util.function.LongConsumer;
import xenshim.api.XenClock;

/**
 * The platform's clock while a run records ({@code run --record}): every reading is told to the
 * recording, which keeps it with the call that read it, so that a replay can give the call the same
 * time. A run that does not record uses the plain clock and pays nothing.
 */
public final class RecordingClock implements XenClock {

    private final XenClock clock;
    private volatile LongConsumer readings;

    public RecordingClock(XenClock clock) {
        this.clock = Objects.requireNonNull(clock);
    }

    /** Where readings go from now on ({@code null}: nowhere). */
    public void tell(LongConsumer to) {
        readings = to;
    }

    @Override
    public long now() {
        long now = clock.now();
        LongConsumer to = readings;
        if (to != null) {
            to.accept(now);
        }
        return now;
    }

    @Override
    public long wallclockAtZero() {
        return clock.wallclockAtZero();
    }
}
