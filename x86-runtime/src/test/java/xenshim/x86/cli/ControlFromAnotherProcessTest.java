package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.x86.Accel;
import xenshim.x86.control.ControlPaths;
import xenshim.x86.vm.Backends;

/**
 * Two real processes: a {@code xenshim run} of a guest in a JVM of its own, and this JVM running
 * {@code xenshim swap|shims|stats|unswap --pid N} against it, finding it by its pid alone, as an operator
 * does from another terminal.
 */
@Timeout(value = 240, unit = TimeUnit.SECONDS)
class ControlFromAnotherProcessTest {

    private static final Pattern CONTROL_LINE =
            Pattern.compile("xenshim: control: pid (\\d+) \\(xenshim swap\\|unswap\\|shims\\|stats --pid (\\d+)\\)");

    @TempDir
    Path work;

    record Result(int status, String out, String err) {
    }

    private static Result xenshim(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(status, out.toString(), err.toString());
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aShimIsSwappedIntoARunningGuestFromAnotherProcessAndOutAgain(Accel accel) throws Exception {
        Backends.assume(accel, ControlFromAnotherProcessTest.class);
        Path plugins = Files.createDirectories(work.resolve("plugins"));
        PluginJars.jar(work, plugins.resolve("version-v2.jar"), PluginJars.handler("xenshim.handlers.version", 17, 0x40099));
        PluginJars.jar(work, plugins.resolve("arch0.jar"), PluginJars.handler("test.arch0", 48, 7));

        try (XenshimProcess run = XenshimProcess.start(XenshimProcess.command(
                "run", "--bundled", "spin", "--accel", accel.id(), "--timeout", "120s"), work)) {
            Matcher line = CONTROL_LINE.matcher(run.awaitStderr(l -> CONTROL_LINE.matcher(l).matches(), Duration.ofSeconds(60)));
            assertThat(line.matches()).isTrue();
            String pid = line.group(1);
            assertThat(line.group(2)).isEqualTo(pid);
            assertThat(Long.parseLong(pid)).isEqualTo(run.pid());
            Path socket = ControlPaths.forPid(run.pid());
            assertThat(socket).exists();

            Result before = xenshim("shims", "--pid", pid);
            assertThat(before.err()).isEmpty();
            assertThat(before.status()).isZero();
            assertThat(before.out()).startsWith("installed: built-in\n").contains("saved: none");

            Result swap = xenshim("swap", "--pid", pid, plugins.toString());
            assertThat(swap.err()).isEmpty();
            assertThat(swap.status()).isZero();
            assertThat(swap.out()).startsWith("installed built-in+plugins over built-in, saved (saved shims: 1)\n")
                    .containsPattern("(?m)^ +17  xen_version +xenshim\\.handlers\\.version \\(built-in\\) -> "
                            + "xenshim\\.handlers\\.version \\(version-v2\\.jar\\)$")
                    .containsPattern("(?m)^ +48  arch_0 +\\(empty\\) -> test\\.arch0 \\(arch0\\.jar\\)$");

            Result shims = xenshim("shims", "--pid", pid);
            assertThat(shims.out()).startsWith("installed: built-in+plugins\n")
                    .containsPattern("(?m)^   17  xen_version +xenshim\\.handlers\\.version +"
                            + "xenshim\\.handlers\\.version\\.Handler  \\(version-v2\\.jar\\)$")
                    .contains("saved 1 of 1 (unswap restores it): built-in\n");

            run.awaitStdout(l -> l.equals("spin: never shutting down"), Duration.ofSeconds(60));
            Result stats = xenshim("stats", "--pid", pid);
            assertThat(stats.status()).isZero();
            assertThat(stats.out()).startsWith("d1:\n").contains("hypercall").containsPattern("(?m)^18 console_io +\\d+");

            Result refused = xenshim("swap", "--pid", pid, work.resolve("plugins").getParent().toString());
            assertThat(refused.status()).as("a folder with no jar").isEqualTo(1);
            assertThat(refused.err()).startsWith("xenshim: swap refused, nothing changed: ");
            assertThat(xenshim("shims", "--pid", pid).out()).startsWith("installed: built-in+plugins\n");

            Result unswap = xenshim("unswap", "--pid", pid);
            assertThat(unswap.status()).isZero();
            assertThat(unswap.out()).startsWith("restored built-in, retired built-in+plugins (saved shims: 0)\n");
            assertThat(xenshim("unswap", "--pid", pid).status()).isEqualTo(1);

            run.terminate();
            int status = run.waitFor(Duration.ofSeconds(60));
            assertThat(run.stderr()).as("status %d", status).contains("xenshim: interrupted");
            assertThat(socket).as("removed when the run ends").doesNotExist();
            Result gone = xenshim("shims", "--pid", pid);
            assertThat(gone.status()).isEqualTo(1);
            assertThat(gone.err()).startsWith("xenshim: no process " + pid + " is running");
        }
    }
}
