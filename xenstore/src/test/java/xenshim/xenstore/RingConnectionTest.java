package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.xenstore.XsWire.*;

import java.lang.foreign.Arena;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** A guest's ring: requests in pieces and across the wrap, long replies, events, a hostile guest, a flood. */
class RingConnectionTest {

    private Xenstored xs;
    private XsClient dom0;

    @BeforeEach
    void setUp() {
        xs = new Xenstored();
        dom0 = xs.client();
    }

    @AfterEach
    void tearDown() {
        dom0.close();
    }

    /** A guest ring of {@code domid} with its home made and owned by it, indexes starting at {@code start}. */
    private GuestRing guest(int domid, int start) {
        String home = "/local/domain/" + domid;
        dom0.mkdir(home);
        dom0.setPerms(home, XsPerms.of(XsPerm.none(domid)));
        return new GuestRing(start).introduce(xs, domid);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1000, 0xFFFFFFF0, 0x7FFFFFFF - 5})
    void aRequestInPiecesAcrossTheWrapIsServedAndItsReplyWrapsToo(int start) throws Exception {
        GuestRing ring = guest(5, start);
        ring.send(new XsMessage(XS_WRITE, 1, 0, RequestsTest.concat("data\0", "hello")), 3, 10, 1);
        XsMessage reply = ring.receive();
        assertThat(reply.type()).isEqualTo(XS_WRITE);
        assertThat(reply.reqId()).isEqualTo(1);
        assertThat(reply.text()).isEqualTo("OK");
        for (int i = 0; i < 60; i++) {
            ring.send(XS_READ, 0, "data");
            assertThat(ring.reply()).isEqualTo("hello");
        }
        assertThat(dom0.read("/local/domain/5/data")).isEqualTo("hello");
        assertThat(ring.notifications.tryAcquire(5, TimeUnit.SECONDS)).as("the store notified").isTrue();
    }

    @Test
    void aRequestAndAReplyLongerThanTheRingAreSplit() {
        GuestRing ring = guest(5, 0xFFFFFF00);
        String value = "v".repeat(1900);
        ring.send(XS_WRITE, 0, "long", value);
        assertThat(ring.reply()).isEqualTo("OK");
        String big = "b".repeat(3000);
        dom0.write("/local/domain/5/big", big);
        ring.send(XS_READ, 0, "big");
        assertThat(ring.receive().text()).isEqualTo(big);
        assertThat(dom0.read("/local/domain/5/long")).isEqualTo(value + "\0");
    }

    @Test
    void watchEventsReachTheGuestInOrder() {
        GuestRing ring = guest(5, 100);
        ring.send(XS_WATCH, 0, "device", "tok");
        assertThat(ring.reply()).isEqualTo("OK");
        assertThat(ring.receive().strings()).containsExactly("device", "tok");
        for (int i = 0; i < 50; i++) {
            dom0.write("/local/domain/5/device/" + i, "x");
        }
        for (int i = 0; i < 50; i++) {
            XsMessage event = ring.receive();
            assertThat(event.type()).isEqualTo(XS_WATCH_EVENT);
            assertThat(event.strings()).containsExactly("device/" + i, "tok");
        }
    }

    @Test
    void theServerAdvertisesTheErrorField() {
        GuestRing ring = guest(5, 0);
        assertThat(ring.get(XsWire.interfaceOffset("server_features")) & XENSTORE_SERVER_FEATURE_ERROR).isNotZero();
        assertThat(ring.connection.error()).isEqualTo(XENSTORE_ERROR_NONE);
    }

    @Test
    void aPayloadOverTheMaximumIsAProtocolErrorAndTheRingIsIgnoredWhileOthersAreServed() throws Exception {
        GuestRing bad = guest(5, 0);
        GuestRing good = guest(7, 0);
        bad.send(XS_WATCH, 0, "/", "t");
        assertThat(bad.reply()).isEqualTo("OK");
        bad.receive();
        byte[] header = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putInt(XS_READ).putInt(1).putInt(0)
                .putInt(XENSTORE_PAYLOAD_MAX + 1).array();
        bad.put(header, 0, header.length);
        bad.connection.kick();
        awaitError(bad, XENSTORE_ERROR_PROTO);
        bad.send(XS_READ, 0, "anything");
        dom0.write("/watched-by-the-bad-guest", "1");
        good.send(XS_WRITE, 0, "x", "1");
        assertThat(good.reply()).isEqualTo("OK");
        assertThat(bad.pending()).as("nothing more for the ignored ring").isZero();
        assertThat(xs.isIntroduced(5)).as("still introduced until released").isTrue();
    }

    @Test
    void indexesMoreThanARingApartAreARingIndexError() throws Exception {
        GuestRing bad = guest(5, 0);
        bad.set(GuestRing.REQ_PROD, XENSTORE_RING_SIZE + 1);
        bad.connection.kick();
        awaitError(bad, XENSTORE_ERROR_RINGIDX);

        GuestRing rsp = guest(6, 0);
        rsp.set(GuestRing.RSP_CONS, -5000);
        rsp.send(XS_DIRECTORY, 0, "");
        awaitError(rsp, XENSTORE_ERROR_RINGIDX);
    }

    @Test
    void garbageOfAValidLengthIsAnsweredAndTheRingGoesOn() {
        GuestRing ring = guest(5, 0);
        byte[] garbage = new byte[XsWire.HEADER_SIZE + 180];
        new java.util.Random(42).nextBytes(garbage);
        ByteBuffer.wrap(garbage).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x7777).putInt(12, 180);
        ring.put(garbage, 0, garbage.length);
        ring.connection.kick();
        assertThat(ring.reply()).isEqualTo("error ENOSYS");
        for (int type = 0; type < XS_TYPE_COUNT + 2; type++) {
            byte[] payload = new byte[37];
            new java.util.Random(type).nextBytes(payload);
            ring.send(new XsMessage(type, type, 0, payload));
            assertThat(ring.receive().reqId()).isEqualTo(type);
        }
        ring.send(XS_WRITE, 0, "still", "served");
        assertThat(ring.reply()).isEqualTo("OK");
    }

    /**
     * serveHere answers on the notifying thread (the guest's vCPU, in dom0): the reply is on the ring and
     * the guest notified before it returns. With the store busy it waits for nothing, and the ring's own
     * thread answers once the store is free.
     */
    @Test
    void serveHereAnswersOnTheNotifyingThreadAndNeverWaitsForABusyStore() throws Exception {
        String home = "/local/domain/5";
        dom0.mkdir(home);
        dom0.setPerms(home, XsPerms.of(XsPerm.none(5)));
        java.util.List<Thread> notifiedOn = new java.util.concurrent.CopyOnWriteArrayList<>();
        GuestRing ring = new GuestRing(0).introduce(xs, 5, () -> notifiedOn.add(Thread.currentThread()));
        byte[] write = new XsMessage(XS_WRITE, 1, 0, RequestsTest.concat("here\0", "1")).encode();
        ring.put(write, 0, write.length);
        ring.connection.serveHere();
        assertThat(ring.pending()).as("the reply, on the ring when serveHere returned").isPositive();
        assertThat(notifiedOn).contains(Thread.currentThread());
        assertThat(ring.reply()).isEqualTo("OK");

        java.util.concurrent.CountDownLatch held = new java.util.concurrent.CountDownLatch(1);
        java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);
        Thread busy = Thread.ofPlatform().start(() -> {
            xs.lock.lock();
            try {
                held.countDown();
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            } finally {
                xs.lock.unlock();
            }
        });
        assertThat(held.await(5, TimeUnit.SECONDS)).isTrue();
        byte[] read = new XsMessage(XS_READ, 2, 0, XsMessage.strings("here")).encode();
        ring.put(read, 0, read.length);
        java.util.concurrent.CompletableFuture<Void> served =
                java.util.concurrent.CompletableFuture.runAsync(ring.connection::serveHere);
        served.get(5, TimeUnit.SECONDS); // returns while the store is held
        assertThat(ring.pending()).as("nothing answered while the store is busy").isZero();
        release.countDown();
        busy.join();
        assertThat(ring.reply()).as("answered by the ring's thread").isEqualTo("1");
    }

    @Test
    void aFloodingGuestIsHeldAtItsQuotasWhileAnotherIsServed() throws Exception {
        GuestRing flood = guest(5, 0);
        GuestRing other = guest(7, 0);
        // requests whose replies it never reads: served until its ring and the outstanding quota are full
        byte[] request = new XsMessage(XS_WRITE, 0, 0, RequestsTest.concat("f\0", "x")).encode();
        int sent = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (System.nanoTime() < deadline) {
            if (XENSTORE_RING_SIZE - (flood.get(GuestRing.REQ_PROD) - flood.get(GuestRing.REQ_CONS))
                    >= request.length) {
                flood.put(request, 0, request.length);
                sent++;
            }
            flood.connection.kick();
            other.send(XS_READ, 0, "missing");
            assertThat(other.reply()).isEqualTo("error ENOENT");
        }
        int replyLength = XsWire.HEADER_SIZE + 3;
        int served = XENSTORE_RING_SIZE / replyLength + XsQuotas.DEFAULTS.outstanding();
        assertThat(sent).as("requests taken off the ring").isLessThan(served + XENSTORE_RING_SIZE / request.length + 2);
        assertThat(flood.pending()).isGreaterThan(XENSTORE_RING_SIZE - replyLength);

        // a guest making nodes until its node quota: ENOSPC, and dom0 and the other guest go on
        while (flood.pending() > 0) {
            flood.receive();
        }
        String last = "";
        for (int i = 0; i < XsQuotas.DEFAULTS.nodes() + 5 && !last.startsWith("error"); i++) {
            flood.send(XS_WRITE, 0, "n/" + i, "");
            last = flood.reply();
        }
        assertThat(last).isEqualTo("error ENOSPC");
        other.send(XS_WRITE, 0, "fine", "1");
        assertThat(other.reply()).isEqualTo("OK");
        dom0.write("/dom0/fine", "1");
    }

    @Test
    void releaseStopsTheRingDropsItsNodesAndFiresReleaseDomain() throws Exception {
        GuestRing ring = guest(5, 0);
        ring.send(XS_WRITE, 0, "mine", "1");
        assertThat(ring.reply()).isEqualTo("OK");
        dom0.write("/shared", "");
        dom0.setPerms("/shared", XsPerms.of(XsPerm.none(0), XsPerm.read(5)));
        java.util.concurrent.LinkedBlockingQueue<String> released = new java.util.concurrent.LinkedBlockingQueue<>();
        dom0.watch(Xenstored.RELEASE_DOMAIN, "rel", (path, token) -> released.add(path));
        assertThat(released.poll(5, TimeUnit.SECONDS)).isEqualTo(Xenstored.RELEASE_DOMAIN);
        xs.release(5);
        assertThat(released.poll(5, TimeUnit.SECONDS)).isEqualTo(Xenstored.RELEASE_DOMAIN);
        assertThat(dom0.exists("/local/domain/5")).isFalse();
        assertThat(xs.isIntroduced(5)).isFalse();
        assertThatThrownBy(() -> xs.release(5)).isInstanceOfSatisfying(XsException.class,
                e -> assertThat(e.error()).isEqualTo(XsError.ENOENT));
        GuestRing reborn = new GuestRing(0).introduce(xs, 5);
        reborn.send(XS_READ, 0, "/shared");
        assertThat(reborn.reply()).as("the old domain's entry is ignored").isEqualTo("error EACCES");
        ring.send(XS_READ, 0, "mine");
        Thread.sleep(50);
        assertThat(ring.pending()).isZero();
    }

    @Test
    void introduceOverTheWireMapsTheRingThroughTheMapper() throws Exception {
        GuestRing ring = new GuestRing(0);
        xs = new Xenstored(XsQuotas.DEFAULTS, (domid, gfn, port) -> domid == 9 && gfn == 0xfeffc
                ? new RingMapper.Ring(ring.page, ring.notifications::release) : null);
        TestConnection toolstack = new TestConnection(xs, 0);
        toolstack.ok(XS_WATCH, "@introduceDomain", "i");
        toolstack.events();
        assertThat(toolstack.ok(XS_INTRODUCE, "9", "0xfeffc", "3")).isEqualTo("OK");
        assertThat(toolstack.events()).containsExactly(List.of("@introduceDomain", "i"));
        assertThat(toolstack.ok(XS_IS_DOMAIN_INTRODUCED, "9")).isEqualTo("T");
        assertThat(toolstack.ok(XS_INTRODUCE, "9", "0xfeffc", "3")).as("again").isEqualTo("OK");
        assertThat(toolstack.events()).isEmpty();
        ring.connection = xs.domain(9);
        ring.send(XS_GET_DOMAIN_PATH, 0, "9");
        assertThat(ring.reply()).isEqualTo("/local/domain/9");
        assertThat(toolstack.ok(XS_RELEASE, "9")).isEqualTo("OK");
        assertThat(toolstack.ok(XS_IS_DOMAIN_INTRODUCED, "9")).isEqualTo("F");
    }

    @Test
    void aPageTooSmallIsRefused() {
        assertThatThrownBy(() -> xs.introduce(5, Arena.ofAuto().allocate(1024), () -> { }))
                .isInstanceOf(IllegalArgumentException.class);
        assertThat(xs.isIntroduced(5)).isFalse();
    }

    private static void awaitError(GuestRing ring, int error) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (ring.connection.error() != error && System.nanoTime() < deadline) {
            Thread.sleep(1);
        }
        assertThat(ring.connection.error()).isEqualTo(error);
    }
}
