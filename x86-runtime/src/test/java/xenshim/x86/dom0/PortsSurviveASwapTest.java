package xenshim.x86.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.x86.Platform;

/**
 * Ports bound through one event_channel_op handler keep working through a fresh one: a new table, built
 * by a new injector with new handler instances, swapped in while the ports are bound. The ports live in
 * the domains' {@link EventChannels}, found by a key of the api, not in the handler.
 */
class PortsSurviveASwapTest {

    private static Object handler(HypercallTable table) {
        return table.slots().stream().filter(slot -> slot.nr() == Hypercalls.__HYPERVISOR_event_channel_op)
                .findFirst().orElseThrow().handler();
    }

    @Test
    void aSwappedInEvtchnHandlerServesThePortsTheOldOneBound() throws Exception {
        Platform platform = new Platform(XenVersionInfo.defaults(), (d, b, o, l) -> { });
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        Domain guest = platform.newGuest(1);
        Object before = handler(page.current());
        int guestPort;
        int dom0Port;
        try (Dom0Calls calls = new Dom0Calls(page, platform.dom0())) {
            guestPort = calls.allocUnbound(guest.domid(), 0);
            dom0Port = calls.bindInterdomain(guest.domid(), guestPort);
        }
        assertThat(guestPort).isPositive();
        assertThat(dom0Port).isPositive();
        platform.dom0Events().poll(dom0Port); // the bind's own notification

        HypercallTable fresh = platform.table(null, Map.of());
        page.registerLcall(fresh);
        Object after = handler(page.current());
        assertThat(after).as("a new handler instance").isNotSameAs(before)
                .hasSameClassAs(before);

        try (Dom0Calls calls = new Dom0Calls(page, platform.dom0())) {
            assertThat(calls.status(guest.domid(), guestPort).status()).isEqualTo(2); // EVTCHNSTAT_interdomain
            assertThat(calls.send(dom0Port)).isZero();
            assertThat(guest.state(EventChannels.KEY).delivery().isPending(guestPort)).isTrue();
            assertThat(EventChannels.send(guest, guestPort)).isZero();
            assertThat(platform.dom0Events().await(dom0Port, Duration.ofSeconds(5))).isTrue();
            assertThat(calls.close(dom0Port)).isZero();
        }
        assertThat(guest.state(EventChannels.KEY).state(guestPort)).isEqualTo(EventChannels.State.UNBOUND);
    }
}
