package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The in-process client and the domain builder's nodes. */
class XsClientTest {

    private final Xenstored xs = new Xenstored();
    private final XsClient client = xs.client();

    @AfterEach
    void tearDown() {
        client.close();
    }

    @Test
    void nodeRequestsAndErrors() {
        client.write("/a/b", "v");
        assertThat(client.read("/a/b")).isEqualTo("v");
        assertThat(client.directory("/a")).containsExactly("b");
        client.mkdir("/a/c");
        client.setPerms("/a/c", XsPerms.of(XsPerm.none(3), XsPerm.read(0)));
        assertThat(client.getPerms("/a/c").toString()).isEqualTo("n3 r0");
        client.rm("/a");
        assertThat(client.exists("/a/b")).isFalse();
        assertThatThrownBy(() -> client.read("/a/b")).isInstanceOfSatisfying(XsException.class,
                e -> assertThat(e.error()).isEqualTo(XsError.ENOENT));
        assertThat(client.domainPath(4)).isEqualTo("/local/domain/4");
        assertThat(client.isIntroduced(4)).isFalse();
    }

    @Test
    void watchCallbacksComeInOrderOnTheClientsThread() throws Exception {
        LinkedBlockingQueue<String> events = new LinkedBlockingQueue<>();
        client.watch("/w", "t", (path, token) -> events.add(path + " " + token + " " + Thread.currentThread()
                .isVirtual()));
        try (XsClient other = xs.client()) {
            for (int i = 0; i < 20; i++) {
                other.write("/w/" + i, "");
            }
        }
        assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo("/w t true");
        for (int i = 0; i < 20; i++) {
            assertThat(events.poll(5, TimeUnit.SECONDS)).isEqualTo("/w/" + i + " t true");
        }
        client.unwatch("/w", "t");
        client.write("/w/after", "");
        assertThat(events.poll(100, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void transactionsRetryOnEagainAndAbortOnFailure() {
        client.write("/counter", "0");
        AtomicInteger tries = new AtomicInteger();
        try (XsClient other = xs.client()) {
            client.transaction(t -> {
                int value = Integer.parseInt(t.read("/counter"));
                if (tries.incrementAndGet() == 1) {
                    other.write("/counter", "10");
                }
                t.write("/counter", Integer.toString(value + 1));
            });
        }
        assertThat(tries).hasValue(2);
        assertThat(client.read("/counter")).isEqualTo("11");
        assertThatThrownBy(() -> client.transaction(t -> {
            t.write("/counter", "lost");
            t.read("/missing");
        })).isInstanceOf(XsException.class);
        assertThat(client.read("/counter")).isEqualTo("11");
    }

    @Test
    void domainNodesAreWhatTheToolstackWritesAndGoOnRelease() throws Exception {
        DomainNodes nodes = new DomainNodes(xs);
        UUID uuid = UUID.fromString("00000000-0000-0000-0000-000000000005");
        nodes.create(new DomainNodes.Guest(5, "guest", uuid, 65536, 0xfeffc, 1, 0xfeffd, 2));
        assertThat(client.read("/local/domain/5/name")).isEqualTo("guest");
        assertThat(client.read("/local/domain/5/domid")).isEqualTo("5");
        assertThat(client.read("/local/domain/5/memory/target")).isEqualTo("65536");
        assertThat(client.read("/local/domain/5/store/ring-ref")).isEqualTo(Long.toString(0xfeffc));
        assertThat(client.read("/local/domain/5/console/type")).isEqualTo("xenconsoled");
        assertThat(client.read("/local/domain/5/vm")).isEqualTo("/vm/" + uuid);
        assertThat(client.read("/vm/" + uuid + "/name")).isEqualTo("guest");
        assertThat(client.getPerms("/local/domain/5").toString()).isEqualTo("n0 r5");
        assertThat(client.getPerms("/local/domain/5/console").toString()).isEqualTo("n5 r0");
        assertThat(client.getPerms("/local/domain/5/data").toString()).isEqualTo("n5");

        LinkedBlockingQueue<String> special = new LinkedBlockingQueue<>();
        client.watch("@introduceDomain", "i", (path, token) -> special.add(path));
        client.watch("@releaseDomain", "r", (path, token) -> special.add(path));
        assertThat(List.of(special.poll(5, TimeUnit.SECONDS), special.poll(5, TimeUnit.SECONDS)))
                .containsExactly("@introduceDomain", "@releaseDomain");
        GuestRing ring = new GuestRing(0);
        ring.connection = nodes.introduce(5, ring.page, () -> { });
        assertThat(special.poll(5, TimeUnit.SECONDS)).isEqualTo("@introduceDomain");
        ring.send(XsWire.XS_WRITE, 0, "data/x", "1");
        assertThat(ring.reply()).isEqualTo("OK");
        ring.send(XsWire.XS_READ, 0, "name");
        assertThat(ring.reply()).isEqualTo("guest");
        ring.send(XsWire.XS_WRITE, 0, "name", "renamed");
        assertThat(ring.reply()).isEqualTo("error EACCES");

        nodes.create(new DomainNodes.Guest(6, "other", UUID.randomUUID(), 1, 1, 1, 1, 1));
        nodes.release(5);
        assertThat(special.poll(5, TimeUnit.SECONDS)).isEqualTo("@releaseDomain");
        assertThat(client.exists("/local/domain/5")).isFalse();
        assertThat(client.exists("/vm/" + uuid)).isFalse();
        assertThat(client.read("/local/domain/6/name")).isEqualTo("other");
        StringWriter dump = new StringWriter();
        xs.dump(dump);
        assertThat(dump.toString()).contains("/local/domain/6/console/type = \"xenconsoled\"  (n6,r0)")
                .doesNotContain("/local/domain/5");
    }

    @Test
    void aDomainCannotBeIntroducedTwice() {
        GuestRing ring = new GuestRing(0).introduce(xs, 5);
        assertThatThrownBy(() -> xs.introduce(5, Arena.ofAuto().allocate(4096, 4096), () -> { }))
                .isInstanceOf(IllegalStateException.class);
        assertThat(ring.connection.domid()).isEqualTo(5);
    }
}
