package xenshim.dispatcher;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.dispatcher.DiscoveryTest.plainPlugin;
import static xenshim.dispatcher.DiscoveryTest.wiredPlugin;
import static xenshim.dispatcher.HypercallTableTest.CTX;

import java.io.IOException;
import java.lang.ref.WeakReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import xenshim.api.XenVersionInfo;

/**
 * Whole shims swapped in and out: a new version of a module that is already loaded, a replace that keeps
 * no saved stack, and a retired shim's layer and class loader collected once no call runs in it.
 */
class ShimSwapTest {

    private static final int SLOT = 50;

    @TempDir
    Path work;

    private static HypercallTable returning(String name, long value) {
        return HypercallTable.builder(name).add(SLOT, new Provider("test", name), (c, a, b, d, e, f) -> value).build();
    }

    private Path folderWith(String name, Map<String, String> sources) throws IOException {
        Path dir = Files.createDirectories(work.resolve(name));
        TestJars.moduleJar(work, dir.resolve(name + ".jar"), sources);
        return dir;
    }

    @Test
    void aNewVersionOfALoadedModuleShadowsItAndCanBeSwappedInAndOutAgain() throws Exception {
        ModuleLayer v1 = PluginLayer.load(folderWith("v1", plainPlugin("test.versioned", SLOT, 1)));
        HypercallPage page = new HypercallPage(Discovery.in(v1).build("v1"));
        assertThat(page.invoke(CTX, SLOT, 0, 0, 0, 0, 0)).isEqualTo(1);

        Path v2Folder = folderWith("v2", plainPlugin("test.versioned", SLOT, 2));
        for (int round = 0; round < 2; round++) {
            ModuleLayer v2 = PluginLayer.load(v2Folder, v1);
            assertThat(v2.findModule("test.versioned")).get().isNotSameAs(v1.findModule("test.versioned").get());
            // with its parents, but the shadowed module is left out: no conflict on the slot
            HypercallTable table = Discovery.in(v2).build("v2");
            assertThat(table.provider(SLOT)).get().isEqualTo(new Provider("test.versioned", "test.versioned.Handler"));
            page.registerLcall(table);
            assertThat(page.invoke(CTX, SLOT, 0, 0, 0, 0, 0)).isEqualTo(2);
            assertThat(page.unregisterLcall().await(Duration.ofSeconds(5))).isTrue();
            assertThat(page.invoke(CTX, SLOT, 0, 0, 0, 0, 0)).isEqualTo(1);
        }
    }

    @Test
    void aPluginCannotShadowTheApiTheHandlersAndThePlatformShare() throws Exception {
        Path dir = folderWith("fake-api", Map.of(
                "module-info.java", "module xenshim.api { }",
                "fake/Nothing.java", "package fake; public final class Nothing { }"));
        assertThatThrownBy(() -> PluginLayer.load(dir))
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining("fake-api.jar")
                .hasMessageContaining("module xenshim.api")
                .hasMessageContaining("cannot replace it");
    }

    @Test
    void aRetiredShimsLayerAndClassLoaderAreCollectedOnceNoCallRunsInIt() throws Exception {
        HypercallPage page = new HypercallPage(returning("base", 0));
        Path folder = folderWith("wired", wiredPlugin("test.collected", SLOT));
        PlatformServices services = PlatformServices.builder()
                .bind(XenVersionInfo.class, XenVersionInfo.defaults()).build();

        WeakReference<ClassLoader> loader = installCallAndReplace(page, folder, services);

        assertThat(page.invoke(CTX, SLOT, 0, 0, 0, 0, 0)).isEqualTo(7);
        assertThat(page.depth()).as("replace saved nothing").isEqualTo(1);
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (loader.get() != null && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertThat(loader.get()).as("the retired plugin layer's class loader").isNull();
    }

    /**
     * Loads the plugin as a shim of its own, calls it, replaces it and waits for it to drain; only a weak
     * reference to its loader leaves this frame.
     */
    private static WeakReference<ClassLoader> installCallAndReplace(HypercallPage page, Path folder,
            PlatformServices services) throws Exception {
        ModuleLayer layer = PluginLayer.load(folder);
        HypercallTable plugin = Discovery.in(layer).layerOnly().services(services).build("plugin");
        page.registerLcall(plugin);
        try (var arena = java.lang.foreign.Arena.ofConfined()) {
            var memory = arena.allocate(64);
            Lcall lcall = Lcall.dom0(page, xenshim.api.Domain.localDom0(), memory);
            assertThat(lcall.invoke(SLOT, memory.address())).isEqualTo(XenVersionInfo.defaults().major() + 1000L);
        }
        HypercallPage.Retired retired = page.replaceLcall(returning("replacement", 7));
        assertThat(retired.await(Duration.ofSeconds(5))).isTrue();
        return new WeakReference<>(layer.findLoader("test.collected"));
    }
}
