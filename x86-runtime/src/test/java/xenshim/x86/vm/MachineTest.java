package xenshim.x86.vm;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import xenshim.api.Domain;
import xenshim.api.GuestConsole;
import xenshim.api.PhysMap;
import xenshim.api.ShutdownState;
import xenshim.api.XenVersionInfo;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Platform;
import xenshim.x86.Accel;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * The machine's life cycle on every CPU backend: failing consoles, stuck vCPUs, shutdown listeners,
 * close. (Closing a failed machine's KVM vCPU fd is KVM's own case.)
 */
@Timeout(value = 60, unit = TimeUnit.SECONDS)
class MachineTest {

    private static Machine create(Accel accel, String guest, Domain domain, GuestConsole console, Duration timeout)
            throws Exception {
        Backends.assume(accel, MachineTest.class);
        XenVersionInfo version = XenVersionInfo.defaults();
        Platform platform = new Platform(version, console);
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        platform.domains().add(domain);
        return Machine.create(new Machine.Config(64L << 20, "", timeout, domain.domid(), version),
                BundledGuestsTest.bundled(guest), domain, page, console, null, accel.factory());
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aFailingConsoleDoesNotEndTheVcpu(Accel accel) throws Exception {
        // triplefault prints through the debug port (0x12), then triple-faults
        AtomicInteger writes = new AtomicInteger();
        GuestConsole broken = (domain, bytes, offset, length) -> {
            writes.incrementAndGet();
            throw new IllegalStateException("console is broken");
        };
        try (Machine machine = create(accel, "triplefault", Domain.guest(1), broken, Duration.ofSeconds(30))) {
            Outcome outcome = machine.run();
            // KVM triple-faults; the software CPU stops at the #UD it cannot deliver
            assertThat(outcome).as(outcome.describe())
                    .isInstanceOf(accel == Accel.KVM ? Outcome.TripleFault.class : Outcome.Failure.class);
        }
        assertThat(writes.get()).isGreaterThan(1); // every byte was tried; none ended the loop
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aDomainThatAlreadyShutDownStopsTheMachineAtOnce(Accel accel) throws Exception {
        Domain domain = Domain.guest(1);
        domain.state(ShutdownState.KEY).shutdown(2);
        try (Machine machine = create(accel, "spin", domain, (d, b, o, l) -> { }, Duration.ofSeconds(30))) {
            assertThat(machine.run()).isEqualTo(new Outcome.Shutdown(2));
        }
    }

    /** The open vCPU fds of this process (links to anon_inode:kvm-vcpu:N). */
    private static long openVcpuFds() throws IOException {
        try (Stream<Path> fds = Files.list(Path.of("/proc/self/fd"))) {
            return fds.filter(fd -> {
                try {
                    return Files.readSymbolicLink(fd).toString().startsWith("anon_inode:kvm-vcpu");
                } catch (IOException gone) {
                    return false; // closed meanwhile (the listing's own fd, for one)
                }
            }).count();
        }
    }

    @Test
    void aFailedCreateClosesTheVcpuAndRemovesItsListener() throws Exception {
        Accel accel = Accel.KVM; // it counts KVM vCPU fds
        Domain domain = Domain.guest(1);
        ShutdownState shutdown = domain.state(ShutdownState.KEY);
        try (Machine first = create(accel, "spin", domain, (d, b, o, l) -> { }, Duration.ofSeconds(30))) {
            long vcpuFds = openVcpuFds();
            assertThat(vcpuFds).isPositive();
            assertThat(shutdown.listenerCount()).as("the first machine listens").isEqualTo(1);
            // fails at the very end: the domain has a PhysMap already (the first machine's)
            assertThatThrownBy(() -> create(accel, "spin", domain, (d, b, o, l) -> { }, Duration.ofSeconds(30)))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("already has");
            assertThat(openVcpuFds()).as("the failed machine's vCPU fd is closed").isEqualTo(vcpuFds);
            assertThat(shutdown.listenerCount()).as("only the first machine still listens").isEqualTo(1);
            shutdown.shutdown(0);
            assertThat(first.run()).as("and it heard the shutdown").isEqualTo(new Outcome.Shutdown(0));
        }
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void stopAndShutdownAfterCloseAreNoOps(Accel accel) throws Exception {
        Domain domain = Domain.guest(1);
        ShutdownState shutdown = domain.state(ShutdownState.KEY);
        Machine machine = create(accel, "triplefault", domain, (d, b, o, l) -> { }, Duration.ofSeconds(30));
        assertThat(domain.find(PhysMap.KEY)).isPresent();
        assertThat(shutdown.listenerCount()).as("the machine listens for the domain's shutdown").isEqualTo(1);
        machine.close();
        assertThat(shutdown.listenerCount()).as("close removed the machine's listener").isZero();
        // and a stop would kick an unmapped kvm_run
        assertThatCode(() -> shutdown.shutdown(0)).doesNotThrowAnyException();
        assertThatCode(() -> machine.stop(new Outcome.Interrupted())).doesNotThrowAnyException();
        assertThatCode(machine::close).doesNotThrowAnyException();
    }

    @ParameterizedTest
    @EnumSource(Accel.class)
    void aVcpuStuckInAHandlerKeepsItsResourcesAndIsNotAskedForRegisters(Accel accel) throws Exception {
        CountDownLatch entered = new CountDownLatch(1);
        CountDownLatch release = new CountDownLatch(1);
        GuestConsole stuck = (domain, bytes, offset, length) -> {
            entered.countDown();
            try {
                release.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        };
        try {
            // the timeout must come after the guest's first console byte: the software CPU boots slower
            Duration timeout = accel == Accel.KVM ? Duration.ofMillis(200) : Duration.ofSeconds(5);
            Machine machine = create(accel, "triplefault", Domain.guest(1), stuck, timeout);
            Outcome outcome = machine.run(); // times out, then waits 5 s for the stuck thread
            assertThat(entered.getCount()).isZero();
            assertThat(outcome).isInstanceOf(Outcome.Timeout.class);
            assertThat(outcome.describe()).contains("registers unavailable").doesNotContain("rip=");
            Thread vcpu = Thread.getAllStackTraces().keySet().stream()
                    .filter(t -> t.getName().equals("vcpu0") && t.isAlive()).findFirst().orElseThrow();
            machine.close(); // leaves vcpu0's fd, its kvm_run and the guest RAM mapped
            release.countDown();
            vcpu.join(10_000);
            assertThat(vcpu.isAlive()).as("the released vCPU ends cleanly on its mapped kvm_run").isFalse();
        } finally {
            release.countDown();
        }
    }
}
