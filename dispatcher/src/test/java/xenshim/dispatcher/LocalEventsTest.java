package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;
import xenshim.api.EventChannels;

class LocalEventsTest {

    private final Domain dom0 = Domain.localDom0();
    private final Domain guest = Domain.guest(1);
    private final LocalEvents events = LocalEvents.bind(dom0);

    /** A dom0 port bound to a guest port; returns {dom0 port, guest port}. */
    private int[] pair() {
        int dom0Port = dom0.state(EventChannels.KEY).allocUnbound(dom0, dom0, guest.domid());
        int guestPort = EventChannels.bindInterdomain(guest, dom0, dom0Port);
        assertThat(dom0Port).isPositive();
        assertThat(guestPort).isPositive();
        return new int[] {dom0Port, guestPort};
    }

    @Test
    void aGuestSendWakesABackendWaitingOnAVirtualThread() throws Exception {
        int[] ports = pair();
        CompletableFuture<Boolean> woke = new CompletableFuture<>();
        Thread backend = Thread.ofVirtual().start(() -> {
            try {
                woke.complete(events.await(ports[0], Duration.ofSeconds(10)));
            } catch (InterruptedException e) {
                woke.completeExceptionally(e);
            }
        });
        Thread.sleep(50); // let it park
        assertThat(woke).isNotDone();
        assertThat(EventChannels.send(guest, ports[1])).isZero();
        assertThat(woke.get(5, TimeUnit.SECONDS)).isTrue();
        backend.join();
        assertThat(events.isPending(ports[0])).as("taken").isFalse();
    }

    @Test
    void anEventSentBeforeTheWaitIsNotLostAndAWaitWithoutOneTimesOut() throws Exception {
        int[] ports = pair();
        assertThat(events.await(ports[0], Duration.ofMillis(20))).isFalse();
        EventChannels.send(guest, ports[1]);
        assertThat(events.await(ports[0], Duration.ZERO)).isTrue();
        assertThat(events.poll(ports[0])).isFalse();
    }

    @Test
    void aListenerRunsForEachEvent() throws Exception {
        int[] ports = pair();
        LinkedBlockingQueue<Integer> seen = new LinkedBlockingQueue<>();
        events.listen(ports[0], seen::add);
        for (int i = 0; i < 3; i++) {
            EventChannels.send(guest, ports[1]);
            assertThat(seen.poll(5, TimeUnit.SECONDS)).isEqualTo(ports[0]);
        }
        events.listen(ports[0], null);
        EventChannels.send(guest, ports[1]);
        assertThat(seen.poll(100, TimeUnit.MILLISECONDS)).isNull();
    }

    /**
     * An inline listener runs on the sender's thread once the send let go of dom0's table, as Xen calls an
     * in-Xen consumer without the channel's lock: another guest's event to dom0 goes through while it
     * runs, and the listener may send (its echo) itself.
     */
    @Test
    void anInlineListenerRunsOnTheSendersThreadWithoutHoldingDom0sTable() throws Exception {
        int[] first = pair();
        Domain other = Domain.guest(2);
        int dom0Port = dom0.state(EventChannels.KEY).allocUnbound(dom0, dom0, other.domid());
        int otherPort = EventChannels.bindInterdomain(other, dom0, dom0Port);
        CompletableFuture<Integer> otherSent = new CompletableFuture<>();
        CompletableFuture<Thread> ranOn = new CompletableFuture<>();
        events.listenInline(first[0], port -> {
            ranOn.complete(Thread.currentThread());
            // the other guest's send needs dom0's table: it would wait for this listener if it held it
            Thread.ofPlatform().start(() -> otherSent.complete(EventChannels.send(other, otherPort)));
            try {
                otherSent.get(5, TimeUnit.SECONDS);
            } catch (Exception e) {
                throw new AssertionError("the other guest's send did not get dom0's table", e);
            }
            EventChannels.send(dom0, port); // the echo
        });
        assertThat(EventChannels.send(guest, first[1])).isZero();
        assertThat(ranOn.getNow(null)).as("ran inside the send, on its thread").isSameAs(Thread.currentThread());
        assertThat(otherSent.getNow(-1)).isZero();
        assertThat(events.poll(dom0Port)).as("the other guest's event").isTrue();
        assertThat(guest.state(EventChannels.KEY).poll(first[1])).as("the echo").isEqualTo(1);
    }

    @Test
    void onlyTheInProcessDom0CanBeBound() {
        assertThatThrownBy(() -> LocalEvents.bind(guest)).isInstanceOf(IllegalArgumentException.class);
    }
}
