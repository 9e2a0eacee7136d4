package xenshim.bench;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;
import jdk.jfr.Recording;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import xenshim.api.Domain;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenVersion;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Lcall;
import xenshim.dispatcher.jfr.HypercallEvent;
import xenshim.handlers.version.XenVersionHandler;

/**
 * What a hypercall costs with a JDK Flight Recorder recording on and off, in one run: the same
 * {@code XENVER_version} lcall ({@code xen_version} through {@link Lcall}, the page and the table) with
 * {@code recording=off} (no recording: the page's static check only), {@code recording=on} (a recording
 * with {@code xenshim.Hypercall} enabled, as {@code xenshim run --jfr} starts it: one event per call,
 * timed, named and committed to the thread's buffer) and {@code recording=other} (a recording running
 * with the JDK's events but {@code xenshim.Hypercall} disabled).
 * Run with {@code -prof gc}: the event is the only allocation, and only with {@code on}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--sun-misc-unsafe-memory-access=allow")
public class JfrCostBenchmark {

    @Param({"off", "on", "other"})
    public String recording;

    private Arena arena;
    private Lcall lcall;
    private Recording jfr;

    @Setup(Level.Trial)
    public void setUp() {
        arena = Arena.ofConfined();
        HypercallTable table = HypercallTable.builder("bench")
                .add(new XenVersionHandler(XenVersionInfo.defaults()))
                .build();
        lcall = Lcall.dom0(new HypercallPage(table), Domain.localDom0(), arena.allocate(4096, 4096));
        if (!recording.equals("off")) {
            jfr = new Recording();
            jfr.setToDisk(true);
            if (recording.equals("on")) {
                jfr.enable(HypercallEvent.NAME);
            } else {
                jfr.enable("jdk.GarbageCollection");
                jfr.disable(HypercallEvent.NAME);
            }
            jfr.start();
        }
        if (HypercallEvent.on() != recording.equals("on")) {
            throw new IllegalStateException("xenshim.Hypercall enabled=" + HypercallEvent.on() + " for " + recording);
        }
        if (call() != XenVersionInfo.defaults().packedVersion()) {
            throw new IllegalStateException("XENVER_version did not answer");
        }
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        if (jfr != null) {
            jfr.close();
        }
        arena.close();
    }

    @Benchmark
    public long call() {
        return lcall.invoke(Hypercalls.__HYPERVISOR_xen_version, XenVersion.XENVER_version, 0);
    }
}
