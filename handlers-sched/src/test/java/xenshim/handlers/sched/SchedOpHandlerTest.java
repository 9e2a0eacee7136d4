package xenshim.handlers.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSPC;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;
import static xenshim.api.xen.XenSched.*;

import java.util.ArrayList;
import java.util.List;
import java.util.OptionalInt;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.ShutdownState;
import xenshim.api.xen.XenDomains;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

class SchedOpHandlerTest {

    private final Domain guest = FakeDomains.guest(5);
    private final Domain other = FakeDomains.guest(6);
    private final Domain dom0 = FakeDomains.privilegedGuest(0);
    private final DomainDirectory directory = FakeDomains.directory(guest, other, dom0);
    private FakeGuestMemory memory;
    private long arg;
    private ScheduledExecutorService timer;
    private final List<Runnable> armed = new ArrayList<>();
    private final List<Long> delays = new ArrayList<>();

    @BeforeEach
    void setUp() {
        memory = FakeGuestMemory.standard();
        arg = memory.page(1) + 0x20;
        timer = mock(ScheduledExecutorService.class);
        when(timer.schedule(any(Runnable.class), anyLong(), any())).thenAnswer(call -> {
            armed.add(call.getArgument(0));
            delays.add(call.getArgument(1));
            assertThat((TimeUnit) call.getArgument(2)).isEqualTo(TimeUnit.SECONDS);
            return mock(ScheduledFuture.class);
        });
    }

    private HandlerHarness harness(Domain caller, Abi abi) {
        return HandlerHarness.of(new SchedOpHandler(directory, timer)).domain(caller).memory(memory).abi(abi);
    }

