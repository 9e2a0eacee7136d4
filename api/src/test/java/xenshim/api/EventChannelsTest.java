package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import xenshim.api.xen.XenEvtchn;

/**
 * The table's locking (two domains working on each other's ports at once), the VIRQs the platform sends,
 * and what a dying domain leaves its peers.
 */
class EventChannelsTest {

    private final Domain a = Domain.guest(1);
    private final Domain b = Domain.guest(2);

    /** Binds and closes a pair from one side, sending on it meanwhile; returns how many binds succeeded. */
    private static int churn(Domain self, Domain peer, CyclicBarrier start, int rounds) throws Exception {
        start.await();
        int bound = 0;
        for (int i = 0; i < rounds; i++) {
            int remote = peer.state(EventChannels.KEY).allocUnbound(peer, peer, self.domid());
            int local = EventChannels.bindInterdomain(self, peer, remote);
            if (local > 0) {
                bound++;
                EventChannels.send(self, local);
                EventChannels.send(peer, remote);
                // close from either end, alternately (the lock order differs), then the end left unbound
                if (i % 2 == 0) {
                    assertThat(EventChannels.close(self, local)).isZero();
                    assertThat(EventChannels.close(peer, remote)).isZero();
                } else {
                    assertThat(EventChannels.close(peer, remote)).isZero();
                    assertThat(EventChannels.close(self, local)).isZero();
                }
            }
        }
        return bound;
    }

