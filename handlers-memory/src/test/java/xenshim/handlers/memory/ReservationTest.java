package xenshim.handlers.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenMemory.XENMEMF_populate_on_demand;
import static xenshim.api.xen.XenMemory.XENMEM_decrease_reservation;
import static xenshim.api.xen.XenMemory.XENMEM_increase_reservation;
import static xenshim.api.xen.XenMemory.XENMEM_populate_physmap;

import java.lang.foreign.StructLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.xen.XenDomains;

class ReservationTest extends MemoryOpTestBase {

    private long list() {
        return memory.page(3);
    }

    /** Writes a reservation at {@code arg} whose extent list at {@link #list()} holds {@code gpfns}. */
    private void reservation(Abi abi, int domid, long nrExtents, int order, int memFlags, long... gpfns) {
        StructLayout r = abi.layouts().xen_memory_reservation;
        abi.writeULong(memory, arg + off(r, "extent_start"), list());
        abi.writeULong(memory, arg + off(r, "nr_extents"), nrExtents);
        memory.write32(arg + off(r, "extent_order"), order);
        memory.write32(arg + off(r, "mem_flags"), memFlags);
        memory.write16(arg + off(r, "domid"), (short) domid);
        for (int i = 0; i < gpfns.length; i++) {
            abi.writeULong(memory, list() + (long) i * abi.longSize(), gpfns[i]);
        }
    }

