package xenshim.handlers.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EACCES;
import static xenshim.api.xen.XenErrno.XEN_EDOM;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EILSEQ;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EOVERFLOW;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;
import static xenshim.api.xen.XenMemory.*;

import java.lang.foreign.StructLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.xen.XenDomains;

class AddToPhysmapTest extends MemoryOpTestBase {

    private void xatp(Abi abi, int domid, int size, int space, long idx, long gpfn) {
        StructLayout x = abi.layouts().xen_add_to_physmap;
        memory.write16(arg + off(x, "domid"), (short) domid);
        memory.write16(arg + off(x, "size"), (short) size);
        memory.write32(arg + off(x, "space"), space);
        abi.writeULong(memory, arg + off(x, "idx"), idx);
        abi.writeULong(memory, arg + off(x, "gpfn"), gpfn);
    }

    private long call(Domain caller, Abi abi, long cmd) {
        return harness(caller, abi).call(cmd, arg);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void sharedInfoIsMappedByThePhysmap(Abi abi) {
        xatp(abi, XenDomains.DOMID_SELF, 0, XENMAPSPACE_shared_info, 0, 0xfeff0);

        assertThat(call(guest, abi, XENMEM_add_to_physmap)).isZero();

        assertThat(guestMap.added).containsExactly("0:0->feff0");
        assertThat(guestMap.hypervisor).containsEntry(0xfeff0L, "shared_info");
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void thePhysmapsErrorIsReturned(Abi abi) {
        xatp(abi, guest.domid(), 0, XENMAPSPACE_shared_info, 1, 0xfeff0);
        assertThat(call(guest, abi, XENMEM_add_to_physmap)).isEqualTo(-XEN_EINVAL);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void grantTableFramesPassIdxThrough(Abi abi) {
        xatp(abi, XenDomains.DOMID_SELF, 0, XENMAPSPACE_grant_table, XENMAPIDX_grant_table_status & 0xFFFF_FFFFL, 0x1000);
        assertThat(call(guest, abi, XENMEM_add_to_physmap)).isZero();
        assertThat(guestMap.added).containsExactly("1:80000000->1000");
    }

    @Test
    void startExtentWiderThanSizeIsEdom() {
        memory.unmap(arg);
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap | (0x10000L << 6))).isEqualTo(-XEN_EDOM);
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap | (0xFFFFL << 6))).isEqualTo(-XEN_EFAULT);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void anUnreadableStructIsEfault(Abi abi) {
        memory.unmap(arg);
        assertThat(call(guest, abi, XENMEM_add_to_physmap)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void gmfnForeignIsEnosysBeforeTheDomainLookup() {
        xatp(Abi.X86_64, 999, 0, XENMAPSPACE_gmfn_foreign, 0, 1);
        assertThat(call(dom0, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_ENOSYS);
    }

    @Test
    void aMissingDomainIsEsrch() {
        xatp(Abi.X86_64, 999, 0, XENMAPSPACE_shared_info, 0, 1);
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_ESRCH);
    }

    @Test
    void aTargetWithoutAPhysmapIsEacces() {
        xatp(Abi.X86_64, XenDomains.DOMID_SELF, 0, XENMAPSPACE_shared_info, 0, 1);
        assertThat(call(local, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_EACCES);
        xatp(Abi.X86_64, local.domid(), 0, XENMAPSPACE_shared_info, 0, 1);
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_EACCES);
    }

    @Test
    void devMmioIsOnlyForAPrivilegedDomainIntoItself() {
        xatp(Abi.X86_64, XenDomains.DOMID_SELF, 0, XENMAPSPACE_dev_mmio, 0xfe000, 0xfe000);
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_EACCES);
        assertThat(call(dom0, Abi.X86_64, XENMEM_add_to_physmap)).isZero();
        assertThat(dom0Map.added).containsExactly("5:fe000->fe000");
        xatp(Abi.X86_64, other.domid(), 0, XENMAPSPACE_dev_mmio, 0xfe000, 0xfe000);
        assertThat(call(dom0, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_EACCES);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aForeignTargetNeedsPrivilege(Abi abi) {
        xatp(abi, other.domid(), 0, XENMAPSPACE_shared_info, 0, 0x10);
        assertThat(call(guest, abi, XENMEM_add_to_physmap)).isEqualTo(-XEN_EPERM);
        assertThat(otherMap.added).isEmpty();
        assertThat(call(dom0, abi, XENMEM_add_to_physmap)).isZero();
        assertThat(otherMap.added).containsExactly("0:0->10");
    }

    @Test
    void anInvalidGfnIsEinval() {
        xatp(Abi.X86_64, XenDomains.DOMID_SELF, 0, XENMAPSPACE_shared_info, 0, -1L);
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_EINVAL);
        assertThat(guestMap.added).isEmpty();
    }

    @Test
    void aCompatAllOnesGpfnIsZeroExtendedAndGoesToThePhysmapAsInXen() {
        xatp(Abi.X86_32, XenDomains.DOMID_SELF, 0, XENMAPSPACE_shared_info, 0, 0xFFFF_FFFFL);
        assertThat(call(guest, Abi.X86_32, XENMEM_add_to_physmap)).isZero();
        assertThat(guestMap.added).containsExactly("0:0->ffffffff");
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void gmfnRangeMovesEachFrame(Abi abi) {
        xatp(abi, XenDomains.DOMID_SELF, 3, XENMAPSPACE_gmfn_range, 2, 0x100);

        assertThat(call(guest, abi, XENMEM_add_to_physmap)).isZero();

        assertThat(guestMap.added).containsExactly("2:2->100", "2:3->101", "2:4->102");
        // the pages themselves moved: frame 0x100 now holds the page that was at frame 2, and so on
        assertThat(guestMap.ram).doesNotContainKeys(2L, 3L, 4L)
                .containsEntry(0x100L, 2L).containsEntry(0x101L, 3L).containsEntry(0x102L, 4L);
        assertThat(guestMap.totalPages()).isEqualTo(8);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aPreemptedRangeContinuesWithTheFramesDoneInTheCommandAndLeavesTheStructAlone(Abi abi) {
        xatp(abi, XenDomains.DOMID_SELF, 4, XENMAPSPACE_gmfn_range, 2, 0x100);
        byte[] before = new byte[64];
        memory.read(arg, before, 0, 64);
        var harness = harness(guest, abi).preemptEvery(2);

        var first = harness.enter(XENMEM_add_to_physmap, arg);

        // Xen 4.17 checks after every frame but the last; the second check preempts after two frames
        assertThat(first.continuation()).containsExactly(XENMEM_add_to_physmap | (2L << 6), arg, 0, 0, 0);
        byte[] after = new byte[64];
        memory.read(arg, after, 0, 64);
        assertThat(after).as("xenmem_add_to_physmap works on its own copy").isEqualTo(before);
        assertThat(harness.call(first.continuation())).isZero();
        assertThat(guestMap.added).containsExactly("2:2->100", "2:3->101", "2:4->102", "2:5->103");
    }

    @Test
    void aPreemptionCheckAfterTheLastFrameNeverHappens() {
        xatp(Abi.X86_64, XenDomains.DOMID_SELF, 2, XENMAPSPACE_gmfn_range, 2, 0x100);
        var harness = harness(guest, Abi.X86_64).preemptEvery(1);
        assertThat(harness.call(XENMEM_add_to_physmap, arg)).isZero();
        assertThat(harness.continuations()).extracting(a -> a[0]).containsExactly(XENMEM_add_to_physmap | (1L << 6));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void gmfnRangeContinuesFromStartExtent(Abi abi) {
        xatp(abi, XenDomains.DOMID_SELF, 3, XENMAPSPACE_gmfn_range, 2, 0x100);
        assertThat(call(guest, abi, XENMEM_add_to_physmap | (1 << 6))).isZero();
        assertThat(guestMap.added).containsExactly("2:3->101", "2:4->102");
        assertThat(call(guest, abi, XENMEM_add_to_physmap | (3 << 6))).isZero();
        assertThat(call(guest, abi, XENMEM_add_to_physmap | (4 << 6))).isEqualTo(-XEN_EILSEQ);
    }

    @Test
    void gmfnRangeReturnsTheFirstFailure() {
        xatp(Abi.X86_64, XenDomains.DOMID_SELF, 4, XENMAPSPACE_gmfn_range, 6, 0x100);
        // frames 6 and 7 are RAM, 8 is not
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_EINVAL);
        assertThat(guestMap.added).containsExactly("2:6->100", "2:7->101", "2:8->102");
    }

    @Test
    void gmfnRangeThatWrapsIsEoverflow() {
        xatp(Abi.X86_64, XenDomains.DOMID_SELF, 5, XENMAPSPACE_gmfn_range, 0, -3L);
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_EOVERFLOW);
        xatp(Abi.X86_64, XenDomains.DOMID_SELF, 5, XENMAPSPACE_gmfn_range, -3L, 0x100);
        assertThat(call(guest, Abi.X86_64, XENMEM_add_to_physmap)).isEqualTo(-XEN_EOVERFLOW);
        assertThat(guestMap.added).isEmpty();
    }

    @Test
    void aFullSizeRangeIsBounded() {
        xatp(Abi.X86_64, dom0.domid(), 0xFFFF, XENMAPSPACE_gmfn_range, 0, 0x20000);
        FakePhysMap map = dom0Map;
        assertThat(map.populate(0, 16)).isTrue(); // frames 0..0xffff
        assertThat(call(dom0, Abi.X86_64, XENMEM_add_to_physmap)).isZero();
        assertThat(map.added).hasSize(0xFFFF);
        assertThat(map.ram).containsKeys(0x20000L, 0x2FFFEL).doesNotContainKeys(0L, 0xFFFEL).containsKey(0xFFFFL);
    }
}
