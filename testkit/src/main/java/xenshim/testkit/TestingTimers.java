package xenshim.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.PriorityQueue;
import xenshim.api.Timers;

/**
 * The platform's {@link Timers} for tests, over a {@link TestingClock}: a timer fires only when the test
 * moves time on ({@link #advance}, {@link #advanceTo}) or asks for what is due ({@link #runDue}), on the
 * test's thread, in deadline order (timers with one deadline in the order they were armed). As it moves
 * time, the clock stops at each deadline before that timer's action runs, so an action that arms a timer
 * again (a periodic one) sees the time it fired at, and its new timer fires in the same call if it is due
 * by then.
 *
 * <p>An action never runs inside {@link #at}, even for a deadline that has passed: a platform's timer runs
 * on its own thread, so the caller that armed it has always finished first. Such a timer runs at the next
 * {@link #runDue} or advance.
 *
 * <pre>{@code
 * var timers = new TestingTimers(TestingClock.at(0));
 * VcpuTimers vcpuTimers = FakeDomains.attachVcpuTimers(domain, timers);
 * vcpuTimers.setSingleshot(0, 10_000_000);
 * timers.advance(10_000_000);   // VIRQ_TIMER is sent to vCPU 0
 * }</pre>
 */
public final class TestingTimers implements Timers {

    /** The most actions one call runs before it calls the timers runaway. */
    public static final int MAX_FIRINGS = 1_000_000;

    private final TestingClock clock;
    private final PriorityQueue<Armed> queue = new PriorityQueue<>();
    private long armedCount;
    private long fired;

    public TestingTimers(TestingClock clock) {
        this.clock = Objects.requireNonNull(clock);
    }

    /** The clock these timers run on. */
    public TestingClock clock() {
        return clock;
    }

    @Override
    public synchronized Timer at(long deadline, Runnable action) {
        Armed armed = new Armed(deadline, armedCount++, Objects.requireNonNull(action));
        queue.add(armed);
        return armed;
    }

    /**
     * Moves time on by {@code nanos}, running every timer due by then.
     *
     * @return how many actions ran
     */
    public int advance(long nanos) {
        if (nanos < 0) {
            throw new IllegalArgumentException("system time never goes back: " + nanos);
        }
        return advanceTo(Math.addExact(clock.now(), nanos));
    }

    /**
     * Moves time to {@code time}, running every timer due by then (including those their actions arm).
     *
     * @return how many actions ran
     */
    public int advanceTo(long time) {
        if (time < clock.now()) {
            throw new IllegalArgumentException("system time never goes back: " + time + " < " + clock.now());
        }
        int ran = 0;
        for (Armed next; (next = takeDue(time)) != null; ) {
            if (++ran > MAX_FIRINGS) {
                throw new IllegalStateException(MAX_FIRINGS + " timers fired before " + time + ": a runaway timer");
            }
            if (next.deadline > clock.now()) {
                clock.set(next.deadline);
            }
            next.action.run();
        }
        clock.set(time);
        return ran;
    }

    /** Runs the timers due now (those armed for a time that has passed, say) without moving time. */
    public int runDue() {
        return advanceTo(clock.now());
    }

    /** The deadlines of the timers armed and not yet fired or cancelled, earliest first. */
    public synchronized List<Long> pending() {
        List<Armed> armed = new ArrayList<>(queue);
        armed.sort(null);
        return armed.stream().map(a -> a.deadline).toList();
    }

    /** How many actions have run so far. */
    public synchronized long fired() {
        return fired;
    }

    private synchronized Armed takeDue(long time) {
        Armed head = queue.peek();
        if (head == null || head.deadline > time) {
            return null;
        }
        queue.poll();
        fired++;
        return head;
    }

    private synchronized void remove(Armed armed) {
        queue.remove(armed);
    }

    private final class Armed implements Timer, Comparable<Armed> {
        private final long deadline;
        private final long order;
        private final Runnable action;

        Armed(long deadline, long order, Runnable action) {
            this.deadline = deadline;
            this.order = order;
            this.action = action;
        }

        @Override
        public void cancel() {
            remove(this);
        }

        @Override
        public int compareTo(Armed other) {
            int byDeadline = Long.compare(deadline, other.deadline);
            return byDeadline != 0 ? byDeadline : Long.compare(order, other.order);
        }
    }
}