    private long call(Domain caller, Abi abi, long cmd) {
        return harness(caller, abi).call(cmd, arg);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void populatePhysmapFillsEachExtent(Abi abi) {
        reservation(abi, XenDomains.DOMID_SELF, 3, 0, 0, 10, 11, 0x20);

        assertThat(call(guest, abi, XENMEM_populate_physmap)).isEqualTo(3);

        assertThat(guestMap.ram).containsKeys(10L, 11L, 0x20L);
        assertThat(guestMap.totalPages()).isEqualTo(11);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void populateStopsAtTheFirstExtentThatCannotBeAllocated(Abi abi) {
        // 8 of 16 pages used: two order-2 extents fit, the third does not.
        reservation(abi, guest.domid(), 3, 2, 0, 0x100, 0x104, 0x108);

        assertThat(call(guest, abi, XENMEM_populate_physmap)).isEqualTo(2);
        assertThat(guestMap.totalPages()).isEqualTo(16);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aContinuationStartsAtStartExtent(Abi abi) {
        reservation(abi, XenDomains.DOMID_SELF, 4, 0, 0, 100, 101, 102, 103);

        assertThat(call(guest, abi, XENMEM_populate_physmap | (2 << 6))).isEqualTo(4);

        assertThat(guestMap.ram).containsKeys(102L, 103L).doesNotContainKeys(100L, 101L);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aFaultReadingAnExtentStopsThere(Abi abi) {
        long gpfnsBeforeHole = 2;
        long start = memory.page(5) - gpfnsBeforeHole * abi.longSize();
        memory.unmap(memory.page(5));
        StructLayout r = abi.layouts().xen_memory_reservation;
        reservation(abi, XenDomains.DOMID_SELF, 4, 0, 0);
        abi.writeULong(memory, arg + off(r, "extent_start"), start);
        abi.writeULong(memory, start, 40);
        abi.writeULong(memory, start + abi.longSize(), 41);

        assertThat(call(guest, abi, XENMEM_populate_physmap)).isEqualTo(2);
        assertThat(call(guest, abi, XENMEM_decrease_reservation)).isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUnreadableStructReturnsStartExtentNotEfault(Abi abi) {
        memory.unmap(arg);
        assertThat(call(guest, abi, XENMEM_populate_physmap)).isZero();
        assertThat(call(guest, abi, XENMEM_decrease_reservation | (3 << 6))).isEqualTo(3);
        assertThat(call(guest, abi, XENMEM_increase_reservation | (7 << 6))).isEqualTo(7);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void earlyFailuresReturnStartExtent(Abi abi) {
        reservation(abi, XenDomains.DOMID_SELF, 0x400_0000L, 0, 0, 10);
        assertThat(call(guest, abi, XENMEM_populate_physmap)).isZero();
        reservation(abi, XenDomains.DOMID_SELF, 0, 0, 0, 10);
        assertThat(call(guest, abi, XENMEM_populate_physmap)).isZero();
        reservation(abi, XenDomains.DOMID_SELF, 2, 0, 0, 10, 11);
        assertThat(call(guest, abi, XENMEM_populate_physmap | (2 << 6))).isEqualTo(2);
        assertThat(call(guest, abi, XENMEM_populate_physmap | (5 << 6))).isEqualTo(5);
        assertThat(guestMap.totalPages()).isEqualTo(8);
    }

    @Test
    void theLargestExtentCountIsAcceptedAndTheLoopEndsWhereTheListBecomesUnreadable() {
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 0x3FF_FFFFL, 0, 0, 10);
        // extent 0 is frame 10 (fresh), the rest of the list reads 0 (already RAM) until the list
        // runs off the end of the 64-page memory: pages 3..63 hold 61 * 512 extents
        long readable = (64 - 3) * 4096 / 8;
        assertThat(call(guest, Abi.X86_64, XENMEM_populate_physmap)).isEqualTo(readable);
        assertThat(guestMap.ram).containsKeys(0L, 10L);
        assertThat(guestMap.totalPages()).isEqualTo(9);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPreemptedCallContinuesWithTheExtentsDoneInTheCommandAsXenEncodesThem(Abi abi) {
        reservation(abi, XenDomains.DOMID_SELF, 5, 0, 0, 20, 21, 22, 23, 24);
        var harness = harness(guest, abi).preemptEvery(2);

        var first = harness.enter(XENMEM_populate_physmap, arg);
        // checked before extents 1 and 2: the second check preempts, after two extents
        assertThat(first.continuation()).containsExactly(XENMEM_populate_physmap | (2L << 6), arg, 0, 0, 0);
        assertThat(guestMap.ram).containsKeys(20L, 21L).doesNotContainKeys(22L);

        assertThat(harness.call(first.continuation())).isEqualTo(5);
        assertThat(harness.continuations()).extracting(a -> a[0])
                .containsExactly(XENMEM_populate_physmap | (4L << 6));
        assertThat(guestMap.ram).containsKeys(20L, 21L, 22L, 23L, 24L);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void everyEntryMakesProgressEvenIfPreemptedAtEveryCheck(Abi abi) {
        reservation(abi, XenDomains.DOMID_SELF, 3, 0, 0, 1, 2, 3);
        var harness = harness(guest, abi).preemptEvery(1);

        assertThat(harness.call(XENMEM_decrease_reservation, arg)).isEqualTo(3);

        assertThat(harness.continuations()).extracting(a -> a[0]).containsExactly(
                XENMEM_decrease_reservation | (1L << 6), XENMEM_decrease_reservation | (2L << 6));
        assertThat(guestMap.ram).doesNotContainKeys(1L, 2L, 3L);
    }

    @Test
    void aMillionExtentsAreServedInBoundedEntries() {
        int extents = 1 << 20;
        FakePhysMap big = new FakePhysMap(extents, 0);
        Domain dom = xenshim.testkit.FakeDomains.guest(7);
        dom.attach(xenshim.api.PhysMap.KEY, big);
        byId.put(7, dom);
        var mem = xenshim.testkit.FakeGuestMemory.of(0x100000, 2 + extents * 8 / 4096);
        long list = mem.page(2);
        StructLayout r = Abi.X86_64.layouts().xen_memory_reservation;
        long at = mem.page(0);
        mem.write64(at + off(r, "extent_start"), list);
        mem.write64(at + off(r, "nr_extents"), extents);
        mem.write16(at + off(r, "domid"), (short) XenDomains.DOMID_SELF);
        for (int i = 0; i < extents; i++) {
            mem.write64(list + 8L * i, i);
        }
        var harness = xenshim.testkit.HandlerHarness.of(new MemoryOpHandler(directory)).domain(dom).memory(mem)
                .preemptEvery(4096);

        assertThat(harness.call(XENMEM_populate_physmap, at)).isEqualTo(extents);

        assertThat(harness.continuations()).hasSize(extents / 4096 - 1);
        assertThat(big.totalPages()).isEqualTo(extents);
        assertThat(harness.call(XENMEM_decrease_reservation, at)).isEqualTo(extents);
        assertThat(big.totalPages()).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aMissingOrForeignDomainDoesNothing(Abi abi) {
        reservation(abi, 999, 1, 0, 0, 10);
        assertThat(call(guest, abi, XENMEM_populate_physmap)).isZero();
        reservation(abi, other.domid(), 1, 0, 0, 10);
        assertThat(call(guest, abi, XENMEM_populate_physmap)).isZero();
        assertThat(otherMap.ram).doesNotContainKeys(10L);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPrivilegedCallerPopulatesAnotherDomain(Abi abi) {
        reservation(abi, other.domid(), 2, 0, 0, 10, 11);
        assertThat(call(dom0, abi, XENMEM_populate_physmap)).isEqualTo(2);
        assertThat(otherMap.ram).containsKeys(10L, 11L);
    }

    @Test
    void aDomUMayAskForOrderNineButNotTen() {
        FakePhysMap big = new FakePhysMap(4096, 0);
        Domain roomy = xenshim.testkit.FakeDomains.guest(20);
        roomy.attach(xenshim.api.PhysMap.KEY, big);
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 10, 0, 0);
        assertThat(call(roomy, Abi.X86_64, XENMEM_populate_physmap)).isZero();
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 9, 0, 0);
        assertThat(call(roomy, Abi.X86_64, XENMEM_populate_physmap)).isEqualTo(1);
        assertThat(big.totalPages()).isEqualTo(512);
    }

    @Test
    void aPrivilegedCallerMayAskForOrderEighteenButNotNineteen() {
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 19, 0, 0);
        assertThat(call(dom0, Abi.X86_64, XENMEM_populate_physmap)).isZero();
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 18, 0, 0);
        assertThat(call(dom0, Abi.X86_64, XENMEM_populate_physmap)).isEqualTo(1);
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, -1, 0, 0);
        assertThat(call(dom0, Abi.X86_64, XENMEM_populate_physmap)).isZero();
    }

    @Test
    void populateOnDemandOnOneselfStopsAtOnce() {
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 0, XENMEMF_populate_on_demand, 10);
        assertThat(call(guest, Abi.X86_64, XENMEM_populate_physmap)).isZero();
        reservation(Abi.X86_64, other.domid(), 1, 0, XENMEMF_populate_on_demand, 10);
        assertThat(call(dom0, Abi.X86_64, XENMEM_populate_physmap)).isZero();
        assertThat(guestMap.ram).doesNotContainKeys(10L);
    }

    @Test
    void refusedMemFlagsDoNothing() {
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 0, 12, 10);
        assertThat(call(guest, Abi.X86_64, XENMEM_populate_physmap)).isZero();
        // an exact node request from a domU
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 0, (1 << 17) | (2 << 8), 10);
        assertThat(call(guest, Abi.X86_64, XENMEM_populate_physmap)).isZero();
        // a node beyond MAX_NUMNODES from dom0
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 0, 100 << 8, 10);
        assertThat(call(dom0, Abi.X86_64, XENMEM_populate_physmap)).isZero();
        // an address width that fits, a node hint from a domU, a vnode: accepted
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 0, 32 | (2 << 8), 10);
        assertThat(call(guest, Abi.X86_64, XENMEM_populate_physmap)).isEqualTo(1);
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 0, 1 << 18, 11);
        assertThat(call(guest, Abi.X86_64, XENMEM_populate_physmap)).isEqualTo(1);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void decreaseReservationGivesPagesBack(Abi abi) {
        reservation(abi, XenDomains.DOMID_SELF, 3, 0, 0, 1, 2, 3);
        assertThat(call(guest, abi, XENMEM_decrease_reservation)).isEqualTo(3);
        assertThat(guestMap.ram).doesNotContainKeys(1L, 2L, 3L);
        assertThat(guestMap.totalPages()).isEqualTo(5);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void decreaseStopsAtAFrameThatIsNotPopulated(Abi abi) {
        reservation(abi, guest.domid(), 3, 0, 0, 1, 200, 3);
        assertThat(call(guest, abi, XENMEM_decrease_reservation)).isEqualTo(1);
        assertThat(guestMap.ram).containsKeys(3L);
    }

    @Test
    void decreaseOfAnotherDomainNeedsPrivilege() {
        reservation(Abi.X86_64, other.domid(), 1, 0, 0, 1);
        assertThat(call(guest, Abi.X86_64, XENMEM_decrease_reservation)).isZero();
        assertThat(call(dom0, Abi.X86_64, XENMEM_decrease_reservation)).isEqualTo(1);
        assertThat(otherMap.ram).doesNotContainKeys(1L);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void increaseReservationAllocatesNothing(Abi abi) {
        reservation(abi, XenDomains.DOMID_SELF, 2, 0, 0);
        assertThat(call(guest, abi, XENMEM_increase_reservation)).isZero();
        assertThat(call(guest, abi, XENMEM_increase_reservation | (1 << 6))).isEqualTo(1);
        assertThat(guestMap.totalPages()).isEqualTo(8);
    }

    @Test
    void aDomainWithoutAPhysmapDoesNothing() {
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 1, 0, 0, 10);
        assertThat(call(local, Abi.X86_64, XENMEM_populate_physmap)).isZero();
        assertThat(call(local, Abi.X86_64, XENMEM_decrease_reservation)).isZero();
    }

    @Test
    void aCompatCommandIs32Bits() {
        reservation(Abi.X86_32, XenDomains.DOMID_SELF, 1, 0, 0, 10);
        // the high half of a 64-bit register is not seen by a compat call
        assertThat(harness(guest, Abi.X86_32).call(0x1_0000_0000L | XENMEM_populate_physmap, arg)).isEqualTo(1);
    }
}
