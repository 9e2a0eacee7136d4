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
