package xenshim.x86.dom0;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xenshim.api.Domain;
import xenshim.api.GrantMappings;
import xenshim.api.GrantTable;
import xenshim.api.PhysMap.MemoryMapEntry;
import xenshim.api.XenVersionInfo;
import xenshim.api.xen.XenGnttab;
import xenshim.dispatcher.HypercallPage;
import xenshim.x86.Platform;
import xenshim.x86.memory.GuestPhysMemory;

/**
 * dom0 maps a guest's reserved console grant through the built-in table, as a backend would: the
 * guest's memory is the runtime's {@link GuestPhysMemory}, the grant is seeded as the domain builder
 * seeds it, and dom0's window is the guest's page itself. A fresh table swapped in unmaps what the old
 * one mapped, and the page is held against a balloon meanwhile.
 */
class GrantsSurviveASwapTest {

    private static final long RAM = 64 * GuestPhysMemory.PAGE_SIZE;
    private static final long CONSOLE_GFN = 0x20;

    private final Arena arena = Arena.ofConfined();

    @AfterEach
    void free() {
        arena.close();
    }

    private GuestPhysMemory memoryOf(Domain guest) {
        MemorySegment host = arena.allocate(RAM + GuestPhysMemory.HYPERVISOR_PAGES * GuestPhysMemory.PAGE_SIZE,
                GuestPhysMemory.PAGE_SIZE);
        GuestPhysMemory phys = new GuestPhysMemory(host, RAM,
                List.of(new MemoryMapEntry(0, RAM, MemoryMapEntry.E820_RAM)), GuestPhysMemory.Slots.NONE);
        phys.attachTo(guest);
        return phys;
    }

    @Test
    void dom0MapsTheConsoleGrantAndAFreshTableUnmapsIt() {
        Platform platform = new Platform(XenVersionInfo.defaults(), (d, b, o, l) -> { });
        HypercallPage page = new HypercallPage(platform.table(null, Map.of()));
        Domain guest = platform.newGuest(1);
        GuestPhysMemory phys = memoryOf(guest);
        GrantTable table = guest.state(GrantTable.KEY);
        table.writeEntry(XenGnttab.GNTTAB_RESERVED_CONSOLE, XenGnttab.GTF_permit_access, 0, CONSOLE_GFN);

        Dom0Calls.GrantMap map;
        try (Dom0Calls calls = new Dom0Calls(page, platform.dom0())) {
            map = calls.mapGrant(guest.domid(), XenGnttab.GNTTAB_RESERVED_CONSOLE, false);
        }
        assertThat(map.status()).isEqualTo(XenGnttab.GNTST_okay);
        MemorySegment ring = platform.dom0().state(GrantMappings.KEY).segment(map.handle());
        ring.set(ValueLayout.JAVA_INT, 0, 0x6F6C6C65);
        assertThat(phys.host().get(ValueLayout.JAVA_INT, phys.translate(CONSOLE_GFN << 12))).isEqualTo(0x6F6C6C65);
        assertThat(table.flags(0)).isEqualTo(XenGnttab.GTF_permit_access | XenGnttab.GTF_reading
                | XenGnttab.GTF_writing);

        assertThat(phys.decrease(CONSOLE_GFN, 0)).isZero();
        assertThat(phys.totalPages()).as("held by dom0's mapping").isEqualTo(RAM / GuestPhysMemory.PAGE_SIZE);

        page.registerLcall(platform.table(null, Map.of()));
        try (Dom0Calls calls = new Dom0Calls(page, platform.dom0())) {
            assertThat(calls.unmapGrant(map)).isEqualTo(XenGnttab.GNTST_okay);
            assertThat(calls.unmapGrant(map)).isEqualTo(XenGnttab.GNTST_bad_handle);
        }
        assertThat(table.flags(0)).isEqualTo(XenGnttab.GTF_permit_access);
        assertThat(phys.totalPages()).as("freed by the last unmap").isEqualTo(RAM / GuestPhysMemory.PAGE_SIZE - 1);
    }
}
