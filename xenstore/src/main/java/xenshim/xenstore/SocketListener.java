package xenshim.xenstore;

import java.io.IOException;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link PrivateSocket} and the virtual thread that accepts its clients: what the xenstore socket and
 * the runtime's control channel share. Each accepted channel goes to the server's {@link Acceptor}, which
 * keeps it and serves it; {@link #close} stops accepting, has the server drop its clients, waits for the
 * accepting thread and removes the socket file.
 */
public final class SocketListener implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(SocketListener.class);

    /** What a server does with a client that connected: keep it, and start serving it. */
    @FunctionalInterface
    public interface Acceptor {
        void accepted(SocketChannel channel) throws IOException;
    }

    private final Path path;
    private final ServerSocketChannel server;
    private Thread acceptor;
    private Runnable dropClients = () -> { };
    private volatile boolean closed;

    private SocketListener(Path path, ServerSocketChannel server) {
        this.path = path;
        this.server = server;
    }

    /** Listens on {@code path} as {@link PrivateSocket#bind} does; nothing is accepted until {@link #start}. */
    public static SocketListener bind(Path path) throws IOException {
        return new SocketListener(path, PrivateSocket.bind(path));
    }

    /**
     * Accepts clients on a virtual thread named {@code name}, handing each to {@code onAccept}.
     *
     * @param dropClients disconnects every client the server kept; run by {@link #close}
     */
    public void start(String name, Acceptor onAccept, Runnable dropClients) {
        this.dropClients = dropClients;
        this.acceptor = Thread.ofVirtual().name(name).start(() -> accept(onAccept));
    }

    /** The socket file. */
    public Path path() {
        return path;
    }

    private void accept(Acceptor onAccept) {
        while (server.isOpen()) {
            try {
                onAccept.accepted(server.accept());
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (server.isOpen()) {
                    LOG.warn("socket {}: accept failed", path, e);
                }
                return;
            }
        }
    }

    /** Stops accepting, drops every client and removes the socket file. Idempotent. */
    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        server.close();
        dropClients.run();
        if (acceptor != null) {
            try {
                acceptor.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        Files.deleteIfExists(path);
    }
}
