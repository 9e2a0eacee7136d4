package xenshim.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Group;
import org.openjdk.jmh.annotations.GroupThreads;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import xenshim.api.CallContext;
import xenshim.api.Domain;
import xenshim.api.HypercallHandler;
import xenshim.api.XenVersionInfo;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenVersion;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Lcall;
import xenshim.dispatcher.Provider;
import xenshim.handlers.version.XenVersionHandler;

/**
 * The in-process hypercall path (DESIGN.md, "Speed": an lcall costs a few
 * nanoseconds over a direct Java call and allocates nothing).
 *
 * <ul>
 * <li>{@link #directTrivial}: a direct Java call of a trivial handler's
 *     {@code handle()}, the floor.</li>
 * <li>{@link #lcallTrivial}: the same handler through
 *     {@link Lcall#invoke} → {@link HypercallPage} → {@link HypercallTable}
 *     (the thread publishing which table it calls in, slot lookup, the failure guard).</li>
 * <li>{@link #lcallTrivialFenced}: the same, in a JVM run with
 *     {@code -Dxenshim.dispatcher.fencedEntry=true}: the caller's slot store is a
 *     volatile store (a locked instruction) instead of a plain one.</li>
 * <li>{@link #pageTrivial}: the same handler through {@link HypercallPage#invoke} with
 *     the lcall's context, as a vCPU's hypercall exit enters: the caller's record is
 *     looked up in a {@code ThreadLocal} instead of kept by the {@link Lcall}.</li>
 * <li>{@link #lcallXenVersion}: the real {@link XenVersionHandler},
 *     {@code XENVER_version}.</li>
 * <li>{@link #lcallGetFeatures}: {@code XENVER_get_features} with its
 *     {@code struct xen_feature_info} in the caller's arena (one bounds-checked
 *     4-byte read and one 4-byte write through {@code GuestMemory}).</li>
 * <li>{@link #sharedTrivial} and {@link #sharedTrivial2Threads}: the trivial
 *     lcall with one {@link HypercallPage} and one {@link Lcall} shared by
 *     every benchmark thread, one thread then two at once: a call writes
 *     nothing another thread's call touches, so per-thread time should not
 *     grow with the second thread.</li>
 * <li>group {@code swapping}: one thread makes trivial lcalls
 *     ({@code swapping:callWhileSwapping}) while another registers a fresh
 *     table, unregisters it and awaits its retirement, 1,000 times a second
 *     ({@code swapping:swap}); group {@code notSwapping} is the same pair with a
 *     second thread that only keeps the same pace. A call that does not
 *     return what the handler should fails the trial. Both groups call the
 *     same handler class through the same kind of page.</li>
 * <li>group {@code swappingFlatOut}: the same swaps with no pause between them,
 *     while a thread calls: {@code swappingFlatOut:swapFlatOut} is what one swap
 *     costs (build, register, unregister with its handshake with the calling
 *     thread, await), so how many a second one thread can do.</li>
 * </ul>
 * Run with {@code -prof gc}: {@code gc.alloc.rate.norm} must be ~0 B/op
 * (but in {@code swapping}, where the swapping thread builds tables).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--sun-misc-unsafe-memory-access=allow")
public class LcallBenchmark {

    /** The slot the trivial handler sits in (an unused one, so it cannot be mistaken for a real call). */
    static final int TRIVIAL_NR = Hypercalls.NR_SLOTS - 1;

    /** Returns its first argument plus one: enough work that the call cannot be folded away. */
    public static final class TrivialHandler implements HypercallHandler {
        @Override
        public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
            return a0 + 1;
        }
    }

    private static final long SUBMAP_IDX =
            AbiLayouts.offset(AbiLayouts.X86_64.xen_feature_info, "submap_idx");
    private static final long SUBMAP =
            AbiLayouts.offset(AbiLayouts.X86_64.xen_feature_info, "submap");

    private Arena arena;
    private MemorySegment features;
    private long featuresAddress;
    private HypercallHandler trivial;
    private CallContext context;
    private HypercallPage page;
    private Lcall lcall;
    /** Varies per call so the JIT cannot treat the argument as a constant. */
    private long arg;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofConfined();
        MemorySegment dom0Memory = arena.allocate(4096, 4096);
        features = dom0Memory.asSlice(0, AbiLayouts.X86_64.xen_feature_info.byteSize());
        featuresAddress = features.address();
        trivial = new TrivialHandler();
        HypercallTable table = HypercallTable.builder("bench")
                .add(TRIVIAL_NR, Provider.of(TrivialHandler.class), trivial)
                .add(new XenVersionHandler(XenVersionInfo.defaults()))
                .build();
        page = new HypercallPage(table);
        lcall = Lcall.dom0(page, Domain.localDom0(), dom0Memory);
        context = lcallContext(lcall);
        check();
    }

    /** The same kind of context an lcall carries, for the direct call. */
    private static CallContext lcallContext(Lcall lcall) {
        return new CallContext() {
            @Override
            public xenshim.api.Domain domain() {
                return lcall.domain();
            }

            @Override
            public int vcpuId() {
                return 0;
            }

            @Override
            public xenshim.api.Abi abi() {
                return xenshim.api.Abi.X86_64;
            }

            @Override
            public xenshim.api.GuestMemory memory() {
                return lcall.memory();
            }
        };
    }

    /** Fails the trial (not silently measures an error path) if a call does not do what it should. */
    private void check() {
        if (lcall.invoke(TRIVIAL_NR, 41) != 42 || page.invoke(context, TRIVIAL_NR, 41, 0, 0, 0, 0) != 42) {
            throw new IllegalStateException("trivial handler not reached through the page");
        }
        long version = lcall.invoke(Hypercalls.__HYPERVISOR_xen_version, XenVersion.XENVER_version, 0);
        if (version != XenVersionInfo.defaults().packedVersion()) {
            throw new IllegalStateException("XENVER_version returned " + version);
        }
        features.set(ValueLayout.JAVA_INT, SUBMAP, -1);
        long rc = lcallGetFeatures();
        int submap = features.get(ValueLayout.JAVA_INT, SUBMAP);
        if (rc != submap || submap == -1) {
            throw new IllegalStateException("XENVER_get_features returned " + (rc - submap) + ", submap 0x"
                    + Integer.toHexString(submap));
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        arena.close();
    }

    /** A trivial-handler page shared by every thread of a benchmark. */
    @State(Scope.Benchmark)
    public static class SharedPage {
        Arena arena;
        Lcall lcall;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            HypercallTable table = HypercallTable.builder("shared")
                    .add(TRIVIAL_NR, Provider.of(TrivialHandler.class), new TrivialHandler())
                    .build();
            lcall = Lcall.dom0(new HypercallPage(table), Domain.localDom0(), arena.allocate(4096, 4096));
            if (lcall.invoke(TRIVIAL_NR, 41) != 42) {
                throw new IllegalStateException("trivial handler not reached through the shared page");
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
        }
    }

    /** A page whose table one thread of the group swaps while another calls. */
    @State(Scope.Group)
    public static class SwappedPage {
        static final long PERIOD_NS = 1_000_000; // 1,000 swaps a second

        Arena arena;
        HypercallPage page;
        Lcall lcall;
        final AtomicLong failed = new AtomicLong();
        long swaps;
        long next;

        @Setup(Level.Trial)
        public void setUp() {
            arena = Arena.ofShared();
            page = new HypercallPage(table("base"));
            lcall = Lcall.dom0(page, Domain.localDom0(), arena.allocate(4096, 4096));
        }

        static HypercallTable table(String name) {
            return HypercallTable.builder(name)
                    .add(TRIVIAL_NR, Provider.of(TrivialHandler.class), new TrivialHandler())
                    .build();
        }

        /** Waits for the next tick of the period (never more than one period). */
        void pace() {
            long now = System.nanoTime();
            if (next - now > 0) {
                LockSupport.parkNanos(next - now);
                next += PERIOD_NS;
            } else {
                next = now + PERIOD_NS;
            }
        }

        @TearDown(Level.Trial)
        public void tearDown() {
            arena.close();
            if (failed.get() != 0) {
                throw new IllegalStateException(failed.get() + " calls failed during " + swaps + " swaps");
            }
        }
    }

    @Benchmark
    public long directTrivial() {
        return trivial.handle(context, arg++, 0, 0, 0, 0);
    }

    @Benchmark
    public long lcallTrivial() {
        return lcall.invoke(TRIVIAL_NR, arg++);
    }

    @Benchmark
    @Fork(value = 1, jvmArgsAppend = {"--sun-misc-unsafe-memory-access=allow", "-Dxenshim.dispatcher.fencedEntry=true"})
    public long lcallTrivialFenced() {
        return lcall.invoke(TRIVIAL_NR, arg++);
    }

    @Benchmark
    public long pageTrivial() {
        return page.invoke(context, TRIVIAL_NR, arg++, 0, 0, 0, 0);
    }

    @Benchmark
    public long lcallXenVersion() {
        return lcall.invoke(Hypercalls.__HYPERVISOR_xen_version, XenVersion.XENVER_version, 0);
    }

    @Benchmark
    public long lcallGetFeatures() {
        features.set(ValueLayout.JAVA_INT, SUBMAP_IDX, 0);
        long rc = lcall.invoke(Hypercalls.__HYPERVISOR_xen_version, XenVersion.XENVER_get_features,
                featuresAddress);
        return rc + features.get(ValueLayout.JAVA_INT, SUBMAP);
    }

    @Benchmark
    @Threads(1)
    public long sharedTrivial(SharedPage shared) {
        return shared.lcall.invoke(TRIVIAL_NR, arg++);
    }

    @Benchmark
    @Threads(2)
    public long sharedTrivial2Threads(SharedPage shared) {
        return shared.lcall.invoke(TRIVIAL_NR, arg++);
    }

    @Benchmark
    @Group("swapping")
    @GroupThreads(1)
    public long callWhileSwapping(SwappedPage swapped) {
        return checkedCall(swapped);
    }

    @Benchmark
    @Group("swapping")
    @GroupThreads(1)
    public boolean swap(SwappedPage swapped) throws InterruptedException {
        swapped.pace();
        return swapOnce(swapped);
    }

    /** Builds a fresh table, registers it, unregisters it and awaits it; an await that times out fails the trial. */
    private static boolean swapOnce(SwappedPage swapped) throws InterruptedException {
        swapped.page.registerLcall(SwappedPage.table("swap" + swapped.swaps++));
        boolean drained = swapped.page.unregisterLcall().await(Duration.ofSeconds(1));
        if (!drained) {
            swapped.failed.incrementAndGet();
        }
        return drained;
    }

    @Benchmark
    @Group("swappingFlatOut")
    @GroupThreads(1)
    public long callWhileSwappingFlatOut(SwappedPage swapped) {
        return checkedCall(swapped);
    }

    @Benchmark
    @Group("swappingFlatOut")
    @GroupThreads(1)
    public boolean swapFlatOut(SwappedPage swapped) throws InterruptedException {
        return swapOnce(swapped);
    }

    @Benchmark
    @Group("notSwapping")
    @GroupThreads(1)
    public long callNotSwapping(SwappedPage swapped) {
        return checkedCall(swapped);
    }

    /** A trivial lcall whose wrong result is counted, to fail the trial. */
    private long checkedCall(SwappedPage swapped) {
        long a = arg++;
        long rc = swapped.lcall.invoke(TRIVIAL_NR, a);
        if (rc != a + 1) {
            swapped.failed.incrementAndGet();
        }
        return rc;
    }

    @Benchmark
    @Group("notSwapping")
    @GroupThreads(1)
    public void idle(SwappedPage swapped) {
        swapped.pace();
    }
}