    @Test
    @Timeout(value = 60, unit = TimeUnit.SECONDS)
    void twoDomainsBindingAndClosingEachOthersPortsDoNotDeadlock() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            CyclicBarrier start = new CyclicBarrier(2);
            Future<Integer> ab = pool.submit(() -> churn(a, b, start, 20_000));
            Future<Integer> ba = pool.submit(() -> churn(b, a, start, 20_000));
            assertThat(ab.get(Duration.ofSeconds(50).toSeconds(), TimeUnit.SECONDS)).isEqualTo(20_000);
            assertThat(ba.get(Duration.ofSeconds(50).toSeconds(), TimeUnit.SECONDS)).isEqualTo(20_000);
        } finally {
            pool.shutdownNow();
        }
        // every pair was closed from both ends: only the reserved port 0 is left
        for (Domain d : new Domain[] {a, b}) {
            for (int port = 1; port < 64; port++) {
                assertThat(d.state(EventChannels.KEY).state(port)).as("%s port %d", d, port)
                        .isEqualTo(EventChannels.State.FREE);
            }
        }
    }

    @Test
    void aNewTableReservesPortZeroAndIsSixtyFourBitUntilLatched() {
        EventChannels table = new EventChannels();
        assertThat(table.state(0)).isEqualTo(EventChannels.State.RESERVED);
        assertThat(table.maxPorts()).isEqualTo(4096);
        assertThat(table.latchSharedInfoWidth(Abi.X86_32)).isTrue();
        assertThat(table.latchSharedInfoWidth(Abi.X86_64)).isFalse();
        assertThat(table.maxPorts()).isEqualTo(1024);
        assertThat(table.bitsPerWord()).isEqualTo(32);
    }

    @Test
    void portsBecomeValidABucketAtATime() {
        EventChannels table = a.state(EventChannels.KEY);
        assertThat(table.isValid(63)).isTrue();
        assertThat(table.isValid(64)).isFalse();
        for (int i = 1; i <= 64; i++) {
            assertThat(table.bindIpi(0)).isEqualTo(i);
        }
        assertThat(table.isValid(127)).isTrue();
        assertThat(table.isValid(128)).isFalse();
    }

    // ---- sendVirq ---------------------------------------------------------------------------------------------

    /** {@code a}'s table over in-memory words, with upcalls recorded. */
    private EventChannels bound(List<Integer> upcalls) {
        EventChannels table = a.state(EventChannels.KEY);
        table.setMaxVcpus(2);
        table.bind(new ArrayEventWords(), upcalls::add);
        return table;
    }

    @Test
    void aPerVcpuVirqGoesToTheVcpuThatBoundIt() {
        List<Integer> upcalls = new ArrayList<>();
        EventChannels table = bound(upcalls);
        int timer1 = table.bindVirq(XenEvtchn.VIRQ_TIMER, 1);

        table.sendVirq(0, XenEvtchn.VIRQ_TIMER); // vCPU 0 has no VIRQ_TIMER bound: dropped
        assertThat(table.delivery().isPending(timer1)).isFalse();
        assertThat(upcalls).isEmpty();

        table.sendVirq(1, XenEvtchn.VIRQ_TIMER);
        assertThat(table.delivery().isPending(timer1)).isTrue();
        assertThat(table.words().testPendingSel(1, timer1 / 64)).isTrue();
        assertThat(upcalls).containsExactly(1);

        int timer0 = table.bindVirq(XenEvtchn.VIRQ_TIMER, 0);
        table.sendVirq(0, XenEvtchn.VIRQ_TIMER);
        assertThat(table.delivery().isPending(timer0)).isTrue();
        assertThat(upcalls).containsExactly(1, 0);
    }

    @Test
    void aGlobalVirqIsVcpuZerosBindingDeliveredWhereItsPortNotifies() {
        List<Integer> upcalls = new ArrayList<>();
        EventChannels table = bound(upcalls);
        table.sendVirq(0, XenEvtchn.VIRQ_CONSOLE); // not bound: dropped
        assertThat(upcalls).isEmpty();

        int console = table.bindVirq(XenEvtchn.VIRQ_CONSOLE, 0);
        assertThat(table.bindVcpu(console, 1)).isZero();
        table.sendVirq(1, XenEvtchn.VIRQ_CONSOLE); // whichever vCPU it is sent for
        assertThat(table.delivery().isPending(console)).isTrue();
        assertThat(upcalls).containsExactly(1);
    }

    @Test
    void aClosedVirqIsNoLongerDelivered() {
        List<Integer> upcalls = new ArrayList<>();
        EventChannels table = bound(upcalls);
        int timer = table.bindVirq(XenEvtchn.VIRQ_TIMER, 0);
        assertThat(EventChannels.close(a, timer)).isZero();
        table.sendVirq(0, XenEvtchn.VIRQ_TIMER);
        assertThat(table.delivery().isPending(timer)).isFalse();
        assertThat(upcalls).isEmpty();
    }

    @Test
    void aVirqOutOfRangeIsTheCallersBug() {
        EventChannels table = a.state(EventChannels.KEY);
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> table.sendVirq(0, XenEvtchn.NR_VIRQS));
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException()
                .isThrownBy(() -> table.sendVirq(0, -1));
    }

    // ---- destroy ----------------------------------------------------------------------------------------------

    @Test
    void aDestroyedDomainsPeersAreLeftUnboundForTheDeadDomain() {
        EventChannels ta = a.state(EventChannels.KEY);
        EventChannels tb = b.state(EventChannels.KEY);
        int remote = tb.allocUnbound(b, b, a.domid());
        int local = EventChannels.bindInterdomain(a, b, remote);
        int unboundForB = ta.allocUnbound(a, a, b.domid());
        int timer = ta.bindVirq(XenEvtchn.VIRQ_TIMER, 0);
        int ipi = ta.bindIpi(0);

        EventChannels.destroy(a);

        for (int port : new int[] {local, unboundForB, timer, ipi}) {
            assertThat(ta.state(port)).as("port %d", port).isEqualTo(EventChannels.State.FREE);
        }
        assertThat(ta.state(0)).isEqualTo(EventChannels.State.RESERVED);
        int[] errno = new int[1];
        EventChannels.PortStatus status = tb.status(b, b, remote, errno);
        assertThat(status.state()).isEqualTo(EventChannels.State.UNBOUND);
        assertThat(status.remoteDom()).as("reserved for the dead domain").isEqualTo(a.domid());
        assertThat(EventChannels.send(b, remote)).as("dropped").isZero();
        assertThat(tb.delivery().isPending(remote)).isFalse();
        // nothing of a's is delivered any more
        ta.sendVirq(0, XenEvtchn.VIRQ_TIMER);
        assertThat(ta.delivery().isPending(timer)).isFalse();
    }

    @Test
    void destroyingADomainWithNoPortsOrTwiceIsHarmless() {
        EventChannels.destroy(a);
        EventChannels.destroy(a);
        assertThat(a.state(EventChannels.KEY).state(0)).isEqualTo(EventChannels.State.RESERVED);
        assertThat(a.state(EventChannels.KEY).bindIpi(0)).isEqualTo(1);
    }
}
