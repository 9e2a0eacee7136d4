package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.CallContext;
import xenshim.api.GrantMappings;
import xenshim.api.HypercallHandler;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenGnttab;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.x86.Accel;
import xenshim.x86.GuestGroup;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;
import xenshim.x86.dom0.Dom0Calls;
import xenshim.xenstore.XsClient;

/**
 * Shims swapped under a running guest that keeps making hypercalls, with events and grants in use: the
 * bundled {@code evtchn} guest in {@code swapload=N} mode checks every call it makes (xen_version, an
 * event round trip through dom0's echo backend, the grant table's size, xenstore through its ring) while
 * a page it granted is mapped, written and unmapped by dom0 over and over, and another thread replaces,
 * registers and unregisters freshly built shims of the built-in handlers as fast as it can build them.
 *
 * <p>Each shim counts the calls it serves and knows when it was drained: no call may enter a shim after
 * its retirement was awaited (a call is served by a shim installed when it started), every call the
 * guest's vCPU made was served by some shim (none lost), the guest sees no failure, and its ports,
 * grant table and xenstore still work after the last swap.
 */
@Timeout(value = 300, unit = TimeUnit.SECONDS)
class SwapUnderLoadTest {

    private static final int GUEST = 1;

    /** A shim of the built-in handlers whose every slot counts its calls and checks it was not drained. */
    private static final class CountingShim {
        final HypercallTable table;
        final AtomicLong guestCalls = new AtomicLong();
        final AtomicLong dom0Calls = new AtomicLong();
        volatile boolean drained;
        final AtomicLong afterDrain;

        CountingShim(Platform platform, String name, AtomicLong afterDrain) {
            this.afterDrain = afterDrain;
            HypercallTable builtIn = platform.table(null, Map.of());
            HypercallTable.Builder builder = HypercallTable.builder(name);
            for (HypercallTable.Slot slot : builtIn.slots()) {
                builder.add(slot.nr(), slot.provider(), counting(slot.handler()));
            }
            table = builder.build();
        }

