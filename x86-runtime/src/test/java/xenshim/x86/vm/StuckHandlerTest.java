package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Provider;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;

/**
 * A handler that never returns (and never asks {@code preemptCheck}) stops its own domain once the call
 * limit passes, reported as {@link Outcome.HandlerStuck} naming the hypercall and its provider, while
 * another guest in the same process, served by the same table, goes on to the end of its PV round trip.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class StuckHandlerTest {

    private static final int ARCH_7 = Hypercalls.__HYPERVISOR_arch_0 + 7;

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aHandlerThatNeverReturnsStopsItsDomainAndTheOtherGuestGoesOn(Accel accel) throws Exception {
        Backends.assume(accel, StuckHandlerTest.class);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StdoutConsole console = new StdoutConsole(captured);
        console.prefixDomains();
        Platform platform = new Platform(XenVersionInfo.defaults(), console);
        CountDownLatch release = new CountDownLatch(1);
        CountDownLatch entered = new CountDownLatch(1);
        HypercallTable.Builder builder = HypercallTable.builder("built-in+stuck");
        for (HypercallTable.Slot slot : platform.table(null, Map.of()).slots()) {
            builder.add(slot.nr(), slot.provider(), slot.handler());
        }
        builder.add(ARCH_7, new Provider("test.stuck", "test.stuck.Forever"), (ctx, a0, a1, a2, a3, a4) -> {
            entered.countDown();
            // waits for what never comes, asking no preemptCheck; let go only when the test ends
            while (release.getCount() > 0) {
                try {
                    release.await();
                } catch (InterruptedException ignored) {
                    // a stuck handler does not listen
                }
            }
            return 0;
        });
        HypercallPage page = new HypercallPage(builder.build());

        List<Outcome> outcomes;
        long started = System.nanoTime();
        try (GuestGroup group = GuestGroup.create(platform, page, List.of(
                        new GuestGroup.Guest("plugin", BundledGuestsTest.bundled("plugin"), "wait=60"),
                        new GuestGroup.Guest("demo", BundledGuestsTest.bundled("demo"), "")),
                new GuestGroup.Settings(128L << 20, Duration.ofSeconds(120), 1, null, accel.factory(),
                        Duration.ofSeconds(1)))) {
            outcomes = group.run();
        } finally {
            release.countDown();
        }
        long tookMillis = (System.nanoTime() - started) / 1_000_000;
        console.flush();
        String out = captured.toString(StandardCharsets.UTF_8);

        assertThat(entered.getCount()).as("the plugin guest reached the stuck handler").isZero();
        assertThat(outcomes.get(0)).isInstanceOfSatisfying(Outcome.HandlerStuck.class, stuck -> {
            assertThat(stuck.nr()).isEqualTo(ARCH_7);
            assertThat(stuck.provider()).contains("test.stuck/test.stuck.Forever").contains("built-in+stuck");
            assertThat(stuck.millis()).isGreaterThanOrEqualTo(1000);
            assertThat(stuck.exitStatus()).isEqualTo(25);
            assertThat(stuck.describe()).contains("hypercall " + ARCH_7 + " (arch_7)").contains("without returning");
        });
        assertThat(outcomes.get(1)).as("the other guest").isEqualTo(new Outcome.Shutdown(0));
        assertThat(out).contains("(d2) demo: pv: PASS dom0 answered in the granted page").doesNotContain("FAIL");
        assertThat(tookMillis).as("well before the run's own 120 s limit").isLessThan(60_000);
    }
}
