package xenshim.handlers.hvm;

import xenshim.api.XenClock;

/** A clock that stands still at system time {@code now}, for tests. */
record FixedClock(long now) implements XenClock {

    @Override
    public long wallclockAtZero() {
        return 0;
    }
}
