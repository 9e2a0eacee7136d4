package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.xen.XenSched;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;
import xenshim.x86.boot.ElfImage;
import xenshim.x86.vm.Backends;
import xenshim.x86.vm.Outcome;

/**
 * The bundled guest {@code plugin} with the example plugin ({@code examples/entropy-plugin}) and
 * without it, on every CPU backend: through {@code xenshim run} (its exit status and {@code --trace},
 * since the CLI's console is the process's own stdout), and wired as {@code run} wires it with the
 * console captured (what the guest prints). And the README's walk-through in-process: the guest
 * waiting, the plugin's shim registered while it runs, unregistered, registered again.
 *
 * <p>The plugin comes in as a user's would, from a folder with its jar; x86-runtime's surefire
 * configuration names that jar and keeps it off the test module path, so that here, as in
 * {@code xenshim run}, arch_7 has no handler unless the folder is given.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class PluginGuestTest {

    private static final String NOSYS_LINE = "plugin: arch_7 -> -ENOSYS (no handler yet; swap one in)";
    private static final String BYTES_LINE = "(?m)^plugin: 16 random bytes from arch_7:( [0-9a-f]{2}){16}$";

    /**
     * A plugins folder holding the example plugin's jar. In a build that stops before the
     * example's package phase, Maven names its classes folder instead; that is packed as the same
     * module jar.
     */
    static Path examplePlugins(Path dir) throws IOException {
        String built = System.getProperty("xenshim.example.entropy.jar");
        assertThat(built).as("system property xenshim.example.entropy.jar: run through Maven, whose "
                + "x86-runtime surefire configuration sets it").isNotBlank();
        Path source = Path.of(built);
        Path plugins = Files.createDirectories(dir.resolve("plugins"));
        Path jar = plugins.resolve("xenshim-example-entropy.jar");
        if (Files.isRegularFile(source)) {
            Files.copy(source, jar);
        } else {
            assertThat(source.resolve("module-info.class")).as("the example's classes").isRegularFile();
            packJar(source, jar);
        }
        return plugins;
    }

    private static void packJar(Path classes, Path jar) throws IOException {
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out);
             Stream<Path> walk = Files.walk(classes)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                jarOut.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                jarOut.write(Files.readAllBytes(file));
                jarOut.closeEntry();
            }
        }
    }

    /** {@code xenshim run --bundled plugin} with {@code args} after it: its status and stderr. */
    private static MainTest.Result run(Accel accel, String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        String[] all = Stream.concat(Stream.of("run", "--bundled", "plugin", "--accel", accel.id(),
                "--timeout", "60s", "--trace"), Stream.of(args)).toArray(String[]::new);
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), all);
        return new MainTest.Result(status, out.toString(), err.toString());
    }

    /** A run of the guest wired as {@code run} wires it, its console captured as it prints. */
    private static final class Booted implements AutoCloseable {
        final ByteArrayOutputStream captured = new ByteArrayOutputStream();
        final StdoutConsole console = new StdoutConsole(captured);
        final Platform platform = new Platform(XenVersionInfo.defaults(), console);
        final HypercallPage page;
        final GuestGroup group;

        Booted(Accel accel, Path plugins, String cmdline) throws Exception {
            page = new HypercallPage(platform.table(plugins, Map.of()));
            group = GuestGroup.create(platform, page, List.of(new GuestGroup.Guest("plugin", bundled(), cmdline)),
                    new GuestGroup.Settings(128L << 20, Duration.ofSeconds(60), 1, null, accel.factory()));
        }

        String console() {
            return captured.toString(StandardCharsets.UTF_8);
        }

        /** Waits (up to 30 s) until the console has a line matching {@code regex}. */
        void awaitLine(String regex) throws InterruptedException {
            java.util.regex.Pattern line = java.util.regex.Pattern.compile(regex);
            for (int i = 0; i < 3000 && !line.matcher(console()).find(); i++) {
                Thread.sleep(10);
            }
            assertThat(console()).containsPattern(line);
        }

        @Override
        public void close() throws Exception {
            group.close();
        }
    }

    private static ElfImage bundled() throws IOException {
        try (InputStream in = RunCommand.class.getModule().getResourceAsStream("xenshim/guests/plugin.elf")) {
            assertThat(in).as("bundled plugin.elf").isNotNull();
            return ElfImage.parse("bundled plugin.elf", in.readAllBytes());
        }
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void withoutThePluginTheGuestGetsNoSysSaysSoAndPowersOff(Accel accel) throws Exception {
        Backends.assume(accel, PluginGuestTest.class);
        MainTest.Result r = run(accel, "--cmdline", "wait=0");
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).containsPattern("(?m)^\\[vcpu0\\] arch_7\\(0x0, 0x[0-9a-f]+, 0x10, 0x0, 0x0\\) = -ENOSYS$")
                .doesNotContainPattern("arch_7\\(.*\\) = 16");

        try (Booted b = new Booted(accel, null, "wait=0")) {
            assertThat(b.group.run()).containsExactly(new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff));
            assertThat(b.console()).contains(NOSYS_LINE)
                    .contains("plugin: no arch_7 handler came within 0 s (the plugin never came); powering off")
                    .doesNotContainPattern(BYTES_LINE);
        }
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void withThePluginsFolderTheGuestGetsRandomBytes(Accel accel, @TempDir Path dir) throws Exception {
        Backends.assume(accel, PluginGuestTest.class);
        Path plugins = examplePlugins(dir);
        MainTest.Result r = run(accel, "--cmdline", "wait=0", "--plugins", plugins.toString());
        assertThat(r.status()).as(r.err()).isZero();
        assertThat(r.err()).containsPattern("(?m)^\\[vcpu0\\] arch_7\\(0x0, 0x[0-9a-f]+, 0x10, 0x0, 0x0\\) = 16$")
                .doesNotContain("-ENOSYS");

        try (Booted b = new Booted(accel, plugins, "wait=0")) {
            assertThat(b.group.run()).containsExactly(new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff));
            assertThat(b.console()).containsPattern(BYTES_LINE).doesNotContain("-ENOSYS")
                    .contains("plugin: 1 of 3 answers from arch_7 within 0 s; powering off");
        }
    }

    /**
     * The README's walk-through, in-process: {@code xenshim swap} registers the plugin's shim over
     * the built-in one, {@code unswap} unregisters it; the guest, calling every 0.5 s, sees each.
     */
    @ParameterizedTest
    @EnumSource(Accel.class)
    void aShimWithThePluginRegisteredWhileTheGuestWaitsIsUsedAndItsRemovalSeen(Accel accel, @TempDir Path dir)
            throws Exception {
        Backends.assume(accel, PluginGuestTest.class);
        Path plugins = examplePlugins(dir);
        try (Booted b = new Booted(accel, null, "wait=50 answers=10")) {
            CompletableFuture<List<Outcome>> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return b.group.run();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            b.awaitLine("(?m)^" + java.util.regex.Pattern.quote(NOSYS_LINE) + "$");
            b.page.registerLcall(b.platform.table(plugins, Map.of()));
            b.awaitLine(BYTES_LINE);
            b.page.unregisterLcall();
            b.awaitLine("(?m)^plugin: arch_7 -> -ENOSYS \\(the handler is gone\\)$");
            b.page.registerLcall(b.platform.table(plugins, Map.of()));

            assertThat(run.get(60, TimeUnit.SECONDS)).as(b.console())
                    .containsExactly(new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff));
            assertThat(b.console().lines().filter(l -> l.matches(BYTES_LINE.substring(4))).count()).isEqualTo(10);
            assertThat(b.console()).contains("plugin: 10 answers from arch_7; powering off")
                    .containsOnlyOnce(NOSYS_LINE);
        }
    }
}
