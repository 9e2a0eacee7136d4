package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.x86.Accel;
import xenshim.x86.vm.Backends;

/**
 * Xen's own tools ({@code xenstore-utils}) against a running {@code xenshim run}, through
 * {@code --xenstore-socket}, as an operator inspects a Xen host; and {@code --xenstore-dump} at the end.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class XenstoreSocketRunTest {

    private static String tool(Path socket, String... command) throws Exception {
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true);
        builder.environment().put("XENSTORED_PATH", socket.toString());
        Process process = builder.start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(process.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return process.exitValue() + ":" + out.strip();
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void xenstoreToolsReadWriteListAndRemoveWhileAGuestRuns(Accel accel, @TempDir Path dir) throws Exception {
        Backends.assume(accel, XenstoreSocketRunTest.class);
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/xenstore-read")),
                "needs Xen's xenstore tools: apt-get install xenstore-utils");
        Path socket = dir.resolve("xs");
        Path dump = dir.resolve("store.txt");
        StringWriter err = new StringWriter();
        CompletableFuture<Integer> run = CompletableFuture.supplyAsync(() -> Main.execute(
                new PrintWriter(new StringWriter()), new PrintWriter(err), "run", "--bundled", "spin",
                "--accel", accel.id(), "--timeout", "4s", "--xenstore-socket", socket.toString(),
                "--xenstore-dump", dump.toString()));
        for (int i = 0; i < 200 && !Files.exists(socket); i++) {
            Thread.sleep(25);
        }
        assertThat(socket).exists();
        assertThat(Files.getPosixFilePermissions(socket)).extracting(Object::toString)
                .containsExactlyInAnyOrder("OWNER_READ", "OWNER_WRITE");

        assertThat(tool(socket, "xenstore-read", "/local/domain/1/name")).isEqualTo("0:spin");
        assertThat(tool(socket, "xenstore-write", "/local/domain/1/data/greeting", "hello")).isEqualTo("0:");
        assertThat(tool(socket, "xenstore-read", "/local/domain/1/data/greeting")).isEqualTo("0:hello");
        assertThat(List.of(tool(socket, "xenstore-list", "/local/domain/1/console").substring(2).split("\n")))
                .containsExactly("ring-ref", "port", "type", "limit");
        assertThat(tool(socket, "xenstore-ls", "-f", "/local/domain/1/store"))
                .contains("/local/domain/1/store/ring-ref = \"10\"");
        assertThat(tool(socket, "xenstore-rm", "/local/domain/1/data/greeting")).isEqualTo("0:");
        assertThat(tool(socket, "xenstore-exists", "/local/domain/1/data/greeting")).startsWith("1:");
        assertThat(tool(socket, "xenstore-write", "/local/domain/1/data/kept", "yes")).isEqualTo("0:");

        assertThat(run.get(60, TimeUnit.SECONDS)).as("spin runs until --timeout").isEqualTo(22);
        assertThat(socket).as("removed with the run").doesNotExist();
        assertThat(Files.readString(dump)).contains("/local/domain/1/name = \"spin\"  (n0,r1)")
                .contains("/local/domain/1/data/kept = \"yes\"");
    }
}
