package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xenshim.api.Domain;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.XenErrno;

/**
 * Discovery over module layers built at test time from jars that are on no
 * class or module path: slots read before instantiation, Guice wiring with
 * platform services and a plugin's own Guice module, conflicts, broken jars.
 */
class DiscoveryTest {

    @TempDir
    Path work;

    /** A plugin serving {@code slot}: returns the emulated Xen's major version plus what its own Guice module binds. */
    static Map<String, String> wiredPlugin(String module, int slot) {
        String pkg = module;
        String path = pkg.replace('.', '/');
        return Map.of(
                "module-info.java", """
                        module %1$s {
                            requires xenshim.api;
                            requires com.google.guice;
                            opens %1$s;
                            provides xenshim.api.HypercallHandler with %1$s.Handler;
                            provides com.google.inject.Module with %1$s.Bindings;
                        }
                        """.formatted(pkg),
                path + "/Offset.java", """
                        package %s;
                        public record Offset(long value) {}
                        """.formatted(pkg),
                path + "/Bindings.java", """
                        package %s;
                        public final class Bindings extends com.google.inject.AbstractModule {
                            @Override protected void configure() { bind(Offset.class).toInstance(new Offset(1000)); }
                        }
                        """.formatted(pkg),
                path + "/Handler.java", """
                        package %s;
                        import xenshim.api.*;
                        @Hypercall(%d)
                        public final class Handler implements HypercallHandler {
                            private final XenVersionInfo info;
                            private final Offset offset;
                            @com.google.inject.Inject
                            public Handler(XenVersionInfo info, Offset offset) { this.info = info; this.offset = offset; }
                            public static Handler provider() { throw new UnsupportedOperationException("built by Guice"); }
                            @Override public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
                                ctx.memory().write64(a0, info.major() + offset.value());
                                return info.major() + offset.value();
                            }
                        }
                        """.formatted(pkg, slot));
    }

    /** A plugin with a no-argument handler for {@code slot}, counting constructions in a static field. */
    static Map<String, String> plainPlugin(String module, int slot, long result) {
        String path = module.replace('.', '/');
        return Map.of(
                "module-info.java", """
                        module %1$s {
                            requires xenshim.api;
                            opens %1$s;
                            provides xenshim.api.HypercallHandler with %1$s.Handler;
                        }
                        """.formatted(module),
                path + "/Handler.java", """
                        package %s;
                        import xenshim.api.*;
                        @Hypercall(%d)
                        public final class Handler implements HypercallHandler {
                            public static int made;
                            public Handler() { made++; }
                            @Override public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) { return %dL; }
                        }
                        """.formatted(module, slot, result));
    }

    Path plugins(String name) throws IOException {
        return Files.createDirectories(work.resolve(name));
    }

