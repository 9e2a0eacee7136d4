package xenshim.handlers.gnttab;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;
import static xenshim.api.xen.XenGnttab.*;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.GrantTable;
import xenshim.api.xen.XenDomains;
import xenshim.api.xen.XenMemory;
import xenshim.testkit.FakeDomains;

/**
 * {@code grant_table_op}'s argument checks and the sub-ops that describe a table: {@code setup_table},
 * {@code query_size}, {@code set_version}, {@code get_version}, {@code get_status_frames},
 * {@code dump_table}, in both ABIs.
 */
class GrantTableOpHandlerTest {

    private final GnttabFixture f = new GnttabFixture();

    // ---- the call itself --------------------------------------------------------------------------------

    @Test
    void aNegativeCountIsEinvalForEveryOp() {
        for (int cmd = 0; cmd <= GNTTABOP_cache_flush; cmd++) {
            assertThat(f.as(f.guest, Abi.X86_64).call(cmd, f.arg, 0x8000_0000L)).as("cmd %d", cmd)
                    .isEqualTo(-XEN_EINVAL);
        }
    }

    @Test
    void progressBitsInCmdAreEinvalButForCacheFlush() {
        assertThat(f.as(f.guest, Abi.X86_64).call(GNTTABOP_query_size | (1 << 12), f.arg, 1))
                .isEqualTo(-XEN_EINVAL);
        assertThat(f.as(f.guest, Abi.X86_64).call(GNTTABOP_cache_flush | (1 << 12), f.arg, 0)).isZero();
    }

    @Test
    void unknownOpsAndDumpTableAreEnosysWithoutReadingTheStruct() {
        long unmapped = f.memory.end() + 0x1000;
        assertThat(f.as(f.guest, Abi.X86_64).call(GNTTABOP_dump_table, unmapped, 1)).isEqualTo(-XEN_ENOSYS);
        assertThat(f.as(f.guest, Abi.X86_64).call(13, f.arg, 1)).isEqualTo(-XEN_ENOSYS);
        assertThat(f.as(f.guest, Abi.X86_64).call(0xFFF, f.arg, 1)).isEqualTo(-XEN_ENOSYS);
    }

    /** The cmd and count registers are 32-bit: the high half of a native register is not looked at. */
    @Test
    void onlyTheLow32BitsOfCmdAndCountCount() {
        long rc = f.as(f.guest, Abi.X86_64).call((1L << 32) | GNTTABOP_get_status_frames, f.arg, (5L << 32) | 2);
        assertThat(rc).isEqualTo(-XEN_EINVAL); // count 2, not a cmd with bits above the mask
    }

    // ---- setup_table --------------------------------------------------------------------------------------

    private long frameList() {
        return f.memory.page(3);
    }

    private long setup(Domain caller, Abi abi, int dom, int nrFrames, long frameList, int count) {
        f.memory.fill(f.arg, 32, (byte) 0);
        f.memory.write16(f.arg + SETUP_DOM.offset(abi), (short) dom);
        f.memory.write32(f.arg + SETUP_NR_FRAMES.offset(abi), nrFrames);
        abi.writeULong(f.memory, f.arg + SETUP_FRAME_LIST.offset(abi), frameList);
        f.memory.write16(f.arg + SETUP_STATUS.offset(abi), (short) 0x7777);
        return f.as(caller, abi).call(GNTTABOP_setup_table, f.arg, count);
    }

