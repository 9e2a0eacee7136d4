package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.lang.foreign.Arena;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.XenErrno;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Lcall;
import xenshim.x86.Platform;
import xenshim.x86.control.ControlServer;

/**
 * The control commands against a control server in this JVM, over its real socket, with the real
 * platform and page: swap, unswap, shims, stats, and every way a swap is refused (naming the jar,
 * changing nothing).
 */
class ShimControlTest {

    private static final int ARCH_0 = 48;
    private static final int XEN_VERSION = 17;

    @TempDir
    Path work;

    private Platform platform;
    private HypercallPage page;
    private ControlServer server;
    private Arena arena;
    private Lcall dom0;

    record Result(int status, String out, String err) {
    }

    @BeforeEach
    void start() throws Exception {
        platform = new Platform(XenVersionInfo.defaults(), (d, b, o, l) -> { });
        page = new HypercallPage(platform.table(null, Map.of()));
        server = ControlServer.start(work.resolve("control.sock"), new ShimControl(platform, page, List::of, Duration.ofSeconds(5)));
        arena = Arena.ofConfined();
        dom0 = Lcall.dom0(page, platform.dom0(), arena.allocate(4096));
    }

    @AfterEach
    void stop() throws Exception {
        server.close();
        arena.close();
    }

    private Result xenshim(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int status = Main.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Result(status, out.toString(), err.toString());
    }

    /** A control command addressed to this test's server. */
    private Result control(String command, String... args) {
        String[] all = new String[args.length + 3];
        all[0] = command;
        all[1] = "--control";
        all[2] = server.path().toString();
        System.arraycopy(args, 0, all, 3, args.length);
        return xenshim(all);
    }

    /** A folder with one jar per entry: jar name to module sources. */
    private Path folder(String name, Map<String, Map<String, String>> jars) throws Exception {
        Path dir = Files.createDirectories(work.resolve(name));
        for (var jar : jars.entrySet()) {
            PluginJars.jar(work, dir.resolve(jar.getKey()), jar.getValue());
        }
        return dir;
    }

    @Test
    void swapInstallsTheFoldersShimOverTheBuiltInsAndUnswapRestoresThem() throws Exception {
        Path plugins = folder("plugins", Map.of("answer.jar", PluginJars.handler("test.answer", ARCH_0, 4242)));
        assertThat(dom0.invoke(ARCH_0)).isEqualTo(-XenErrno.XEN_ENOSYS);

        Result swap = control("swap", plugins.toString());
        assertThat(swap.err()).isEmpty();
        assertThat(swap.status()).isZero();
        assertThat(swap.out()).startsWith("installed built-in+plugins over built-in, saved (saved shims: 1)")
                .containsPattern("(?m)^ +48  arch_0 +\\(empty\\) -> test\\.answer \\(answer\\.jar\\)$");
        assertThat(swap.out().lines().count()).as("only the changed slot").isEqualTo(2);
        assertThat(dom0.invoke(ARCH_0)).isEqualTo(4242);
        assertThat(dom0.invoke(XEN_VERSION)).as("the built-ins still serve").isEqualTo(XenVersionInfo.defaults().packedVersion());
        assertThat(page.depth()).isEqualTo(1);

        Result shims = control("shims");
        assertThat(shims.status()).isZero();
        assertThat(shims.out()).startsWith("installed: built-in+plugins\n")
                .containsPattern("(?m)^   48  arch_0 +test\\.answer +test\\.answer\\.Handler  \\(answer\\.jar\\)$")
                .containsPattern("(?m)^   17  xen_version +xenshim\\.handlers\\.version +xenshim\\.handlers\\.version\\.XenVersionHandler$")
                .contains("saved 1 of 1 (unswap restores it): built-in\n");
        String saved = shims.out().substring(shims.out().indexOf("saved 1 of 1"));
        assertThat(saved).doesNotContain("arch_0");

        Result unswap = control("unswap");
        assertThat(unswap.status()).isZero();
        assertThat(unswap.out()).startsWith("restored built-in, retired built-in+plugins (saved shims: 0)")
                .containsPattern("(?m)^ +48  arch_0 +test\\.answer \\(answer\\.jar\\) -> \\(empty\\)$")
                .contains("the retired shim built-in+plugins has no call running: it is released");
        assertThat(dom0.invoke(ARCH_0)).isEqualTo(-XenErrno.XEN_ENOSYS);

        Result again = control("unswap");
        assertThat(again.status()).isEqualTo(1);
        assertThat(again.out()).isEmpty();
        assertThat(again.err()).isEqualTo("xenshim: nothing to unswap: built-in is installed and no shim is saved\n");
        assertThat(control("shims").out()).startsWith("installed: built-in\n").contains("saved: none");
    }

