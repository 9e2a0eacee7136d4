package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

/** A connection a test drives message by message, seeing every reply and event as xenstored sends it. */
final class TestConnection extends XsConnection {

    private final Xenstored xs;
    final List<XsMessage> received = new ArrayList<>();
    private int requestId;

    /** Domain {@code domid}'s connection; dom0's is privileged. */
    TestConnection(Xenstored xs, int domid) {
        super(domid, domid == 0);
        this.xs = xs;
        xs.attach(this);
    }

    @Override
    void send(XsMessage message) {
        received.add(message);
    }

    /** Sends a request of NUL-terminated strings; returns its reply (events are kept for {@link #events()}). */
    XsMessage call(int type, int txId, byte[] payload) {
        int id = ++requestId;
        xs.process(this, new XsMessage(type, id, txId, payload));
        List<XsMessage> replies = received.stream().filter(m -> m.type() != XsWire.XS_WATCH_EVENT).toList();
        assertThat(replies).as("replies to request %d", id).hasSize(1);
        XsMessage reply = replies.getFirst();
        received.remove(reply);
        assertThat(reply.reqId()).isEqualTo(id);
        return reply;
    }

    /** A request of NUL-terminated strings; for {@code XS_WRITE} the value (the second) has no NUL, as on the wire. */
    XsMessage call(int type, String... strings) {
        if (type == XsWire.XS_WRITE && strings.length == 2) {
            return call(type, 0, RequestsTest.concat(strings[0], "\0", strings[1]));
        }
        return call(type, 0, XsMessage.strings(strings));
    }

    /** The reply's text if it succeeded; fails the test with the error otherwise. */
    String ok(int type, String... strings) {
        XsMessage reply = call(type, strings);
        assertThat(reply.type()).as("reply to %s", List.of(strings)).isEqualTo(type);
        return reply.text();
    }

    /** The error a request met; fails the test if it succeeded. */
    String error(int type, String... strings) {
        XsMessage reply = call(type, strings);
        assertThat(reply.type()).as("reply to %s: %s", List.of(strings), reply.text()).isEqualTo(XsWire.XS_ERROR);
        return reply.text();
    }

    /** The watch events received so far, as path and token, taken. */
    List<List<String>> events() {
        List<List<String>> events = received.stream().filter(m -> m.type() == XsWire.XS_WATCH_EVENT)
                .map(XsMessage::strings).toList();
        received.clear();
        return events;
    }
}
