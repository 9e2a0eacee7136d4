package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.slf4j.LoggerFactory;
import xenshim.api.HypercallHandler;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.XenErrno;
import xenshim.api.xen.XenSched;
import xenshim.dispatcher.HypercallPage;
import xenshim.dispatcher.HypercallTable;
import xenshim.dispatcher.Provider;
import xenshim.x86.Accel;

/**
 * A handler that fails, with a guest calling it as fast as it can while another guest in the same
 * process keeps making its own calls (event round trips with dom0's echo backend, xenstore writes read
 * back): the table answers a handler's exception with {@code -EIO} and logs it once, however often it
 * comes; a JVM {@link Error} stops the calling domain ({@link Outcome.HandlerCrash}) and nothing else.
 * On both CPU backends.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class HandlerFaultTest {

    private static final int ARCH_7 = Hypercalls.__HYPERVISOR_arch_0 + 7;
    private static final Duration TIMEOUT = Duration.ofSeconds(60);

    /** The built-in table with arch_7 served by {@code handler}, as test.faulty/{@code className}. */
    private static HypercallTable withArch7(Neighbours n, String className, HypercallHandler handler) {
        HypercallTable.Builder builder = HypercallTable.builder("built-in+faulty");
        for (HypercallTable.Slot slot : n.platform.table(null, Map.of()).slots()) {
            builder.add(slot.nr(), slot.provider(), slot.handler());
        }
        builder.add(ARCH_7, new Provider("test.faulty", className), handler);
        return builder.build();
    }

    /** The measuring guest (domain 2) made its calls, all of them successful. */
    private static Map<String, String> assertServed(Neighbours.Result r) {
        Map<String, String> measure = r.flood(2, "measure");
        assertThat(measure.get("failures")).as("the other guest's failed calls (first rc %s)", measure.get("first_rc"))
                .isEqualTo("0");
        assertThat(Long.parseLong(measure.get("events"))).as("event round trips").isPositive();
        assertThat(Long.parseLong(measure.get("xs_requests"))).as("xenstore requests").isPositive();
        return measure;
    }

    /** WARN and above from the table's logger while {@code body} runs. */
    private static List<ILoggingEvent> tableWarnings(ThrowingRunnable body) throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(HypercallTable.class);
        ListAppender<ILoggingEvent> appender = new ListAppender<>();
        appender.start();
        log.addAppender(appender);
        try {
            body.run();
        } finally {
            log.detachAppender(appender);
        }
        return appender.list.stream().filter(e -> e.getLevel().isGreaterOrEqual(Level.WARN)).toList();
    }

    @FunctionalInterface
    private interface ThrowingRunnable {
        void run() throws Exception;
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aHandlerThatThrowsAnswersMinusEioIsLoggedOnceAndTheOtherGuestGoesOn(Accel accel) throws Exception {
        Backends.assume(accel, HandlerFaultTest.class);
        Neighbours n = Neighbours.create();
        HypercallTable table = withArch7(n, "test.faulty.Throws", (ctx, a0, a1, a2, a3, a4) -> {
            throw new IllegalStateException("the entropy pool is gone");
        });
        HypercallPage page = new HypercallPage(table);
        Neighbours.Result[] run = new Neighbours.Result[1];
        List<ILoggingEvent> warnings = tableWarnings(() -> run[0] = n.run(accel, page,
                Neighbours.floods("mode=hypercall nr=" + ARCH_7 + " seconds=2", "mode=measure seconds=2"), TIMEOUT));
        Neighbours.Result r = run[0];

        assertThat(r.outcomes()).as(r.console()).containsExactly(new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff),
                new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff));
        Map<String, String> caller = r.flood(1, "hypercall");
        long calls = Long.parseLong(caller.get("calls"));
        assertThat(calls).isPositive();
        assertThat(r.console()).as("every call answered -EIO")
                .containsPattern("\\(d1\\) flood: hypercall nr=55 calls=" + calls + " .* results: rc=-"
                        + XenErrno.XEN_EIO + " x" + calls + " others=0");
        assertThat(table.failures(ARCH_7)).as("failures the table counted").isEqualTo((int) calls);
        assertThat(warnings).as("logged once, however often it failed").singleElement().satisfies(w -> {
            assertThat(w.getFormattedMessage()).contains("arch_7").contains("test.faulty/test.faulty.Throws")
                    .contains("returning -EIO");
            assertThat(w.getThrowableProxy().getMessage()).isEqualTo("the entropy pool is gone");
        });
        assertThat(page.current()).as("the installed shim").isSameAs(table);

        Map<String, String> measure = assertServed(r);
        assertThat(Long.parseLong(measure.get("from_ns"))).as("measured while the other guest called")
                .isLessThan(Long.parseLong(caller.get("to_ns")));
        assertThat(Long.parseLong(caller.get("from_ns"))).isLessThan(Long.parseLong(measure.get("to_ns")));
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aHandlerThatThrowsAJvmErrorStopsTheCallingDomainOnly(Accel accel) throws Exception {
        Backends.assume(accel, HandlerFaultTest.class);
        Neighbours n = Neighbours.create();
        HypercallTable table = withArch7(n, "test.faulty.Breaks", (ctx, a0, a1, a2, a3, a4) -> {
            throw new NoClassDefFoundError("test/faulty/Missing");
        });
        HypercallPage page = new HypercallPage(table);
        Neighbours.Result[] run = new Neighbours.Result[1];
        List<ILoggingEvent> warnings = tableWarnings(() -> run[0] = n.run(accel, page,
                Neighbours.floods("mode=hypercall nr=" + ARCH_7 + " seconds=2", "mode=measure seconds=2"), TIMEOUT));
        Neighbours.Result r = run[0];

        assertThat(r.outcomes().get(0)).as(r.console()).isInstanceOfSatisfying(Outcome.HandlerCrash.class, crash -> {
            assertThat(crash.nr()).isEqualTo(ARCH_7);
            assertThat(crash.error()).isInstanceOf(NoClassDefFoundError.class).hasMessage("test/faulty/Missing");
            assertThat(crash.exitStatus()).isEqualTo(24);
            assertThat(crash.describe()).contains("hypercall 55 (arch_7)").contains("stopped the domain");
        });
        assertThat(r.console()).as("the crashed guest printed no result").doesNotContain("(d1) flood: hypercall");
        assertThat(table.failures(ARCH_7)).as("it stopped at its first call").isEqualTo(1);
        assertThat(warnings).singleElement().satisfies(w -> assertThat(w.getFormattedMessage())
                .contains("test.faulty/test.faulty.Breaks").contains("a JVM error"));
        assertThat(r.outcomes().get(1)).as("the other guest").isEqualTo(new Outcome.Shutdown(XenSched.SHUTDOWN_poweroff));
        assertServed(r);
        assertThat(page.current()).as("the installed shim").isSameAs(table);
        assertThat(n.platform.domains().byId(1)).as("the stopped domain is gone").isEmpty();
    }
}
