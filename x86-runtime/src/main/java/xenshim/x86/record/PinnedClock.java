package xenshim.x86.record;

import xenshim.api.XenClock;

/**
 * A replay's clock: during each call it reads what the recorded call read, reading by reading, and
 * after the last one (or in a call that read none) the latest reading again, so time stands still
 * between the recorded readings. Used by one replay thread.
 */
final class PinnedClock implements XenClock {

    private final long wallclockAtZero;
    private long[] readings = new long[0];
    private int next;
    private long last;

    PinnedClock(long wallclockAtZero) {
        this.wallclockAtZero = wallclockAtZero;
    }

    /** The readings of the call about to be played. */
    void call(long[] callReadings) {
        readings = callReadings;
        next = 0;
    }

    @Override
    public long now() {
        if (next < readings.length) {
            last = readings[next++];
        }
        return last;
    }

    @Override
    public long wallclockAtZero() {
        return wallclockAtZero;
    }
}
