package xenshim.handlers.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenErrno.XEN_EINVAL;
import static xenshim.api.xen.XenErrno.XEN_ENOSYS;
import static xenshim.api.xen.XenErrno.XEN_EPERM;
import static xenshim.api.xen.XenErrno.XEN_ESRCH;
import static xenshim.api.xen.XenMemory.*;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;
import xenshim.api.Abi;
import xenshim.api.PhysMap.MemoryMapEntry;
import xenshim.api.xen.XenDomains;

/** The reservation statistics, maximum_ram_page, memory_map and the ops memory_op does not serve. */
class MemoryOpHandlerTest extends MemoryOpTestBase {

    private long stat(xenshim.api.Domain caller, Abi abi, long cmd, int domid) {
        memory.write16(arg + off(abi.layouts().xen_memory_domain, "domid"), (short) domid);
        return harness(caller, abi).call(cmd, arg);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aDomainReadsItsOwnReservation(Abi abi) {
        guestMap.populate(0x30, 0);
        assertThat(stat(guest, abi, XENMEM_current_reservation, XenDomains.DOMID_SELF)).isEqualTo(9);
        assertThat(stat(guest, abi, XENMEM_maximum_reservation, XenDomains.DOMID_SELF)).isEqualTo(16);
        assertThat(stat(guest, abi, XENMEM_maximum_gpfn, XenDomains.DOMID_SELF)).isEqualTo(0x30);
        assertThat(stat(guest, abi, XENMEM_current_reservation, guest.domid())).isEqualTo(9);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aForeignReservationNeedsPrivilege(Abi abi) {
        assertThat(stat(guest, abi, XENMEM_current_reservation, other.domid())).isEqualTo(-XEN_EPERM);
        assertThat(stat(guest, abi, XENMEM_maximum_gpfn, other.domid())).isEqualTo(-XEN_EPERM);
        assertThat(stat(dom0, abi, XENMEM_maximum_reservation, other.domid())).isEqualTo(32);
        assertThat(stat(dom0, abi, XENMEM_current_reservation, other.domid())).isEqualTo(4);
    }

    @Test
    void aMissingDomainIsEsrch() {
        assertThat(stat(guest, Abi.X86_64, XENMEM_current_reservation, 999)).isEqualTo(-XEN_ESRCH);
        assertThat(stat(dom0, Abi.X86_64, XENMEM_maximum_reservation, 999)).isEqualTo(-XEN_ESRCH);
    }

    @Test
    void aDomainWithoutAPhysmapReportsZero() {
        assertThat(stat(local, Abi.X86_64, XENMEM_current_reservation, XenDomains.DOMID_SELF)).isZero();
        assertThat(stat(local, Abi.X86_64, XENMEM_maximum_gpfn, XenDomains.DOMID_SELF)).isZero();
    }

    @ParameterizedTest
    @ValueSource(ints = {XENMEM_current_reservation, XENMEM_maximum_reservation, XENMEM_maximum_gpfn})
    void statsCheckStartExtentBeforeTheCopy(int op) {
        memory.unmap(arg);
        assertThat(harness(guest, Abi.X86_64).call(op | (1 << 6), arg)).isEqualTo(-XEN_EINVAL);
        assertThat(harness(guest, Abi.X86_64).call(op, arg)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void onlyTwoBytesOfDomidAreRead() {
        long last = memory.page(2) - 2;
        memory.unmap(memory.page(2));
        memory.write16(last, (short) XenDomains.DOMID_SELF);
        assertThat(harness(guest, Abi.X86_64).call(XENMEM_maximum_reservation, last)).isEqualTo(16);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void maximumRamPageIsOnePastTheHighestMappedFrame(Abi abi) {
        memory.unmap(arg);
        assertThat(harness(guest, abi).call(XENMEM_maximum_ram_page, arg)).isEqualTo(8);
        assertThat(harness(guest, abi).call(XENMEM_maximum_ram_page | (1 << 6), 0)).isEqualTo(-XEN_EINVAL);
        assertThat(harness(local, abi).call(XENMEM_maximum_ram_page, 0)).isZero();
    }

    private void memoryMapStruct(Abi abi, int nrEntries, long buffer) {
        memory.write32(arg + off(abi.layouts().xen_memory_map, "nr_entries"), nrEntries);
        abi.writeULong(memory, arg + off(abi.layouts().xen_memory_map, "buffer"), buffer);
    }

    private static final List<MemoryMapEntry> E820 = List.of(
            new MemoryMapEntry(0, 0xA0000, MemoryMapEntry.E820_RAM),
            new MemoryMapEntry(0xF0000, 0x10000, MemoryMapEntry.E820_RESERVED),
            new MemoryMapEntry(0x100000, 0x7FF0_0000L, MemoryMapEntry.E820_RAM));

    @ParameterizedTest
    @EnumSource(Abi.class)
    void memoryMapWritesPackedEntriesAndTheirCount(Abi abi) {
        guestMap.e820 = E820;
        long buffer = memory.page(4) + 4;
        memoryMapStruct(abi, 8, buffer);

        assertThat(harness(guest, abi).call(XENMEM_memory_map, arg)).isZero();

        assertThat(memory.read32(arg)).isEqualTo(3);
        assertThat(abi.readULong(memory, arg + off(abi.layouts().xen_memory_map, "buffer"))).isEqualTo(buffer);
        for (int i = 0; i < 3; i++) {
            long at = buffer + 20L * i;
            assertThat(memory.read64(at)).isEqualTo(E820.get(i).address());
            assertThat(memory.read64(at + 8)).isEqualTo(E820.get(i).size());
            assertThat(memory.read32(at + 16)).isEqualTo(E820.get(i).type());
        }
        assertThat(memory.read32(buffer + 60)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aShortBufferIsSilentlyTruncated(Abi abi) {
        guestMap.e820 = E820;
        long buffer = memory.page(4);
        memory.write32(buffer + 40, 0x5a5a5a5a);
        memoryMapStruct(abi, 2, buffer);

        assertThat(harness(guest, abi).call(XENMEM_memory_map, arg)).isZero();

        assertThat(memory.read32(arg)).isEqualTo(2);
        assertThat(memory.read32(buffer + 40)).isEqualTo(0x5a5a5a5a);
    }

    @Test
    void noMemoryMapIsEnosys() {
        memoryMapStruct(Abi.X86_64, 8, memory.page(4));
        assertThat(harness(guest, Abi.X86_64).call(XENMEM_memory_map, arg)).isEqualTo(-XEN_ENOSYS);
        assertThat(harness(local, Abi.X86_64).call(XENMEM_memory_map, arg)).isEqualTo(-XEN_ENOSYS);
    }

    @Test
    void memoryMapFaults() {
        guestMap.e820 = E820;
        memoryMapStruct(Abi.X86_64, 8, memory.page(4));
        memory.readOnly(memory.page(4));
        assertThat(harness(guest, Abi.X86_64).call(XENMEM_memory_map, arg)).isEqualTo(-XEN_EFAULT);
        memory.unmap(arg);
        assertThat(harness(guest, Abi.X86_64).call(XENMEM_memory_map, arg)).isEqualTo(-XEN_EFAULT);
    }

    @Test
    void aReadOnlyStructIsEfaultAfterTheEntries() {
        guestMap.e820 = E820;
        memoryMapStruct(Abi.X86_64, 8, memory.page(4));
        memory.readOnly(arg);
        assertThat(harness(guest, Abi.X86_64).call(XENMEM_memory_map, arg)).isEqualTo(-XEN_EFAULT);
        assertThat(memory.read64(memory.page(4) + 8)).isEqualTo(0xA0000);
    }

    @Test
    void memoryMapWithStartExtentBitsIsEnosys() {
        guestMap.e820 = E820;
        memoryMapStruct(Abi.X86_64, 8, memory.page(4));
        assertThat(harness(guest, Abi.X86_64).call(XENMEM_memory_map | (1 << 6), arg)).isEqualTo(-XEN_ENOSYS);
    }

    @ParameterizedTest
    @ValueSource(longs = {XENMEM_machine_memory_map, XENMEM_machphys_mapping, XENMEM_machphys_mfn_list, XENMEM_exchange,
            XENMEM_set_memory_map, XENMEM_remove_from_physmap, XENMEM_add_to_physmap_batch, 8, 63, -1})
    void otherOpsAreEnosys(long cmd) {
        assertThat(harness(dom0, Abi.X86_64).call(cmd, arg)).isEqualTo(-XEN_ENOSYS);
        assertThat(harness(guest, Abi.X86_32).call(cmd, arg)).isEqualTo(-XEN_ENOSYS);
    }

    @Test
    void theProviderKnowsOnlyTheCaller() {
        memory.write16(arg, (short) XenDomains.DOMID_SELF);
        assertThat(xenshim.testkit.HandlerHarness.of(MemoryOpHandler.provider()).domain(guest).memory(memory)
                .call(XENMEM_maximum_reservation, arg)).isEqualTo(16);
    }
}
