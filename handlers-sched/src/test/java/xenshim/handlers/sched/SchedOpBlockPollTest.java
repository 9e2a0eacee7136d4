package xenshim.handlers.sched;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenSched.SCHEDOP_block;
import static xenshim.api.xen.XenSched.SCHEDOP_poll;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.ArrayEventWords;
import xenshim.api.Domain;
import xenshim.api.EventChannels;
import xenshim.api.EventWords;
import xenshim.api.Upcall;
import xenshim.api.Vcpus;
import xenshim.api.xen.XenEvtchn;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/**
 * {@code SCHEDOP_block} and {@code SCHEDOP_poll}: the state each leaves in the caller's {@link Vcpus}, and
 * the wakes that end it. The domain's upcall is bound as the runtime binds it: {@code raise} unblocks the
 * vCPU ({@code vcpu_kick}), {@code checkPollers} is {@link Vcpus#checkPollers}; the waker records whom it
 * woke.
 */
class SchedOpBlockPollTest {

    private final Domain guest = FakeDomains.guest(5);
    private final Domain other = FakeDomains.guest(6);
    private final List<Integer> woken = new CopyOnWriteArrayList<>();
    private final List<Integer> raised = new CopyOnWriteArrayList<>();
    private FakeGuestMemory memory;
    private long arg;
    private long list;
    private EventChannels events;
    private EventWords words;
    private Vcpus vcpus;

    @BeforeEach
    void setUp() {
        memory = FakeGuestMemory.standard();
        arg = memory.page(1) + 0x20;
        list = memory.page(3) + 0x100;
        for (Domain d : new Domain[] {guest, other}) {
            Vcpus v = d.state(Vcpus.KEY);
            v.setOnline(2);
            d.state(EventChannels.KEY).setMaxVcpus(2);
            d.state(EventChannels.KEY).bind(new ArrayEventWords(), new Upcall() {
                @Override
                public void raise(int vcpu) {
                    if (d == guest) {
                        raised.add(vcpu);
                    }
                    v.unblock(vcpu);
                }

                @Override
                public void checkPollers(int port) {
                    v.checkPollers(port);
                }
            });
        }
        events = guest.state(EventChannels.KEY);
        words = events.words();
        vcpus = guest.state(Vcpus.KEY);
        vcpus.bindWaker(woken::add);
    }

    private HandlerHarness harness(Abi abi, int vcpu) {
        return HandlerHarness.of(new SchedOpHandler(domid -> Optional.empty())).domain(guest).memory(memory)
                .abi(abi).vcpu(vcpu);
    }

    /** Writes {@code struct sched_poll} at {@code arg} and the ports at {@code list}, and polls from vCPU 0. */
    private long poll(Abi abi, long timeout, int... ports) {
        for (int i = 0; i < ports.length; i++) {
            memory.write32(list + 4L * i, ports[i]);
        }
        return pollList(abi, list, ports.length, timeout);
    }

    private long pollList(Abi abi, long portsAddress, long nrPorts, long timeout) {
        if (abi == Abi.X86_64) {
            memory.write64(arg + SchedStructs.POLL_PORTS.offset(abi), portsAddress);
        } else {
            memory.write32(arg + SchedStructs.POLL_PORTS.offset(abi), (int) portsAddress);
        }
        memory.write32(arg + SchedStructs.POLL_NR_PORTS.offset(abi), (int) nrPorts);
        memory.write64(arg + SchedStructs.POLL_TIMEOUT.offset(abi), timeout);
        return harness(abi, 0).call(SCHEDOP_poll, arg);
    }

    /** A masked IPI port of vCPU 0, as a guest polls a spinlock's port: pending never raises an upcall. */
    private int maskedPort() {
        int port = events.bindIpi(0);
        words.setMask(port);
        return port;
    }

    private void assertRunning(int vcpu) {
        assertThat(vcpus.isBlocked(vcpu)).as("blocked").isFalse();
        assertThat(vcpus.isPolling(vcpu)).as("polling").isFalse();
        assertThat(vcpus.pollDeadline(vcpu)).as("deadline").isZero();
    }

    // ---- the struct ----------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void schedPollIs24BytesOr16InCompat(Abi abi) {
        assertThat(abi.layouts().sched_poll.byteSize()).isEqualTo(abi == Abi.X86_64 ? 24 : 16);
        assertThat(SchedStructs.POLL_TIMEOUT.offset(abi)).isEqualTo(abi == Abi.X86_64 ? 16 : 8);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUnreadableStructIsEfaultAndBlocksNothing(Abi abi) {
        memory.unmap(arg);
        assertThat(harness(abi, 0).call(SCHEDOP_poll, arg)).isEqualTo(-XEN_EFAULT);
        assertRunning(0);
    }

