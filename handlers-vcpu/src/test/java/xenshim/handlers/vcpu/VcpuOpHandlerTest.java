package xenshim.handlers.vcpu;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EEXIST;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_EIO;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_ENXIO;
import static xenshim.api.xen.XenVcpu.*;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.SharedInfo;
import xenshim.api.ShutdownState;
import xenshim.api.VcpuTimers;
import xenshim.api.Vcpus;
import xenshim.api.xen.XenSched;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;
import xenshim.testkit.TestingTimers;

/**
 * {@code vcpu_op} through the testkit's harness: every sub-op's success and failure, in both ABIs. Struct
 * offsets here are written out as {@code gcc -m64} and {@code gcc -m32} lay out {@code xen/vcpu.h}, so the
 * handler's layouts are checked against numbers it does not share.
 */
class VcpuOpHandlerTest {

    private static final long MS = TimedGuest.MS;
    /** The clock starts 1 s after boot. */
    private static final long BOOT = 1_000 * MS;

    private final TimedGuest guest = new TimedGuest(3, BOOT); // vCPU 1 exists but is down (never brought up)
    private final TestingTimers timers = guest.timers;
    private final Domain domain = guest.domain;
    private final VcpuTimers vcpuTimers = guest.vcpuTimers;
    private final EventChannels channels = guest.channels;
    private final Vcpus vcpus = domain.state(Vcpus.KEY);
    private final FakeGuestMemory memory = FakeGuestMemory.standard();
    private final long arg = memory.page(1) + 0x40;
    private final long area = memory.page(2) + 0x80;

    private HandlerHarness harness(Abi abi) {
        return HandlerHarness.of(new VcpuOpHandler()).domain(domain).memory(memory).abi(abi);
    }

    private long call(Abi abi, int cmd, int vcpu, long argument) {
        return harness(abi).call(cmd, Integer.toUnsignedLong(vcpu), argument);
    }

    private boolean takeTimerEvent() {
        return guest.takeTimerEvent();
    }

