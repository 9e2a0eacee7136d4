package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.dispatcher.HypercallTableTest.CTX;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Per-caller quiescence ({@link Callers}): retiring a table waits for exactly
 * the calls running in it, whatever thread (platform or virtual) and nesting
 * depth they run at, while other threads keep calling.
 */
class QuiescenceTest {

    static final int ROUNDS = 400;
    static final int LOG = 3 * 200_000;

    /** Per table: its id, calls entered and returned, and a latch its blocking calls wait on. */
    static final class Counted {
        final long id;
        final AtomicLong entered = new AtomicLong();
        final AtomicLong returned = new AtomicLong();
        final CountDownLatch blockerIn = new CountDownLatch(1);
        final CountDownLatch release = new CountDownLatch(1);
        final HypercallTable table;

        Counted(long id, AtomicReference<Thread> blocker, HypercallPage[] page) {
            this.id = id;
            this.table = HypercallTable.builder("q" + id)
                    .add(17, new Provider("test", "Q" + id), (c, a, b, d, e, f) -> {
                        entered.incrementAndGet();
                        try {
                            if (Thread.currentThread() == blocker.get()) {
                                blockerIn.countDown();
                                release.await();
                            }
                            return id;
                        } catch (InterruptedException interrupted) {
                            throw new IllegalStateException(interrupted);
                        } finally {
                            returned.incrementAndGet();
                        }
                    })
                    // a nested lcall: the handler calls through the page again
                    .add(18, new Provider("test", "N" + id),
                            (c, a, b, d, e, f) -> (id << 20) | page[0].invoke(c, 17, 0, 0, 0, 0, 0))
                    .build();
        }
    }

    @Test
    void retiringWaitsForItsBlockedCallsWhileOtherThreadsKeepCalling() throws Exception {
        AtomicReference<Thread> blocker = new AtomicReference<>();
        HypercallPage[] page = new HypercallPage[1];
        List<Counted> tables = new ArrayList<>();
        tables.add(new Counted(0, blocker, page));
        tables.getFirst().release.countDown(); // the base table never blocks
        page[0] = new HypercallPage(tables.getFirst().table);

        AtomicLong clock = new AtomicLong();
        long[] installedFrom = new long[ROUNDS + 1];
        long[] installedTo = new long[ROUNDS + 1];
        AtomicBoolean stop = new AtomicBoolean();
        AtomicLong failed = new AtomicLong();
        List<long[]> logs = new ArrayList<>();
        int[] counts = new int[3];
        List<Thread> callers = new ArrayList<>();
        for (int t = 0; t < counts.length; t++) {
            long[] log = new long[LOG];
            logs.add(log);
            int me = t;
            boolean nested = t == 1;
            Runnable calling = () -> {
                int n = 0;
                while (!stop.get() && n < log.length) {
                    long from = clock.get();
                    long rc = page[0].invoke(CTX, nested ? 18 : 17, 0, 0, 0, 0, 0);
                    long to = clock.get();
                    if (rc < 0) {
                        failed.incrementAndGet();
                    }
                    log[n++] = rc;
                    log[n++] = from;
                    log[n++] = to;
                }
                counts[me] = n;
            };
            // one caller is a virtual thread: its record is per virtual thread, not per carrier
            callers.add(t == 2 ? Thread.ofVirtual().start(calling) : Thread.ofPlatform().start(calling));
        }

        // the blocker: calls once per round, and blocks in the table registered for that round
        AtomicLong blockerCalls = new AtomicLong();
        Thread blocking = Thread.ofVirtual().unstarted(() -> {
            while (!stop.get()) {
                page[0].invoke(CTX, 17, 0, 0, 0, 0, 0);
                blockerCalls.incrementAndGet();
                Thread.onSpinWait();
            }
        });
        blocker.set(blocking);
        blocking.start();

        long blockedAwaits = 0;
        for (int i = 1; i <= ROUNDS; i++) {
            Counted round = new Counted(i, blocker, page);
            tables.add(round);
            installedFrom[i] = clock.incrementAndGet();
            page[0].registerLcall(round.table);
            clock.incrementAndGet();
            boolean blocked = i % 4 == 0;
            if (blocked) {
                assertThat(round.blockerIn.await(10, TimeUnit.SECONDS)).isTrue();
            } else {
                round.release.countDown();
            }
            clock.incrementAndGet();
            HypercallPage.Retired retired = page[0].unregisterLcall();
            installedTo[i] = clock.incrementAndGet();
            assertThat(retired.table()).isSameAs(round.table);
            if (blocked) {
                // the blocked call holds the retired table: await must not return true
                assertThat(retired.await(Duration.ofMillis(2))).as("await of round %d with a blocked call", i).isFalse();
                assertThat(round.table.runningCalls()).isGreaterThanOrEqualTo(1);
                assertThat(page[0].drainPending()).isTrue();
                round.release.countDown();
                blockedAwaits++;
            }
            assertThat(retired.await(Duration.ofSeconds(10))).as("await of round %d", i).isTrue();
            // await returned: every call that entered the table has returned from it
            assertThat(round.returned.get()).as("calls returned in round %d", i).isEqualTo(round.entered.get());
            assertThat(round.table.runningCalls()).isZero();
        }
        stop.set(true);
        for (Thread caller : callers) {
            caller.join();
        }
        blocking.join();

        assertThat(failed.get()).as("calls that failed").isZero();
        assertThat(blockedAwaits).isEqualTo(ROUNDS / 4);
        long calls = 0;
        for (int t = 0; t < counts.length; t++) {
            long[] log = logs.get(t);
            for (int i = 0; i < counts[t]; i += 3) {
                long rc = log[i];
                long from = log[i + 1];
                long to = log[i + 2];
                if (t == 1) {
                    assertServedByAnInstalledTable(rc >>> 20, from, to, installedFrom, installedTo);
                    assertServedByAnInstalledTable(rc & ((1 << 20) - 1), from, to, installedFrom, installedTo);
                } else {
                    assertServedByAnInstalledTable(rc, from, to, installedFrom, installedTo);
                }
                calls++;
            }
        }
        // no call lost: every call some handler of 17 served returned to its caller
        // (each call of the nested caller made one call of 17)
        long served = tables.stream().mapToLong(c -> c.returned.get()).sum();
        assertThat(served).as("handler calls").isEqualTo(calls + blockerCalls.get());
        assertThat(calls).isGreaterThan(ROUNDS);
    }

