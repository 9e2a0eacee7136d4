package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The table's locking: two domains working on each other's ports at once. */
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
}