    // ---- SCHEDOP_poll: at once -------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void pollOnAPendingPortReturnsZeroAndLeavesTheVcpuRunning(Abi abi) {
        int port = maskedPort();
        assertThat(EventChannels.send(guest, port)).isZero();
        assertThat(words.upcallPending(0)).as("masked: no upcall").isFalse();

        assertThat(poll(abi, 0, port)).isZero();

        assertRunning(0);
        assertThat(woken).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPendingUpcallReturnsZeroBeforeAnyPortIsRead(Abi abi) {
        words.testAndSetUpcallPending(0);
        assertThat(poll(abi, 0, 99_999)).as("not looked at").isZero();
        assertRunning(0);
        memory.unmap(list);
        assertThat(pollList(abi, list, 1, 0)).as("not read").isZero();
        assertRunning(0);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void moreThan128PortsIsEinvalBeforeAnythingElse(Abi abi) {
        words.testAndSetUpcallPending(0);
        assertThat(pollList(abi, list, 129, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(pollList(abi, list, 0xFFFF_FFFFL, 0)).isEqualTo(-XEN_EINVAL);
        assertRunning(0);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void oneHundredAndTwentyEightPortsArePolled(Abi abi) {
        int port = maskedPort();
        int[] ports = IntStream.range(0, 128).map(i -> i == 127 ? port : 0).toArray(); // port 0 is valid
        assertThat(poll(abi, 0, ports)).isZero();
        assertThat(vcpus.isBlocked(0)).isTrue();
        assertThat(vcpus.polledPort(0)).as("several ports: any").isEqualTo(-1);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPortBeyondTheTableIsEinval(Abi abi) {
        events.latchSharedInfoWidth(abi);
        int max = abi == Abi.X86_64 ? 4096 : 1024;
        assertThat(events.maxPorts()).isEqualTo(max);
        assertThat(poll(abi, 0, 64)).as("beyond the buckets allocated so far").isEqualTo(-XEN_EINVAL);
        assertRunning(0);
        for (int i = 1; i < max; i++) {
            assertThat(events.bindIpi(0)).isEqualTo(i);
        }
        assertThat(poll(abi, 0, max)).isEqualTo(-XEN_EINVAL);
        assertRunning(0);
        assertThat(poll(abi, 0, -1)).isEqualTo(-XEN_EINVAL); // evtchn_port_t 0xffffffff
        assertRunning(0);
        assertThat(poll(abi, 0, max - 1)).as("the last port is fine").isZero();
        assertThat(vcpus.isBlocked(0)).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void portsAreLookedAtInOrder(Abi abi) {
        int pending = maskedPort();
        EventChannels.send(guest, pending);
        assertThat(poll(abi, 0, pending, 5000)).isZero();
        assertThat(poll(abi, 0, 5000, pending)).isEqualTo(-XEN_EINVAL);
        assertRunning(0);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aFaultInThePortListIsEfaultAndBlocksNothing(Abi abi) {
        int port = maskedPort();
        long edge = memory.page(5) - 4; // one port readable, the next on an unmapped page
        memory.unmap(memory.page(5));
        memory.write32(edge, port);
        assertThat(pollList(abi, edge, 2, 0)).isEqualTo(-XEN_EFAULT);
        assertRunning(0);
        assertThat(pollList(abi, memory.page(5), 1, 0)).isEqualTo(-XEN_EFAULT);
        assertRunning(0);
        // a pending port before the fault answers first
        EventChannels.send(guest, port);
        assertThat(pollList(abi, edge, 2, 0)).isZero();
        assertThat(woken).isEmpty();
    }

    // ---- SCHEDOP_poll: blocked, then woken ---------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void pollOnAPortThatIsNotPendingBlocksUntilItIsSentOn(Abi abi) {
        int port = maskedPort();
        int unrelated = maskedPort();

        assertThat(poll(abi, 0, port)).isZero();
        assertThat(vcpus.isBlocked(0)).isTrue();
        assertThat(vcpus.isPolling(0)).isTrue();
        assertThat(vcpus.polledPort(0)).isEqualTo(port);
        assertThat(vcpus.pollDeadline(0)).as("no timeout").isZero();

        EventChannels.send(guest, unrelated);
        assertThat(vcpus.isBlocked(0)).as("another port").isTrue();
        assertThat(woken).isEmpty();

        EventChannels.send(guest, port);
        assertRunning(0);
        assertThat(woken).containsExactly(0);
        assertThat(raised).as("masked: woken by the poll, not an upcall").isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anInterdomainPortPolledIsWokenByThePeersSend(Abi abi) {
        int local = events.allocUnbound(guest, guest, other.domid());
        words.setMask(local);
        int remote = EventChannels.bindInterdomain(other, guest, local); // the binder's own port is pending

        assertThat(poll(abi, 0, local)).isZero();
        assertThat(vcpus.isBlocked(0)).isTrue();

        assertThat(EventChannels.send(other, remote)).isZero();
        assertRunning(0);
        assertThat(woken).containsExactly(0);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void severalPortsOrNoneAreWokenByAnyPort(Abi abi) {
        int a = maskedPort();
        int b = maskedPort();
        int c = maskedPort();
        assertThat(poll(abi, 0, a, b)).isZero();
        assertThat(vcpus.polledPort(0)).isEqualTo(-1);
        EventChannels.send(guest, c); // Xen wakes a several-port poller on any port
        assertThat(woken).containsExactly(0);

        assertThat(pollList(abi, list, 0, 0)).isZero();
        assertThat(vcpus.isBlocked(0)).isTrue();
        EventChannels.send(guest, b);
        assertThat(woken).containsExactly(0, 0);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void theTimeoutIsStoredAsTheDeadlineAndEndsThePoll(Abi abi) {
        int port = maskedPort();
        long deadline = 0x1_2345_6789_ABCDL;
        assertThat(poll(abi, deadline, port)).isZero();
        assertThat(vcpus.pollDeadline(0)).isEqualTo(deadline);

        vcpus.pollTimedOut(0); // what the vCPU loop calls when the deadline passes
        assertRunning(0);
        assertThat(woken).containsExactly(0);
        EventChannels.send(guest, port);
        assertThat(woken).as("woken once").containsExactly(0);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUpcallWakesAPoll(Abi abi) {
        int polled = maskedPort();
        int ipi = events.bindIpi(0); // unmasked: sending raises the upcall
        assertThat(poll(abi, 0, polled)).isZero();
        EventChannels.send(guest, ipi);
        assertThat(raised).containsExactly(0);
        assertThat(vcpus.isBlocked(0)).isFalse();
        assertThat(woken).containsExactly(0);
    }

    // ---- SCHEDOP_block ------------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void blockWithAnUpcallPendingReturnsAtOnceWithEventsEnabled(Abi abi) {
        words.setUpcallMask(0, true);
        words.testAndSetUpcallPending(0);

        assertThat(harness(abi, 0).call(SCHEDOP_block, 0xdead)).isZero();

        assertThat(words.upcallMasked(0)).as("local_event_delivery_enable").isFalse();
        assertRunning(0);
        assertThat(woken).isEmpty();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void blockWithNothingPendingBlocksUntilAnUpcall(Abi abi) {
        words.setUpcallMask(0, true);
        int ipi = events.bindIpi(0);

        assertThat(harness(abi, 0).call(SCHEDOP_block, 0)).isZero();

        assertThat(words.upcallMasked(0)).isFalse();
        assertThat(vcpus.isBlocked(0)).isTrue();
        assertThat(vcpus.isPolling(0)).isFalse();
        assertThat(vcpus.pollDeadline(0)).isZero();

        EventChannels.send(guest, ipi); // set_pending → upcall → the runtime's raise unblocks
        assertThat(raised).containsExactly(0);
        assertThat(vcpus.isBlocked(0)).isFalse();
        assertThat(woken).containsExactly(0);
    }

    @Test
    void aBlockedVcpuIgnoresPortsItDoesNotPoll() {
        int port = maskedPort();
        assertThat(harness(Abi.X86_64, 0).call(SCHEDOP_block, 0)).isZero();
        EventChannels.send(guest, port); // masked: no upcall, and no poller
        assertThat(vcpus.isBlocked(0)).isTrue();
        vcpus.unblock(0);
        assertThat(woken).containsExactly(0);
    }

    @Test
    void eachVcpuBlocksOnItsOwnUpcall() {
        words.testAndSetUpcallPending(0);
        assertThat(harness(Abi.X86_32, 1).call(SCHEDOP_block, 0)).isZero();
        assertThat(vcpus.isBlocked(1)).as("vCPU 0's upcall is not vCPU 1's").isTrue();
        assertThat(vcpus.isBlocked(0)).isFalse();
        events.sendVirq(1, XenEvtchn.VIRQ_TIMER); // unbound: nothing
        assertThat(vcpus.isBlocked(1)).isTrue();
        int timer = events.bindVirq(XenEvtchn.VIRQ_TIMER, 1);
        assertThat(timer).isPositive();
        events.sendVirq(1, XenEvtchn.VIRQ_TIMER);
        assertThat(raised).containsExactly(1);
        assertThat(woken).containsExactly(1);
    }

    @Test
    void aFreshHandlerSeesTheSameState() {
        int port = maskedPort();
        assertThat(poll(Abi.X86_64, 0, port)).isZero();
        // a swapped-in handler (a new instance) finds the poll through the domain's state
        assertThat(HandlerHarness.of(SchedOpHandler.provider()).domain(guest).memory(memory).vcpu(1)
                .call(SCHEDOP_block, 0)).isZero();
        assertThat(vcpus.isBlocked(1)).isTrue();
        EventChannels.send(guest, port);
        assertThat(woken).containsExactly(0);
    }
}
