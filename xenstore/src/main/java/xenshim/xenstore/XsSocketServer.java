package xenshim.xenstore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * xenstored's Unix socket: Xen's tools ({@code xenstore-read} and the
 * rest, with {@code XENSTORED_PATH} naming the socket) and any other
 * libxenstore client speak the wire protocol over it. Every client is dom0,
 * privileged, as on xenstored's read-write socket; the socket file is made
 * mode 0600 (as xenstored does, right after binding), so only the user who
 * started xenshim can open it, and is removed on {@link #close()}. Each
 * client has a virtual thread reading its requests and one writing its
 * replies and events; a client sending a payload over
 * {@code XENSTORE_PAYLOAD_MAX} is disconnected.
 */
public final class XsSocketServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(XsSocketServer.class);

    private final Xenstored xs;
    private final SocketListener listener;
    private final Set<SocketConnection> clients = ConcurrentHashMap.newKeySet();

    private XsSocketServer(Xenstored xs, SocketListener listener) {
        this.xs = xs;
        this.listener = listener;
    }

    /**
     * Listens on {@code path} (a stale socket there is replaced, as
     * xenstored replaces it; any other file there is refused) and serves
     * clients until closed. The socket is mode 0600 from the moment it
     * appears at {@code path}.
     */
    public static XsSocketServer start(Xenstored xs, Path path) throws IOException {
        XsSocketServer socket = new XsSocketServer(xs, SocketListener.bind(path));
        socket.listener.start("xenstore-socket-accept", socket::accepted, socket::dropClients);
        return socket;
    }

    /** The socket file. */
    public Path path() {
        return listener.path();
    }

    /** Stops listening, disconnects every client (their watches and transactions go) and removes the socket file. */
    @Override
    public void close() throws IOException {
        listener.close();
    }

    private void dropClients() {
        for (SocketConnection client : clients) {
            client.close();
        }
    }

    private void accepted(SocketChannel channel) {
        SocketConnection client = new SocketConnection(channel);
        clients.add(client);
        xs.attach(client);
        Thread.ofVirtual().name("xenstore-socket-client").start(client::read);
        Thread.ofVirtual().name("xenstore-socket-writer").start(client::write);
    }

    /** One socket client: dom0, privileged. */
    private final class SocketConnection extends XsConnection {

        private static final byte[] CLOSED = new byte[0];

        private final SocketChannel channel;
        private final LinkedBlockingQueue<byte[]> out = new LinkedBlockingQueue<>();

        SocketConnection(SocketChannel channel) {
            super(0, true);
            this.channel = channel;
        }

        @Override
        void send(XsMessage message) {
            out.add(message.encode());
        }

        void read() {
            try {
                ByteBuffer header = ByteBuffer.allocate(XsWire.HEADER_SIZE);
                while (readFully(header)) {
                    XsMessage.Header head = XsMessage.Header.decode(header.array());
                    if (head.tooLong()) {
                        LOG.warn("xenstore socket client sent a {}-byte payload; disconnected", head.length());
                        break;
                    }
                    ByteBuffer payload = ByteBuffer.allocate((int) head.length());
                    if (!readFully(payload)) {
                        break;
                    }
                    xs.process(this, head.with(payload.array()));
                    header.clear();
                }
            } catch (IOException e) {
                LOG.debug("xenstore socket client gone", e);
            } finally {
                close();
            }
        }

        private boolean readFully(ByteBuffer buffer) throws IOException {
            while (buffer.hasRemaining()) {
                if (channel.read(buffer) < 0) {
                    return false;
                }
            }
            return true;
        }

        void write() {
            try {
                for (byte[] message = out.take(); message != CLOSED; message = out.take()) {
                    ByteBuffer buffer = ByteBuffer.wrap(message);
                    while (buffer.hasRemaining()) {
                        channel.write(buffer);
                    }
                }
            } catch (IOException e) {
                LOG.debug("xenstore socket client gone while written to", e);
                close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        void close() {
            if (clients.remove(this)) {
                xs.detach(this);
                out.add(CLOSED);
                try {
                    channel.close();
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }
    }
}
