package xenshim.handlers.hvm;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;
import static xenshim.api.xen.XenHvm.*;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import xenshim.api.Abi;
import xenshim.api.ArrayEventWords;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.DomainType;
import xenshim.api.EventChannels;
import xenshim.api.HvmParams;
import xenshim.api.Vcpus;
import xenshim.api.XenClock;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.XenDomains;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/**
 * What {@code hvm_op} does for event delivery and time: {@code HVMOP_set_evtchn_upcall_vector},
 * {@code HVM_PARAM_CALLBACK_IRQ}'s {@code hvm_set_callback_via}, {@code HVMOP_get_time}. The guest has three
 * vCPUs, two of them up; its upcalls are recorded as the runtime would be asked to raise them.
 */
class HvmOpEventsTest {

    private static final long NOW = 0x0123_4567_89AB_CDEFL;

    private final Domain guest = FakeDomains.guest(5);
    private final Domain other = FakeDomains.guest(6);
    private final Domain dom0 = FakeDomains.privilegedGuest(0);
    private final Domain localDom0 = new Domain(7, true, DomainType.LOCAL, new java.util.UUID(0, 7));
    private final DomainDirectory directory = FakeDomains.directory(guest, other, dom0, localDom0);
    private final List<Integer> raised = new CopyOnWriteArrayList<>();
    private FakeGuestMemory memory;
    private long arg;
    private EventChannels events;

    @BeforeEach
    void setUp() {
        memory = FakeGuestMemory.standard();
        arg = memory.page(2) + 0x40;
        events = guest.state(EventChannels.KEY);
        events.setMaxVcpus(3);
        events.bind(new ArrayEventWords(), raised::add);
        guest.state(Vcpus.KEY).setOnline(2);
    }

    private HandlerHarness harness(Domain caller, Abi abi) {
        return HandlerHarness.of(new HvmOpHandler(directory, new FixedClock(NOW))).domain(caller).memory(memory)
                .abi(abi);
    }

    private long setUpcallVector(Domain caller, Abi abi, int vcpu, int vector) {
        StructLayoutOffsets o = new StructLayoutOffsets(abi);
        memory.fill(arg, 8, (byte) 0xAA); // padding as the guest left it
        memory.write32(arg + o.vcpu, vcpu);
        memory.write8(arg + o.vector, (byte) vector);
        return harness(caller, abi).call(HVMOP_set_evtchn_upcall_vector, arg);
    }

    private record StructLayoutOffsets(long vcpu, long vector) {
        StructLayoutOffsets(Abi abi) {
            this(AbiLayouts.offset(abi.layouts().xen_hvm_evtchn_upcall_vector, "vcpu"),
                    AbiLayouts.offset(abi.layouts().xen_hvm_evtchn_upcall_vector, "vector"));
        }
    }

    private long setCallbackIrq(Domain caller, int domid, long value) {
        Abi abi = Abi.X86_64;
        memory.write16(arg + AbiLayouts.offset(abi.layouts().xen_hvm_param, "domid"), (short) domid);
        memory.write32(arg + AbiLayouts.offset(abi.layouts().xen_hvm_param, "index"), HVM_PARAM_CALLBACK_IRQ);
        memory.write64(arg + AbiLayouts.offset(abi.layouts().xen_hvm_param, "value"), value);
        return harness(caller, abi).call(HVMOP_set_param, arg);
    }

    private static long via(int type, long low) {
        return ((long) type << 56) | low;
    }