    @Test
    void discoversAHandlerFromAJarOffTheClassPathAndCallsItThroughLcall() throws Exception {
        Path dir = plugins("plugins");
        TestJars.moduleJar(work, dir.resolve("wired.jar"), wiredPlugin("test.wired", 40));
        assertThat(ModuleLayer.boot().findModule("test.wired")).isEmpty();

        ModuleLayer layer = PluginLayer.load(dir);
        PlatformServices services = PlatformServices.builder()
                .bind(XenVersionInfo.class, XenVersionInfo.defaults().withVersion(4, 19)).build();
        HypercallTable table = Discovery.in(layer).layerOnly().services(services).build("plugin");

        assertThat(table.slots()).singleElement().satisfies(slot -> {
            assertThat(slot.nr()).isEqualTo(40);
            assertThat(slot.provider()).isEqualTo(new Provider("test.wired", "test.wired.Handler"));
        });

        HypercallPage page = new HypercallPage(HypercallTable.empty());
        page.registerLcall(table);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment memory = arena.allocate(4096);
            Lcall lcall = Lcall.dom0(page, Domain.localDom0(), memory);
            assertThat(lcall.invoke(40, memory.address() + 8)).isEqualTo(1004);
            assertThat(memory.get(ValueLayout.JAVA_LONG_UNALIGNED, 8)).isEqualTo(1004);
            // a pointer outside the backend's arena is -EFAULT, not a crash
            assertThat(lcall.invoke(40, memory.address() + 4096)).isEqualTo(-XenErrno.XEN_EFAULT);
        }
    }

    @Test
    void twoPluginsForOneSlotAreReportedBeforeAnythingIsInstantiated() throws Exception {
        Path dir = plugins("dup");
        TestJars.moduleJar(work, dir.resolve("a.jar"), plainPlugin("test.a", 41, 1));
        TestJars.moduleJar(work, dir.resolve("b.jar"), plainPlugin("test.b", 41, 2));
        ModuleLayer layer = PluginLayer.load(dir);

        assertThatThrownBy(() -> Discovery.in(layer).layerOnly().build("dup"))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("slot 41")
                .hasMessageContaining("test.a/test.a.Handler")
                .hasMessageContaining("test.b/test.b.Handler")
                .hasMessageContaining("module test.a is in " + dir.resolve("a.jar"))
                .hasMessageContaining("module test.b is in " + dir.resolve("b.jar"));
        assertThat(layer.findLoader("test.a").loadClass("test.a.Handler").getField("made").getInt(null)).isZero();
        assertThat(layer.findLoader("test.b").loadClass("test.b.Handler").getField("made").getInt(null)).isZero();

        HypercallTable preferred = Discovery.in(layer).layerOnly().prefer(41, "test.b").build("dup");
        assertThat(preferred.invoke(HypercallTableTest.CTX, 41, 0, 0, 0, 0, 0)).isEqualTo(2);
    }

    @Test
    void withParentsTheBootLayersHandlersComeToo() throws Exception {
        Path dir = plugins("parents");
        TestJars.moduleJar(work, dir.resolve("c.jar"), plainPlugin("test.c", 42, 3));
        HypercallTable table = Discovery.in(PluginLayer.load(dir)).build("with-parents");
        assertThat(table.provider(42)).get().extracting(Provider::module).isEqualTo("test.c");
    }

    @Test
    void aBrokenJarIsReportedByNameAndNothingIsInstalled() throws Exception {
        Path dir = plugins("broken");
        TestJars.moduleJar(work, dir.resolve("good.jar"), plainPlugin("test.good", 43, 4));
        Files.write(dir.resolve("broken.jar"), new byte[] {'n', 'o', 't', ' ', 'a', ' ', 'j', 'a', 'r'});
        HypercallTable installed = HypercallTable.empty();
        HypercallPage page = new HypercallPage(installed);

        assertThatThrownBy(() -> page.registerLcall(Discovery.in(PluginLayer.load(dir)).build("x")))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("broken.jar");
        assertThat(page.current()).isSameAs(installed);
    }

    @Test
    void aPluginWithAMissingRequirementNamesItsJar() throws Exception {
        Path elsewhere = plugins("elsewhere");
        Path dep = TestJars.moduleJar(work, elsewhere.resolve("dep.jar"), plainPlugin("test.dep", 45, 6));
        Map<String, String> user = new HashMap<>(plainPlugin("test.user", 47, 8));
        user.put("module-info.java", """
                module test.user {
                    requires xenshim.api;
                    requires test.dep;
                    opens test.user;
                    provides xenshim.api.HypercallHandler with test.user.Handler;
                }
                """);
        Path dir = plugins("user");
        TestJars.moduleJar(work, dir.resolve("user.jar"), user, dep);
        assertThatThrownBy(() -> PluginLayer.load(dir))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("test.dep")
                .hasMessageContaining("user.jar");
    }

    @Test
    void aSlotOutOfRangeAndAHandlerWhoseConstructorThrowsNameTheirJars() throws Exception {
        Path range = plugins("range");
        TestJars.moduleJar(work, range.resolve("wide.jar"), plainPlugin("test.wide", 200, 1));
        assertThatThrownBy(() -> Discovery.in(PluginLayer.load(range)).build("wide"))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("slot 200")
                .hasMessageContaining("outside 0..127")
                .hasMessageContaining("module test.wide is in " + range.resolve("wide.jar"));

        Path throwing = plugins("throwing");
        Map<String, String> sources = new HashMap<>(plainPlugin("test.throwing", 44, 1));
        sources.put("test/throwing/Handler.java", """
                package test.throwing;
                import xenshim.api.*;
                @Hypercall(44)
                public final class Handler implements HypercallHandler {
                    public Handler() { throw new IllegalStateException("no licence key"); }
                    @Override public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) { return 0; }
                }
                """);
        TestJars.moduleJar(work, throwing.resolve("throwing.jar"), sources);
        assertThatThrownBy(() -> Discovery.in(PluginLayer.load(throwing)).build("throwing"))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("cannot construct handler test.throwing/test.throwing.Handler")
                .hasMessageContaining("no licence key")
                .hasMessageContaining("module test.throwing is in " + throwing.resolve("throwing.jar"));
    }

    /** A class ServiceLoader cannot load (a truncated class file): the class, why, and the jar it is in. */
    @Test
    void aHandlerClassThatCannotBeLoadedNamesItsJarAndWhy() throws Exception {
        Path dir = plugins("truncated");
        Path jar = TestJars.moduleJar(work, dir.resolve("truncated.jar"), plainPlugin("test.truncated", 46, 1));
        Map<String, byte[]> entries = new java.util.TreeMap<>();
        try (var in = new java.util.jar.JarFile(jar.toFile())) {
            for (var entry : java.util.Collections.list(in.entries())) {
                entries.put(entry.getName(), in.getInputStream(entry).readAllBytes());
            }
        }
        entries.put("test/truncated/Handler.class", java.util.Arrays.copyOf(entries.get("test/truncated/Handler.class"), 64));
        try (var out = new java.util.jar.JarOutputStream(Files.newOutputStream(jar))) {
            for (var entry : entries.entrySet()) {
                out.putNextEntry(new java.util.jar.JarEntry(entry.getKey()));
                out.write(entry.getValue());
                out.closeEntry();
            }
        }
        assertThatThrownBy(() -> Discovery.in(PluginLayer.load(dir)).build("truncated"))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("Unable to load test.truncated.Handler")
                .hasMessageContaining("ClassFormatError")
                .hasMessageContaining("module test.truncated is in " + jar);
    }

    @Test
    void aFolderThatDoesNotExistIsNamed() {
        assertThatThrownBy(() -> PluginLayer.load(work.resolve("nope")))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("nope");
    }

    @Test
    void aHandlerGuiceCannotBuildNamesItsProvider() throws Exception {
        Path dir = plugins("unwired");
        // the wired plugin needs XenVersionInfo, which no platform service provides here
        TestJars.moduleJar(work, dir.resolve("wired.jar"), wiredPlugin("test.unwired", 48));
        ModuleLayer layer = PluginLayer.load(dir);
        assertThatThrownBy(() -> Discovery.in(layer).layerOnly().build("unwired"))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("test.unwired/test.unwired.Handler");
    }
}