    @Test
    void replaceRetiresTheInstalledShimWithoutSavingIt() throws Exception {
        Path one = folder("one", Map.of("one.jar", PluginJars.handler("test.one", ARCH_0, 1)));
        Path two = folder("two", Map.of("two.jar", PluginJars.handler("test.two", ARCH_0, 2)));
        assertThat(control("swap", one.toString()).status()).isZero();
        HypercallTable first = page.current();

        Result replace = control("swap", "--replace", two.toString());
        assertThat(replace.status()).isZero();
        assertThat(replace.out()).startsWith("replaced built-in+one with built-in+two (saved shims: 1)")
                .containsPattern("(?m)^ +48  arch_0 +test\\.one \\(one\\.jar\\) -> test\\.two \\(two\\.jar\\)$")
                .contains("the retired shim built-in+one has no call running: it is released");
        assertThat(first.isRetired()).isTrue();
        assertThat(page.depth()).isEqualTo(1);
        assertThat(dom0.invoke(ARCH_0)).isEqualTo(2);
        assertThat(control("unswap").out()).startsWith("restored built-in, retired built-in+two");
        assertThat(dom0.invoke(ARCH_0)).isEqualTo(-XenErrno.XEN_ENOSYS);
    }

    @Test
    void aNewVersionOfABuiltInModuleIsSwappedInAndOut() throws Exception {
        Path v2 = folder("v2", Map.of("version-v2.jar", PluginJars.handler("xenshim.handlers.version", XEN_VERSION, 0x7777)));
        Result swap = control("swap", v2.toString());
        assertThat(swap.err()).isEmpty();
        assertThat(swap.status()).isZero();
        assertThat(swap.out()).containsPattern(
                "(?m)^ +17  xen_version +xenshim\\.handlers\\.version \\(built-in\\) -> xenshim\\.handlers\\.version \\(version-v2\\.jar\\)$");
        assertThat(dom0.invoke(XEN_VERSION)).isEqualTo(0x7777);
        assertThat(control("unswap").status()).isZero();
        assertThat(dom0.invoke(XEN_VERSION)).isEqualTo(XenVersionInfo.defaults().packedVersion());
    }

    @Test
    void aShimOfSomeBuiltInModulesServesOnlyTheirSlots() {
        Result swap = control("swap", "--builtin", "xenshim.handlers.version");
        assertThat(swap.status()).isZero();
        assertThat(swap.out()).startsWith("installed built-in:xenshim.handlers.version over built-in")
                .containsPattern("(?m)^ +29  sched_op +xenshim\\.handlers\\.sched \\(built-in\\) -> \\(empty\\)$")
                .doesNotContain("xen_version");
        assertThat(dom0.invoke(XEN_VERSION)).isEqualTo(XenVersionInfo.defaults().packedVersion());
        assertThat(dom0.invoke(29, 0, 0)).isEqualTo(-XenErrno.XEN_ENOSYS);
        assertThat(control("shims").out()).contains("\n  1 of 128 slots filled\n");

        HypercallTable installed = page.current();
        Result unknown = control("swap", "--builtin", "xenshim.handlers.nope,xenshim.handlers.sched");
        assertThat(unknown.status()).isEqualTo(1);
        assertThat(unknown.err()).startsWith("xenshim: swap refused, nothing changed: no handler module xenshim.handlers.nope; "
                + "the handler modules are ").contains("xenshim.handlers.sched").doesNotContain("nope,");
        assertThat(page.current()).isSameAs(installed);
    }

    @Test
    void statsWithNoGuestSaysSo() {
        Result stats = control("stats");
        assertThat(stats.status()).isZero();
        assertThat(stats.out()).isEqualTo("no guest\n");
    }

