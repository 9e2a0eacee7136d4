package xenshim.x86.vm;

import java.util.function.BooleanSupplier;
import xenshim.api.XenClock;

/**
 * Where a vCPU thread sleeps, using no CPU, while the guest waits: in {@code hlt} with interrupts on, or
 * blocked in {@code SCHEDOP_block} / {@code SCHEDOP_poll}. Anything that may end the wait
 * ({@link #wake}: an interrupt raised, an unblock, a stop) wakes it; it then checks its own condition.
 */
final class Parking {

    private final Object monitor = new Object();

    /** Wakes the parked thread, if any; any thread. */
    void wake() {
        synchronized (monitor) {
            monitor.notifyAll();
        }
    }

    /**
     * Sleeps until {@code done} holds or system time {@code deadline} (0: none) passes.
     *
     * @return false if the deadline passed first
     */
    boolean park(BooleanSupplier done, long deadline, XenClock clock) {
        synchronized (monitor) {
            while (!done.getAsBoolean()) {
                long waitMillis = 0;
                if (deadline != 0) {
                    long left = deadline - clock.now();
                    if (left <= 0) {
                        return false;
                    }
                    waitMillis = (left + 999_999) / 1_000_000;
                }
                try {
                    monitor.wait(waitMillis);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return true;
                }
            }
            return true;
        }
    }
}
