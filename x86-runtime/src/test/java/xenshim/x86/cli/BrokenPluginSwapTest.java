package xenshim.x86.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.xen.XenSched;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.TableBuildException;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;
import xenshim.x86.vm.Backends;
import xenshim.x86.vm.Neighbours;
import xenshim.x86.vm.Outcome;
import xenshim.xenstore.XsClient;

/**
 * Broken plugins offered as a swap ({@code xenshim swap}: a table of the built-ins and a plugins folder,
 * registered over the installed one) while two guests run, each making event round trips with dom0's
 * echo backend and xenstore requests: a handler whose constructor throws, one whose static initializer
 * fails, a jar whose module descriptor is not a class file, one that names a provider class it does not
 * hold, one whose handler class is truncated. Each is refused before anything is installed, with a
 * message naming its jar; the installed shim stays, nothing is saved, and both guests finish their
 * calls without one failing. On both CPU backends.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class BrokenPluginSwapTest {

    private static final int ARCH_7 = 55;

    /** A plugin folder per way of being broken, by a name for messages: the folder and its one jar. */
    private static Map<String, Path[]> brokenPlugins(Path work) throws Exception {
        Map<String, Path[]> plugins = new LinkedHashMap<>();
        plugins.put("a constructor that throws", folder(work, "ctor", PluginJars.handler("test.ctor", ARCH_7,
                "throw new IllegalStateException(\"no licence key\");", "return 0;"), entries -> { }));
        Map<String, String> clinit = new HashMap<>(PluginJars.handler("test.clinit", ARCH_7, 0));
        clinit.put("test/clinit/Handler.java", """
                package test.clinit;
                import xenshim.api.*;
                @Hypercall(55)
                public final class Handler implements HypercallHandler {
                    static final int SEED = Integer.parseInt("seed");
                    @Override public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {
                        return SEED;
                    }
                }
                """);
        plugins.put("a static initializer that fails", folder(work, "clinit", clinit, entries -> { }));
        plugins.put("a module descriptor that is not a class", folder(work, "garbage",
                PluginJars.handler("test.garbage", ARCH_7, 0),
                entries -> entries.put("module-info.class", "not a class file".getBytes(StandardCharsets.US_ASCII))));
        plugins.put("a provider class missing from its jar", folder(work, "gone",
                PluginJars.handler("test.gone", ARCH_7, 0), entries -> entries.remove("test/gone/Handler.class")));
        plugins.put("a truncated handler class", folder(work, "truncated",
                PluginJars.handler("test.truncated", ARCH_7, 0), entries -> entries.put("test/truncated/Handler.class",
                        Arrays.copyOf(entries.get("test/truncated/Handler.class"), 64))));
        return plugins;
    }

    private static Path[] folder(Path work, String name, Map<String, String> sources,
                                 Consumer<Map<String, byte[]>> breakIt) throws Exception {
        Path dir = work.resolve(name);
        return new Path[] {dir, PluginJars.jar(work, dir.resolve(name + ".jar"), sources, breakIt)};
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void brokenPluginsOfferedWhileGuestsRunAreRefusedNamingTheirJarsAndNothingChanges(Accel accel,
            @TempDir Path work) throws Exception {
        Backends.assume(accel, BrokenPluginSwapTest.class);
        Map<String, Path[]> plugins = brokenPlugins(work);
        Neighbours n = Neighbours.create();
        HypercallPage page = n.builtIns();
        HypercallTable installed = page.current();
        Map<String, Throwable> refused = new LinkedHashMap<>();
        long[] offered = new long[2];

        Neighbours.Result r = n.run(accel, page, Neighbours.floods("mode=measure seconds=5", "mode=measure seconds=5"),
                Duration.ofSeconds(60), group -> offerWhileMeasuring(n, group, plugins, page, refused, offered));

        refused.forEach((what, why) -> System.out.printf("BrokenPluginSwapTest [%s] %s: %s%n", accel.id(), what,
                why.getMessage()));
        assertThat(refused).as("each broken plugin refused").containsOnlyKeys(plugins.keySet());
        plugins.forEach((what, folder) -> assertThat(refused.get(what)).as(what)
                .isInstanceOf(TableBuildException.class)
                .hasMessageContaining(folder[1].toString()));
        assertThat(refused.get("a constructor that throws")).hasMessageContaining("test.ctor/test.ctor.Handler")
                .hasMessageContaining("no licence key");
        assertThat(refused.get("a static initializer that fails")).hasMessageContaining("test.clinit/test.clinit.Handler");
        assertThat(page.current()).as("the installed shim").isSameAs(installed);
        assertThat(page.savedTables()).as("nothing saved").isEmpty();

        assertThat(r.outcomes()).as(r.console()).containsExactly(new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff),
                new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff));
        for (int domid : List.of(1, 2)) {
            Map<String, String> measure = r.flood(domid, "measure");
            assertThat(measure.get("failures")).as("d%d's failed calls (first rc %s)", domid, measure.get("first_rc"))
                    .isEqualTo("0");
            assertThat(Long.parseLong(measure.get("events"))).isPositive();
            assertThat(Long.parseLong(measure.get("xs_requests"))).isPositive();
            assertThat(Long.parseLong(measure.get("from_ns"))).as("d%d measuring before the first offer", domid)
                    .isLessThan(offered[0]);
            assertThat(Long.parseLong(measure.get("to_ns"))).as("and after the last", domid)
                    .isGreaterThan(offered[1]);
        }
    }

    /**
     * Once both guests measure (each has written its first {@code data/measure} node), offers each broken
     * folder as {@code xenshim swap} does, keeping what refused it; {@code offered} gets Xen's time before
     * the first offer and after the last.
     */
    private static void offerWhileMeasuring(Neighbours n, GuestGroup group, Map<String, Path[]> plugins,
                                            HypercallPage page, Map<String, Throwable> refused, long[] offered) {
        try (XsClient store = n.platform().xenstore().client()) {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (!(store.exists(store.domainPath(1) + "/data/measure/k0")
                    && store.exists(store.domainPath(2) + "/data/measure/k0")) && System.nanoTime() < deadline) {
                Thread.sleep(10);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        offered[0] = n.platform().time().clock().now();
        plugins.forEach((what, folder) -> {
            CompletableFuture<Throwable> failure = new CompletableFuture<>();
            try {
                page.registerLcall(n.platform().table(folder[0], Map.of()));
                page.unregisterLcall(); // not refused: put the installed shim back, and fail below
            } catch (Throwable e) {
                failure.complete(e);
            }
            refused.put(what, failure.getNow(null));
        });
        refused.values().removeIf(java.util.Objects::isNull);
        offered[1] = n.platform().time().clock().now();
    }
}