    private int setupStatus(Abi abi) {
        return f.memory.read16(f.arg + SETUP_STATUS.offset(abi));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void setupTableGrowsTheTableAndListsWhereEachFrameIsMapped(Abi abi) {
        assertThat(f.guestRam.addToPhysmap(XenMemory.XENMAPSPACE_grant_table, 1, 0x100)).isZero();
        f.memory.fill(frameList(), 64, (byte) 0x55);

        assertThat(setup(f.guest, abi, XenDomains.DOMID_SELF, 3, frameList(), 1)).isZero();

        assertThat(setupStatus(abi)).isEqualTo(GNTST_okay);
        assertThat(f.table(f.guest).nrFrames()).isEqualTo(3);
        long invalid = abi == Abi.X86_64 ? GrantTable.INVALID_GFN : 0xFFFF_FFFFL; // the compat copy truncates
        assertThat(abi.readULong(f.memory, frameList())).isEqualTo(invalid);
        assertThat(abi.readULong(f.memory, frameList() + abi.longSize())).isEqualTo(0x100);
        assertThat(abi.readULong(f.memory, frameList() + 2L * abi.longSize())).isEqualTo(invalid);
        assertThat(f.memory.read8(frameList() + 3L * abi.longSize())).as("only nr_frames written").isEqualTo((byte) 0x55);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void setupTableStatuses(Abi abi) {
        assertThat(setup(f.guest, abi, XenDomains.DOMID_SELF, 65, frameList(), 1)).isZero();
        assertThat(setupStatus(abi)).as("beyond max_grant_frames").isEqualTo(GNTST_general_error);
        assertThat(f.table(f.guest).nrFrames()).isEqualTo(1);

        assertThat(setup(f.guest, abi, 77, 1, frameList(), 1)).isZero();
        assertThat(setupStatus(abi)).isEqualTo(GNTST_bad_domain);

        assertThat(setup(f.guest, abi, f.other.domid(), 1, frameList(), 1)).isZero();
        assertThat(setupStatus(abi)).as("XSM_TARGET").isEqualTo(GNTST_permission_denied);

        assertThat(setup(f.dom0, abi, f.other.domid(), 2, frameList(), 1)).isZero();
        assertThat(setupStatus(abi)).as("a privileged caller").isEqualTo(GNTST_okay);
        assertThat(f.table(f.other).nrFrames()).isEqualTo(2);

        f.memory.unmap(frameList());
        assertThat(setup(f.guest, abi, XenDomains.DOMID_SELF, 2, frameList(), 1)).isZero();
        assertThat(setupStatus(abi)).isEqualTo(GNTST_bad_virt_addr);
        assertThat(f.table(f.guest).nrFrames()).as("grown all the same").isEqualTo(2);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void setupTableWantsACountOfOneAndAReadableStruct(Abi abi) {
        assertThat(setup(f.guest, abi, XenDomains.DOMID_SELF, 1, frameList(), 2)).isEqualTo(-XEN_EINVAL);
        assertThat(setup(f.guest, abi, XenDomains.DOMID_SELF, 1, frameList(), 0)).isEqualTo(-XEN_EINVAL);
        assertThat(f.as(f.guest, abi).call(GNTTABOP_setup_table, f.memory.end() - 4, 1)).isEqualTo(-XEN_EFAULT);
    }

    // ---- query_size -----------------------------------------------------------------------------------

    private int querySize(Domain caller, Abi abi, int dom) {
        f.memory.fill(f.arg, 16, (byte) 0);
        f.memory.write16(f.arg + QUERY_DOM.offset(abi), (short) dom);
        assertThat(f.as(caller, abi).call(GNTTABOP_query_size, f.arg, 1)).isZero();
        return f.memory.read16(f.arg + QUERY_STATUS.offset(abi));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void querySizeReportsFramesAndTheLimit(Abi abi) {
        f.table(f.guest).setup(4);
        assertThat(querySize(f.guest, abi, XenDomains.DOMID_SELF)).isEqualTo(GNTST_okay);
        assertThat(f.memory.read32(f.arg + QUERY_NR_FRAMES.offset(abi))).isEqualTo(4);
        assertThat(f.memory.read32(f.arg + QUERY_MAX_NR_FRAMES.offset(abi))).isEqualTo(DEFAULT_MAX_GRANT_FRAMES);

        assertThat(querySize(f.guest, abi, 77)).isEqualTo(GNTST_bad_domain);
        assertThat(querySize(f.guest, abi, f.other.domid())).isEqualTo(GNTST_permission_denied);
        assertThat(f.memory.read32(f.arg + QUERY_NR_FRAMES.offset(abi))).as("untouched on failure").isZero();
        assertThat(querySize(f.dom0, abi, f.other.domid())).isEqualTo(GNTST_okay);
        assertThat(f.as(f.guest, abi).call(GNTTABOP_query_size, f.arg, 3)).isEqualTo(-XEN_EINVAL);
    }

    // ---- versions and status frames ----------------------------------------------------------------------

    private long setVersion(Abi abi, int version, int count) {
        f.memory.write32(f.arg + SET_VERSION_VERSION.offset(abi), version);
        return f.as(f.guest, abi).call(GNTTABOP_set_version, f.arg, count);
    }

    /** v1 only: 2 is what a Xen with {@code gnttab=max-ver:1} answers, {@code -ENOSYS}; the version is written back. */
    @ParameterizedTest
    @EnumSource(Abi.class)
    void setVersionKeepsVersionOne(Abi abi) {
        assertThat(setVersion(abi, 1, 1)).isZero();
        assertThat(setVersion(abi, 2, 1)).isEqualTo(-XEN_ENOSYS);
        assertThat(f.memory.read32(f.arg)).isEqualTo(1);
        assertThat(setVersion(abi, 3, 7)).as("count is not looked at").isEqualTo(-XEN_EINVAL);
        assertThat(f.memory.read32(f.arg)).isEqualTo(1);
        assertThat(setVersion(abi, 0, 0)).isEqualTo(-XEN_EINVAL);
        assertThat(f.as(f.guest, abi).call(GNTTABOP_set_version, f.memory.end() - 2, 1)).isEqualTo(-XEN_EFAULT);
    }

    private long getVersion(Domain caller, Abi abi, int dom) {
        f.memory.write16(f.arg + GET_VERSION_DOM.offset(abi), (short) dom);
        f.memory.write32(f.arg + GET_VERSION_VERSION.offset(abi), 0);
        return f.as(caller, abi).call(GNTTABOP_get_version, f.arg, 1);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void getVersionIsOneForSelfOrAPrivilegedCaller(Abi abi) {
        assertThat(getVersion(f.guest, abi, XenDomains.DOMID_SELF)).isZero();
        assertThat(f.memory.read32(f.arg + GET_VERSION_VERSION.offset(abi))).isEqualTo(1);
        assertThat(getVersion(f.guest, abi, 77)).isEqualTo(-XEN_ESRCH);
        assertThat(getVersion(f.guest, abi, f.other.domid())).isEqualTo(-XEN_EPERM);
        assertThat(getVersion(f.dom0, abi, f.other.domid())).isZero();
    }

    private int statusFrames(Domain caller, Abi abi, int dom, int nrFrames) {
        f.memory.fill(f.arg, 16, (byte) 0);
        f.memory.write32(f.arg + STATUS_FRAMES_NR_FRAMES.offset(abi), nrFrames);
        f.memory.write16(f.arg + STATUS_FRAMES_DOM.offset(abi), (short) dom);
        assertThat(f.as(caller, abi).call(GNTTABOP_get_status_frames, f.arg, 1)).isZero();
        return f.memory.read16(f.arg + STATUS_FRAMES_STATUS.offset(abi));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aV1TableHasNoStatusFrames(Abi abi) {
        assertThat(statusFrames(f.guest, abi, XenDomains.DOMID_SELF, 0)).isEqualTo(GNTST_okay);
        assertThat(statusFrames(f.guest, abi, XenDomains.DOMID_SELF, 1)).isEqualTo(GNTST_general_error);
        assertThat(statusFrames(f.guest, abi, 77, 0)).isEqualTo(GNTST_bad_domain);
        assertThat(statusFrames(f.guest, abi, f.other.domid(), 0)).isEqualTo(GNTST_permission_denied);
        assertThat(f.as(f.guest, abi).call(GNTTABOP_get_status_frames, f.arg, 2)).isEqualTo(-XEN_EINVAL);
    }

    // ---- the table's frames in the physmap --------------------------------------------------------------

    @Test
    void addToPhysmapGrowsTheTableUpToItsLimitAndRefusesStatusFrames() {
        assertThat(f.guestRam.addToPhysmap(XenMemory.XENMAPSPACE_grant_table, 63, 0x200)).isZero();
        assertThat(f.table(f.guest).nrFrames()).isEqualTo(64);
        assertThat(f.table(f.guest).frameGfn(63)).isEqualTo(0x200);
        assertThat(f.guestRam.addToPhysmap(XenMemory.XENMAPSPACE_grant_table, 64, 0x201)).isEqualTo(-XEN_EINVAL);
        assertThat(f.guestRam.addToPhysmap(XenMemory.XENMAPSPACE_grant_table,
                Integer.toUnsignedLong(XenMemory.XENMAPIDX_grant_table_status), 0x202)).isEqualTo(-XEN_EINVAL);
    }

    @Test
    void aGrantFrameMovesAndTheFrameItLeftIsAHole() {
        assertThat(f.guestRam.addToPhysmap(XenMemory.XENMAPSPACE_grant_table, 0, 3)).isZero();
        assertThat(f.guestRam.pageAt(3)).as("the RAM page at 3 is given up").isEqualTo(-1);
        assertThat(f.guestRam.addToPhysmap(XenMemory.XENMAPSPACE_grant_table, 0, 0x300)).isZero();
        assertThat(f.table(f.guest).frameGfn(0)).isEqualTo(0x300);
        assertThat(f.guestRam.addToPhysmap(XenMemory.XENMAPSPACE_gmfn, 4, 0x300)).isZero();
        assertThat(f.table(f.guest).frameGfn(0)).as("RAM mapped over it").isEqualTo(GrantTable.INVALID_GFN);
    }

    @Test
    void aDomainWithoutRamGetsATableThatGrantsNothing() {
        Domain bare = FakeDomains.guest(12);
        GrantTable table = bare.state(GrantTable.KEY);
        table.writeEntry(8, GTF_permit_access, 0, 1);
        assertThat(table.acquire(8, 0, true, true)).isEqualTo(GNTST_bad_page);
        assertThat(table.flags(8)).isEqualTo(GTF_permit_access);
    }
}
