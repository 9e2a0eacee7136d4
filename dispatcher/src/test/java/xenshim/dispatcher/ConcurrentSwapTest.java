package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * Threads call through the page while another registers and unregisters
 * tables in a loop: no call fails or is lost, each result comes from a table
 * that was installed while the call ran, and no call runs in a table after
 * its retirement was awaited.
 */
class ConcurrentSwapTest {

    static final int CALLERS = 3;
    static final int SWAPS = 3_000;

    /** When each table was installed: [from, to] in ticks of {@link #clock}, widened to be safe. */
    record Interval(long from, long to) {
    }

    final AtomicLong clock = new AtomicLong();
    final Map<Long, List<Interval>> installed = new ConcurrentHashMap<>();
    final Map<Long, Long> installedSince = new ConcurrentHashMap<>();
    final Map<Long, AtomicBoolean> drained = new ConcurrentHashMap<>();
    final AtomicLong violations = new AtomicLong();

    HypercallTable table(long id) {
        AtomicBoolean done = new AtomicBoolean();
        drained.put(id, done);
        return HypercallTable.builder("t" + id).add(17, new Provider("test", "T" + id), (c, a, b, d, e, f) -> {
            if (done.get()) {
                violations.incrementAndGet();
            }
            Thread.onSpinWait();
            return id;
        }).build();
    }

    /** Registers {@code table} (id {@code id}) over {@code under}, widening both intervals around the switch. */
    void register(HypercallPage page, HypercallTable table, long id, long under) {
        long before = clock.incrementAndGet();
        page.registerLcall(table);
        long after = clock.incrementAndGet();
        installedSince.put(id, before);
        close(under, after);
    }

    /** Unregisters table {@code id}, giving {@code under} back, and waits for it to drain. */
    void unregister(HypercallPage page, long id, long under) throws InterruptedException {
        long before = clock.incrementAndGet();
        HypercallPage.Retired retired = page.unregisterLcall();
        long after = clock.incrementAndGet();
        installedSince.put(under, before);
        close(id, after);
        assertThat(retired.await(Duration.ofSeconds(10))).isTrue();
        drained.get(id).set(true);
    }

    void close(long id, long to) {
        installed.computeIfAbsent(id, k -> new ArrayList<>()).add(new Interval(installedSince.remove(id), to));
    }

    @Test
    void callsDuringRegisterAndUnregisterAreNeitherLostNorMisrouted() throws Exception {
        HypercallPage page = new HypercallPage(table(0));
        installedSince.put(0L, clock.incrementAndGet());
        AtomicBoolean stop = new AtomicBoolean();
        CountDownLatch started = new CountDownLatch(CALLERS);
        List<long[]> logs = new ArrayList<>();
        List<Thread> callers = new ArrayList<>();
        AtomicLong calls = new AtomicLong();
        AtomicLong bad = new AtomicLong();
        int[] counts = new int[CALLERS];

        for (int t = 0; t < CALLERS; t++) {
            long[] log = new long[3 * 300_000];
            logs.add(log);
            int me = t;
            callers.add(Thread.ofPlatform().start(() -> {
                started.countDown();
                int n = 0;
                while (!stop.get() && n < log.length) {
                    long from = clock.get();
                    long id = page.invoke(HypercallTableTest.CTX, 17, 0, 0, 0, 0, 0);
                    long to = clock.get();
                    if (id < 0) {
                        bad.incrementAndGet();
                    }
                    log[n++] = id;
                    log[n++] = from;
                    log[n++] = to;
                }
                counts[me] = n / 3;
                calls.addAndGet(n / 3);
            }));
        }
        started.await();

        long next = 1;
        for (int i = 0; i < SWAPS; i++) {
            long a = next++;
            register(page, table(a), a, 0);
            if (i % 2 == 0) {
                long b = next++;
                register(page, table(b), b, a);
                unregister(page, b, a);
            }
            unregister(page, a, 0);
        }
        stop.set(true);
        for (Thread caller : callers) {
            caller.join();
        }
        close(0, clock.incrementAndGet());

        assertThat(bad.get()).as("calls that failed").isZero();
        assertThat(violations.get()).as("calls that ran in a drained table").isZero();
        long checked = 0;
        for (int t = 0; t < CALLERS; t++) {
            long[] log = logs.get(t);
            for (int i = 0; i < 3 * counts[t]; i += 3) {
                long id = log[i];
                long from = log[i + 1];
                long to = log[i + 2];
                List<Interval> spans = installed.get(id);
                assertThat(spans).as("table %d was ever installed", id).isNotNull();
                if (spans.stream().noneMatch(s -> s.from() <= to && s.to() >= from)) {
                    throw new AssertionError("call [" + from + ", " + to + "] got table " + id
                            + " installed only during " + spans);
                }
                checked++;
            }
        }
        assertThat(checked).as("results checked").isEqualTo(calls.get()).isGreaterThan(SWAPS);
    }
}
