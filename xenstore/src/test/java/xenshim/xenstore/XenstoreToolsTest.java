package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Xen's own tools (Debian's {@code xenstore-utils}, libxenstore) against
 * {@link XsSocketServer}: they find the socket by {@code XENSTORED_PATH}.
 * Skipped, saying so, where the tools are not installed.
 */
class XenstoreToolsTest {

    @TempDir
    Path dir;

    private Xenstored xs;
    private XsSocketServer server;
    private XsClient dom0;

    @BeforeEach
    void setUp() throws IOException {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/xenstore-read")),
                "needs Xen's xenstore tools, which are missing (apt-get install xenstore-utils)");
        xs = new Xenstored();
        server = XsSocketServer.start(xs, dir.resolve("socket"));
        dom0 = xs.client();
    }

    @AfterEach
    void tearDown() throws IOException {
        if (server != null) {
            dom0.close();
            server.close();
            assertThat(dir.resolve("socket")).doesNotExist();
        }
    }

    private record Result(int status, String out, String err) {
    }

    private Result run(String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command);
        builder.environment().put("XENSTORED_PATH", server.path().toString());
        Path out = dir.resolve("out");
        Path err = dir.resolve("err");
        Process process = builder.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        assertThat(process.waitFor(20, TimeUnit.SECONDS)).as("%s finished", List.of(command)).isTrue();
        return new Result(process.exitValue(), Files.readString(out, StandardCharsets.ISO_8859_1),
                Files.readString(err, StandardCharsets.ISO_8859_1));
    }

    private String ok(String... command) throws Exception {
        Result result = run(command);
        assertThat(result.status()).as("%s: %s", List.of(command), result.err()).isZero();
        return result.out();
    }

    @Test
    void theSocketIsTheUsersAlone() throws IOException {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(server.path()))).isEqualTo("rw-------");
        try (var files = Files.list(dir)) {
            assertThat(files).as("nothing left beside it from the bind").containsExactly(server.path());
        }
    }

    @Test
    void aFileThatIsNotASocketIsNeitherReplacedNorRemoved() throws IOException {
        Path file = dir.resolve("notes");
        Files.writeString(file, "keep me");
        assertThatThrownBy(() -> XsSocketServer.start(xs, file)).isInstanceOf(java.nio.file.FileAlreadyExistsException.class)
                .hasMessageContaining("not a socket");
        assertThat(file).hasContent("keep me");
    }

    @Test
    void aStaleSocketIsReplaced() throws Exception {
        Path stale = server.path();
        server.close();
        try (var channel = java.nio.channels.ServerSocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            channel.bind(java.net.UnixDomainSocketAddress.of(stale)); // a socket left by a run that died
        }
        server = XsSocketServer.start(xs, stale);
        ok("xenstore-write", "/after", "a new run");
        assertThat(ok("xenstore-read", "/after")).isEqualTo("a new run\n");
    }

    @Test
    void writeReadListExistsAndRm() throws Exception {
        ok("xenstore-write", "/tool/test/a", "hello world", "/tool/test/b", "2");
        assertThat(ok("xenstore-read", "/tool/test/a")).isEqualTo("hello world\n");
        assertThat(dom0.read("/tool/test/b")).isEqualTo("2");
        assertThat(ok("xenstore-list", "/tool/test")).isEqualTo("a\nb\n");
        assertThat(run("xenstore-exists", "/tool/test/a").status()).isZero();
        ok("xenstore-rm", "/tool/test/a");
        assertThat(run("xenstore-exists", "/tool/test/a").status()).isNotZero();
        Result missing = run("xenstore-read", "/tool/test/a");
        assertThat(missing.status()).isNotZero();
        assertThat(missing.err()).contains("couldn't read path /tool/test/a");
    }

    @Test
    void lsShowsTheTreeWithPermissions() throws Exception {
        dom0.write("/vm/x/name", "guest");
        dom0.setPerms("/vm/x/name", XsPerms.of(XsPerm.none(0), XsPerm.read(5)));
        String listing = ok("xenstore-ls", "-f", "-p", "/vm");
        assertThat(listing).contains("/vm/x/name = \"guest\"").contains("(n0,r5)");
    }

    @Test
    void chmodSetsWhatGetPermsReturns() throws Exception {
        dom0.write("/c", "");
        ok("xenstore-chmod", "/c", "n0", "r3", "b4");
        assertThat(dom0.getPerms("/c")).isEqualTo(XsPerms.of(XsPerm.none(0), XsPerm.read(3), XsPerm.both(4)));
    }

    @Test
    void watchSeesTheFirstEventAndAWrite() throws Exception {
        ProcessBuilder builder = new ProcessBuilder("xenstore-watch", "-n", "2", "/w");
        builder.environment().put("XENSTORED_PATH", server.path().toString());
        Path out = dir.resolve("watch");
        Process watch = builder.redirectOutput(out.toFile()).redirectErrorStream(true).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (Files.size(out) == 0 && System.nanoTime() < deadline) {
            Thread.sleep(10);
        }
        dom0.write("/w/x", "1");
        assertThat(watch.waitFor(20, TimeUnit.SECONDS)).isTrue();
        List<String> lines = new ArrayList<>(Files.readAllLines(out));
        assertThat(lines).containsExactly("/w", "/w/x");
    }

    @Test
    void anErrorReachesTheToolAsXenstoredsString() throws Exception {
        Result result = run("xenstore-write", "/bad//path", "x");
        assertThat(result.status()).isNotZero();
        assertThat(result.err()).contains("could not write path /bad//path");
    }
}
