package xenshim.handlers.evtchn;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EEXIST;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOENT;
import static xenshim.api.xen.XenErrno.XEN_ENOSPC;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EOPNOTSUPP;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;
import static xenshim.api.xen.XenEvtchn.*;
import static xenshim.handlers.evtchn.EvtchnStructs.*;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.ArrayEventWords;
import xenshim.api.Domain;
import xenshim.api.DomainDirectory;
import xenshim.api.EventChannels;
import xenshim.api.abi.Member;
import xenshim.api.xen.XenDomains;
import xenshim.testkit.FakeDomains;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/**
 * {@code event_channel_op} through the testkit's harness, each sub-op's success and failure paths, in both
 * ABIs where it matters (the harness's compat calls use the {@code -m32} layouts).
 */
class EventChannelOpHandlerTest {

    private final Domain dom0 = FakeDomains.privilegedGuest(0);
    private final Domain guest = FakeDomains.guest(5);
    private final Domain other = FakeDomains.guest(6);
    private final Domain third = FakeDomains.guest(7);
    private final DomainDirectory directory = FakeDomains.directory(dom0, guest, other, third);
    private final Map<Domain, List<Integer>> upcalls = new ConcurrentHashMap<>();
    private FakeGuestMemory memory;
    private long arg;
    private EventChannelOpHandler handler;

    @BeforeEach
    void setUp() {
        for (Domain d : new Domain[] {dom0, guest, other, third}) {
            List<Integer> raised = new ArrayList<>();
            upcalls.put(d, raised);
            d.state(EventChannels.KEY).bind(new ArrayEventWords(), raised::add);
        }
        memory = FakeGuestMemory.standard();
        arg = memory.page(1) + 0x40;
        handler = new EventChannelOpHandler(directory);
    }

    // ---- helpers: one call each, answering the OUT port or the errno -------------------------------------

    private HandlerHarness as(Domain caller, Abi abi) {
        return HandlerHarness.of(handler).domain(caller).memory(memory).abi(abi);
    }

    private void clear() {
        memory.fill(arg, 64, (byte) 0);
    }

    private void put16(Member m, Abi abi, int value) {
        memory.write16(arg + m.offset(abi), (short) value);
    }

    private void put32(Member m, Abi abi, int value) {
        memory.write32(arg + m.offset(abi), value);
    }

    private int get32(Member m, Abi abi) {
        return memory.read32(arg + m.offset(abi));
    }

    private int outOrErrno(long rc, Member out, Abi abi) {
        return rc < 0 ? (int) rc : get32(out, abi);
    }

    private int allocUnbound(Domain caller, Abi abi, int dom, int remote) {
        clear();
        put16(ALLOC_UNBOUND_DOM, abi, dom);
        put16(ALLOC_UNBOUND_REMOTE_DOM, abi, remote);
        put32(ALLOC_UNBOUND_PORT, abi, -1);
        return outOrErrno(as(caller, abi).call(EVTCHNOP_alloc_unbound, arg), ALLOC_UNBOUND_PORT, abi);
    }

    private int bindInterdomain(Domain caller, Abi abi, int remoteDom, int remotePort) {
        clear();
        put16(BIND_INTERDOMAIN_REMOTE_DOM, abi, remoteDom);
        put32(BIND_INTERDOMAIN_REMOTE_PORT, abi, remotePort);
        return outOrErrno(as(caller, abi).call(EVTCHNOP_bind_interdomain, arg), BIND_INTERDOMAIN_LOCAL_PORT, abi);
    }

    private int bindVirq(Domain caller, Abi abi, int virq, int vcpu) {
        clear();
        put32(BIND_VIRQ_VIRQ, abi, virq);
        put32(BIND_VIRQ_VCPU, abi, vcpu);
        return outOrErrno(as(caller, abi).call(EVTCHNOP_bind_virq, arg), BIND_VIRQ_PORT, abi);
    }

    private int bindIpi(Domain caller, Abi abi, int vcpu) {
        clear();
        put32(BIND_IPI_VCPU, abi, vcpu);
        return outOrErrno(as(caller, abi).call(EVTCHNOP_bind_ipi, arg), BIND_IPI_PORT, abi);
    }

    private long portOp(Domain caller, Abi abi, int cmd, Member port, int value) {
        clear();
        put32(port, abi, value);
        return as(caller, abi).call(cmd, arg);
    }

    private long close(Domain caller, int port) {
        return close(caller, Abi.X86_64, port);
    }

    private long close(Domain caller, Abi abi, int port) {
        return portOp(caller, abi, EVTCHNOP_close, CLOSE_PORT, port);
    }

    private long send(Domain caller, int port) {
        return send(caller, Abi.X86_64, port);
    }

    private long send(Domain caller, Abi abi, int port) {
        return portOp(caller, abi, EVTCHNOP_send, SEND_PORT, port);
    }

