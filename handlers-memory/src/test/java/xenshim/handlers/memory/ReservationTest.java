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

        assertThat(guestMap.ram).contains(10L, 11L, 0x20L);
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

        assertThat(guestMap.ram).contains(102L, 103L).doesNotContain(100L, 101L);
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
    void theLargestExtentCountIsAccepted() {
        reservation(Abi.X86_64, XenDomains.DOMID_SELF, 0x3FF_FFFFL, 0, 0, 10);
        // extent 1 is 0 (already RAM) and so on: populate replaces; the physmap fills up after 8 fresh pages
        assertThat(call(guest, Abi.X86_64, XENMEM_populate_physmap)).isPositive();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aMissingOrForeignDomainDoesNothing(Abi abi) {
        reservation(abi, 999, 1, 0, 0, 10);
        assertThat(call(guest, abi, XENMEM_populate_physmap)).isZero();
        reservation(abi, other.domid(), 1, 0, 0, 10);
        assertThat(call(guest, abi, XENMEM_populate_physmap)).isZero();
        assertThat(otherMap.ram).doesNotContain(10L);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPrivilegedCallerPopulatesAnotherDomain(Abi abi) {
        reservation(abi, other.domid(), 2, 0, 0, 10, 11);
        assertThat(call(dom0, abi, XENMEM_populate_physmap)).isEqualTo(2);
        assertThat(otherMap.ram).contains(10L, 11L);
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
        assertThat(guestMap.ram).doesNotContain(10L);
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
        assertThat(guestMap.ram).doesNotContain(1L, 2L, 3L);
        assertThat(guestMap.totalPages()).isEqualTo(5);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void decreaseStopsAtAFrameThatIsNotPopulated(Abi abi) {
        reservation(abi, guest.domid(), 3, 0, 0, 1, 200, 3);
        assertThat(call(guest, abi, XENMEM_decrease_reservation)).isEqualTo(1);
        assertThat(guestMap.ram).contains(3L);
    }

    @Test
    void decreaseOfAnotherDomainNeedsPrivilege() {
        reservation(Abi.X86_64, other.domid(), 1, 0, 0, 1);
        assertThat(call(guest, Abi.X86_64, XENMEM_decrease_reservation)).isZero();
        assertThat(call(dom0, Abi.X86_64, XENMEM_decrease_reservation)).isEqualTo(1);
        assertThat(otherMap.ram).doesNotContain(1L);
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
