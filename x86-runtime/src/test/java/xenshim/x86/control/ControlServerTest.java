package xenshim.x86.control;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The control channel itself, with a handler that answers what it was asked: the socket's mode and
 * life, the protocol both ways, and every request that is not one.
 */
class ControlServerTest {

    @TempDir
    Path dir;

    private final List<ControlRequest> handled = new CopyOnWriteArrayList<>();

    /** Answers each request with its words, one a line. */
    private ControlAnswer echo(ControlRequest request) {
        handled.add(request);
        if (request.command().equals("fail")) {
            throw new IllegalStateException("the handler failed");
        }
        return ControlAnswer.ok(List.of(request.encode().split("\t")));
    }

    /** Sends {@code bytes} as they are and returns what came back. */
    private static String raw(Path socket, byte[] bytes) throws IOException {
        try (SocketChannel channel = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            channel.write(ByteBuffer.wrap(bytes));
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            ByteBuffer buffer = ByteBuffer.allocate(4096);
            while (channel.read(buffer.clear()) >= 0) {
                answer.write(buffer.array(), 0, buffer.position());
            }
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void aRequestAndItsAnswerGoBothWaysAndTheSocketIsTheOwnersOnly() throws Exception {
        Path socket = dir.resolve("c.sock");
        try (ControlServer server = ControlServer.start(socket, this::echo)) {
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socket))).isEqualTo("rw-------");
            assertThat(Files.list(dir)).as("no staging folder left").containsExactly(socket);

            ControlAnswer answer = ControlClient.send(socket, ControlRequest.of("swap").with("dir", "/a b/ü")
                    .with("prefer", "17=x").with("prefer", "18=y").with("replace", ""));
            assertThat(answer).isEqualTo(ControlAnswer.ok(List.of("swap", "dir=/a b/ü", "prefer=17=x", "prefer=18=y", "replace=")));
            ControlRequest received = handled.getFirst();
            assertThat(received.values("prefer")).containsExactly("17=x", "18=y");
            assertThat(received.value("dir")).isEqualTo("/a b/ü");
            assertThat(received.flag("replace")).isTrue();
            assertThat(received.flag("builtin")).isFalse();

            assertThat(raw(socket, "shims\r\n".getBytes(StandardCharsets.UTF_8))).as("a request by hand, as socat sends it")
                    .isEqualTo("ok\nshims\n");
            assertThat(ControlClient.send(socket, ControlRequest.of("fail")))
                    .isEqualTo(ControlAnswer.error("fail failed: java.lang.IllegalStateException: the handler failed"));
        }
        assertThat(socket).as("removed when closed").doesNotExist();
    }

    @Test
    void everyRequestThatIsNotOneIsAnsweredWithAnErrorAndNeverHandled() throws Exception {
        Path socket = dir.resolve("c.sock");
        try (ControlServer server = ControlServer.start(socket, this::echo, Duration.ofMillis(300))) {
            byte[] huge = new byte[ControlServer.MAX_REQUEST + 100];
            java.util.Arrays.fill(huge, (byte) 'a');
            assertThat(raw(socket, huge)).isEqualTo("error: bad request: a request is one line of at most 16384 bytes\n");
            assertThat(raw(socket, new byte[] {'s', (byte) 0xff, '\n'})).isEqualTo("error: bad request: the request is not UTF-8 text\n");
            assertThat(raw(socket, "shims\tdir\n".getBytes(StandardCharsets.UTF_8)))
                    .isEqualTo("error: bad request: bad argument 'dir'; arguments are KEY=VALUE\n");
            assertThat(raw(socket, "Shims\n".getBytes(StandardCharsets.UTF_8))).isEqualTo("error: bad request: bad command 'Shims'\n");
            assertThat(raw(socket, "\n".getBytes(StandardCharsets.UTF_8))).isEqualTo("error: bad request: bad command ''\n");
            assertThat(raw(socket, "swap\tdir=a\u0001b\n".getBytes(StandardCharsets.UTF_8)))
                    .isEqualTo("error: bad request: dir: a control character (such as a tab or newline) cannot be sent\n");
            // a client that stops half way, and one that sends nothing and waits
            try (SocketChannel half = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                half.write(ByteBuffer.wrap("shi".getBytes(StandardCharsets.UTF_8)));
                half.shutdownOutput();
                assertThat(readAll(half)).isEqualTo("error: bad request: the request ended without a newline\n");
            }
            try (SocketChannel silent = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
                assertThat(readAll(silent)).isEqualTo("error: bad request: no request within 300 ms\n");
            }
            assertThat(handled).isEmpty();
            assertThat(ControlClient.send(socket, ControlRequest.of("stats")).ok()).as("and it still serves").isTrue();
        }
    }

    private static String readAll(SocketChannel channel) throws IOException {
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        ByteBuffer buffer = ByteBuffer.allocate(4096);
        while (channel.read(buffer.clear()) >= 0) {
            answer.write(buffer.array(), 0, buffer.position());
        }
        return answer.toString(StandardCharsets.UTF_8);
    }

    @Test
    void aStaleSocketIsReplacedAndAnyOtherFileRefused() throws Exception {
        Path socket = dir.resolve("c.sock");
        ControlServer first = ControlServer.start(socket, this::echo);
        // a run killed before it could remove its socket leaves it behind: bound, with nobody listening
        try (var stale = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            first.close();
            stale.bind(UnixDomainSocketAddress.of(socket));
        }
        assertThatThrownBy(() -> ControlClient.send(socket, ControlRequest.of("shims")))
                .isInstanceOf(ControlClient.Unreachable.class)
                .hasMessage(socket + ": nobody listens on it (the xenshim that made it has ended)")
                .extracting(e -> ((ControlClient.Unreachable) e).failure()).isEqualTo(ControlClient.Failure.STALE);
        try (ControlServer second = ControlServer.start(socket, this::echo)) {
            assertThat(ControlClient.send(socket, ControlRequest.of("shims")).ok()).isTrue();
            // a live one is not stale: another server may not take its place
            assertThatThrownBy(() -> ControlServer.start(socket, this::echo))
                    .isInstanceOf(IOException.class)
                    .hasMessageContaining("a server listens on it");
            assertThat(ControlClient.send(socket, ControlRequest.of("shims")).ok()).isTrue();
        }

        Path file = Files.writeString(dir.resolve("notes.sock"), "mine");
        assertThatThrownBy(() -> ControlServer.start(file, this::echo))
                .isInstanceOf(IOException.class)
                .hasMessageContaining("control socket " + file)
                .hasMessageContaining("exists and is not a socket")
                .hasCauseInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(file)).isEqualTo("mine");
    }

    @Test
    void closingTwiceIsOnce() throws Exception {
        Path socket = dir.resolve("c.sock");
        ControlServer server = ControlServer.start(socket, this::echo);
        server.close();
        // another run may have its socket there by now: the second close must not remove it
        try (ControlServer other = ControlServer.start(socket, this::echo)) {
            server.close();
            assertThat(socket).exists();
            assertThat(ControlClient.send(socket, ControlRequest.of("shims")).ok()).isTrue();
        }
    }

    @Test
    void answersSurviveTheirEncoding() {
        ControlAnswer error = ControlAnswer.error("first\nsecond");
        assertThat(error.encode()).isEqualTo("error: first\nsecond\n");
        assertThat(ControlAnswer.decode(error.encode())).isEqualTo(error);
        ControlAnswer ok = ControlAnswer.ok(List.of("a", "", "b"));
        assertThat(ControlAnswer.decode(ok.encode())).isEqualTo(ok);
        assertThat(ControlAnswer.decode("ok\n")).isEqualTo(ControlAnswer.ok(List.of()));
        assertThatThrownBy(() -> ControlAnswer.decode("HTTP/1.1 200 OK\n")).hasMessageContaining("not a xenshim control answer");
        assertThatThrownBy(() -> ControlRequest.of("swap").with("dir", "a\tb")).isInstanceOf(ControlRequest.BadRequest.class);
        assertThatThrownBy(() -> ControlRequest.parse("swap\tdir=a\tdir=b").value("dir")).hasMessage("dir given 2 times");
    }
}
