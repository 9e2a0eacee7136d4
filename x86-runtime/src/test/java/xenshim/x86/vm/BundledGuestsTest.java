package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.x86.Accel;
import org.junit.jupiter.api.Timeout;
import xenshim.api.Domain;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Platform;
import xenshim.x86.StdoutConsole;
import xenshim.x86.boot.ElfImage;

/**
 * Boots the bundled guests on every CPU backend, wired as {@code xenshim run}
 * wires them (built-in handler table, Xen version, console, tracer), with the
 * console captured. Each test runs once per backend and is skipped, with the
 * reason, where that backend cannot run (CI machines may have no /dev/kvm).
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class BundledGuestsTest {

    /** How one guest run ended, what it printed, and what --trace wrote. */
    record Run(Outcome outcome, String console, String trace, long millis) {
    }

    static ElfImage bundled(String name) throws Exception {
        try (InputStream in = Machine.class.getModule().getResourceAsStream("xenshim/guests/" + name + ".elf")) {
            assertThat(in).as("bundled %s.elf", name).isNotNull();
            return ElfImage.parse("bundled " + name + ".elf", in.readAllBytes());
        }
    }

    static Run boot(Accel accel, String name, XenVersionInfo version, Duration timeout, boolean trace)
            throws Exception {
        Backends.assume(accel, BundledGuestsTest.class);
        ElfImage image = bundled(name);
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StdoutConsole console = new StdoutConsole(captured);
        Platform platform = new Platform(version, console);
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        Domain domain = Domain.guest(1);
        platform.domains().add(domain);
        StringWriter traced = new StringWriter();
        HypercallTracer tracer = trace ? new HypercallTracer(new PrintWriter(traced)) : null;
        long start = System.nanoTime();
        try (Machine machine = Machine.create(new Machine.Config(128L << 20, "", timeout, 1, version),
                image, domain, page, console, tracer, accel.factory())) {
            Outcome outcome = machine.run();
            console.flush();
            long millis = (System.nanoTime() - start) / 1_000_000;
            return new Run(outcome, captured.toString(StandardCharsets.UTF_8), traced.toString(), millis);
        }
    }

    static Run boot(Accel accel, String name) throws Exception {
        // a guest that should end by itself still gets a limit, so a hang fails the test instead of the build
        return boot(accel, name, XenVersionInfo.defaults(), Duration.ofSeconds(60), false);
    }

    /**
     * The demo, and the demo linked with --oformat=elf32-i386 (EM_386, the PVH note only in a
     * SHT_NOTE section), which loads and boots the same.
     */
    @ParameterizedTest
    @CsvSource({"KVM, demo", "KVM, demo-elf32", "TCG, demo", "TCG, demo-elf32"})
    void demoPowersOff(Accel accel, String guest) throws Exception {
        Run run = boot(accel, guest);
        assertThat(run.outcome()).as(run.console()).isEqualTo(new Outcome.Shutdown(0));
        assertThat(run.outcome().exitStatus()).isZero();
        assertThat(run.console())
                .contains("XENVER_version: Xen 4.17")
                .contains("shared_info mapped at gpfn")
                .contains("powering off");
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void demoSeesTheEmulatedXenVersion(Accel accel) throws Exception {
        Run run = boot(accel, "demo", XenVersionInfo.defaults().withVersion(4, 19), Duration.ofSeconds(30), false);
        assertThat(run.outcome().exitStatus()).as(run.console()).isZero();
        assertThat(run.console()).contains("XENVER_version: Xen 4.19").doesNotContain("Xen 4.17")
                .contains("version 4.19 (cpuid)");
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void badcallPassesEveryCheck(Accel accel) throws Exception {
        Run run = boot(accel, "badcall");
        assertThat(run.outcome().exitStatus()).as(run.console()).isZero();
        assertThat(run.console()).contains("badcall: 22 passed, 0 failed").doesNotContain("FAIL ");
    }

    /** The guest's status for triplefault: KVM triple-faults (20); the software CPU cannot deliver the #UD (21). */
    private static int triplefaultStatus(Accel accel) {
        return accel == Accel.KVM ? 20 : 21;
    }

    @Test
    void triplefaultIsStatus20WithRegistersOnKvm() throws Exception {
        Run run = boot(Accel.KVM, "triplefault");
        assertThat(run.outcome()).as(run.console()).isInstanceOf(Outcome.TripleFault.class);
        assertThat(run.outcome().exitStatus()).isEqualTo(20);
        assertThat(run.outcome().describe()).contains("triple-faulted").contains("rip=").contains("cr3=");
        assertThat(run.console()).contains("triplefault: loading empty IDT");
    }

    /**
     * The software CPU delivers no exception through the guest's IDT: the guest's ud2 stops it,
     * with the vector, RIP and registers, and status 21, rather than a guess at what would follow.
     */
    @Test
    void anExceptionTheSoftwareCpuCannotDeliverStopsTheGuestWithStatus21() throws Exception {
        Run run = boot(Accel.TCG, "triplefault");
        assertThat(run.outcome()).as(run.console()).isInstanceOf(Outcome.Failure.class);
        assertThat(run.outcome().exitStatus()).isEqualTo(21);
        assertThat(run.outcome().describe()).contains("exception 6 (#UD) at rip 0x")
                .contains("cannot deliver").contains("rip=").contains("cr3=").contains("idt=0/0");
        assertThat(run.console()).contains("triplefault: loading empty IDT").doesNotContain("still alive");
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void spinningGuestTimesOut(Accel accel) throws Exception {
        Run run = boot(accel, "spin", XenVersionInfo.defaults(), Duration.ofSeconds(1), false);
        assertThat(run.outcome()).isInstanceOf(Outcome.Timeout.class);
        assertThat(run.outcome().exitStatus()).isEqualTo(22);
        assertThat(run.outcome().describe()).contains("--timeout 1000 ms").contains("rip=").contains("rax=");
        assertThat(run.millis()).as("stopped soon after the deadline").isBetween(900L, 6000L);
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void traceHasOneLinePerHypercall(Accel accel) throws Exception {
        Run run = boot(accel, "demo", XenVersionInfo.defaults(), Duration.ofSeconds(30), true);
        assertThat(run.outcome().exitStatus()).isZero();
        assertThat(run.trace())
                .contains("[vcpu0] xen_version(XENVER_version, 0x0, 0x0, 0x0, 0x0) = " + 0x40011)
                .containsPattern("(?m)^\\[vcpu0\\] console_io\\(CONSOLEIO_write, 0x[0-9a-f]+, 0x[0-9a-f]+, 0x0, 0x0\\) = 0$")
                .containsPattern("(?m)^\\[vcpu0\\] memory_op\\(XENMEM_add_to_physmap, ")
                .containsPattern("(?m)^\\[vcpu0\\] sched_op\\(SCHEDOP_shutdown, ");
        assertThat(run.trace().lines()).allMatch(l -> l.startsWith("[vcpu0] "));
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void oneJvmRunsGuestsOneAfterAnother(Accel accel) throws Exception {
        Run first = boot(accel, "triplefault");
        Run second = boot(accel, "demo");
        Run third = boot(accel, "badcall");
        assertThat(first.outcome().exitStatus()).isEqualTo(triplefaultStatus(accel));
        assertThat(second.outcome().exitStatus()).isZero();
        assertThat(second.console()).contains("powering off");
        assertThat(third.outcome().exitStatus()).isZero();
        assertThat(Thread.getAllStackTraces().keySet()).as("vCPU threads ended")
                .noneMatch(t -> t.getName().startsWith("vcpu") && t.isAlive());
    }
}