    // ---- the vCPU must exist ---------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aVcpuTheDomainLacksIsEnoentBeforeAnythingElse(Abi abi) {
        long unmapped = memory.end() + 0x1000;
        for (int cmd = 0; cmd <= 20; cmd++) {
            assertThat(call(abi, cmd, 2, unmapped)).as("cmd %d", cmd).isEqualTo(-XEN_ENOENT);
            assertThat(call(abi, cmd, 127, arg)).as("cmd %d", cmd).isEqualTo(-XEN_ENOENT);
            assertThat(call(abi, cmd, 128, arg)).as("cmd %d", cmd).isEqualTo(-XEN_ENOENT);
            assertThat(call(abi, cmd, -1, arg)).as("cmd %d", cmd).isEqualTo(-XEN_ENOENT);
        }
    }

    @Test
    void theVcpuIdIsAnUnsignedIntTheUpperHalfOfTheRegisterIsIgnored() {
        assertThat(harness(Abi.X86_64).call(VCPUOP_is_up, 0xFFFF_FFFF_0000_0000L, 0)).isEqualTo(1);
        assertThat(harness(Abi.X86_64).call(VCPUOP_is_up, 0x8000_0000L, 0)).isEqualTo(-XEN_ENOENT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aVcpuThatIsUpExistsEvenPastMaxVcpus(Abi abi) {
        vcpus.setOnline(3);
        assertThat(call(abi, VCPUOP_is_up, 2, 0)).isEqualTo(1);
    }

    // ---- is_up, up, down, initialise -------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void isUpIsOneForVcpu0AndZeroForADownVcpu(Abi abi) {
        assertThat(call(abi, VCPUOP_is_up, 0, 0)).isEqualTo(1);
        assertThat(call(abi, VCPUOP_is_up, 1, 0)).isZero();
        vcpus.setOnline(2);
        assertThat(call(abi, VCPUOP_is_up, 1, 0)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void upOfAnUpVcpuIsZeroOfAnUninitialisedOneEinval(Abi abi) {
        assertThat(call(abi, VCPUOP_up, 0, 0)).isZero();
        assertThat(call(abi, VCPUOP_up, 1, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(vcpus.isUp(1)).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void downOfTheLastVcpuUpPowersTheDomainOff(Abi abi) {
        assertThat(call(abi, VCPUOP_down, 1, 0)).as("vCPU 1 is down already; vCPU 0 stays up").isZero();
        assertThat(domain.state(ShutdownState.KEY).isShuttingDown()).isFalse();

        assertThat(call(abi, VCPUOP_down, 0, 0)).isZero();
        assertThat(domain.state(ShutdownState.KEY).reason()).hasValue(XenSched.SHUTDOWN_poweroff);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void downOfARunningVcpuWhileAnotherRunsNeedsThePlatform(Abi abi) {
        vcpus.setOnline(2);
        assertThat(call(abi, VCPUOP_down, 1, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(call(abi, VCPUOP_down, 0, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(domain.state(ShutdownState.KEY).isShuttingDown()).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void initialiseReadsTheHvmContextThenEexistForAnUpVcpuElseEnosys(Abi abi) {
        assertThat(call(abi, VCPUOP_initialise, 0, arg)).isEqualTo(-XEN_EEXIST);
        assertThat(call(abi, VCPUOP_initialise, 1, arg)).isEqualTo(-XEN_ENOSYS);
        memory.unmap(memory.page(3));
        long crossing = memory.page(3) - 127; // sizeof(struct vcpu_hvm_context) is 128 in both ABIs
        assertThat(call(abi, VCPUOP_initialise, 0, crossing)).isEqualTo(-XEN_EFAULT);
        assertThat(call(abi, VCPUOP_initialise, 0, crossing - 1)).isEqualTo(-XEN_EEXIST);
    }

    // ---- runstate ----------------------------------------------------------------------------------------

    /** vCPU 0: running until 100 ms, runnable until 300 ms, running since. */
    private void runstateHistory() {
        vcpus.runstateChange(0, RUNSTATE_runnable, 100 * MS);
        vcpus.runstateChange(0, RUNSTATE_running, 300 * MS);
    }

    private static long timeOffset(Abi abi) {
        return abi == Abi.X86_64 ? 16 : 12;
    }

    private void assertRunstateAt(long address, Abi abi, int state, long entry, long... time) {
        assertThat(memory.read32(address)).isEqualTo(state);
        assertThat(memory.read64(address + (abi == Abi.X86_64 ? 8 : 4))).isEqualTo(entry);
        for (int i = 0; i < 4; i++) {
            assertThat(memory.read64(address + timeOffset(abi) + 8L * i)).as("time[%d]", i).isEqualTo(time[i]);
        }
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void getRunstateInfoWritesTheStructAsTheAbiLaysItOutCountingTimeSinceTheLastChange(Abi abi) {
        runstateHistory();
        memory.fill(arg, 64, (byte) 0xAA);
        assertThat(call(abi, VCPUOP_get_runstate_info, 0, arg)).isZero();
        // running 0..100 ms, and 300 ms..now (1 s); runnable 100..300 ms
        assertRunstateAt(arg, abi, RUNSTATE_running, 300 * MS, 800 * MS, 200 * MS, 0, 0);
        long size = abi == Abi.X86_64 ? 48 : 44;
        assertThat(memory.read8(arg + size)).as("the byte after the struct").isEqualTo((byte) 0xAA);
        if (abi == Abi.X86_64) {
            assertThat(memory.read32(arg + 4)).as("the padding after state").isZero();
        }
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void getRunstateInfoOfAnotherVcpu(Abi abi) {
        assertThat(call(abi, VCPUOP_get_runstate_info, 1, arg)).isZero();
        assertRunstateAt(arg, abi, RUNSTATE_offline, 0, 0, 0, 0, BOOT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void getRunstateInfoIntoMemoryTheCallerLacksIsEfault(Abi abi) {
        memory.unmap(memory.page(3));
        long size = abi == Abi.X86_64 ? 48 : 44;
        assertThat(call(abi, VCPUOP_get_runstate_info, 0, memory.page(3) - size + 1)).isEqualTo(-XEN_EFAULT);
        assertThat(call(abi, VCPUOP_get_runstate_info, 0, memory.page(3) - size)).isZero();
        memory.readOnly(memory.page(4));
        assertThat(call(abi, VCPUOP_get_runstate_info, 0, memory.page(4))).isEqualTo(-XEN_EFAULT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerRunstateAreaRecordsItAndWritesTheCallersOwnRunstateAtOnce(Abi abi) {
        runstateHistory();
        memory.write64(arg, area);
        assertThat(call(abi, VCPUOP_register_runstate_memory_area, 0, arg)).isZero();
        assertThat(vcpus.runstateArea(0)).isEqualTo(area);
        // v == current: v->runstate as it is, no time added since the last change, no XEN_RUNSTATE_UPDATE
        assertRunstateAt(area, abi, RUNSTATE_running, 300 * MS, 100 * MS, 200 * MS, 0, 0);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerRunstateAreaOfAnotherVcpuWritesVcpuRunstateGet(Abi abi) {
        memory.write64(arg, area);
        assertThat(call(abi, VCPUOP_register_runstate_memory_area, 1, arg)).isZero();
        assertThat(vcpus.runstateArea(1)).isEqualTo(area);
        assertThat(vcpus.runstateArea(0)).isZero();
        assertRunstateAt(area, abi, RUNSTATE_offline, 0, 0, 0, 0, BOOT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aRunstateAreaThatCannotBeWrittenIsRegisteredAllTheSame(Abi abi) {
        long unmapped = memory.end() + 0x40;
        memory.write64(arg, unmapped);
        assertThat(call(abi, VCPUOP_register_runstate_memory_area, 0, arg)).isZero();
        assertThat(vcpus.runstateArea(0)).isEqualTo(unmapped);
        memory.write64(arg, 0);
        assertThat(call(abi, VCPUOP_register_runstate_memory_area, 0, arg)).as("NULL unregisters").isZero();
        assertThat(vcpus.runstateArea(0)).isZero();
    }

    @Test
    void compatRegisterRunstateAreaReadsOnlyTheFourByteHandle() {
        memory.write64(arg, 0xDEAD_BEEF_0000_0000L | area);
        assertThat(call(Abi.X86_32, VCPUOP_register_runstate_memory_area, 0, arg)).isZero();
        assertThat(vcpus.runstateArea(0)).isEqualTo(area);

        memory.unmap(memory.page(3));
        long lastFour = memory.page(3) - 4;
        memory.write32(lastFour, (int) area);
        assertThat(call(Abi.X86_32, VCPUOP_register_runstate_memory_area, 0, lastFour)).isZero();
        assertThat(call(Abi.X86_64, VCPUOP_register_runstate_memory_area, 0, lastFour)).isEqualTo(-XEN_EFAULT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerRunstateAreaFromMemoryTheCallerLacksIsEfaultAndRegistersNothing(Abi abi) {
        assertThat(call(abi, VCPUOP_register_runstate_memory_area, 0, memory.end())).isEqualTo(-XEN_EFAULT);
        assertThat(vcpus.runstateArea(0)).isZero();
    }

    // ---- periodic timer --------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void periodicTimerFiresEveryPeriodUntilStopped(Abi abi) {
        memory.write64(arg, 10 * MS);
        assertThat(call(abi, VCPUOP_set_periodic_timer, 0, arg)).isZero();
        assertThat(vcpuTimers.period(0)).isEqualTo(10 * MS);
        assertThat(takeTimerEvent()).as("more than a period since the last event (none): one at once").isTrue();

        for (int tick = 1; tick <= 3; tick++) {
            timers.advance(9 * MS);
            assertThat(takeTimerEvent()).as("tick %d early", tick).isFalse();
            timers.advance(MS);
            assertThat(takeTimerEvent()).as("tick %d", tick).isTrue();
        }

        assertThat(call(abi, VCPUOP_stop_periodic_timer, 0, 0)).isZero();
        assertThat(vcpuTimers.period(0)).isZero();
        timers.advance(100 * MS);
        assertThat(takeTimerEvent()).isFalse();
        assertThat(timers.pending()).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void periodicTimerSetAgainWithinAPeriodWaitsForItsEnd(Abi abi) {
        memory.write64(arg, 10 * MS);
        call(abi, VCPUOP_set_periodic_timer, 0, arg);
        assertThat(takeTimerEvent()).isTrue();
        timers.advance(4 * MS);
        memory.write64(arg, 20 * MS);
        assertThat(call(abi, VCPUOP_set_periodic_timer, 0, arg)).isZero();
        assertThat(takeTimerEvent()).isFalse();
        timers.advance(15 * MS);
        assertThat(takeTimerEvent()).isFalse();
        timers.advance(MS); // 20 ms after the last event
        assertThat(takeTimerEvent()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void periodicTimerPeriodBoundsAreEinval(Abi abi) {
        for (long period : new long[] {0, 1, MS - 1, Long.MIN_VALUE, -1}) {
            memory.write64(arg, period);
            assertThat(call(abi, VCPUOP_set_periodic_timer, 0, arg)).as("period %d", period).isEqualTo(-XEN_EINVAL);
            assertThat(vcpuTimers.period(0)).isZero();
        }
        memory.write64(arg, MS);
        assertThat(call(abi, VCPUOP_set_periodic_timer, 0, arg)).isZero();
        memory.write64(arg, Long.MAX_VALUE); // STIME_DELTA_MAX itself
        assertThat(call(abi, VCPUOP_set_periodic_timer, 0, arg)).isZero();
        assertThat(vcpuTimers.period(0)).isEqualTo(Long.MAX_VALUE);
        timers.advance(1_000 * MS);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void periodicTimerOfAnotherVcpuAndItsFaults(Abi abi) {
        memory.write64(arg, 5 * MS);
        assertThat(call(abi, VCPUOP_set_periodic_timer, 1, arg)).as("any vCPU of the domain").isZero();
        assertThat(vcpuTimers.period(1)).isEqualTo(5 * MS);
        assertThat(call(abi, VCPUOP_stop_periodic_timer, 1, 0)).isZero();
        assertThat(vcpuTimers.period(1)).isZero();
        memory.unmap(memory.page(3));
        assertThat(call(abi, VCPUOP_set_periodic_timer, 0, memory.page(3) - 7)).isEqualTo(-XEN_EFAULT);
    }

    // ---- singleshot timer ------------------------------------------------------------------------------

    private void putSingleshot(Abi abi, long timeout, int flags) {
        memory.write64(arg, timeout);
        memory.write32(arg + 8, flags); // flags follow the u64 in both ABIs; only the padding differs
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void singleshotTimerSendsVirqTimerWhenItFires(Abi abi) {
        putSingleshot(abi, BOOT + 5 * MS, 0);
        assertThat(call(abi, VCPUOP_set_singleshot_timer, 0, arg)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(BOOT + 5 * MS);
        timers.advance(4 * MS);
        assertThat(takeTimerEvent()).isFalse();
        timers.advance(MS);
        assertThat(takeTimerEvent()).isTrue();
        timers.advance(100 * MS);
        assertThat(takeTimerEvent()).as("once").isFalse();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aSingleshotTimeoutInThePastSendsTheEventAtOnceFutureFlagOrNot(Abi abi) {
        putSingleshot(abi, BOOT + 50 * MS, 0);
        call(abi, VCPUOP_set_singleshot_timer, 0, arg);
        // 4.17.5 ignores VCPU_SSHOTTMR_future: no -ETIME
        putSingleshot(abi, BOOT - 1, VCPU_SSHOTTMR_future);
        assertThat(call(abi, VCPUOP_set_singleshot_timer, 0, arg)).isZero();
        assertThat(takeTimerEvent()).isTrue();
        assertThat(vcpuTimers.singleshotDeadline(0)).as("the armed timer is stopped").isZero();
        timers.advance(100 * MS);
        assertThat(takeTimerEvent()).isFalse();

        putSingleshot(abi, 1, 0);
        assertThat(call(abi, VCPUOP_set_singleshot_timer, 0, arg)).isZero();
        assertThat(takeTimerEvent()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aSingleshotTimeoutWithBit63IsNotInThePastUnsignedItFiresAtOnceAsANegativeTime(Abi abi) {
        putSingleshot(abi, Long.MIN_VALUE, VCPU_SSHOTTMR_future);
        assertThat(call(abi, VCPUOP_set_singleshot_timer, 0, arg)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isEqualTo(Long.MIN_VALUE);
        assertThat(takeTimerEvent()).isFalse();
        timers.runDue();
        assertThat(takeTimerEvent()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void stopSingleshotTimer(Abi abi) {
        putSingleshot(abi, BOOT + 5 * MS, 0);
        call(abi, VCPUOP_set_singleshot_timer, 0, arg);
        assertThat(call(abi, VCPUOP_stop_singleshot_timer, 0, 0)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(0)).isZero();
        timers.advance(10 * MS);
        assertThat(takeTimerEvent()).isFalse();
        assertThat(call(abi, VCPUOP_stop_singleshot_timer, 0, 0)).as("none armed").isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void singleshotTimersOfAnotherVcpuAreEinval(Abi abi) {
        putSingleshot(abi, BOOT + 5 * MS, 0);
        assertThat(call(abi, VCPUOP_set_singleshot_timer, 1, arg)).isEqualTo(-XEN_EINVAL);
        assertThat(call(abi, VCPUOP_stop_singleshot_timer, 1, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(vcpuTimers.singleshotDeadline(1)).isZero();
        assertThat(harness(abi).vcpu(1).call(VCPUOP_set_singleshot_timer, 0, arg)).isEqualTo(-XEN_EINVAL);
        assertThat(harness(abi).vcpu(1).call(VCPUOP_set_singleshot_timer, 1, arg)).isZero();
        assertThat(vcpuTimers.singleshotDeadline(1)).isEqualTo(BOOT + 5 * MS);
    }

    @Test
    void nativeChecksTheVcpuBeforeTheStructCompatAfter() {
        long unmapped = memory.end();
        assertThat(call(Abi.X86_64, VCPUOP_set_singleshot_timer, 1, unmapped)).isEqualTo(-XEN_EINVAL);
        assertThat(call(Abi.X86_32, VCPUOP_set_singleshot_timer, 1, unmapped)).isEqualTo(-XEN_EFAULT);
        assertThat(call(Abi.X86_64, VCPUOP_set_singleshot_timer, 0, unmapped)).isEqualTo(-XEN_EFAULT);
        assertThat(call(Abi.X86_32, VCPUOP_set_singleshot_timer, 0, unmapped)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void theSingleshotStructIs16BytesNativeAnd12Compat() {
        memory.unmap(memory.page(3));
        long last12 = memory.page(3) - 12;
        memory.write64(last12, BOOT + 5 * MS);
        assertThat(call(Abi.X86_32, VCPUOP_set_singleshot_timer, 0, last12)).isZero();
        assertThat(call(Abi.X86_64, VCPUOP_set_singleshot_timer, 0, last12)).isEqualTo(-XEN_EFAULT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void timerSubOpsOnADomainWithoutVcpuTimersFail(Abi abi) {
        Domain bare = FakeDomains.guest(9);
        HandlerHarness harness = HandlerHarness.of(new VcpuOpHandler()).domain(bare).memory(memory).abi(abi);
        memory.write64(arg, 10 * MS);
        assertThat(harness.call(VCPUOP_set_periodic_timer, 0, arg)).isEqualTo(-XEN_EIO);
        assertThat(harness.call(VCPUOP_stop_singleshot_timer, 0, 0)).isEqualTo(-XEN_EIO);
        assertThat(harness.failures()).hasSize(2).allMatch(IllegalStateException.class::isInstance);
        assertThat(harness.call(VCPUOP_get_runstate_info, 0, arg)).as("runstate needs no timers").isZero();
    }

    // ---- register_vcpu_info ------------------------------------------------------------------------------

    /** A platform's SharedInfo that records what it is asked. */
    private static final class RecordingSharedInfo implements SharedInfo {
        final List<String> calls = new ArrayList<>();
        int answer;

        @Override
        public int registerVcpuInfo(int vcpu, long gfn, int offset) {
            calls.add("register " + vcpu + " 0x" + Long.toHexString(gfn) + " " + offset);
            return answer;
        }

        @Override
        public void updateTime(int vcpu) {
            calls.add("time " + vcpu);
        }
    }

    private RecordingSharedInfo attachSharedInfo() {
        RecordingSharedInfo shared = new RecordingSharedInfo();
        domain.attach(SharedInfo.KEY, shared);
        return shared;
    }

    private void putVcpuInfo(long gfn, int offset, int rsvd) {
        memory.write64(arg, gfn); // mfn, offset and rsvd sit at 0, 8, 12 in both ABIs
        memory.write32(arg + 8, offset);
        memory.write32(arg + 12, rsvd);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerVcpuInfoDelegatesToSharedInfoThenUpdatesTheTime(Abi abi) {
        RecordingSharedInfo shared = attachSharedInfo();
        putVcpuInfo(0x1_2345_6789L, 64, 0);
        assertThat(call(abi, VCPUOP_register_vcpu_info, 0, arg)).isZero();
        assertThat(shared.calls).containsExactly("register 0 0x123456789 64", "time 0");

        shared.calls.clear();
        shared.answer = -XEN_EINVAL; // registered already, say
        putVcpuInfo(0x99, 0, 0xFFFF);  // rsvd is not looked at
        assertThat(call(abi, VCPUOP_register_vcpu_info, 0, arg)).isEqualTo(-XEN_EINVAL);
        assertThat(shared.calls).containsExactly("register 0 0x99 0", "time 0");
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerVcpuInfoOffsetMustLeaveRoomAndBeAlignedElseEnxio(Abi abi) {
        RecordingSharedInfo shared = attachSharedInfo();
        for (int offset : new int[] {4096 - 64 + 8, 4096, -1, -64, 4}) {
            putVcpuInfo(0x99, offset, 0);
            assertThat(call(abi, VCPUOP_register_vcpu_info, 0, arg)).as("offset %d", offset).isEqualTo(-XEN_ENXIO);
        }
        assertThat(shared.calls).as("only the time update").containsOnly("time 0");
        putVcpuInfo(0x99, 4096 - 64, 0);
        assertThat(call(abi, VCPUOP_register_vcpu_info, 0, arg)).isZero();
        assertThat(shared.calls).contains("register 0 0x99 4032");
    }

    @Test
    void aThirtyTwoBitSharedInfoAlignsVcpuInfoToFourBytes() {
        RecordingSharedInfo shared = attachSharedInfo();
        channels.latchSharedInfoWidth(Abi.X86_32);
        putVcpuInfo(0x99, 4, 0);
        assertThat(call(Abi.X86_32, VCPUOP_register_vcpu_info, 0, arg)).isZero();
        assertThat(shared.calls).contains("register 0 0x99 4");
        putVcpuInfo(0x99, 6, 0);
        assertThat(call(Abi.X86_32, VCPUOP_register_vcpu_info, 0, arg)).isEqualTo(-XEN_ENXIO);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerVcpuInfoOfAnotherVcpuOnlyWhileItIsDown(Abi abi) {
        RecordingSharedInfo shared = attachSharedInfo();
        putVcpuInfo(0x99, 128, 0);
        assertThat(call(abi, VCPUOP_register_vcpu_info, 1, arg)).isZero();
        assertThat(shared.calls).containsExactly("register 1 0x99 128", "time 1");

        shared.calls.clear();
        vcpus.setOnline(2);
        assertThat(call(abi, VCPUOP_register_vcpu_info, 1, arg)).isEqualTo(-XEN_EINVAL);
        assertThat(shared.calls).containsExactly("time 1");
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerVcpuInfoWithoutSharedInfoIsEinvalAsAFrameThatCannotBeHad(Abi abi) {
        putVcpuInfo(0x99, 64, 0);
        assertThat(call(abi, VCPUOP_register_vcpu_info, 0, arg)).isEqualTo(-XEN_EINVAL);
        putVcpuInfo(0x99, 4095, 0);
        assertThat(call(abi, VCPUOP_register_vcpu_info, 0, arg)).isEqualTo(-XEN_ENXIO);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerVcpuInfoFromMemoryTheCallerLacksIsEfaultBeforeAnything(Abi abi) {
        RecordingSharedInfo shared = attachSharedInfo();
        memory.unmap(memory.page(3));
        assertThat(call(abi, VCPUOP_register_vcpu_info, 0, memory.page(3) - 15)).isEqualTo(-XEN_EFAULT);
        assertThat(shared.calls).isEmpty();
    }

    // ---- what xenshim does not offer, and unknown ops -------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void sendNmiChecksItsArgumentThenNeedsThePlatform(Abi abi) {
        assertThat(call(abi, VCPUOP_send_nmi, 0, arg)).isEqualTo(-XEN_EINVAL);
        assertThat(call(abi, VCPUOP_send_nmi, 0, 0)).isEqualTo(-XEN_ENOSYS);
        assertThat(call(abi, VCPUOP_send_nmi, 1, 0)).isEqualTo(-XEN_ENOSYS);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void getPhysidIsEinvalNoVcpuIsPinned(Abi abi) {
        assertThat(call(abi, VCPUOP_get_physid, 0, arg)).isEqualTo(-XEN_EINVAL);
        assertThat(call(abi, VCPUOP_get_physid, 0, memory.end())).isEqualTo(-XEN_EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void registerVcpuTimeMemoryAreaIsEnosys(Abi abi) {
        memory.write64(arg, area);
        assertThat(call(abi, VCPUOP_register_vcpu_time_memory_area, 0, arg)).isEqualTo(-XEN_ENOSYS);
        assertThat(call(abi, VCPUOP_register_vcpu_time_memory_area, 0, memory.end())).isEqualTo(-XEN_ENOSYS);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void unknownOpsAreEnosys(Abi abi) {
        for (int cmd : new int[] {14, 15, 16, 100, Integer.MAX_VALUE, -1, Integer.MIN_VALUE}) {
            assertThat(call(abi, cmd, 0, arg)).as("cmd %d", cmd).isEqualTo(-XEN_ENOSYS);
        }
    }
}
