package xenshim.x86.control;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ServiceConfigurationError;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import jdk.net.ExtendedSocketOptions;
import jdk.net.UnixDomainPrincipal;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import xenshim.xenstore.SocketListener;

/**
 * The control channel of a running xenshim: a Unix-domain socket (mode 0600, see {@link PrivateSocket}
 * and {@link ControlPaths}) on which {@code xenshim swap|unswap|shims|stats} ask the process to act.
 *
 * <h2>Protocol</h2>
 * One request per connection, in UTF-8 text:
 * <ol>
 *   <li>The client sends one line: the command, then its arguments as {@code KEY=VALUE}, the words
 *       separated by tabs, ended by a newline ({@code \r\n} is accepted). At most
 *       {@value #MAX_REQUEST} bytes, within {@link #REQUEST_TIME}.</li>
 *   <li>The server answers {@code ok} or {@code error: REASON} on the first line, then any further
 *       lines (the output, or more of the reason), and closes the connection.</li>
 * </ol>
 * Commands ({@link ControlRequest}):
 * <pre>
 * swap     dir=/abs/folder [prefer=NR=MODULE]... [replace=]     a shim of the built-ins and the folder's jars
 * swap     builtin=MODULE[,MODULE...] [replace=]                 a shim of some built-in modules
 * unswap                                                        restore the saved shim
 * shims                                                         the installed table, then the saved ones
 * stats                                                         each guest's hypercall statistics
 * </pre>
 * For example, with {@code socat}: {@code printf 'shims\n' | socat - UNIX-CONNECT:$XDG_RUNTIME_DIR/xenshim/4711.sock}.
 *
 * <p>Before reading a request, the server checks who connected ({@code SO_PEERCRED}, {@link PeerCheck})
 * and refuses anyone but its own user with a one-line error, logged. A request that is too long, late,
 * not UTF-8 or not well formed gets an error answer and is never acted on; every connection is served on
 * a virtual thread of its own, so a slow or broken client holds up no guest and no other client.
 */
