package xenshim.x86.control;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.SocketException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicBoolean;

/** The client end of a {@link ControlServer}: one request, one answer. */
public final class ControlClient {

    /** How long to wait for an answer: a swap may wait 10 s for the retired shim to drain, after building its table. */
    public static final Duration ANSWER_TIME = Duration.ofSeconds(60);
    /** The longest answer read; more is cut (a statistics table of many guests is far less). */
    private static final int MAX_ANSWER = 4 << 20;

    private ControlClient() {
    }

    /** Why a control socket could not be reached. */
    public enum Failure {
        /** No socket file there. */
        MISSING,
        /** A socket file nobody listens on: the process that made it has ended. */
        STALE,
        /** The socket, or its directory, is another user's. */
        DENIED,
        /** Anything else; the message says what. */
        OTHER
    }

    /** The socket could not be reached; {@link #failure()} says why. */
    public static final class Unreachable extends IOException {
        private static final long serialVersionUID = 1L;
        private final Failure failure;

        Unreachable(Failure failure, String message, Throwable cause) {
            super(message, cause);
            this.failure = failure;
        }

        public Failure failure() {
            return failure;
        }
    }

    /**
     * Sends {@code request} to the server at {@code socket} and returns its answer.
     *
     * @throws Unreachable if no server could be reached there
     * @throws IOException if the connection failed, or what came back is not an answer
     */
    public static ControlAnswer send(Path socket, ControlRequest request) throws IOException {
        SocketChannel channel;
        try {
            channel = SocketChannel.open(UnixDomainSocketAddress.of(socket));
        } catch (SocketException e) {
            throw unreachable(socket, e);
        }
        try (channel) {
            ByteBuffer line = StandardCharsets.UTF_8.encode(request.encode() + "\n");
            while (line.hasRemaining()) {
                channel.write(line);
            }
            return ControlAnswer.decode(readAnswer(channel, socket));
        } catch (IllegalArgumentException e) {
            throw new IOException(socket + ": " + e.getMessage(), e);
        }
    }

    private static Unreachable unreachable(Path socket, SocketException e) {
        String message = String.valueOf(e.getMessage()).toLowerCase(Locale.ROOT);
        if (message.contains("no such file")) {
            return new Unreachable(Failure.MISSING, socket + ": no such socket", e);
        }
        if (message.contains("connection refused")) {
            return new Unreachable(Failure.STALE, socket + ": nobody listens on it (the xenshim that made it has ended)", e);
        }
        if (message.contains("permission denied")) {
            return new Unreachable(Failure.DENIED, socket + ": permission denied: only the user who runs that xenshim "
                    + "may use its control socket", e);
        }
        return new Unreachable(Failure.OTHER, socket + ": " + e.getMessage(), e);
    }

    /**
     * Everything the server sends until it closes, at most {@link #ANSWER_TIME}. A server that refuses a
     * client answers before reading the request and may close with it unread, which Linux tells the
     * client as a reset after the answer: what came before the reset is the answer.
     */
    private static String readAnswer(SocketChannel channel, Path socket) throws IOException {
        AtomicBoolean settled = new AtomicBoolean();
        AtomicBoolean late = new AtomicBoolean();
        Thread watchdog = Thread.ofVirtual().name("xenshim-control-answer").start(() -> {
            try {
                Thread.sleep(ANSWER_TIME);
                if (settled.compareAndSet(false, true)) {
                    late.set(true);
                    channel.close(); // the read below ends
                }
            } catch (InterruptedException | IOException answered) {
                // in time, or gone
            }
        });
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(8192);
        try {
            while (answer.size() < MAX_ANSWER && channel.read(buffer.clear()) >= 0) {
                answer.write(buffer.array(), 0, buffer.position());
            }
        } catch (IOException e) {
            if (late.get()) {
                throw new IOException(socket + ": no answer within " + ANSWER_TIME.toSeconds() + " s", e);
            }
            if (answer.size() == 0) {
                throw new IOException(socket + ": the connection failed: " + e.getMessage(), e);
            }
        } finally {
            if (settled.compareAndSet(false, true)) {
                watchdog.interrupt();
            }
        }
        return answer.toString(StandardCharsets.UTF_8);
    }
}
