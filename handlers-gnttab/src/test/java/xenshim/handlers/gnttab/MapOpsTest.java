package xenshim.handlers.gnttab;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static xenshim.api.xen.XenErrno.XEN_EFAULT;
import static xenshim.api.xen.XenGnttab.*;
import static xenshim.handlers.gnttab.GnttabStructs.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.Domain;
import xenshim.api.GrantMappings;
import xenshim.api.xen.XenDomains;
import xenshim.testkit.HandlerHarness;

/**
 * {@code GNTTABOP_map_grant_ref}, {@code unmap_grant_ref} and {@code unmap_and_replace}: dom0 maps a
 * guest's grant and gets the guest's page itself; every status Xen returns where it returns it; the
 * access flags while mapped; a revoke and a balloon under a mapping; batches, faults and continuations.
 */
class MapOpsTest {

    private static final int REF = 8;
    private static final long GFN = 3;
    private static final long HOST = 0x1234_5000L;

    private final GnttabFixture f = new GnttabFixture();

    private GnttabFixture.Map mapGrant(Abi abi, int flags) {
        return f.map(f.dom0, abi, f.guest.domid(), REF, flags, HOST);
    }

    private int flags() {
        return f.table(f.guest).flags(REF);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void dom0MapsTheGuestsPageItself(Abi abi) {
        f.grant(f.guest, REF, 0, GFN, 0);
        long page = f.guestRam.pageAt(GFN);

        GnttabFixture.Map map = mapGrant(abi, GNTMAP_host_map);

        assertThat(map.status()).isEqualTo(GNTST_okay);
        assertThat(map.handle()).isZero();
        assertThat(map.devBusAddr()).isEqualTo(page << 12);
        assertThat(flags()).isEqualTo(GTF_permit_access | GTF_reading | GTF_writing);
        MemorySegment window = f.dom0.state(GrantMappings.KEY).segment(map.handle());
        window.set(ValueLayout.JAVA_INT, 100, 0xC0FFEE);
        assertThat(f.guestRam.page(page).get(ValueLayout.JAVA_INT, 100)).as("zero copies").isEqualTo(0xC0FFEE);
        assertThat(f.guestRam.references(page)).isEqualTo(1);

        assertThat(f.unmap(f.dom0, abi, map.handle(), HOST, 0)).isEqualTo(GNTST_okay);

        assertThat(flags()).isEqualTo(GTF_permit_access);
        assertThat(f.guestRam.references(page)).isZero();
        assertThat(f.dom0.state(GrantMappings.KEY).isMapped(map.handle())).isFalse();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aReadOnlyMappingSetsReadingAndIsReadOnly(Abi abi) {
        f.grant(f.guest, REF, 0, GFN, GTF_readonly);
        GnttabFixture.Map map = mapGrant(abi, GNTMAP_host_map | GNTMAP_readonly);
        assertThat(map.status()).isEqualTo(GNTST_okay);
        assertThat(flags()).isEqualTo(GTF_permit_access | GTF_readonly | GTF_reading);
        MemorySegment window = f.dom0.state(GrantMappings.KEY).segment(map.handle());
        assertThat(window.isReadOnly()).isTrue();

        assertThat(mapGrant(abi, GNTMAP_host_map).status()).as("writable map of a r/o grant")
                .isEqualTo(GNTST_general_error);
        assertThat(flags()).isEqualTo(GTF_permit_access | GTF_readonly | GTF_reading);
        assertThat(f.unmap(f.dom0, abi, map.handle(), HOST, 0)).isEqualTo(GNTST_okay);
        assertThat(flags()).isEqualTo(GTF_permit_access | GTF_readonly);
    }

    @Test
    void writingIsClearedWithTheLastWritableMappingAndReadingWithTheLast() {
        f.grant(f.guest, REF, 0, GFN, 0);
        int ro = f.map(f.dom0, Abi.X86_64, f.guest.domid(), REF, GNTMAP_host_map | GNTMAP_readonly, HOST).handle();
        int rw = f.map(f.dom0, Abi.X86_64, f.guest.domid(), REF, GNTMAP_host_map, HOST + 0x1000).handle();
        assertThat(flags()).isEqualTo(GTF_permit_access | GTF_reading | GTF_writing);
        assertThat(f.table(f.guest).pin(REF)).isEqualTo(0x101);

        assertThat(f.unmap(f.dom0, Abi.X86_64, rw, HOST + 0x1000, 0)).isEqualTo(GNTST_okay);
        assertThat(flags()).isEqualTo(GTF_permit_access | GTF_reading);
        assertThat(f.unmap(f.dom0, Abi.X86_64, ro, HOST, 0)).isEqualTo(GNTST_okay);
        assertThat(flags()).isEqualTo(GTF_permit_access);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void mapStatusesInXensOrder(Abi abi) {
        f.grant(f.guest, REF, 0, GFN, 0);
        assertThat(mapGrant(abi, 0).status()).as("neither host nor device").isEqualTo(GNTST_bad_gntref);
        assertThat(mapGrant(abi, GNTMAP_host_map | GNTMAP_device_map).status()).isEqualTo(GNTST_general_error);
        assertThat(mapGrant(abi, GNTMAP_host_map | GNTMAP_application_map).status()).isEqualTo(GNTST_general_error);
        assertThat(mapGrant(abi, GNTMAP_host_map | GNTMAP_contains_pte).status()).isEqualTo(GNTST_general_error);
        assertThat(f.map(f.dom0, abi, XenDomains.DOMID_SELF, REF, GNTMAP_host_map, HOST).status())
                .as("by id only").isEqualTo(GNTST_bad_domain);
        assertThat(f.map(f.dom0, abi, 77, REF, GNTMAP_host_map, HOST).status()).isEqualTo(GNTST_bad_domain);
        assertThat(f.map(f.dom0, abi, f.guest.domid(), 512, GNTMAP_host_map, HOST).status())
                .as("beyond one frame").isEqualTo(GNTST_bad_gntref);
        assertThat(f.map(f.dom0, abi, f.guest.domid(), -1, GNTMAP_host_map, HOST).status())
                .isEqualTo(GNTST_bad_gntref);
        assertThat(f.map(f.local9, abi, f.guest.domid(), REF, GNTMAP_host_map, HOST).status())
                .as("granted to d0, not d9").isEqualTo(GNTST_general_error);
        assertThat(mapGrant(abi, GNTMAP_host_map | (1 << 16)).status()).as("guest_avail bits: not a p2m mapping")
                .isEqualTo(GNTST_general_error);
        assertThat(f.map(f.other, abi, f.guest.domid(), REF, GNTMAP_host_map, HOST).status())
                .as("an HVM mapper: no foreign page in its physmap").isEqualTo(GNTST_general_error);
        assertThat(flags()).as("every failure undone").isEqualTo(GTF_permit_access);
        assertThat(f.table(f.guest).pin(REF)).isZero();
        assertThat(f.dom0.state(GrantMappings.KEY).activeMappings()).isZero();
    }

    @Test
    void mapRefusesBadEntries() {
        f.grant(f.guest, REF, 0, GFN, GTF_sub_page);
        assertThat(mapGrant(Abi.X86_64, GNTMAP_host_map).status()).isEqualTo(GNTST_general_error);
        f.table(f.guest).writeEntry(REF, GTF_accept_transfer, 0, GFN);
        assertThat(mapGrant(Abi.X86_64, GNTMAP_host_map).status()).isEqualTo(GNTST_general_error);
        f.table(f.guest).writeEntry(REF, GTF_invalid, 0, GFN);
        assertThat(mapGrant(Abi.X86_64, GNTMAP_host_map).status()).isEqualTo(GNTST_general_error);
        f.grant(f.guest, REF, 0, 0x5000, 0);
        assertThat(mapGrant(Abi.X86_64, GNTMAP_host_map).status()).as("a hole").isEqualTo(GNTST_bad_page);
        assertThat(flags()).as("the flags set for the pin cleared").isEqualTo(GTF_permit_access);
    }

    @Test
    void aSecondMappingAtTheSameAddressIsRefused() {
        f.grant(f.guest, REF, 0, GFN, 0);
        f.grant(f.guest, REF + 1, 0, GFN + 1, 0);
        assertThat(mapGrant(Abi.X86_64, GNTMAP_host_map).status()).isEqualTo(GNTST_okay);
        assertThat(f.map(f.dom0, Abi.X86_64, f.guest.domid(), REF + 1, GNTMAP_host_map, HOST).status())
                .isEqualTo(GNTST_general_error);
        assertThat(f.table(f.guest).pin(REF + 1)).isZero();
    }

    @Test
    void aFullMaptrackIsNoSpace() {
        f.local9.attach(GrantMappings.KEY, new GrantMappings(1));
        for (int i = 0; i < MAPTRACK_PER_PAGE; i++) {
            f.grant(f.guest, REF + i, 9, GFN, GTF_readonly);
            assertThat(f.map(f.local9, Abi.X86_64, f.guest.domid(), REF + i, GNTMAP_host_map | GNTMAP_readonly,
                    HOST + ((long) i << 12)).status()).as("map %d", i).isEqualTo(GNTST_okay);
        }
        f.grant(f.guest, REF + MAPTRACK_PER_PAGE, 9, GFN, GTF_readonly);
        assertThat(f.map(f.local9, Abi.X86_64, f.guest.domid(), REF + MAPTRACK_PER_PAGE,
                GNTMAP_host_map | GNTMAP_readonly, 0).status()).isEqualTo(GNTST_no_space);
        assertThat(f.table(f.guest).pin(REF + MAPTRACK_PER_PAGE)).isZero();
    }

    /**
     * An entry whose counter has reached 128 takes no more pins (Xen's {@code act->pin & 0x80808080}
     * check), so the 8-bit counter never wraps: 128 read mappings, and the 129th refused.
     */
    @Test
    void pinCountersDoNotOverflow() {
        f.grant(f.guest, REF, 0, GFN, 0);
        for (int i = 0; i < 128; i++) {
            int status = f.map(f.dom0, Abi.X86_64, f.guest.domid(), REF, GNTMAP_host_map | GNTMAP_readonly,
                    HOST + ((long) i << 12)).status();
            assertThat(status).as("map %d", i).isEqualTo(GNTST_okay);
        }
        assertThat(f.map(f.dom0, Abi.X86_64, f.guest.domid(), REF, GNTMAP_host_map | GNTMAP_readonly, 0).status())
                .isEqualTo(GNTST_general_error);
        assertThat(f.table(f.guest).pin(REF)).isEqualTo(128 << 8);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void unmapStatuses(Abi abi) {
        f.grant(f.guest, REF, 0, GFN, 0);
        GnttabFixture.Map map = mapGrant(abi, GNTMAP_host_map);
        assertThat(f.unmap(f.dom0, abi, 5000, HOST, 0)).isEqualTo(GNTST_bad_handle);
        assertThat(f.unmap(f.dom0, abi, 1, HOST, 0)).as("allocated, unused").isEqualTo(GNTST_bad_handle);
        assertThat(f.unmap(f.dom0, abi, -1, HOST, 0)).isEqualTo(GNTST_bad_handle);
        assertThat(f.unmap(f.dom0, abi, map.handle(), HOST, map.devBusAddr() + 0x1000))
                .isEqualTo(GNTST_general_error);
        assertThat(f.unmap(f.dom0, abi, map.handle(), HOST + 0x1000, 0)).as("not where it is mapped")
                .isEqualTo(GNTST_general_error);
        assertThat(f.unmap(f.dom0, abi, map.handle(), 0, map.devBusAddr())).as("no host_addr: nothing unmapped")
                .isEqualTo(GNTST_okay);
        assertThat(f.dom0.state(GrantMappings.KEY).isMapped(map.handle())).isTrue();
        assertThat(f.unmap(f.guest, abi, map.handle(), HOST, 0)).as("another domain's handle")
                .isEqualTo(GNTST_bad_handle);
        assertThat(f.unmap(f.dom0, abi, map.handle(), HOST, map.devBusAddr())).isEqualTo(GNTST_okay);
        assertThat(f.unmap(f.dom0, abi, map.handle(), HOST, 0)).as("twice").isEqualTo(GNTST_bad_handle);
    }

    private int unmapAndReplace(Abi abi, int handle, long hostAddr, long newAddr) {
        f.memory.fill(f.arg, 32, (byte) 0);
        f.memory.write64(f.arg + REPLACE_HOST_ADDR.offset(abi), hostAddr);
        f.memory.write64(f.arg + REPLACE_NEW_ADDR.offset(abi), newAddr);
        f.memory.write32(f.arg + REPLACE_HANDLE.offset(abi), handle);
        assertThat(f.as(f.dom0, abi).call(GNTTABOP_unmap_and_replace, f.arg, 1)).isZero();
        return f.memory.read16(f.arg + REPLACE_STATUS.offset(abi));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void unmapAndReplaceWantsNoNewAddress(Abi abi) {
        f.grant(f.guest, REF, 0, GFN, 0);
        GnttabFixture.Map map = mapGrant(abi, GNTMAP_host_map);
        assertThat(unmapAndReplace(abi, map.handle(), HOST, 0x9000)).isEqualTo(GNTST_general_error);
        assertThat(unmapAndReplace(abi, map.handle(), HOST, 0)).isEqualTo(GNTST_okay);
        assertThat(flags()).isEqualTo(GTF_permit_access);
        assertThat(unmapAndReplace(abi, map.handle(), HOST, 0)).isEqualTo(GNTST_bad_handle);
    }

    /** A guest revokes with a compare-and-set that succeeds only while neither access flag is set. */
    private boolean revoke() {
        MemorySegment entry = f.table(f.guest).frame(0).asSlice((long) REF * 8, 8);
        short seen = entry.get(ValueLayout.JAVA_SHORT, 0);
        if ((seen & (GTF_reading | GTF_writing)) != 0) {
            return false;
        }
        entry.set(ValueLayout.JAVA_SHORT, 0, (short) 0);
        return true;
    }

    @Test
    void aRevokeWhileMappedFailsAndAnOverwriteLeavesTheMapping() {
        f.grant(f.guest, REF, 0, GFN, 0);
        GnttabFixture.Map map = mapGrant(Abi.X86_64, GNTMAP_host_map);
        assertThat(revoke()).isFalse();
        assertThat(flags() & GTF_permit_access).isNotZero();

        f.table(f.guest).writeEntry(REF, GTF_invalid, 0, GFN); // a hostile guest overwrites anyway
        assertThat(f.dom0.state(GrantMappings.KEY).segment(map.handle())).isNotNull();
        assertThat(f.map(f.dom0, Abi.X86_64, f.guest.domid(), REF, GNTMAP_host_map | GNTMAP_readonly,
                HOST + 0x1000).status()).as("an active entry is not checked again, as on Xen").isEqualTo(GNTST_okay);

        assertThat(f.unmap(f.dom0, Abi.X86_64, map.handle(), HOST, 0)).isEqualTo(GNTST_okay);
        f.grant(f.guest, REF, 0, GFN, 0);
        assertThat(f.table(f.guest).pin(REF)).isNotZero();
    }

    @Test
    void aBalloonedOutPageStaysAliveUntilItsLastUnmap() {
        f.grant(f.guest, REF, 0, GFN, 0);
        long page = f.guestRam.pageAt(GFN);
        GnttabFixture.Map map = mapGrant(Abi.X86_64, GNTMAP_host_map);
        long before = f.guestRam.totalPages();

        assertThat(f.guestRam.decrease(GFN, 0)).as("guest_remove_page succeeds").isZero();

        assertThat(f.guestRam.pageAt(GFN)).isEqualTo(-1);
        assertThat(f.guestRam.isFree(page)).isFalse();
        assertThat(f.guestRam.totalPages()).as("still the domain's").isEqualTo(before);
        assertThat(f.guestRam.decrease(GFN + 1, 0)).isZero();
        assertThat(f.guestRam.populate(GFN, 0)).isTrue();
        assertThat(f.guestRam.pageAt(GFN)).as("never handed back under its user").isNotEqualTo(page);

        assertThat(f.unmap(f.dom0, Abi.X86_64, map.handle(), HOST, 0)).isEqualTo(GNTST_okay);
        assertThat(f.guestRam.isFree(page)).isTrue();
    }

    @Test
    void segmentOfAHandleThatMapsNothingThrows() {
        assertThatThrownBy(() -> f.dom0.state(GrantMappings.KEY).segment(3))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ---- batches --------------------------------------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void aBatchGivesEachElementItsStatus(Abi abi) {
        f.grant(f.guest, REF, 0, GFN, 0);
        f.putMap(abi, 0, f.guest.domid(), REF, GNTMAP_host_map, HOST);
        f.putMap(abi, 1, f.guest.domid(), 4000, GNTMAP_host_map, HOST);
        f.putMap(abi, 2, f.guest.domid(), REF, GNTMAP_host_map | GNTMAP_readonly, HOST + 0x1000);
        assertThat(f.as(f.dom0, abi).call(GNTTABOP_map_grant_ref, f.arg, 3)).isZero();
        assertThat(f.mapResult(abi, 0, 0).status()).isEqualTo(GNTST_okay);
        assertThat(f.mapResult(abi, 1, 0).status()).isEqualTo(GNTST_bad_gntref);
        assertThat(f.mapResult(abi, 1, 0).handle()).as("left as it was").isEqualTo(-1);
        assertThat(f.mapResult(abi, 2, 0).status()).isEqualTo(GNTST_okay);
        assertThat(f.mapResult(abi, 2, 0).handle()).as("the failed map's handle went to the free list's tail")
                .isEqualTo(2);
    }

    @Test
    void anUnreadableElementEndsTheBatchWithEfaultAfterTheOnesBefore() {
        f.grant(f.guest, REF, 0, GFN, 0);
        long stride = size(Abi.X86_64, l -> l.gnttab_map_grant_ref);
        long uop = f.memory.page(2) - stride;
        f.memory.unmap(f.memory.page(2));
        f.memory.write64(uop + MAP_HOST_ADDR.offset(Abi.X86_64), HOST);
        f.memory.write32(uop + MAP_FLAGS.offset(Abi.X86_64), GNTMAP_host_map);
        f.memory.write32(uop + MAP_REF.offset(Abi.X86_64), REF);
        f.memory.write16(uop + MAP_DOM.offset(Abi.X86_64), (short) f.guest.domid());
        assertThat(f.as(f.dom0, Abi.X86_64).call(GNTTABOP_map_grant_ref, uop, 2)).isEqualTo(-XEN_EFAULT);
        assertThat(f.memory.read16(uop + MAP_STATUS.offset(Abi.X86_64))).isEqualTo((short) GNTST_okay);
        assertThat(f.table(f.guest).pin(REF)).isEqualTo(1);
    }

    @Test
    void mapsArePreemptedBetweenElementsAndContinuedWithTheRest() {
        f.grant(f.guest, REF, 0, GFN, GTF_readonly);
        for (int i = 0; i < 5; i++) {
            f.putMap(Abi.X86_64, i, f.guest.domid(), REF, GNTMAP_host_map | GNTMAP_readonly, HOST + ((long) i << 12));
        }
        HandlerHarness harness = f.as(f.dom0, Abi.X86_64).preemptEvery(2);
        assertThat(harness.call(GNTTABOP_map_grant_ref, f.arg, 5)).isZero();
        long stride = size(Abi.X86_64, l -> l.gnttab_map_grant_ref);
        assertThat(harness.continuations()).hasSize(2);
        assertThat(harness.continuations().get(0)).startsWith(GNTTABOP_map_grant_ref, f.arg + 2 * stride, 3);
        assertThat(harness.continuations().get(1)).startsWith(GNTTABOP_map_grant_ref, f.arg + 4 * stride, 1);
        assertThat(f.table(f.guest).pin(REF)).isEqualTo(5 << 8);
    }

    @Test
    void unmapsArePreemptedOnlyBetweenGroupsOf32() {
        f.grant(f.guest, REF, 0, GFN, GTF_readonly);
        Domain dom0 = f.dom0;
        int n = 40;
        for (int i = 0; i < n; i++) {
            assertThat(f.map(dom0, Abi.X86_64, f.guest.domid(), REF, GNTMAP_host_map | GNTMAP_readonly,
                    HOST + ((long) i << 12)).handle()).isEqualTo(i);
        }
        for (int i = 0; i < n; i++) {
            f.putUnmap(Abi.X86_64, i, i, HOST + ((long) i << 12), 0);
        }
        HandlerHarness harness = f.as(dom0, Abi.X86_64).preemptEvery(1);
        assertThat(harness.call(GNTTABOP_unmap_grant_ref, f.arg, n)).isZero();
        long stride = size(Abi.X86_64, l -> l.gnttab_unmap_grant_ref);
        assertThat(harness.continuations()).hasSize(1);
        assertThat(harness.continuations().get(0)).startsWith(GNTTABOP_unmap_grant_ref, f.arg + 32 * stride, 8);
        for (int i = 0; i < n; i++) {
            assertThat(f.unmapStatus(Abi.X86_64, i)).isEqualTo(GNTST_okay);
        }
        assertThat(f.table(f.guest).pin(REF)).isZero();
    }
}