public final class ControlServer implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(ControlServer.class);

    /** The longest request line, newline included: room for a long path and many preferences. */
    public static final int MAX_REQUEST = 16 * 1024;
    /** How long a client has to send its request once connected. */
    public static final Duration REQUEST_TIME = Duration.ofSeconds(10);

    /** What acts on the requests; called on any thread, concurrently, never with a bad request. */
    @FunctionalInterface
    public interface Handler {
        ControlAnswer handle(ControlRequest request);
    }

    private final SocketListener listener;
    private final Handler handler;
    private final PeerCheck peers;
    private final Duration requestTime;
    private final Set<SocketChannel> clients = ConcurrentHashMap.newKeySet();

    private ControlServer(SocketListener listener, Handler handler, PeerCheck peers, Duration requestTime) {
        this.listener = listener;
        this.requestTime = requestTime;
        this.handler = handler;
        this.peers = peers;
    }

    /**
     * Listens on {@code path} (a stale socket there is replaced, any other file refused) and serves
     * requests with {@code handler} until closed.
     *
     * @throws IOException naming the path, if the socket cannot be made
     */
    public static ControlServer start(Path path, Handler handler) throws IOException {
        return start(path, handler, REQUEST_TIME);
    }

    /** {@link #start(Path, Handler)} with another time limit for sending a request (tests). */
    static ControlServer start(Path path, Handler handler, Duration requestTime) throws IOException {
        SocketListener listener;
        try {
            listener = SocketListener.bind(path);
        } catch (IOException e) {
            throw new IOException("control socket " + path + ": " + e.getMessage(), e);
        }
        try {
            PeerCheck peers = new PeerCheck(Files.getOwner(path, LinkOption.NOFOLLOW_LINKS), ProcessHandle.current().pid());
            ControlServer control = new ControlServer(listener, handler, peers, requestTime);
            listener.start("xenshim-control-accept", control::accepted, control::dropClients);
            return control;
        } catch (IOException | RuntimeException e) {
            listener.close();
            throw e;
        }
    }

    /** The socket file. */
    public Path path() {
        return listener.path();
    }

    /**
     * Stops listening, drops every connection and removes the socket file. Idempotent, so that a run
     * can close it early (before a Ctrl-C lets the JVM end) and again with its other resources.
     */
    @Override
    public void close() throws IOException {
        listener.close();
    }

    private void dropClients() {
        for (SocketChannel client : clients) {
            try {
                client.close();
            } catch (IOException e) {
                LOG.debug("control client {}: close failed", client, e);
            }
        }
    }

    private void accepted(SocketChannel channel) {
        clients.add(channel);
        Thread.ofVirtual().name("xenshim-control-client").start(() -> serve(channel));
    }

    private void serve(SocketChannel channel) {
        try (channel) {
            UnixDomainPrincipal peer = channel.getOption(ExtendedSocketOptions.SO_PEERCRED);
            String refusal = peers.refusal(peer);
            if (refusal != null) {
                LOG.warn("control socket {}: {}", listener.path(), refusal);
                send(channel, ControlAnswer.error(refusal));
            } else {
                send(channel, answer(channel));
            }
            drain(channel);
        } catch (IOException e) {
            LOG.debug("control client gone", e);
        } finally {
            clients.remove(channel);
        }
    }

    /** The answer to the request on {@code channel}; never throws for what a client sends or a handler does. */
    private ControlAnswer answer(SocketChannel channel) throws IOException {
        ControlRequest request;
        try {
            request = ControlRequest.parse(readRequest(channel));
        } catch (ControlRequest.BadRequest e) {
            return ControlAnswer.error("bad request: " + e.getMessage());
        }
        try {
            return handler.handle(request);
        } catch (ControlRequest.BadRequest e) {
            return ControlAnswer.error("bad request: " + e.getMessage());
        } catch (RuntimeException | LinkageError | ServiceConfigurationError e) {
            // a plugin's broken class can fail with a LinkageError while a table is built: the request fails,
            // the process and its guests go on
            LOG.warn("control request {} failed", request.command(), e);
            return ControlAnswer.error(request.command() + " failed: " + e);
        }
    }

    /**
     * The request line, without its newline. A client that sends more than {@link #MAX_REQUEST} bytes
     * without one, or takes longer than the request time (its input is then shut, which ends the read),
     * gets an error.
     */
    private String readRequest(SocketChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(MAX_REQUEST);
        try (Deadline deadline = new Deadline(channel, requestTime)) {
            while (true) {
                int start = buffer.position();
                int n = channel.read(buffer);
                for (int i = start; i < buffer.position(); i++) {
                    if (buffer.get(i) == '\n') {
                        return decode(buffer.flip().limit(i));
                    }
                }
                if (n < 0) {
                    throw new ControlRequest.BadRequest(deadline.passed() ? "no request within " + requestTime.toMillis()
                            + " ms" : "the request ended without a newline");
                }
                if (!buffer.hasRemaining()) {
                    throw new ControlRequest.BadRequest("a request is one line of at most " + MAX_REQUEST + " bytes");
                }
            }
        }
    }

    /**
     * Reads and drops what the client sent beyond its request (all of it, when refused or too long) until
     * it closes, for a bounded time and size. Closing a Unix socket with data unread makes Linux reset the
     * connection, and the client could lose the answer it has not read yet.
     */
    private void drain(SocketChannel channel) throws IOException {
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        long dropped = 0;
        try (Deadline deadline = new Deadline(channel, requestTime)) {
            int n;
            while (dropped < 16L * MAX_REQUEST && (n = channel.read(buffer.clear())) >= 0) {
                dropped += n;
            }
        }
    }

    /** Shuts a channel's input after a time unless closed first, which ends a read blocked on it. */
    private static final class Deadline implements AutoCloseable {
        private final AtomicBoolean settled = new AtomicBoolean();
        private final AtomicBoolean passed = new AtomicBoolean();
        private final Thread timer;

        Deadline(SocketChannel channel, Duration time) {
            timer = Thread.ofVirtual().name("xenshim-control-deadline").start(() -> {
                try {
                    Thread.sleep(time);
                    if (settled.compareAndSet(false, true)) {
                        passed.set(true);
                        channel.shutdownInput();
                    }
                } catch (InterruptedException cancelled) {
                    // closed in time
                } catch (IOException gone) {
                    // the client went: the read ends anyway
                }
            });
        }

        boolean passed() {
            return passed.get();
        }

        @Override
        public void close() {
            if (settled.compareAndSet(false, true)) {
                timer.interrupt();
            }
        }
    }

    private static String decode(ByteBuffer line) {
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(line).toString();
        } catch (CharacterCodingException e) {
            throw new ControlRequest.BadRequest("the request is not UTF-8 text");
        }
    }

    private static void send(SocketChannel channel, ControlAnswer answer) throws IOException {
        ByteBuffer bytes = StandardCharsets.UTF_8.encode(answer.encode());
        while (bytes.hasRemaining()) {
            channel.write(bytes);
        }
        channel.shutdownOutput();
    }
}
