package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;

/**
 * The demo guest's PV part, booted as {@code xenshim run} boots it (console and xenstore rings, dom0's
 * backends), on every CPU backend: its output through the console ring, a page granted to dom0 and
 * answered in, a read-only grant whose writable map dom0 is refused, and a grant the guest cannot end
 * while dom0 maps it.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class PvGuestTest {

    private record Result(Outcome outcome, String console) {
    }

    private static Result run(Accel accel, String cmdline) throws Exception {
        Backends.assume(accel, PvGuestTest.class);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StdoutConsole console = new StdoutConsole(captured);
        Platform platform = new Platform(XenVersionInfo.defaults(), console);
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        try (GuestGroup group = GuestGroup.create(platform, page,
                List.of(new GuestGroup.Guest("demo", BundledGuestsTest.bundled("demo"), cmdline)),
                new GuestGroup.Settings(128L << 20, Duration.ofSeconds(90), 1, null, accel.factory()))) {
            List<Outcome> outcomes = group.run();
            console.flush();
            return new Result(outcomes.getFirst(), captured.toString(StandardCharsets.UTF_8));
        }
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void theDemoRoundTripsThroughAGrantedPage(Accel accel) throws Exception {
        Result r = run(accel, "");
        assertThat(r.console())
                .contains("demo: pv: this line came through the console ring\n")
                .contains("demo: pv: PASS xenstore get_domain_path")
                .contains("domid 1, path /local/domain/1, name \"demo\"")
                .contains("demo: pv: PASS grant table frame 0 mapped")
                .contains("dom0: pv-demo: d1 ref 8 mapped read-write")
                .contains("demo: pv: the granted page now reads: \"hello d1, this is dom0")
                .contains("demo: pv: PASS dom0 answered in the granted page")
                .contains("demo: pv: PASS grant ended once dom0 unmapped")
                .contains("demo: pv: round trip done")
                .doesNotContain("FAIL");
        assertThat(r.outcome()).isEqualTo(new Outcome.Shutdown(0));
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aReadOnlyGrantRefusesTheBackendsWrite(Accel accel) throws Exception {
        Result r = run(accel, "pv=readonly");
        assertThat(r.console())
                .contains("dom0: pv-demo: d1 ref 8: a writable map is refused: GNTST_general_error")
                .contains("demo: pv: PASS read-only grant: the page is unchanged")
                .contains("demo: pv: PASS read-only grant: dom0's write was refused")
                .doesNotContain("FAIL");
        assertThat(r.outcome()).isEqualTo(new Outcome.Shutdown(0));
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aGrantCannotBeEndedWhileMapped(Accel accel) throws Exception {
        Result r = run(accel, "pv=revoke");
        assertThat(r.console())
                .contains("demo: pv: PASS revoke while mapped is refused (GTF_reading/GTF_writing set)")
                .contains("dom0: pv-demo: d1 ref 8 unmapped")
                .contains("demo: pv: PASS grant ended once dom0 unmapped")
                .doesNotContain("FAIL");
        assertThat(r.outcome()).isEqualTo(new Outcome.Shutdown(0));
    }
}