        private HypercallHandler counting(HypercallHandler handler) {
            return (CallContext ctx, long a0, long a1, long a2, long a3, long a4) -> {
                if (drained) {
                    afterDrain.incrementAndGet();
                }
                (ctx.domain().domid() == GUEST ? guestCalls : dom0Calls).incrementAndGet();
                return handler.handle(ctx, a0, a1, a2, a3, a4);
            };
        }
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void noCallFailsOrIsLostAndPortsAndGrantsWorkAfterwards(Accel accel) throws Exception {
        Backends.assume(accel, SwapUnderLoadTest.class);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StdoutConsole console = new StdoutConsole(captured);
        Platform platform = new Platform(XenVersionInfo.defaults(), console);
        AtomicLong afterDrain = new AtomicLong();
        ConcurrentLinkedQueue<CountingShim> shims = new ConcurrentLinkedQueue<>();
        AtomicInteger made = new AtomicInteger();
        java.util.function.Supplier<CountingShim> fresh = () -> {
            CountingShim shim = new CountingShim(platform, "shim-" + made.incrementAndGet(), afterDrain);
            shims.add(shim);
            return shim;
        };
        HypercallPage page = new HypercallPage(fresh.get().table);

        AtomicBoolean swapping = new AtomicBoolean(true);
        AtomicInteger swaps = new AtomicInteger();
        AtomicInteger undrained = new AtomicInteger();
        Thread swapper = Thread.ofPlatform().name("swapper").start(() -> {
            java.util.Random choose = new java.util.Random(42);
            while (swapping.get()) {
                HypercallPage.Retired retired = switch (choose.nextInt(3)) {
                    case 0 -> page.replaceLcall(fresh.get().table);
                    case 1 -> {
                        page.registerLcall(fresh.get().table);
                        yield null;
                    }
                    default -> page.depth() > 0 ? page.unregisterLcall() : page.replaceLcall(fresh.get().table);
                };
                swaps.incrementAndGet();
                if (retired != null) {
                    drain(retired, shims, undrained);
                }
            }
        });

        AtomicLong dom0Maps = new AtomicLong();
        AtomicInteger dom0Failures = new AtomicInteger();
        String dir = "/local/domain/" + GUEST + "/data/swapload/";
        Thread granter = Thread.ofPlatform().name("dom0-granter").start(() -> {
            try (XsClient store = platform.xenstore().client(); Dom0Calls calls = new Dom0Calls(page, platform.dom0())) {
                int ref = Integer.parseInt(awaitNode(store, dir + "gref", swapping));
                String stamp = "";
                while (!"looped".equals(readOrNull(store, dir + "state"))) {
                    stamp = "dom0 write " + dom0Maps.incrementAndGet();
                    if (!mapWriteUnmap(platform, calls, ref, stamp)) {
                        dom0Failures.incrementAndGet();
                    }
                }
                swapping.set(false);
                swapper.join();
                stamp = "dom0 final " + dom0Maps.incrementAndGet();
                if (!mapWriteUnmap(platform, calls, ref, stamp)) {
                    dom0Failures.incrementAndGet();
                }
                store.write(dir + "stamp", stamp);
                store.write(dir + "go", "final");
            } catch (Exception e) {
                dom0Failures.incrementAndGet();
                swapping.set(false);
                throw new IllegalStateException(e);
            }
        });

        List<Outcome> outcomes;
        HypercallStats stats;
        try (GuestGroup group = GuestGroup.create(platform, page,
                List.of(new GuestGroup.Guest("evtchn", BundledGuestsTest.bundled("evtchn"), "swapload=3000")),
                new GuestGroup.Settings(128L << 20, Duration.ofSeconds(240), GUEST, null, accel.factory()))) {
            outcomes = group.run();
            stats = group.machines().getFirst().statsSnapshot();
        } finally {
            swapping.set(false);
            swapper.join();
            granter.join(10_000);
        }
        console.flush();
        String out = captured.toString(StandardCharsets.UTF_8);

        long vcpuEntries = 0;
        for (int nr = 0; nr < Hypercalls.NR_SLOTS; nr++) {
            vcpuEntries += stats.entries(nr);
        }
        long served = shims.stream().mapToLong(s -> s.guestCalls.get()).sum();
        System.out.printf("SwapUnderLoadTest [%s]: %d swaps, %d shims built, %d served the guest; %d guest calls, "
                + "%d dom0 calls; %d dom0 map+write+unmap rounds; %s%n", accel.id(), swaps.get(), made.get(),
                shims.stream().filter(s -> s.guestCalls.get() > 0).count(), served,
                shims.stream().mapToLong(s -> s.dom0Calls.get()).sum(), dom0Maps.get(),
                out.lines().filter(l -> l.contains("swapload loop")).findFirst().orElse("no loop line"));
        assertThat(out).contains("evtchn: PASS swapload loop iterations=3000")
                .contains("evtchn: PASS swapload after the swaps")
                .contains("evtchn: PASS swapload page holds dom0's last write")
                .contains("evtchn: PASS swapload grant ended")
                .doesNotContain("FAIL");
        assertThat(outcomes).containsExactly(new Outcome.Shutdown(0));
        assertThat(swaps.get()).as("swaps while the guest ran").isGreaterThan(50);
        assertThat(dom0Maps.get()).as("dom0's map, write, unmap rounds").isGreaterThan(10);
        assertThat(dom0Failures.get()).as("dom0's failed grant operations").isZero();
        assertThat(undrained.get()).as("retired shims that did not drain in 10 s").isZero();
        assertThat(afterDrain.get()).as("calls that entered a shim after it was drained").isZero();
        assertThat(served).as("guest calls the shims served against the entries its vCPU made").isEqualTo(vcpuEntries);
        // how many depends on how fast a loaded machine builds tables; a few prove swaps under the guest
        assertThat(shims.stream().filter(s -> s.guestCalls.get() > 0).count())
                .as("shims that served the guest").isGreaterThanOrEqualTo(3);
    }

    /** Awaits a retired shim's drain and marks it drained; a shim that does not drain is counted. */
    private static void drain(HypercallPage.Retired retired, ConcurrentLinkedQueue<CountingShim> shims,
            AtomicInteger undrained) {
        try {
            if (!retired.await(Duration.ofSeconds(10))) {
                undrained.incrementAndGet();
                return;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return;
        }
        for (CountingShim shim : shims) {
            if (shim.table == retired.table()) {
                shim.drained = true;
            }
        }
    }

    /** dom0 maps the guest's granted page, writes {@code stamp} in it (NUL-ended) and unmaps it. */
    private static boolean mapWriteUnmap(Platform platform, Dom0Calls calls, int ref, String stamp) {
        Dom0Calls.GrantMap map = calls.mapGrant(GUEST, ref, false);
        if (!map.ok()) {
            return false;
        }
        MemorySegment page = platform.dom0().state(GrantMappings.KEY).segment(map.handle());
        page.setString(0, stamp, StandardCharsets.US_ASCII);
        return calls.unmapGrant(map) == XenGnttab.GNTST_okay;
    }

    private static String awaitNode(XsClient store, String path, AtomicBoolean running) throws InterruptedException {
        for (;;) {
            String value = readOrNull(store, path);
            if (value != null || !running.get()) {
                return value;
            }
            Thread.sleep(1);
        }
    }

    private static String readOrNull(XsClient store, String path) {
        return store.exists(path) ? store.read(path) : null;
    }
}