    private long unmask(Domain caller, int port) {
        return unmask(caller, Abi.X86_64, port);
    }

    private long unmask(Domain caller, Abi abi, int port) {
        return portOp(caller, abi, EVTCHNOP_unmask, UNMASK_PORT, port);
    }

    private long bindVcpu(Domain caller, int port, int vcpu) {
        return bindVcpu(caller, Abi.X86_64, port, vcpu);
    }

    private long bindVcpu(Domain caller, Abi abi, int port, int vcpu) {
        clear();
        put32(BIND_VCPU_PORT, abi, port);
        put32(BIND_VCPU_VCPU, abi, vcpu);
        return as(caller, abi).call(EVTCHNOP_bind_vcpu, arg);
    }

    /** {status, vcpu, u.dom / u.virq, u.interdomain.port}, or {errno}. */
    private int[] status(Domain caller, Abi abi, int dom, int port) {
        clear();
        put16(STATUS_DOM, abi, dom);
        put32(STATUS_PORT, abi, port);
        long rc = as(caller, abi).call(EVTCHNOP_status, arg);
        if (rc < 0) {
            return new int[] {(int) rc};
        }
        int status = get32(STATUS_STATUS, abi);
        int u = status == EVTCHNSTAT_virq ? get32(STATUS_U, abi)
                : Short.toUnsignedInt(memory.read16(arg + STATUS_U.offset(abi)));
        return new int[] {status, get32(STATUS_VCPU, abi), u, get32(STATUS_U_INTERDOMAIN_PORT, abi)};
    }

    private long reset(Domain caller, int dom) {
        return reset(caller, Abi.X86_64, dom);
    }

    private long reset(Domain caller, Abi abi, int dom) {
        clear();
        put16(RESET_DOM, abi, dom);
        return as(caller, abi).call(EVTCHNOP_reset, arg);
    }

    private EventChannels table(Domain d) {
        return d.state(EventChannels.KEY);
    }

