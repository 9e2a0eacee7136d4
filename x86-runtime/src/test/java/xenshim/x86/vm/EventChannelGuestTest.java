package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.EventChannels;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;

/**
 * The bundled {@code evtchn} guest, booted as {@code xenshim run} boots guests (toolstack channels, dom0's
 * echo backend), on every CPU backend: upcalls for events from dom0 and from itself, masked ports that
 * stay pending until unmasked, SCHEDOP_block, SCHEDOP_poll woken by an event and timed out, singleshot
 * and periodic timers, Xen time against the host's, and with two guests, events between them over the
 * port pair dom0 set up.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class EventChannelGuestTest {

    /** Each guest's console, and how each ended. */
    private record Result(List<Outcome> outcomes, String console, Platform platform) {
    }

    private static Result run(Accel accel, int guests) throws Exception {
        Backends.assume(accel, EventChannelGuestTest.class);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StdoutConsole console = new StdoutConsole(captured);
        if (guests > 1) {
            console.prefixDomains();
        }
        Platform platform = new Platform(XenVersionInfo.defaults(), console);
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        List<GuestGroup.Guest> images = new ArrayList<>();
        for (int i = 0; i < guests; i++) {
            images.add(new GuestGroup.Guest("evtchn", BundledGuestsTest.bundled("evtchn"), "pingpong=200"));
        }
        try (GuestGroup group = GuestGroup.create(platform, page, images,
                new GuestGroup.Settings(128L << 20, Duration.ofSeconds(90), 1, null, accel.factory()))) {
            List<Outcome> outcomes = group.run();
            console.flush();
            return new Result(outcomes, captured.toString(StandardCharsets.UTF_8), platform);
        }
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void oneGuestPassesEveryEventTimerAndTimeCheck(Accel accel) throws Exception {
        Result r = run(accel, 1);
        assertThat(r.console())
                .contains("evtchn: PASS upcall vector HVMOP_set_evtchn_upcall_vector")
                .contains("evtchn: PASS time guest pvclock brackets HVMOP_get_time")
                .contains("evtchn: PASS singleshot ")
                .contains("evtchn: PASS periodic events=")
                .contains("evtchn: PASS block blocked_ns=")
                .contains("evtchn: PASS poll timeout ")
                .contains("evtchn: PASS poll wake ipi")
                .contains("evtchn: PASS poll wake interdomain")
                .contains("evtchn: PASS masked port stays pending")
                .contains("evtchn: PASS unmask redelivers")
                .contains("evtchn: PASS dom0 binds P")
                .contains("evtchn: PASS dom0 ping-pong upcall count=200")
                .contains("evtchn: PASS dom0 ping-pong poll count=200")
                .contains("evtchn: SKIP peer exchange")
                .contains(" 0 failed")
                .doesNotContain("FAIL");
        assertThat(r.outcomes()).singleElement().isEqualTo(new Outcome.Shutdown(0));
        assertThat(r.platform().domains().byId(1)).as("the ended guest left the registry").isEmpty();
    }

    /** A guest blocked in SCHEDOP_block (until a timer a minute away) uses no CPU and stops at once. */
    @ParameterizedTest
    @EnumSource(Accel.class)
    void aGuestBlockedInSchedopBlockStopsAtOnce(Accel accel) throws Exception {
        Backends.assume(accel, EventChannelGuestTest.class);
        java.util.concurrent.CountDownLatch blocking = new java.util.concurrent.CountDownLatch(1);
        StringBuilder printed = new StringBuilder();
        xenshim.api.GuestConsole console = (domain, bytes, offset, length) -> {
            synchronized (printed) {
                printed.append(new String(bytes, offset, length, StandardCharsets.ISO_8859_1));
                if (printed.indexOf("evtchn: idle blocking") >= 0) {
                    blocking.countDown();
                }
            }
        };
        Platform platform = new Platform(XenVersionInfo.defaults(), console);
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        xenshim.api.Domain domain = platform.newGuest(1);
        try (Machine machine = Machine.create(new Machine.Config(128L << 20, "idle=60000", Duration.ofSeconds(90), 1,
                platform.version()), BundledGuestsTest.bundled("evtchn"), domain, page, console, null,
                accel.factory())) {
            java.util.concurrent.CompletableFuture<Outcome> ran = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return machine.run();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            assertThat(blocking.await(60, TimeUnit.SECONDS)).as("the guest blocks").isTrue();
            Thread.sleep(200); // into SCHEDOP_block
            assertThat(domain.state(xenshim.api.Vcpus.KEY).isBlocked(0)).as("blocked, parked").isTrue();
            long stop = System.nanoTime();
            machine.stop(new Outcome.Interrupted());
            assertThat(ran.get(10, TimeUnit.SECONDS)).isEqualTo(new Outcome.Interrupted());
            assertThat((System.nanoTime() - stop) / 1_000_000).as("ms from stop to the end of run()").isLessThan(5_000);
        }
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void twoGuestsExchangeEventsOverThePortPairDom0SetUp(Accel accel) throws Exception {
        Result r = run(accel, 2);
        assertThat(r.console())
                .contains("(d1) evtchn: PASS peer exchange role=wait domid=2")
                .contains("(d2) evtchn: PASS peer exchange role=bind domid=1")
                .doesNotContain("FAIL");
        assertThat(r.outcomes()).containsExactly(new Outcome.Shutdown(0), new Outcome.Shutdown(0));
        assertThat(r.platform().domains().byId(0)).as("dom0 stays").isPresent();
        assertThat(r.platform().dom0().state(EventChannels.KEY).state(1))
                .as("dom0's end of a dead guest's channel is closed").isEqualTo(EventChannels.State.FREE);
    }
}