    /**
     * Table {@code id} was installed at some moment of [{@code from}, {@code to}]:
     * for a round's table, its interval overlaps; for the base table (0), the call
     * did not fall entirely inside one round's installation.
     */
    static void assertServedByAnInstalledTable(long id, long from, long to, long[] installedFrom, long[] installedTo) {
        if (id > 0) {
            assertThat(id).isLessThanOrEqualTo(installedFrom.length - 1);
            // installed after the call ended, or retired (unregister returned) before it began
            if (installedFrom[(int) id] > to || installedTo[(int) id] <= from) {
                throw new AssertionError("call [" + from + ", " + to + "] served by table " + id + ", installed only during ["
                        + installedFrom[(int) id] + ", " + installedTo[(int) id] + "]");
            }
            return;
        }
        assertThat(id).isZero();
        for (int i = 1; i < installedFrom.length; i++) {
            // ticks: from (register begins) +1 (it returned) +2 (unregister begins) +3 (it returned):
            // a call that began after register returned and ended before unregister began saw table i
            if (from >= installedFrom[i] + 1 && to <= installedTo[i] - 2) {
                throw new AssertionError("call [" + from + ", " + to + "] served by the base table while table " + i
                        + " was installed");
            }
        }
    }

    @Test
    void aNestedCallKeepsBothItsTablesUntilEachReturns() throws Exception {
        CountDownLatch outerIn = new CountDownLatch(1);
        CountDownLatch goNested = new CountDownLatch(1);
        CountDownLatch innerIn = new CountDownLatch(1);
        CountDownLatch releaseInner = new CountDownLatch(1);
        HypercallPage[] page = new HypercallPage[1];
        HypercallTable outer = HypercallTable.builder("outer").add(18, new Provider("test", "Outer"), (c, a, b, d, e, f) -> {
            outerIn.countDown();
            await(goNested);
            return 1000 + page[0].invoke(c, 17, 0, 0, 0, 0, 0);
        }).build();
        HypercallTable inner = HypercallTable.builder("inner").add(17, new Provider("test", "Inner"), (c, a, b, d, e, f) -> {
            innerIn.countDown();
            await(releaseInner);
            return 2;
        }).build();
        page[0] = new HypercallPage(HypercallPageTest.returning("base", 0));
        page[0].registerLcall(outer);

        long[] result = new long[1];
        Thread caller = Thread.ofVirtual().start(() -> result[0] = page[0].invoke(CTX, 18, 0, 0, 0, 0, 0));
        outerIn.await();
        page[0].registerLcall(inner);
        goNested.countDown();
        innerIn.await();

        HypercallPage.Retired innerRetired = page[0].unregisterLcall();
        HypercallPage.Retired outerRetired = page[0].unregisterLcall();
        assertThat(outer.runningCalls()).isEqualTo(1);
        assertThat(inner.runningCalls()).isEqualTo(1);
        assertThat(innerRetired.await(Duration.ofMillis(20))).isFalse();
        assertThat(outerRetired.await(Duration.ofMillis(20))).isFalse();
        assertThat(page[0].drainPending()).isTrue();
        assertThat(page[0].invoke(CTX, 17, 0, 0, 0, 0, 0)).isZero();

        releaseInner.countDown();
        assertThat(innerRetired.await(Duration.ofSeconds(10))).isTrue();
        assertThat(outerRetired.await(Duration.ofSeconds(10))).isTrue();
        caller.join();
        assertThat(result[0]).isEqualTo(1002);
        assertThat(page[0].drainPending()).isFalse();
    }

    @Test
    void threadsThatEndedAreDroppedFromTheRegistry() throws Exception {
        HypercallPage page = new HypercallPage(HypercallPageTest.returning("base", 5));
        int threads = 2_000;
        List<Thread> started = new ArrayList<>();
        AtomicLong ok = new AtomicLong();
        for (int i = 0; i < threads; i++) {
            started.add(Thread.ofVirtual().start(() -> {
                if (page.invoke(CTX, 17, 0, 0, 0, 0, 0) == 5) {
                    ok.incrementAndGet();
                }
            }));
        }
        for (Thread thread : started) {
            thread.join();
        }
        assertThat(ok.get()).isEqualTo(threads);
        assertThat(page.current().runningCalls()).isZero(); // a scan: drops the records of ended threads
        assertThat(Callers.registered()).as("records left after %d threads ended", threads).isLessThan(100);
    }

    static void await(CountDownLatch latch) {
        try {
            latch.await();
        } catch (InterruptedException interrupted) {
            throw new IllegalStateException(interrupted);
        }
    }
}