    // ---- alloc_unbound ------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void allocUnboundGivesTheLowestFreePortReservedForTheRemote(Abi abi) {
        assertThat(allocUnbound(guest, abi, XenDomains.DOMID_SELF, other.domid())).isEqualTo(1);
        assertThat(allocUnbound(guest, abi, guest.domid(), XenDomains.DOMID_SELF)).isEqualTo(2);
        assertThat(status(guest, abi, XenDomains.DOMID_SELF, 1)).containsExactly(EVTCHNSTAT_unbound, 0, 6, 0);
        // remote_dom DOMID_SELF is the caller
        assertThat(status(guest, abi, XenDomains.DOMID_SELF, 2)[2]).isEqualTo(5);
    }

    @Test
    void allocUnboundForAnotherDomainIsForItsControllerOnly() {
        assertThat(allocUnbound(guest, Abi.X86_64, other.domid(), guest.domid())).isEqualTo(-XEN_EPERM);
        assertThat(table(other).state(1)).isEqualTo(EventChannels.State.FREE);
        // dom0 allocates in a guest's table a port for itself: the toolstack's xenstore/console channels
        int port = allocUnbound(dom0, Abi.X86_64, other.domid(), XenDomains.DOMID_SELF);
        assertThat(port).isEqualTo(1);
        assertThat(status(other, Abi.X86_64, XenDomains.DOMID_SELF, port)).containsExactly(EVTCHNSTAT_unbound, 0, 0, 0);
    }

    @Test
    void allocUnboundForAnUnknownDomainIsEsrch() {
        assertThat(allocUnbound(dom0, Abi.X86_64, 42, 0)).isEqualTo(-XEN_ESRCH);
        assertThat(allocUnbound(guest, Abi.X86_64, XenDomains.DOMID_IO, 0)).isEqualTo(-XEN_ESRCH);
    }

    @Test
    void aStructOnAnUnmappedPageIsEfault() {
        FakeGuestMemory holes = FakeGuestMemory.standard().unmap(memory.page(2));
        long edge = holes.page(2) - 4; // evtchn_alloc_unbound is 8 bytes: runs into the hole
        assertThat(HandlerHarness.of(handler).domain(guest).memory(holes).call(EVTCHNOP_alloc_unbound, edge))
                .isEqualTo(-XEN_EFAULT);
        assertThat(table(guest).state(1)).isEqualTo(EventChannels.State.FREE);
        for (int cmd : new int[] {EVTCHNOP_bind_pirq, EVTCHNOP_init_control, EVTCHNOP_expand_array,
                EVTCHNOP_status, EVTCHNOP_send}) {
            assertThat(HandlerHarness.of(handler).domain(guest).memory(holes).call(cmd, holes.page(2)))
                    .as("cmd %d", cmd).isEqualTo(-XEN_EFAULT);
        }
    }

    // ---- the port limit -----------------------------------------------------------------------------------

    @Test
    void aSixtyFourBitTableHolds4096PortsThenEnospc() {
        for (int i = 1; i < 4096; i++) { // port 0 is reserved
            assertThat(bindIpi(guest, Abi.X86_64, 0)).isEqualTo(i);
        }
        assertThat(bindIpi(guest, Abi.X86_64, 0)).isEqualTo(-XEN_ENOSPC);
        assertThat(allocUnbound(guest, Abi.X86_64, XenDomains.DOMID_SELF, 0)).isEqualTo(-XEN_ENOSPC);
        assertThat(bindVirq(guest, Abi.X86_64, VIRQ_TIMER, 0)).isEqualTo(-XEN_ENOSPC);
        assertThat(table(guest).maxPorts()).isEqualTo(4096);
        assertThat(close(guest, 4095)).isZero();
        assertThat(bindIpi(guest, Abi.X86_64, 0)).isEqualTo(4095);
    }

    @Test
    void aCompatTableHolds1024PortsThenEnospc() {
        for (int i = 1; i < 1024; i++) {
            assertThat(bindIpi(guest, Abi.X86_32, 0)).isEqualTo(i);
        }
        assertThat(bindIpi(guest, Abi.X86_32, 0)).isEqualTo(-XEN_ENOSPC);
        assertThat(allocUnbound(guest, Abi.X86_32, XenDomains.DOMID_SELF, 0)).isEqualTo(-XEN_ENOSPC);
        assertThat(bindVirq(guest, Abi.X86_32, VIRQ_TIMER, 0)).isEqualTo(-XEN_ENOSPC);
        int remote = allocUnbound(other, Abi.X86_32, XenDomains.DOMID_SELF, guest.domid());
        assertThat(bindInterdomain(guest, Abi.X86_32, other.domid(), remote)).isEqualTo(-XEN_ENOSPC);
        assertThat(table(guest).maxPorts()).isEqualTo(1024);
        assertThat(table(guest).bitsPerWord()).isEqualTo(32);
        // the width is latched once: a later 64-bit call does not grow it
        assertThat(bindIpi(guest, Abi.X86_64, 0)).isEqualTo(-XEN_ENOSPC);
        assertThat(close(guest, Abi.X86_32, 1023)).isZero();
        assertThat(bindIpi(guest, Abi.X86_32, 0)).isEqualTo(1023);
    }

    @Test
    void aFullRemoteTableRefusesBindInterdomainWithEnospcBeforeLookingAtThePort() {
        for (int i = 1; i < 4096; i++) {
            bindIpi(guest, Abi.X86_64, 0);
        }
        int remote = allocUnbound(other, Abi.X86_64, XenDomains.DOMID_SELF, guest.domid());
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), remote)).isEqualTo(-XEN_ENOSPC);
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), 9999)).isEqualTo(-XEN_ENOSPC);
    }

    // ---- bind_interdomain -----------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anInterdomainPairIsSeenFromBothEnds(Abi abi) {
        int remote = allocUnbound(other, abi, XenDomains.DOMID_SELF, guest.domid());
        int local = bindInterdomain(guest, abi, other.domid(), remote);
        assertThat(local).isEqualTo(1);
        assertThat(status(guest, abi, XenDomains.DOMID_SELF, local))
                .containsExactly(EVTCHNSTAT_interdomain, 0, other.domid(), remote);
        assertThat(status(other, abi, XenDomains.DOMID_SELF, remote))
                .containsExactly(EVTCHNSTAT_interdomain, 0, guest.domid(), local);
        // dom0 sees both too
        assertThat(status(dom0, abi, guest.domid(), local)[0]).isEqualTo(EVTCHNSTAT_interdomain);
        // lost notifications on the unbound port are made up for: the local port is pending
        assertThat(table(guest).delivery().isPending(local)).isTrue();
        assertThat(upcalls.get(guest)).containsExactly(0);
    }

    @Test
    void aPortReservedForAnotherDomainIsEinval() {
        int forThird = allocUnbound(other, Abi.X86_64, XenDomains.DOMID_SELF, third.domid());
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), forThird)).isEqualTo(-XEN_EINVAL);
        assertThat(status(other, Abi.X86_64, XenDomains.DOMID_SELF, forThird)[0]).isEqualTo(EVTCHNSTAT_unbound);
        assertThat(table(guest).state(1)).isEqualTo(EventChannels.State.FREE);
        assertThat(bindInterdomain(third, Abi.X86_64, other.domid(), forThird)).isEqualTo(1);
    }

    @Test
    void bindInterdomainToAPortThatIsNotUnboundOrInvalidIsEinval() {
        int ipi = bindIpi(other, Abi.X86_64, 0);
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), ipi)).isEqualTo(-XEN_EINVAL);
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), 0)).isEqualTo(-XEN_EINVAL);
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), 5000)).isEqualTo(-XEN_EINVAL);
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), -1)).isEqualTo(-XEN_EINVAL);
        // a port already bound cannot be bound a second time
        int remote = allocUnbound(other, Abi.X86_64, XenDomains.DOMID_SELF, guest.domid());
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), remote)).isPositive();
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), remote)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void bindInterdomainToAnUnknownDomainIsEsrch() {
        assertThat(bindInterdomain(guest, Abi.X86_64, 42, 1)).isEqualTo(-XEN_ESRCH);
        assertThat(bindInterdomain(guest, Abi.X86_64, XenDomains.DOMID_IO, 1)).isEqualTo(-XEN_ESRCH);
    }

    @Test
    void aDomainMayBindToItsOwnUnboundPort() {
        int unbound = allocUnbound(guest, Abi.X86_64, XenDomains.DOMID_SELF, XenDomains.DOMID_SELF);
        int local = bindInterdomain(guest, Abi.X86_64, XenDomains.DOMID_SELF, unbound);
        assertThat(status(guest, Abi.X86_64, XenDomains.DOMID_SELF, unbound))
                .containsExactly(EVTCHNSTAT_interdomain, 0, guest.domid(), local);
        table(guest).words().clearPending(local);
        assertThat(send(guest, local)).isZero();
        assertThat(table(guest).delivery().isPending(unbound)).isTrue();
        assertThat(close(guest, unbound)).isZero();
        assertThat(status(guest, Abi.X86_64, XenDomains.DOMID_SELF, local))
                .containsExactly(EVTCHNSTAT_unbound, 0, guest.domid(), 0);
    }

    // ---- close -----------------------------------------------------------------------------------------------

    @Test
    void closingOneEndLeavesThePeerUnboundForTheCloser() {
        int remote = allocUnbound(other, Abi.X86_64, XenDomains.DOMID_SELF, guest.domid());
        int local = bindInterdomain(guest, Abi.X86_64, other.domid(), remote);
        assertThat(close(guest, local)).isZero();
        assertThat(status(guest, Abi.X86_64, XenDomains.DOMID_SELF, local)[0]).isEqualTo(EVTCHNSTAT_closed);
        assertThat(table(guest).delivery().isPending(local)).as("pending cleared on close").isFalse();
        assertThat(status(other, Abi.X86_64, XenDomains.DOMID_SELF, remote))
                .containsExactly(EVTCHNSTAT_unbound, 0, guest.domid(), 0);
        // sending on the now-unbound end is silently dropped
        assertThat(send(other, remote)).isZero();
        // and the guest can bind to it again
        assertThat(bindInterdomain(guest, Abi.X86_64, other.domid(), remote)).isEqualTo(local);
    }

    @Test
    void closingAFreeReservedOrInvalidPortIsEinval() {
        assertThat(close(guest, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(close(guest, 3)).isEqualTo(-XEN_EINVAL);
        assertThat(close(guest, 4096)).isEqualTo(-XEN_EINVAL);
        assertThat(close(guest, -1)).isEqualTo(-XEN_EINVAL);
        int ipi = bindIpi(guest, Abi.X86_64, 0);
        assertThat(close(guest, ipi)).isZero();
        assertThat(close(guest, ipi)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void closingAVirqPortLetsTheVirqBeBoundAgain() {
        int port = bindVirq(guest, Abi.X86_64, VIRQ_TIMER, 0);
        assertThat(bindVirq(guest, Abi.X86_64, VIRQ_TIMER, 0)).isEqualTo(-XEN_EEXIST);
        assertThat(close(guest, port)).isZero();
        assertThat(bindVirq(guest, Abi.X86_64, VIRQ_TIMER, 0)).isEqualTo(port);
    }

    // ---- isolation, and the port sub-ops in both ABIs -------------------------------------------------------

    @Test
    void statusOfAnInvalidPortIsEinvalBeforeThePermissionCheck() {
        assertThat(status(guest, Abi.X86_64, other.domid(), 5000)).containsExactly(-XEN_EINVAL);
        assertThat(status(guest, Abi.X86_64, 42, 1)).containsExactly(-XEN_ESRCH);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aDomUTouchesNoPortOfAnotherDomainInEitherAbi(Abi abi) {
        int ipi = bindIpi(other, abi, 0);
        int forThird = allocUnbound(other, abi, XenDomains.DOMID_SELF, third.domid());
        int console = bindVirq(other, abi, VIRQ_CONSOLE, 0);
        table(other).words().setMask(ipi);
        assertThat(send(other, abi, ipi)).isZero(); // pending, masked

        // a port number names a port of the caller's own table, where these are free
        for (int port : new int[] {ipi, forThird, console}) {
            assertThat(close(guest, abi, port)).isEqualTo(-XEN_EINVAL);
            assertThat(send(guest, abi, port)).isEqualTo(-XEN_EINVAL);
            assertThat(bindVcpu(guest, abi, port, 0)).isEqualTo(-XEN_EINVAL);
            assertThat(unmask(guest, abi, port)).isZero(); // its own valid, free port: nothing to deliver
        }
        // binding to another domain's port takes one reserved for the caller
        assertThat(bindInterdomain(guest, abi, other.domid(), forThird)).isEqualTo(-XEN_EINVAL);
        assertThat(bindInterdomain(guest, abi, other.domid(), ipi)).isEqualTo(-XEN_EINVAL);
        assertThat(bindInterdomain(guest, abi, other.domid(), console)).isEqualTo(-XEN_EINVAL);
        // status, alloc_unbound and reset of another domain are for its controller (XSM_TARGET)
        assertThat(status(guest, abi, other.domid(), ipi)).containsExactly(-XEN_EPERM);
        assertThat(allocUnbound(guest, abi, other.domid(), guest.domid())).isEqualTo(-XEN_EPERM);
        assertThat(allocUnbound(guest, abi, other.domid(), XenDomains.DOMID_SELF)).isEqualTo(-XEN_EPERM);
        assertThat(reset(guest, abi, other.domid())).isEqualTo(-XEN_EPERM);

        // the other domain's table is as it was, and it was told nothing
        assertThat(status(other, abi, XenDomains.DOMID_SELF, ipi)).containsExactly(EVTCHNSTAT_ipi, 0, 0, 0);
        assertThat(status(other, abi, XenDomains.DOMID_SELF, forThird))
                .containsExactly(EVTCHNSTAT_unbound, 0, third.domid(), 0);
        assertThat(status(other, abi, XenDomains.DOMID_SELF, console))
                .containsExactly(EVTCHNSTAT_virq, 0, VIRQ_CONSOLE, 0);
        assertThat(table(other).state(console + 1)).isEqualTo(EventChannels.State.FREE);
        assertThat(table(other).delivery().isMasked(ipi)).isTrue();
        assertThat(table(other).delivery().isPending(ipi)).isTrue();
        assertThat(upcalls.get(other)).isEmpty();
        // nor did the guest gain a port
        for (int port = 1; port <= console + 1; port++) {
            assertThat(table(guest).state(port)).isEqualTo(EventChannels.State.FREE);
        }
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void whatTheTwoLevelAbiLetsOneDomainDoToAnother(Abi abi) {
        int remote = allocUnbound(other, abi, XenDomains.DOMID_SELF, guest.domid());
        int local = bindInterdomain(guest, abi, other.domid(), remote); // a port reserved for the guest
        assertThat(local).isPositive();

        // notify the peer's end, and only that
        assertThat(send(guest, abi, local)).isZero();
        assertThat(table(other).delivery().isPending(remote)).isTrue();
        assertThat(upcalls.get(other)).containsExactly(0);
        assertThat(status(other, abi, XenDomains.DOMID_SELF, remote))
                .containsExactly(EVTCHNSTAT_interdomain, 0, guest.domid(), local);

        // close its own end: the peer's becomes unbound, reserved for the guest, and stays the peer's
        assertThat(close(guest, abi, local)).isZero();
        assertThat(status(other, abi, XenDomains.DOMID_SELF, remote))
                .containsExactly(EVTCHNSTAT_unbound, 0, guest.domid(), 0);
        assertThat(close(guest, abi, remote)).as("the guest's own port %d, free", remote).isEqualTo(-XEN_EINVAL);
        assertThat(send(guest, abi, local)).isEqualTo(-XEN_EINVAL);
        assertThat(table(other).state(remote)).isEqualTo(EventChannels.State.UNBOUND);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aControlDomainQueriesAndAllocatesButReachesNoPortOfARunningGuest(Abi abi) {
        int ipi = bindIpi(guest, abi, 0);
        assertThat(status(dom0, abi, guest.domid(), ipi)).containsExactly(EVTCHNSTAT_ipi, 0, 0, 0);
        int forDom0 = allocUnbound(dom0, abi, guest.domid(), XenDomains.DOMID_SELF);
        assertThat(status(guest, abi, XenDomains.DOMID_SELF, forDom0))
                .containsExactly(EVTCHNSTAT_unbound, 0, dom0.domid(), 0);
        assertThat(reset(dom0, abi, guest.domid())).as("not paused").isEqualTo(-XEN_EINVAL);
        // a port number names dom0's own table
        assertThat(close(dom0, abi, ipi)).isEqualTo(-XEN_EINVAL);
        assertThat(send(dom0, abi, ipi)).isEqualTo(-XEN_EINVAL);
        assertThat(table(guest).state(ipi)).isEqualTo(EventChannels.State.IPI);
        assertThat(table(guest).state(forDom0)).isEqualTo(EventChannels.State.UNBOUND);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUnknownDomainIsEsrchForEveryOpThatNamesOne(Abi abi) {
        for (Domain caller : new Domain[] {guest, dom0}) {
            assertThat(allocUnbound(caller, abi, 42, XenDomains.DOMID_SELF)).isEqualTo(-XEN_ESRCH);
            assertThat(bindInterdomain(caller, abi, 42, 1)).isEqualTo(-XEN_ESRCH);
            assertThat(status(caller, abi, 42, 1)).containsExactly(-XEN_ESRCH);
            assertThat(reset(caller, abi, 42)).isEqualTo(-XEN_ESRCH);
        }
        // alloc_unbound does not look remote_dom up
        assertThat(allocUnbound(guest, abi, XenDomains.DOMID_SELF, 42)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void allocUnboundInAFullForeignTableIsEnospcBeforeThePermissionCheck(Abi abi) {
        table(other).latchSharedInfoWidth(abi);
        while (table(other).bindIpi(0) > 0) {
            // fill it
        }
        assertThat(allocUnbound(guest, abi, other.domid(), guest.domid())).isEqualTo(-XEN_ENOSPC);
        assertThat(allocUnbound(dom0, abi, other.domid(), guest.domid())).isEqualTo(-XEN_ENOSPC);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void closeSendUnmaskBindVcpuStatusAndResetInEitherAbi(Abi abi) {
        table(guest).setMaxVcpus(2);
        int ipi = bindIpi(guest, abi, 1);
        int unbound = allocUnbound(guest, abi, XenDomains.DOMID_SELF, other.domid());

        assertThat(send(guest, abi, ipi)).isZero();
        assertThat(upcalls.get(guest)).containsExactly(1);
        assertThat(send(guest, abi, 4096)).isEqualTo(-XEN_EINVAL);

        table(guest).words().setMask(unbound);
        assertThat(unmask(guest, abi, unbound)).isZero();
        assertThat(table(guest).delivery().isMasked(unbound)).isFalse();
        assertThat(unmask(guest, abi, 4096)).isEqualTo(-XEN_EINVAL);

        assertThat(bindVcpu(guest, abi, unbound, 1)).isZero();
        assertThat(bindVcpu(guest, abi, ipi, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(bindVcpu(guest, abi, unbound, 2)).isEqualTo(-XEN_ENOENT);

        assertThat(status(guest, abi, XenDomains.DOMID_SELF, ipi)).containsExactly(EVTCHNSTAT_ipi, 1, 0, 0);
        assertThat(status(guest, abi, XenDomains.DOMID_SELF, unbound))
                .containsExactly(EVTCHNSTAT_unbound, 1, other.domid(), 0);
        assertThat(status(guest, abi, XenDomains.DOMID_SELF, 4096)).containsExactly(-XEN_EINVAL);

        assertThat(close(guest, abi, ipi)).isZero();
        assertThat(close(guest, abi, ipi)).isEqualTo(-XEN_EINVAL);

        assertThat(reset(guest, abi, XenDomains.DOMID_SELF)).isZero();
        assertThat(table(guest).state(unbound)).isEqualTo(EventChannels.State.FREE);
        assertThat(reset(guest, abi, 42)).isEqualTo(-XEN_ESRCH);
    }

    // ---- bind_virq, bind_ipi, bind_vcpu ----------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void bindVirqChecksTheVirqAndTheVcpu(Abi abi) {
        table(guest).setMaxVcpus(2);
        assertThat(bindVirq(guest, abi, NR_VIRQS, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(bindVirq(guest, abi, -1, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(bindVirq(guest, abi, VIRQ_CONSOLE, 1)).as("a global virq on vcpu 1").isEqualTo(-XEN_EINVAL);
        assertThat(bindVirq(guest, abi, VIRQ_TIMER, 2)).isEqualTo(-XEN_ENOENT);
        assertThat(bindVirq(guest, abi, VIRQ_TIMER, -1)).isEqualTo(-XEN_ENOENT);
        int timer0 = bindVirq(guest, abi, VIRQ_TIMER, 0);
        int timer1 = bindVirq(guest, abi, VIRQ_TIMER, 1);
        assertThat(timer0).isEqualTo(1);
        assertThat(timer1).isEqualTo(2);
        assertThat(bindVirq(guest, abi, VIRQ_TIMER, 1)).isEqualTo(-XEN_EEXIST);
        assertThat(status(guest, abi, XenDomains.DOMID_SELF, timer1)).containsExactly(EVTCHNSTAT_virq, 1, VIRQ_TIMER, 0);
        // a VIRQ port cannot be sent on
        assertThat(send(guest, timer0)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void bindIpiNeedsAVcpuTheDomainHas() {
        assertThat(bindIpi(guest, Abi.X86_64, 1)).isEqualTo(-XEN_ENOENT);
        table(guest).setMaxVcpus(4);
        int port = bindIpi(guest, Abi.X86_32, 3);
        assertThat(status(guest, Abi.X86_32, XenDomains.DOMID_SELF, port)).containsExactly(EVTCHNSTAT_ipi, 3, 0, 0);
    }

    @Test
    void bindVcpuMovesUnboundInterdomainAndGlobalVirqPortsOnly() {
        table(guest).setMaxVcpus(2);
        int unbound = allocUnbound(guest, Abi.X86_64, XenDomains.DOMID_SELF, other.domid());
        int console = bindVirq(guest, Abi.X86_64, VIRQ_CONSOLE, 0);
        int timer = bindVirq(guest, Abi.X86_64, VIRQ_TIMER, 0);
        int ipi = bindIpi(guest, Abi.X86_64, 0);
        assertThat(bindVcpu(guest, unbound, 1)).isZero();
        assertThat(bindVcpu(guest, console, 1)).isZero();
        assertThat(status(guest, Abi.X86_64, XenDomains.DOMID_SELF, unbound)[1]).isEqualTo(1);
        assertThat(status(guest, Abi.X86_64, XenDomains.DOMID_SELF, console)[1]).isEqualTo(1);
        assertThat(bindVcpu(guest, timer, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(bindVcpu(guest, ipi, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(bindVcpu(guest, 0, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(bindVcpu(guest, 5000, 1)).isEqualTo(-XEN_EINVAL);
        assertThat(bindVcpu(guest, unbound, 2)).isEqualTo(-XEN_ENOENT);
    }

    // ---- send and unmask: delivery ---------------------------------------------------------------------------

    @Test
    void sendOnAnInterdomainPortMakesThePeerPendingAndRaisesItsUpcall() {
        table(other).setMaxVcpus(2);
        int remote = allocUnbound(other, Abi.X86_64, XenDomains.DOMID_SELF, guest.domid());
        assertThat(bindVcpu(other, remote, 1)).isZero();
        int local = bindInterdomain(guest, Abi.X86_64, other.domid(), remote);
        assertThat(send(guest, local)).isZero();
        assertThat(table(other).delivery().isPending(remote)).isTrue();
        assertThat(table(other).words().testPendingSel(1, remote / 64)).isTrue();
        assertThat(table(other).words().upcallPending(1)).isTrue();
        assertThat(upcalls.get(other)).containsExactly(1);
    }

    @Test
    void sendOnAMaskedPortRecordsItWithoutAnUpcallAndUnmaskDeliversIt() {
        int ipi = bindIpi(guest, Abi.X86_64, 0);
        table(guest).words().setMask(ipi);
        assertThat(send(guest, ipi)).isZero();
        assertThat(table(guest).delivery().isPending(ipi)).isTrue();
        assertThat(upcalls.get(guest)).isEmpty();
        assertThat(unmask(guest, ipi)).isZero();
        assertThat(table(guest).delivery().isMasked(ipi)).isFalse();
        assertThat(table(guest).words().upcallPending(0)).isTrue();
        assertThat(upcalls.get(guest)).containsExactly(0);
    }

    @Test
    void sendAndUnmaskOnInvalidPortsAreEinval() {
        assertThat(send(guest, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(send(guest, 4096)).isEqualTo(-XEN_EINVAL);
        assertThat(send(guest, 1)).isEqualTo(-XEN_EINVAL); // free
        assertThat(unmask(guest, 4096)).isEqualTo(-XEN_EINVAL);
        assertThat(unmask(guest, 64)).as("beyond the buckets allocated so far").isEqualTo(-XEN_EINVAL);
    }

    @Test
    void sendOnAnUnboundPortIsDroppedSilently() {
        int unbound = allocUnbound(guest, Abi.X86_64, XenDomains.DOMID_SELF, other.domid());
        assertThat(send(guest, unbound)).isZero();
        assertThat(table(guest).delivery().isPending(unbound)).isFalse();
    }

    @Test
    void eventsSentBeforeThePlatformBindsWordsAreRecorded() {
        Domain fresh = FakeDomains.guest(9); // its own calls look no domain up
        int ipi = bindIpi(fresh, Abi.X86_64, 0);
        assertThat(send(fresh, ipi)).isZero();
        assertThat(table(fresh).words().testPending(ipi)).isTrue();
        assertThat(table(fresh).words().upcallPending(0)).isTrue();
    }

    // ---- reset ------------------------------------------------------------------------------------------------

    @Test
    void resetClosesEveryPortOfTheCallerAndUnbindsItsPeers() {
        int remote = allocUnbound(other, Abi.X86_64, XenDomains.DOMID_SELF, guest.domid());
        int local = bindInterdomain(guest, Abi.X86_64, other.domid(), remote);
        int virq = bindVirq(guest, Abi.X86_64, VIRQ_TIMER, 0);
        bindIpi(guest, Abi.X86_64, 0);
        assertThat(reset(guest, XenDomains.DOMID_SELF)).isZero();
        for (int port = 1; port <= 3; port++) {
            assertThat(status(guest, Abi.X86_64, XenDomains.DOMID_SELF, port)[0]).isEqualTo(EVTCHNSTAT_closed);
        }
        assertThat(table(guest).state(0)).isEqualTo(EventChannels.State.RESERVED);
        assertThat(status(other, Abi.X86_64, XenDomains.DOMID_SELF, remote))
                .containsExactly(EVTCHNSTAT_unbound, 0, guest.domid(), 0);
        assertThat(virq).isEqualTo(2);
        assertThat(bindVirq(guest, Abi.X86_64, VIRQ_TIMER, 0)).as("the lowest port, free again").isEqualTo(1);
        assertThat(local).isEqualTo(1);
    }

    @Test
    void resetOfAnotherDomain() {
        assertThat(reset(dom0, 42)).isEqualTo(-XEN_ESRCH);
        assertThat(reset(guest, other.domid())).isEqualTo(-XEN_EPERM);
        // dom0 passes XSM, but Xen resets another domain only while its controller pauses it
        int ipi = bindIpi(other, Abi.X86_64, 0);
        assertThat(reset(dom0, other.domid())).isEqualTo(-XEN_EINVAL);
        assertThat(table(other).state(ipi)).isEqualTo(EventChannels.State.IPI);
    }

    // ---- pirq, FIFO, unknown ------------------------------------------------------------------------------------

    @Test
    void bindPirqIsRefusedForAnHvmDomainWithoutPirqs() {
        clear();
        assertThat(as(guest, Abi.X86_64).call(EVTCHNOP_bind_pirq, arg)).isEqualTo(-XEN_EOPNOTSUPP);
        assertThat(as(dom0, Abi.X86_32).call(EVTCHNOP_bind_pirq, arg)).isEqualTo(-XEN_EOPNOTSUPP);
        assertThat(table(guest).state(1)).isEqualTo(EventChannels.State.FREE);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void fifoIsRefusedAndTheDomainStaysTwoLevel(Abi abi) {
        clear();
        assertThat(as(guest, abi).call(EVTCHNOP_init_control, arg)).isEqualTo(-XEN_EOPNOTSUPP);
        assertThat(as(guest, abi).call(EVTCHNOP_expand_array, arg)).isEqualTo(-XEN_EOPNOTSUPP);
        int ipi = bindIpi(guest, abi, 0);
        assertThat(portOp(guest, abi, EVTCHNOP_set_priority, SET_PRIORITY_PORT, ipi)).isEqualTo(-XEN_ENOSYS);
        assertThat(portOp(guest, abi, EVTCHNOP_set_priority, SET_PRIORITY_PORT, 4096)).isEqualTo(-XEN_EINVAL);
        assertThat(send(guest, ipi)).isZero();
        assertThat(table(guest).words().testPending(ipi)).isTrue();
    }

    @Test
    void anUnknownCommandIsEnosys() {
        assertThat(as(guest, Abi.X86_64).call(14, arg)).isEqualTo(-XEN_ENOSYS); // EVTCHNOP_reset_cont is Xen's own
        assertThat(as(guest, Abi.X86_64).call(-1, arg)).isEqualTo(-XEN_ENOSYS);
    }

    // ---- state survives a handler swap ---------------------------------------------------------------------------

    @Test
    void portsBoundThroughOneHandlerWorkThroughAFreshOne() {
        int remote = allocUnbound(other, Abi.X86_64, XenDomains.DOMID_SELF, guest.domid());
        int local = bindInterdomain(guest, Abi.X86_64, other.domid(), remote);
        int ipi = bindIpi(guest, Abi.X86_64, 0);

        handler = new EventChannelOpHandler(directory); // a new shim's instance, as after a swap
        assertThat(status(guest, Abi.X86_64, XenDomains.DOMID_SELF, local))
                .containsExactly(EVTCHNSTAT_interdomain, 0, other.domid(), remote);
        assertThat(send(guest, local)).isZero();
        assertThat(table(other).delivery().isPending(remote)).isTrue();
        assertThat(send(guest, ipi)).isZero();
        assertThat(bindIpi(guest, Abi.X86_64, 0)).isEqualTo(ipi + 1);
        assertThat(close(other, remote)).isZero();
        assertThat(status(guest, Abi.X86_64, XenDomains.DOMID_SELF, local)[0]).isEqualTo(EVTCHNSTAT_unbound);
    }
}
