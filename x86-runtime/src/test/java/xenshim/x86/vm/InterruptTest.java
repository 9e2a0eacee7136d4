package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Timeout;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Accel;
import xenshim.x86.Platform;

/**
 * External interrupts into a running guest on every CPU backend: the bundled
 * {@code irq} guest installs an IDT, halts with interrupts on, and powers off
 * once vector 0xf3 has come three times; the test raises it from another
 * thread, as a backend or a timer will. While it waits, its vCPU thread
 * sleeps.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class InterruptTest {

    private static final int VECTOR = 0xf3;

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aHaltedGuestTakesInterruptsRaisedFromAnotherThreadAndSleepsMeanwhile(Accel accel) throws Exception {
        Backends.assume(accel, InterruptTest.class);
        StringBuilder console = new StringBuilder();
        GuestConsole capture = (domain, bytes, offset, length) -> {
            synchronized (console) {
                console.append(new String(bytes, offset, length, StandardCharsets.ISO_8859_1));
            }
        };
        XenVersionInfo version = XenVersionInfo.defaults();
        Platform platform = new Platform(version, capture);
        Domain domain = Domain.guest(1);
        platform.domains().add(domain);
        try (Machine machine = Machine.create(new Machine.Config(64L << 20, "", Duration.ofSeconds(60), 1, version),
                BundledGuestsTest.bundled("irq"), domain, new HypercallPage(platform.table(null, Map.of())), capture,
                null, accel.factory())) {
            CompletableFuture<Outcome> run = CompletableFuture.supplyAsync(() -> {
                try {
                    return machine.run();
                } catch (InterruptedException e) {
                    throw new IllegalStateException(e);
                }
            });
            while (!text(console).contains("irq: waiting")) {
                assertThat(run).as(text(console)).isNotDone();
                Thread.sleep(10);
            }
            Thread.sleep(100); // into its hlt
            ThreadMXBean threads = ManagementFactory.getThreadMXBean();
            long vcpu = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("vcpu0") && t.isAlive()).findFirst().orElseThrow().threadId();
            long cpuBefore = threads.getThreadCpuTime(vcpu);
            Thread.sleep(500);
            long cpuWhileHalted = threads.getThreadCpuTime(vcpu) - cpuBefore;
            assertThat(cpuWhileHalted).as("CPU time of the halted vCPU over 500 ms, ns")
                    .isLessThan(TimeUnit.MILLISECONDS.toNanos(25));

            for (int i = 0; i < 3; i++) {
                machine.interrupt(0, VECTOR);
                Thread.sleep(100);
            }
            Outcome outcome = run.get(60, TimeUnit.SECONDS);
            assertThat(outcome).as(text(console)).isEqualTo(new Outcome.Shutdown(0));
            assertThat(text(console)).contains("irq: took vector 0xf3 3 times").doesNotContain("another vector");
            System.out.printf("irq [%s]: halted vCPU used %.2f ms of CPU in 500 ms%n", accel.id(),
                    cpuWhileHalted / 1e6);
        }
    }

    private static String text(StringBuilder console) {
        synchronized (console) {
            return console.toString();
        }
    }
}