    /** Each broken folder: refused with status 1, the reason naming the jar, and the page as it was. */
    @Test
    void eachBrokenShimIsRefusedNamingTheJarAndChangesNothing() throws Exception {
        Map<String, Path> folders = new HashMap<>();
        Path notAJar = Files.createDirectories(work.resolve("not-a-jar"));
        Files.writeString(notAJar.resolve("notes.jar"), "these are notes, not a jar\n");
        Path plain = Files.createDirectories(work.resolve("plain"));
        PluginJars.jar(work, plain.resolve("plain.jar"), Map.of("lib/Util.java", "package lib; public class Util { }"));

        assertRefused(notAJar, List.of(), notAJar.resolve("notes.jar") + ": not a usable module jar");
        assertRefused(folder("twice", Map.of(
                        "a.jar", PluginJars.handler("test.twice", ARCH_0, 1),
                        "b.jar", PluginJars.handler("test.twice", ARCH_0, 2))), List.of(),
                "module test.twice is in both " + work.resolve("twice/a.jar") + " and " + work.resolve("twice/b.jar"));
        Path missing = PluginJars.jar(work, work.resolve("elsewhere/missing.jar"), Map.of(
                "module-info.java", "module test.missing { exports test.missing; }",
                "test/missing/Y.java", "package test.missing; public class Y { }"));
        Path needy = Files.createDirectories(work.resolve("needy"));
        PluginJars.jar(work, needy.resolve("needy.jar"), Map.of(
                "module-info.java", "module test.needy { requires test.missing; }",
                "test/needy/X.java", "package test.needy; public class X { test.missing.Y y; }"), missing);
        assertRefused(needy, List.of(),
                "do not resolve: Module test.missing not found, required by test.needy (modules: test.needy from needy.jar)");
        Path conflict = folder("conflict", Map.of(
                "a.jar", PluginJars.handler("test.a", ARCH_0, 1),
                "b.jar", PluginJars.handler("test.b", ARCH_0, 2)));
        assertRefused(conflict, List.of(), "slot 48 (arch_0) is claimed by test.", "test.a/test.a.Handler", "test.b/test.b.Handler",
                "say which one wins", "module test.a is in " + conflict.resolve("a.jar"), "module test.b is in " + conflict.resolve("b.jar"));
        assertRefused(conflict, List.of("--prefer", "48=test.c"), "the preferred provider 'test.c' matches 0 of them");
        Path far = folder("far", Map.of("far.jar", PluginJars.handler("test.far", 200, 1)));
        assertRefused(far, List.of(), "slot 200 claimed by test.far/test.far.Handler is outside 0..127 (module test.far is in "
                + far.resolve("far.jar") + ")");
        Path boom = folder("boom", Map.of("boom.jar",
                PluginJars.handler("test.boom", ARCH_0, "if (true) throw new IllegalStateException(\"boom\");", "return 0;")));
        assertRefused(boom, List.of(), "cannot construct handler test.boom/test.boom.Handler: its constructor threw "
                + "java.lang.IllegalStateException: boom (module test.boom is in " + boom.resolve("boom.jar") + ")");
        Path api = folder("api", Map.of("api.jar", Map.of(
                "module-info.java", "module xenshim.api { }",
                "fake/Nothing.java", "package fake; public final class Nothing { }")));
        assertRefused(api, List.of(), api.resolve("api.jar") + ": module xenshim.api is a module of the JDK or of "
                + "xenshim's platform; a plugin cannot replace it");
        assertRefused(plain, List.of(), "no jar in " + plain + " provides a hypercall handler (jars: plain.jar)");
        assertRefused(Files.createDirectories(work.resolve("empty")), List.of(), "provides a hypercall handler (jars: none)");

        // and the conflict, settled, goes in
        Result settled = control("swap", "--prefer", "48=test.b", conflict.toString());
        assertThat(settled.status()).isZero();
        assertThat(dom0.invoke(ARCH_0)).isEqualTo(2);
    }

    private void assertRefused(Path dir, List<String> options, String... reason) {
        HypercallTable installed = page.current();
        int depth = page.depth();
        List<HypercallTable> saved = page.savedTables();
        String[] args = new String[options.size() + 1];
        options.toArray(args);
        args[options.size()] = dir.toString();
        Result swap = control("swap", args);
        assertThat(swap.status()).as(dir.getFileName().toString()).isEqualTo(1);
        assertThat(swap.out()).isEmpty();
        assertThat(swap.err()).startsWith("xenshim: swap refused, nothing changed: ").contains(reason).endsWith("\n")
                .hasLineCount(1);
        assertThat(page.current()).isSameAs(installed);
        assertThat(page.depth()).isEqualTo(depth);
        assertThat(page.savedTables()).isEqualTo(saved);
        assertThat(installed.isRetired()).isFalse();
    }

    @Test
    void usageErrorsAreStatus2() {
        assertThat(control("swap").status()).isEqualTo(2);
        assertThat(control("swap", "--builtin", "xenshim.handlers.version", work.toString()).status()).isEqualTo(2);
        Result notAFolder = control("swap", work.resolve("nope").toString());
        assertThat(notAFolder.status()).isEqualTo(2);
        assertThat(notAFolder.err()).contains("DIR " + work.resolve("nope") + " is not a folder");
        assertThat(control("swap", "--prefer", "x=y", work.toString()).err()).contains("--prefer: 'x' is not a hypercall number");
        Result noTarget = xenshim("shims");
        assertThat(noTarget.status()).isEqualTo(2);
        assertThat(noTarget.err()).contains("say which xenshim: --pid N or --control PATH");
        assertThat(xenshim("shims", "--pid", "1", "--control", "x").status()).isEqualTo(2);
        assertThat(page.depth()).isZero();
    }

    @Test
    void aPidWithNoControlSocketIsStatus1SayingSo() {
        long dead = ProcessHandle.current().pid();
        while (ProcessHandle.of(++dead).isPresent()) {
            // the next pid no process has
        }
        Result r = xenshim("shims", "--pid", String.valueOf(dead));
        assertThat(r.status()).isEqualTo(1);
        assertThat(r.err()).startsWith("xenshim: no process " + dead + " is running");
        Result self = xenshim("shims", "--pid", String.valueOf(ProcessHandle.current().pid()));
        assertThat(self.status()).isEqualTo(1);
        assertThat(self.err()).startsWith("xenshim: process " + ProcessHandle.current().pid() + " has no control socket");
        Result path = xenshim("shims", "--control", work.resolve("none.sock").toString());
        assertThat(path.status()).isEqualTo(1);
        assertThat(path.err()).isEqualTo("xenshim: " + work.resolve("none.sock") + ": no such socket\n");
    }
}
