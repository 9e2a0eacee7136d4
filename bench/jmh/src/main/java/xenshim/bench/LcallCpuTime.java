package xenshim.bench;

import java.lang.foreign.Arena;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import xenshim.api.Abi;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.GuestMemory;
import xenshim.api.HypercallHandler;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Lcall;
import xenshim.dispatcher.Provider;

/**
 * {@link LcallBenchmark}'s trivial lcall and its swapping pair timed by the calling thread's
 * CPU time instead of the wall clock: on a host shared with other work (this project's
 * 2-core machine), a thread that waits for a CPU inflates JMH's wall-clock figures by as much
 * as it waits, while its CPU time per call stays what the code costs. Not a JMH benchmark: a
 * check to read beside one, run from the same jar:
 *
 * <pre>java -cp bench/jmh/target/benchmarks.jar xenshim.bench.LcallCpuTime</pre>
 *
 * <p>Prints the best of ten rounds of 50 million calls each, direct and through the
 * {@link Lcall}, then the CPU time per lcall in alternating phases where another thread swaps
 * the page's table 1,000 times a second (as {@code LcallBenchmark.swap}: build, register,
 * unregister, await) or only keeps the pace, and their ratio.
 */
public final class LcallCpuTime {

    private static final int NR = LcallBenchmark.TRIVIAL_NR;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private static volatile boolean swapping;
    private static volatile boolean stop;

    private LcallCpuTime() {
    }

    public static void main(String[] args) throws Exception {
        try (Arena arena = Arena.ofShared()) {
            HypercallPage page = new HypercallPage(table("base"));
            Lcall lcall = Lcall.dom0(page, Domain.localDom0(), arena.allocate(4096, 4096));
            callCost(lcall);
            swapCost(page, lcall);
        }
    }

    static HypercallTable table(String name) {
        return HypercallTable.builder(name)
                .add(NR, Provider.of(LcallBenchmark.TrivialHandler.class), new LcallBenchmark.TrivialHandler())
                .build();
    }

    private static void callCost(Lcall lcall) {
        HypercallHandler handler = new LcallBenchmark.TrivialHandler();
        CallContext context = new DirectContext(lcall);
        long calls = 50_000_000L;
        double direct = Double.MAX_VALUE;
        double local = Double.MAX_VALUE;
        long sink = 0;
        for (int round = 0; round < 12; round++) {
            long t0 = THREADS.getCurrentThreadCpuTime();
            for (long i = 0; i < calls; i++) {
                sink += handler.handle(context, i, 0, 0, 0, 0);
            }
            long t1 = THREADS.getCurrentThreadCpuTime();
            for (long i = 0; i < calls; i++) {
                sink += lcall.invoke(NR, i);
            }
            long t2 = THREADS.getCurrentThreadCpuTime();
            if (round >= 2) { // the first two rounds warm up
                direct = Math.min(direct, (t1 - t0) / (double) calls);
                local = Math.min(local, (t2 - t1) / (double) calls);
            }
        }
        System.out.printf("CPU time per call, best of 10 rounds: direct %.2f ns, lcall %.2f ns, lcall - direct %.2f ns"
                + " (sink %d)%n", direct, local, local - direct, sink);
    }

    private static void swapCost(HypercallPage page, Lcall lcall) throws InterruptedException {
        AtomicLong swaps = new AtomicLong();
        AtomicLong swapNanos = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        Thread swapper = Thread.ofPlatform().name("swapper").start(() -> {
            long next = System.nanoTime();
            int i = 0;
            while (!stop) {
                long now = System.nanoTime();
                if (next - now > 0) {
                    LockSupport.parkNanos(next - now);
                    next += 1_000_000;
                } else {
                    next = now + 1_000_000;
                }
                if (swapping) {
                    long start = System.nanoTime();
                    page.registerLcall(table("swap" + i++));
                    try {
                        if (!page.unregisterLcall().await(Duration.ofSeconds(1))) {
                            failed.incrementAndGet();
                        }
                    } catch (InterruptedException e) {
                        return;
                    }
                    swapNanos.addAndGet(System.nanoTime() - start);
                    swaps.incrementAndGet();
                }
            }
        });
        double[] cpu = new double[2];
        long[] calls = new long[2];
        long sink = 0;
        for (int phase = 0; phase < 16; phase++) {
            boolean on = phase % 2 == 1;
            swapping = on;
            Thread.sleep(50);
            long n = 0;
            long c0 = THREADS.getCurrentThreadCpuTime();
            long w0 = System.nanoTime();
            while (System.nanoTime() - w0 < 700_000_000L) {
                for (int k = 0; k < 10_000; k++) {
                    long rc = lcall.invoke(NR, k);
                    if (rc != k + 1) {
                        failed.incrementAndGet();
                    }
                    sink += rc;
                }
                n += 10_000;
            }
            long c1 = THREADS.getCurrentThreadCpuTime();
            if (phase >= 4) { // the first four phases warm up
                cpu[on ? 1 : 0] += c1 - c0;
                calls[on ? 1 : 0] += n;
            }
        }
        stop = true;
        swapper.join();
        double idle = cpu[0] / calls[0];
        double swapped = cpu[1] / calls[1];
        System.out.printf("CPU time per call: %.2f ns with no swapping, %.2f ns while swapping 1,000/s: throughput"
                        + " ratio %.3f; %d swaps of %.1f us each (wall), %d failed (sink %d)%n",
                idle, swapped, idle / swapped, swaps.get(), swapNanos.get() / 1e3 / Math.max(1, swaps.get()),
                failed.get(), sink);
    }

    /** The context a direct call gets, as in {@link LcallBenchmark}. */
    private record DirectContext(Lcall lcall) implements CallContext {
        @Override
        public Domain domain() {
            return lcall.domain();
        }

        @Override
        public int vcpuId() {
            return 0;
        }

        @Override
        public Abi abi() {
            return Abi.X86_64;
        }

        @Override
        public GuestMemory memory() {
            return lcall.memory();
        }
    }
}