    private static OptionalInt shutdownReason(Domain domain) {
        return domain.state(ShutdownState.KEY).reason();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void yieldReturnsZero(Abi abi) {
        assertThat(harness(guest, abi).call(SCHEDOP_yield, 0xdead)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void shutdownRecordsTheReasonAsAU8(Abi abi) {
        memory.write32(arg, 0x103);

        assertThat(harness(guest, abi).call(SCHEDOP_shutdown, arg)).isZero();

        assertThat(shutdownReason(guest)).hasValue(SHUTDOWN_crash);
    }

    @Test
    void shutdownAcceptsAnyReason() {
        memory.write32(arg, 77);
        assertThat(harness(guest, Abi.X86_64).call(SCHEDOP_shutdown, arg)).isZero();
        assertThat(shutdownReason(guest)).hasValue(77);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUnreadableReasonIsEfault(Abi abi) {
        memory.unmap(arg);
        assertThat(harness(guest, abi).call(SCHEDOP_shutdown, arg)).isEqualTo(-XEN_EFAULT);
        assertThat(harness(guest, abi).call(SCHEDOP_shutdown_code, arg)).isEqualTo(-XEN_EFAULT);
        assertThat(guest.state(ShutdownState.KEY).isShuttingDown()).isFalse();
    }

    @Test
    void theFirstShutdownCodeWins() {
        memory.write32(arg, SHUTDOWN_reboot);
        assertThat(harness(guest, Abi.X86_64).call(SCHEDOP_shutdown_code, arg)).isZero();
        memory.write32(arg, SHUTDOWN_crash);
        assertThat(harness(guest, Abi.X86_64).call(SCHEDOP_shutdown_code, arg)).isZero();
        assertThat(guest.state(ShutdownState.KEY).isShuttingDown()).isFalse();

        memory.write32(arg, SHUTDOWN_poweroff);
        assertThat(harness(guest, Abi.X86_64).call(SCHEDOP_shutdown, arg)).isZero();
        assertThat(shutdownReason(guest)).hasValue(SHUTDOWN_reboot);
    }

    @Test
    void theCmdIsAnInt() {
        memory.write32(arg, SHUTDOWN_poweroff);
        assertThat(harness(guest, Abi.X86_64).call((1L << 32) | SCHEDOP_shutdown, arg)).isZero();
        assertThat(shutdownReason(guest)).hasValue(SHUTDOWN_poweroff);
    }

    private void remoteShutdown(int domid, int reason) {
        memory.write16(arg + SchedStructs.REMOTE_SHUTDOWN_DOMAIN_ID.offset(Abi.X86_64), (short) domid);
        memory.write32(arg + SchedStructs.REMOTE_SHUTDOWN_REASON.offset(Abi.X86_64), reason);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPrivilegedDomainShutsAnotherDown(Abi abi) {
        remoteShutdown(guest.domid(), SHUTDOWN_reboot);
        assertThat(harness(dom0, abi).call(SCHEDOP_remote_shutdown, arg)).isZero();
        assertThat(shutdownReason(guest)).hasValue(SHUTDOWN_reboot);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUnprivilegedDomainMayNotEvenShutItselfDownRemotely(Abi abi) {
        remoteShutdown(other.domid(), SHUTDOWN_poweroff);
        assertThat(harness(guest, abi).call(SCHEDOP_remote_shutdown, arg)).isEqualTo(-XEN_EPERM);
        remoteShutdown(guest.domid(), SHUTDOWN_poweroff);
        assertThat(harness(guest, abi).call(SCHEDOP_remote_shutdown, arg)).isEqualTo(-XEN_EPERM);
        assertThat(other.state(ShutdownState.KEY).isShuttingDown()).isFalse();
        assertThat(guest.state(ShutdownState.KEY).isShuttingDown()).isFalse();
    }

    @Test
    void domidSelfAndMissingDomainsAreEsrchBeforePrivilege() {
        remoteShutdown(XenDomains.DOMID_SELF, SHUTDOWN_poweroff);
        assertThat(harness(dom0, Abi.X86_64).call(SCHEDOP_remote_shutdown, arg)).isEqualTo(-XEN_ESRCH);
        remoteShutdown(999, SHUTDOWN_poweroff);
        assertThat(harness(guest, Abi.X86_64).call(SCHEDOP_remote_shutdown, arg)).isEqualTo(-XEN_ESRCH);
        assertThat(dom0.state(ShutdownState.KEY).isShuttingDown()).isFalse();
    }

    @Test
    void remoteShutdownReadsEightBytes() {
        long straddling = memory.page(2) - 6; // domain_id readable, reason on the unmapped page
        memory.unmap(memory.page(2));
        memory.write16(straddling, (short) guest.domid());
        assertThat(harness(dom0, Abi.X86_64).call(SCHEDOP_remote_shutdown, straddling)).isEqualTo(-XEN_EFAULT);
        assertThat(guest.state(ShutdownState.KEY).isShuttingDown()).isFalse();
    }

    private long watchdog(Domain caller, long id, long timeout) {
        memory.write32(arg + SchedStructs.WATCHDOG_ID.offset(Abi.X86_64), (int) id);
        memory.write32(arg + SchedStructs.WATCHDOG_TIMEOUT.offset(Abi.X86_64), (int) timeout);
        return harness(caller, Abi.X86_64).call(SCHEDOP_watchdog, arg);
    }

    @Test
    void watchdogAllocatesTwoSlots() {
        assertThat(watchdog(guest, 0, 10)).isEqualTo(1);
        assertThat(watchdog(guest, 0, 20)).isEqualTo(2);
        assertThat(watchdog(guest, 0, 30)).isEqualTo(-XEN_ENOSPC);
        assertThat(delays).containsExactly(10L, 20L);
        // another domain has slots of its own
        assertThat(watchdog(other, 0, 10)).isEqualTo(1);
    }

    @Test
    void watchdogIdsAboveTwoAreEinval() {
        assertThat(watchdog(guest, 3, 10)).isEqualTo(-XEN_EINVAL);
        assertThat(watchdog(guest, 0xFFFF_FFFFL, 10)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void aSlotNotInUseIsEinval() {
        assertThat(watchdog(guest, 1, 10)).isEqualTo(-XEN_EINVAL);
        assertThat(watchdog(guest, 2, 0)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void aZeroTimeoutFreesTheSlotAndPattingRearms() {
        assertThat(watchdog(guest, 0, 10)).isEqualTo(1);
        assertThat(watchdog(guest, 1, 0xFFFF_FFFFL)).isZero();
        assertThat(delays).containsExactly(10L, 0xFFFF_FFFFL);
        assertThat(watchdog(guest, 1, 0)).isZero();
        assertThat(guest.state(DomainWatchdogs.KEY).inUse(1)).isFalse();
        assertThat(watchdog(guest, 1, 10)).isEqualTo(-XEN_EINVAL);
        assertThat(watchdog(guest, 0, 10)).isEqualTo(1);
    }

    @Test
    void anExpiredWatchdogShutsTheDomainDown() {
        assertThat(watchdog(guest, 0, 10)).isEqualTo(1);
        armed.getFirst().run();
        assertThat(shutdownReason(guest)).hasValue(SHUTDOWN_watchdog);
        assertThat(guest.state(DomainWatchdogs.KEY).inUse(1)).isTrue();
    }

    @Test
    void aWatchdogDoesNotOverrideAShutdownUnderWay() {
        assertThat(watchdog(guest, 0, 10)).isEqualTo(1);
        guest.state(ShutdownState.KEY).shutdown(SHUTDOWN_poweroff);
        armed.getFirst().run();
        assertThat(shutdownReason(guest)).hasValue(SHUTDOWN_poweroff);
    }

    @Test
    void aRearmedOrFreedTimerDoesNotFire() {
        assertThat(watchdog(guest, 0, 10)).isEqualTo(1);
        assertThat(watchdog(guest, 1, 10)).isZero();
        armed.get(0).run(); // the first arming, since re-armed
        assertThat(guest.state(ShutdownState.KEY).isShuttingDown()).isFalse();
        assertThat(watchdog(guest, 1, 0)).isZero();
        armed.get(1).run(); // the second arming, since freed
        assertThat(guest.state(ShutdownState.KEY).isShuttingDown()).isFalse();
    }

    @Test
    void anUnreadableWatchdogIsEfault() {
        memory.unmap(arg);
        assertThat(harness(guest, Abi.X86_32).call(SCHEDOP_watchdog, arg)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void theSharedTimerFiresAZeroTimeoutAtOnce() throws InterruptedException {
        CountDownLatch down = new CountDownLatch(1);
        guest.state(ShutdownState.KEY).onShutdown(code -> down.countDown());
        memory.write32(arg + SchedStructs.WATCHDOG_ID.offset(Abi.X86_64), 0);
        memory.write32(arg + SchedStructs.WATCHDOG_TIMEOUT.offset(Abi.X86_64), 0);

        assertThat(HandlerHarness.of(new SchedOpHandler(directory)).domain(guest).memory(memory)
                .call(SCHEDOP_watchdog, arg)).isEqualTo(1);

        assertThat(down.await(10, TimeUnit.SECONDS)).isTrue();
        assertThat(shutdownReason(guest)).hasValue(SHUTDOWN_watchdog);
    }

    @Test
    void pinOverrideIsEpermForADomUBeforeTheCopy() {
        memory.unmap(arg);
        assertThat(harness(guest, Abi.X86_64).call(SCHEDOP_pin_override, arg)).isEqualTo(-XEN_EPERM);
        assertThat(harness(dom0, Abi.X86_64).call(SCHEDOP_pin_override, arg)).isEqualTo(-XEN_EFAULT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void pinOverrideChecksThePcpu(Abi abi) {
        int cpus = Runtime.getRuntime().availableProcessors();
        memory.write32(arg + SchedStructs.PIN_OVERRIDE_PCPU.offset(Abi.X86_64), 0);
        assertThat(harness(dom0, abi).call(SCHEDOP_pin_override, arg)).isZero();
        memory.write32(arg + SchedStructs.PIN_OVERRIDE_PCPU.offset(Abi.X86_64), -1);
        assertThat(harness(dom0, abi).call(SCHEDOP_pin_override, arg)).isZero();
        memory.write32(arg + SchedStructs.PIN_OVERRIDE_PCPU.offset(Abi.X86_64), cpus - 1);
        assertThat(harness(dom0, abi).call(SCHEDOP_pin_override, arg)).isZero();
        memory.write32(arg + SchedStructs.PIN_OVERRIDE_PCPU.offset(Abi.X86_64), cpus);
        assertThat(harness(dom0, abi).call(SCHEDOP_pin_override, arg)).isEqualTo(-XEN_EINVAL);
    }

    @ParameterizedTest
    @ValueSource(longs = {8, 100, 0xFFFF_FFFFL})
    void otherCommandsAreEnosys(long cmd) {
        assertThat(harness(guest, Abi.X86_64).call(cmd, arg)).isEqualTo(-XEN_ENOSYS);
        assertThat(harness(dom0, Abi.X86_32).call(cmd, arg)).isEqualTo(-XEN_ENOSYS);
    }

    @Test
    void theProviderKnowsNoOtherDomain() {
        remoteShutdown(guest.domid(), SHUTDOWN_poweroff);
        assertThat(HandlerHarness.of(SchedOpHandler.provider()).domain(dom0).memory(memory)
                .call(SCHEDOP_remote_shutdown, arg)).isEqualTo(-XEN_ESRCH);
        verify(timer, org.mockito.Mockito.never()).schedule(any(Runnable.class), anyLong(), any());
    }
}
