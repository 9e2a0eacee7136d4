package xenshim.xenstore;

import static xenshim.xenstore.XsWire.XS_ERROR;
import static xenshim.xenstore.XsWire.XS_GET_DOMAIN_PATH;
import static xenshim.xenstore.XsWire.XS_IS_DOMAIN_INTRODUCED;
import static xenshim.xenstore.XsWire.XS_TRANSACTION_START;
import static xenshim.xenstore.XsWire.XS_UNWATCH;
import static xenshim.xenstore.XsWire.XS_WATCH;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * dom0 code's client of the store, in the process: no ring, no socket.
 * Requests run on the caller's thread, as dom0 (privileged), through the
 * same path as the wire's. Watch events are delivered in order, one at a
 * time, on the client's own thread; the token names the callback (watches
 * sharing a token share the callback given last). Close the client to
 * drop its watches and transactions.
 */
public final class XsClient extends XsOperations implements AutoCloseable {

    /** Receives watch events. */
    @FunctionalInterface
    public interface Watcher {
        /**
         * @param path  the node that changed (or the watched path, for the
         *              first event a watch sends at once)
         * @param token the watch's token
         */
        void event(String path, String token);
    }

    /** How many times {@link #transaction} tries a body whose commit met EAGAIN. */
    public static final int TRANSACTION_TRIES = 16;

    private static final Logger LOG = LoggerFactory.getLogger(XsClient.class);
    private static final XsMessage STOP = new XsMessage(0, 0, 0, new byte[0]);

    private final Xenstored xs;
    private final ClientConnection connection = new ClientConnection();
    private final Map<String, Watcher> watchers = new ConcurrentHashMap<>();
    private final LinkedBlockingQueue<XsMessage> events = new LinkedBlockingQueue<>();
    private final Thread delivery;
    private int nextRequestId;

    XsClient(Xenstored xs) {
        this.xs = xs;
        xs.attach(connection);
        delivery = Thread.ofVirtual().name("xenstore-client-watches").start(this::deliver);
    }

    /**
     * Watches {@code path} and everything below it; {@code watcher} gets an
     * event at once and one per change xenstored fires for it.
     */
    public void watch(String path, String token, Watcher watcher) {
        watchers.put(token, watcher);
        request(XS_WATCH, XsMessage.strings(path, token));
    }

    public void unwatch(String path, String token) {
        request(XS_UNWATCH, XsMessage.strings(path, token));
    }

    /** Starts a transaction; end it with {@link XsTransaction#commit()} or {@link XsTransaction#abort()}. */
    public XsTransaction startTransaction() {
        int id = Integer.parseUnsignedInt(new XsMessage(0, 0, 0, request(XS_TRANSACTION_START, XsMessage.strings("")))
                .text());
        return new XsTransaction(this, id);
    }

    /**
     * Runs {@code body} in a transaction and commits it, starting over while
     * the commit meets EAGAIN, up to {@link #TRANSACTION_TRIES} times.
     *
     * @throws XsException EAGAIN if every try conflicted, or the error a request met
     */
    public void transaction(Consumer<XsTransaction> body) {
        for (int tries = 1; ; tries++) {
            try (XsTransaction transaction = startTransaction()) {
                body.accept(transaction);
                transaction.commit();
                return;
            } catch (XsException e) {
                if (e.error() != XsError.EAGAIN || tries == TRANSACTION_TRIES) {
                    throw e;
                }
            }
        }
    }

    /** {@code XS_GET_DOMAIN_PATH}: {@code /local/domain/<domid>}. */
    public String domainPath(int domid) {
        return new XsMessage(0, 0, 0, request(XS_GET_DOMAIN_PATH, XsMessage.strings(Integer.toUnsignedString(domid))))
                .text();
    }

    /** {@code XS_IS_DOMAIN_INTRODUCED}. */
    public boolean isIntroduced(int domid) {
        return "T".equals(new XsMessage(0, 0, 0, request(XS_IS_DOMAIN_INTRODUCED,
                XsMessage.strings(Integer.toUnsignedString(domid)))).text());
    }

    /** Drops the client's watches and open transactions; no event is delivered after this returns. */
    @Override
    public void close() {
        xs.detach(connection);
        events.add(STOP);
        if (Thread.currentThread() != delivery) {
            try {
                delivery.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    @Override
    byte[] request(int type, byte[] payload) {
        return request(type, 0, payload);
    }

    byte[] request(int type, int txId, byte[] payload) {
        XsMessage reply = xs.locked(() -> {
            xs.process(connection, new XsMessage(type, ++nextRequestId, txId, payload));
            return connection.takeReply();
        });
        if (reply.type() == XS_ERROR) {
            XsError error = XsError.byName(reply.text());
            throw new XsException(error != null ? error : XsError.EINVAL);
        }
        return reply.payload();
    }

    private void deliver() {
        try {
            for (XsMessage event = events.take(); event != STOP; event = events.take()) {
                var strings = event.strings();
                Watcher watcher = watchers.get(strings.get(1));
                if (watcher != null) {
                    try {
                        watcher.event(strings.get(0), strings.get(1));
                    } catch (RuntimeException e) {
                        LOG.warn("xenstore watch callback for {} failed", strings.get(1), e);
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The client's connection: replies are handed back to the requesting thread, events queued for delivery. */
    private final class ClientConnection extends XsConnection {

        private XsMessage reply;

        ClientConnection() {
            super(0, true);
        }

        @Override
        void send(XsMessage message) {
            if (message.type() == XsWire.XS_WATCH_EVENT) {
                events.add(message);
            } else {
                reply = message;
            }
        }

        XsMessage takeReply() {
            XsMessage taken = reply;
            reply = null;
            return taken;
        }
    }
}
