package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.EventChannels;
import xenshim.api.xen.XenSched;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;

/**
 * A guest that triple-faults ({@code --bundled triplefault}: an empty IDT, then {@code ud2}) beside a
 * guest making event round trips with dom0's echo backend and xenstore requests: the faulting guest
 * is stopped and reported with its registers (KVM: a shutdown exit, status 20; the software CPU, which
 * delivers no exception, stops at the #UD, status 21), it is reaped (dom0's ends of its channels
 * closed, out of the registry), and the other guest, the installed shim and dom0 go on.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TripleFaultContainedTest {

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aGuestThatTripleFaultsIsStoppedAndTheOtherGuestGoesOn(Accel accel) throws Exception {
        Backends.assume(accel, TripleFaultContainedTest.class);
        Neighbours n = Neighbours.create();
        HypercallPage page = n.builtIns();
        HypercallTable installed = page.current();
        List<GuestGroup.Guest> guests = List.of(
                new GuestGroup.Guest("triplefault", BundledGuestsTest.bundled("triplefault"), ""),
                Neighbours.floods("mode=measure seconds=2").getFirst());
        int[] dom0Console = new int[1];
        Neighbours.Result r = n.run(accel, page, guests, Duration.ofSeconds(60),
                group -> dom0Console[0] = group.backends().getFirst().channels().dom0Console());

        Outcome faulted = r.outcomes().getFirst();
        if (accel == Accel.KVM) {
            assertThat(faulted).as(r.console()).isInstanceOfSatisfying(Outcome.TripleFault.class, f -> {
                assertThat(f.exitStatus()).isEqualTo(20);
                assertThat(f.describe()).contains("triple-faulted on vCPU 0").contains("rip");
            });
        } else {
            assertThat(faulted).as(r.console()).isInstanceOfSatisfying(Outcome.Failure.class, f -> {
                assertThat(f.exitStatus()).isEqualTo(21);
                assertThat(f.what()).contains("(#UD)");
            });
        }
        assertThat(r.console()).contains("(d1) triplefault: loading empty IDT").doesNotContain("still alive");

        assertThat(r.outcomes().get(1)).as("the other guest").isEqualTo(new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff));
        Map<String, String> measure = r.flood(2, "measure");
        assertThat(measure.get("failures")).as("first rc %s", measure.get("first_rc")).isEqualTo("0");
        assertThat(Long.parseLong(measure.get("events"))).isPositive();
        assertThat(Long.parseLong(measure.get("xs_requests"))).isPositive();

        assertThat(page.current()).as("the installed shim").isSameAs(installed);
        assertThat(n.platform.domains().byId(1)).as("the faulted domain is gone").isEmpty();
        assertThat(n.platform.dom0().state(EventChannels.KEY).state(dom0Console[0]))
                .as("dom0's end of its console channel").isEqualTo(EventChannels.State.FREE);
    }
}
