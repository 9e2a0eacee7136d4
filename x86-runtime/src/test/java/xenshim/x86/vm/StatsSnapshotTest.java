package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Domain;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Accel;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;

/**
 * {@link Machine#statsSnapshot} from another thread while the guest runs, on every CPU backend, as a
 * control channel's {@code stats} takes it: the {@code bench} guest makes {@code iters + iters/10}
 * {@code xen_version} calls (guests/bench/bench.c), and a thread takes snapshots and prints them all
 * along. None throws, the count never goes back, some see the guest midway, and the snapshot after the
 * run is exact.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class StatsSnapshotTest {

    private static final int XEN_VERSION = Hypercalls.__HYPERVISOR_xen_version;

    @ParameterizedTest
    @EnumSource(Accel.class)
    void snapshotsWhileTheGuestRunsThenAnExactOne(Accel accel) throws Exception {
        Backends.assume(accel, StatsSnapshotTest.class);
        long iters = 100_000;
        XenVersionInfo version = XenVersionInfo.defaults();
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StdoutConsole console = new StdoutConsole(captured);
        Platform platform = new Platform(version, console);
        Domain domain = Domain.guest(1);
        platform.domains().add(domain);
        AtomicReference<Throwable> failed = new AtomicReference<>();
        long[] seen = new long[3]; // snapshots, of them midway (0 < count < all), the last count
        long all = iters + iters / 10;
        Outcome outcome;
        Machine machine = Machine.create(new Machine.Config(64L << 20, "iters=" + iters, Duration.ofSeconds(90), 1,
                version), BundledGuestsTest.bundled("bench"), domain, new HypercallPage(platform.table(null, Map.of())),
                console, null, accel.factory());
        Thread reader = Thread.ofPlatform().name("stats-reader").start(() -> {
            try {
                while (!machine.isStopping()) {
                    HypercallStats snapshot = machine.statsSnapshot();
                    long count = snapshot.count(XEN_VERSION);
                    snapshot.print(new PrintWriter(new StringWriter()));
                    snapshot.percentileNanos(XEN_VERSION, 99.9);
                    assertThat(count).as("calls never go back").isGreaterThanOrEqualTo(seen[2]);
                    seen[0]++;
                    if (count > 0 && count < all) {
                        seen[1]++;
                    }
                    seen[2] = count;
                    Thread.sleep(1);
                }
            } catch (Throwable t) {
                failed.set(t);
            }
        });
        try (machine) {
            outcome = machine.run();
        }
        reader.join();
        console.flush();
        String text = captured.toString(StandardCharsets.UTF_8);
        assertThat(outcome).as(text).isEqualTo(new Outcome.Shutdown(0));
        assertThat(failed.get()).isNull();

        HypercallStats stats = machine.statsSnapshot();
        StringWriter table = new StringWriter();
        stats.print(new PrintWriter(table));
        System.out.printf("[%s] %d snapshots while running, %d midway%n%s", accel.id(), seen[0], seen[1], table);
        assertThat(stats.count(XEN_VERSION)).isEqualTo(all);
        assertThat(stats.errors(XEN_VERSION)).isZero();
        assertThat(stats.percentileNanos(XEN_VERSION, 50)).isPositive()
                .isLessThanOrEqualTo(stats.percentileNanos(XEN_VERSION, 99.9));
        assertThat(stats.percentileNanos(XEN_VERSION, 99.9)).isLessThanOrEqualTo(stats.maxNanos(XEN_VERSION));
        assertThat(table.toString()).containsPattern("(?m)^17 xen_version +" + all + " +" + all + " +0 ");
        assertThat(seen[1]).as("snapshots that saw the guest midway (the run lasts >100 ms)").isPositive();
    }
}