    // ---- HVMOP_set_evtchn_upcall_vector ------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void theStructIsEightBytesInBothAbis(Abi abi) {
        assertThat(abi.layouts().xen_hvm_evtchn_upcall_vector.byteSize()).isEqualTo(8);
        assertThat(new StructLayoutOffsets(abi)).isEqualTo(new StructLayoutOffsets(0, 4));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aVectorIsSetPerVcpuAndNothingIsRaisedWhenNothingIsPending(Abi abi) {
        assertThat(setUpcallVector(guest, abi, 1, 0xf3)).isZero();
        assertThat(guest.state(Vcpus.KEY).upcallVector(1)).isEqualTo(0xf3);
        assertThat(guest.state(Vcpus.KEY).upcallVector(0)).isZero();
        assertThat(raised).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPendingUpcallIsAssertedAgainOnTheNewVector(Abi abi) {
        events.words().testAndSetUpcallPending(1);
        assertThat(setUpcallVector(guest, abi, 1, 0x10)).isZero();
        assertThat(raised).containsExactly(1);
        assertThat(guest.state(Vcpus.KEY).upcallVector(1)).isEqualTo(0x10);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aVectorBelowSixteenIsEinvalBeforeTheVcpuIsLookedAt(Abi abi) {
        assertThat(setUpcallVector(guest, abi, 0, 0x0f)).isEqualTo(-XEN_EINVAL);
        assertThat(setUpcallVector(guest, abi, 0, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(setUpcallVector(guest, abi, 99, 0x0f)).isEqualTo(-XEN_EINVAL);
        assertThat(guest.state(Vcpus.KEY).upcallVector(0)).isZero();
        assertThat(setUpcallVector(guest, abi, 0, 0xff)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aVcpuTheDomainLacksIsEnoentButOneNotYetUpIsFine(Abi abi) {
        assertThat(setUpcallVector(guest, abi, 3, 0xf3)).isEqualTo(-XEN_ENOENT);
        assertThat(setUpcallVector(guest, abi, -1, 0xf3)).as("vcpu 0xffffffff").isEqualTo(-XEN_ENOENT);
        assertThat(setUpcallVector(guest, abi, 2, 0xf3)).as("vCPU 2 exists, is not up").isZero();
        assertThat(guest.state(Vcpus.KEY).upcallVector(2)).isEqualTo(0xf3);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aCallerThatIsNotHvmIsEinvalBeforeTheCopy(Abi abi) {
        memory.unmap(arg);
        assertThat(harness(localDom0, abi).call(HVMOP_set_evtchn_upcall_vector, arg)).isEqualTo(-XEN_EINVAL);
        assertThat(harness(guest, abi).call(HVMOP_set_evtchn_upcall_vector, arg)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void theWholeStructIsRead() {
        long edge = memory.page(4) - 5; // vcpu and vector readable, the padding on an unmapped page
        memory.unmap(memory.page(4));
        memory.write32(edge, 0);
        memory.write8(edge + 4, (byte) 0xf3);
        assertThat(harness(guest, Abi.X86_32).call(HVMOP_set_evtchn_upcall_vector, edge)).isEqualTo(-XEN_EFAULT);
        assertThat(guest.state(Vcpus.KEY).upcallVector(0)).isZero();
    }

    // ---- HVM_PARAM_CALLBACK_IRQ --------------------------------------------------------------------------------

    @Test
    void theVectorTypeAssertsEveryOnlineVcpusPendingUpcall() {
        events.words().testAndSetUpcallPending(0);
        events.words().testAndSetUpcallPending(2); // exists, but not up: Xen asserts online vCPUs only
        assertThat(setCallbackIrq(guest, XenDomains.DOMID_SELF, via(HVM_PARAM_CALLBACK_TYPE_VECTOR, 0xf3))).isZero();
        assertThat(guest.state(HvmParams.KEY).get(HVM_PARAM_CALLBACK_IRQ))
                .isEqualTo(via(HVM_PARAM_CALLBACK_TYPE_VECTOR, 0xf3));
        assertThat(raised).containsExactly(0);

        events.words().testAndSetUpcallPending(1);
        assertThat(setCallbackIrq(dom0, guest.domid(), via(HVM_PARAM_CALLBACK_TYPE_VECTOR, 0xf4))).isZero();
        assertThat(raised).as("the toolstack setting it too").containsExactly(0, 0, 1);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 9, (0L << 56) | 0, (1L << 56) | (3 << 11) | 1, (3L << 56) | 0xf3, (0xFFL << 56) | 0xf3})
    void otherTypesAreStoredAndDeliverNothingWithoutAnEmulatedInterruptController(long value) {
        events.words().testAndSetUpcallPending(0);
        assertThat(setCallbackIrq(guest, XenDomains.DOMID_SELF, value)).isZero();
        assertThat(guest.state(HvmParams.KEY).get(HVM_PARAM_CALLBACK_IRQ)).isEqualTo(value);
        assertThat(raised).isEmpty();
    }

    @Test
    void aRefusedSetAssertsNothing() {
        events.words().testAndSetUpcallPending(0);
        other.state(EventChannels.KEY).bind(new ArrayEventWords(), raised::add);
        other.state(EventChannels.KEY).words().testAndSetUpcallPending(0);
        assertThat(setCallbackIrq(guest, other.domid(), via(HVM_PARAM_CALLBACK_TYPE_VECTOR, 0xf3))).isNegative();
        assertThat(raised).isEmpty();
    }

    // ---- HVMOP_get_time ----------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void getTimeWritesThePlatformsSystemTime(Abi abi) {
        assertThat(abi.layouts().xen_hvm_get_time.byteSize()).isEqualTo(8);
        memory.write64(arg + 8, -1);
        assertThat(harness(guest, abi).call(HVMOP_get_time, arg)).isZero();
        assertThat(memory.read64(arg)).isEqualTo(NOW);
        assertThat(memory.read64(arg + 8)).as("8 bytes only").isEqualTo(-1);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void getTimeIntoMemoryTheCallerCannotWriteIsEfault(Abi abi) {
        memory.readOnly(arg);
        assertThat(harness(guest, abi).call(HVMOP_get_time, arg)).isEqualTo(-XEN_EFAULT);
        assertThat(harness(guest, abi).call(HVMOP_get_time, 0)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void getTimeAsksTheClockEachTime() {
        XenClock ticking = new XenClock() {
            private long now = 100;

            @Override
            public long now() {
                return now += 100;
            }

            @Override
            public long wallclockAtZero() {
                return 0;
            }
        };
        HandlerHarness harness = HandlerHarness.of(new HvmOpHandler(directory, ticking)).domain(localDom0)
                .memory(memory);
        assertThat(harness.call(HVMOP_get_time, arg)).isZero();
        assertThat(memory.read64(arg)).isEqualTo(200);
        assertThat(harness.call(HVMOP_get_time, arg)).isZero();
        assertThat(memory.read64(arg)).isEqualTo(300);
    }

    @Test
    void theProvidersClockStartsNow() {
        assertThat(HandlerHarness.of(HvmOpHandler.provider()).domain(guest).memory(memory).call(HVMOP_get_time, arg))
                .isZero();
        assertThat(memory.read64(arg)).isNotNegative().isLessThan(60_000_000_000L);
    }
}
