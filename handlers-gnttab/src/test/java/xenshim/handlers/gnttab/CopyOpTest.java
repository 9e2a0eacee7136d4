package xenshim.handlers.gnttab;

import static org.assertj.core.api.Assertions.assertThat;
import static xenshim.api.xen.XenGnttab.*;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.Abi;
import xenshim.api.GuestMemory;
import xenshim.api.PagedGuestMemory;
import xenshim.api.xen.XenDomains;
import xenshim.handlers.gnttab.GnttabFixture.Ptr;
import xenshim.testkit.FakeGuestMemory;
import xenshim.testkit.HandlerHarness;

/** {@code GNTTABOP_copy}: grant or frame on either side, every status where Xen gives it, both ABIs. */
class CopyOpTest {

    private static final int REF = 9;
    private static final long GUEST_GFN = 2;
    private static final long OWN_GFN = 7;
    private static final int SELF = XenDomains.DOMID_SELF;

    private final GnttabFixture f = new GnttabFixture();
    private int guestDom;

    @BeforeEach
    void grantToOther() {
        guestDom = f.guest.domid();
        f.grant(f.guest, REF, f.other.domid(), GUEST_GFN, 0);
        MemorySegment page = f.guestRam.page(f.guestRam.pageAt(GUEST_GFN));
        for (int i = 0; i < 4096; i++) {
            page.set(ValueLayout.JAVA_BYTE, i, (byte) i);
        }
    }

    private MemorySegment own() {
        return f.otherRam.page(f.otherRam.pageAt(OWN_GFN));
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void copiesFromAGrantToAFrameOfTheCaller(Abi abi) {
        int status = f.copy(f.other, abi, new Ptr(REF, guestDom, 100), new Ptr(OWN_GFN, SELF, 10), 50,
                GNTCOPY_source_gref);
        assertThat(status).isEqualTo(GNTST_okay);
        assertThat(own().get(ValueLayout.JAVA_BYTE, 10)).isEqualTo((byte) 100);
        assertThat(own().get(ValueLayout.JAVA_BYTE, 59)).isEqualTo((byte) 149);
        assertThat(own().get(ValueLayout.JAVA_BYTE, 60)).isZero();
        assertThat(f.table(f.guest).flags(REF)).as("flags cleared after the copy").isEqualTo(GTF_permit_access);
        assertThat(f.table(f.guest).pin(REF)).isZero();
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void copiesFromAFrameOfTheCallerIntoAGrant(Abi abi) {
        own().set(ValueLayout.JAVA_INT, 0, 0x5A5A5A5A);
        int status = f.copy(f.other, abi, new Ptr(OWN_GFN, SELF, 0), new Ptr(REF, guestDom, 4092), 4,
                GNTCOPY_dest_gref);
        assertThat(status).isEqualTo(GNTST_okay);
        assertThat(f.guestRam.page(f.guestRam.pageAt(GUEST_GFN)).get(ValueLayout.JAVA_INT, 4092)).isEqualTo(0x5A5A5A5A);
    }

    @Test
    void copiesBetweenTwoGrantsAndWithinOneFrame() {
        f.grant(f.guest, REF + 1, f.other.domid(), GUEST_GFN + 1, 0);
        assertThat(f.copy(f.other, Abi.X86_64, new Ptr(REF, guestDom, 1), new Ptr(REF + 1, guestDom, 0), 3,
                GNTCOPY_source_gref | GNTCOPY_dest_gref)).isEqualTo(GNTST_okay);
        assertThat(f.guestRam.page(f.guestRam.pageAt(GUEST_GFN + 1)).get(ValueLayout.JAVA_BYTE, 2)).isEqualTo((byte) 3);
        own().set(ValueLayout.JAVA_BYTE, 0, (byte) 42);
        assertThat(f.copy(f.other, Abi.X86_64, new Ptr(OWN_GFN, SELF, 0), new Ptr(OWN_GFN, SELF, 1), 1, 0))
                .isEqualTo(GNTST_okay);
        assertThat(own().get(ValueLayout.JAVA_BYTE, 1)).isEqualTo((byte) 42);
    }

    @ParameterizedTest
    @EnumSource(Abi.class)
    void copyStatusesInXensOrder(Abi abi) {
        Ptr grant = new Ptr(REF, guestDom, 0);
        Ptr frame = new Ptr(OWN_GFN, SELF, 0);
        assertThat(f.copy(f.other, abi, new Ptr(GUEST_GFN, guestDom, 0), frame, 1, 0))
                .as("a frame of another domain").isEqualTo(GNTST_permission_denied);
        assertThat(f.copy(f.other, abi, new Ptr(REF, 77, 0), new Ptr(OWN_GFN, 78, 0), 1, GNTCOPY_source_gref))
                .as("source first").isEqualTo(GNTST_bad_domain);
        assertThat(f.copy(f.other, abi, grant, new Ptr(REF, 77, 0), 1, GNTCOPY_source_gref | GNTCOPY_dest_gref))
                .isEqualTo(GNTST_bad_domain);
        assertThat(f.copy(f.other, abi, new Ptr(600, guestDom, 0), frame, 1, GNTCOPY_source_gref))
                .isEqualTo(GNTST_bad_gntref);
        assertThat(f.copy(f.local9, abi, grant, frame, 1, GNTCOPY_source_gref))
                .as("granted to d6, not d9").isEqualTo(GNTST_general_error);
        assertThat(f.copy(f.other, abi, grant, new Ptr(0x9999, SELF, 0), 1, GNTCOPY_source_gref))
                .as("a hole").isEqualTo(GNTST_bad_page);
        assertThat(f.copy(f.other, abi, grant, new Ptr(OWN_GFN, SELF, 4000), 97, GNTCOPY_source_gref))
                .isEqualTo(GNTST_bad_copy_arg);
        assertThat(f.copy(f.other, abi, new Ptr(REF, guestDom, 4096), frame, 0, GNTCOPY_source_gref))
                .isEqualTo(GNTST_okay);
        assertThat(f.copy(f.other, abi, new Ptr(REF, guestDom, 1), frame, 4096, GNTCOPY_source_gref))
                .isEqualTo(GNTST_bad_copy_arg);
        assertThat(f.table(f.guest).flags(REF)).isEqualTo(GTF_permit_access);
        assertThat(f.table(f.guest).pin(REF)).isZero();
    }

    @Test
    void aReadOnlyGrantCannotBeCopiedInto() {
        f.grant(f.guest, REF, f.other.domid(), GUEST_GFN, GTF_readonly);
        assertThat(f.copy(f.other, Abi.X86_64, new Ptr(OWN_GFN, SELF, 0), new Ptr(REF, guestDom, 0), 1,
                GNTCOPY_dest_gref)).isEqualTo(GNTST_general_error);
        assertThat(f.copy(f.other, Abi.X86_64, new Ptr(REF, guestDom, 0), new Ptr(OWN_GFN, SELF, 0), 1,
                GNTCOPY_source_gref)).isEqualTo(GNTST_okay);
        assertThat(f.table(f.guest).flags(REF)).isEqualTo(GTF_permit_access | GTF_readonly);
    }

    /** A copy keeps no reference on the caller's frame it copied into. */
    @Test
    void aCopyReleasesEveryReference() {
        long page = f.otherRam.pageAt(OWN_GFN);
        f.copy(f.other, Abi.X86_64, new Ptr(REF, guestDom, 0), new Ptr(OWN_GFN, SELF, 0), 8, GNTCOPY_source_gref);
        assertThat(f.otherRam.references(page)).isZero();
        assertThat(f.guestRam.references(f.guestRam.pageAt(GUEST_GFN))).isZero();
    }

    @Test
    void copiesArePreemptedBetweenElements() {
        HandlerHarness harness = f.as(f.other, Abi.X86_64).preemptEvery(1);
        long stride = GnttabStructs.size(Abi.X86_64, l -> l.gnttab_copy);
        f.memory.fill(f.arg, 3 * stride, (byte) 0); // three zero-length copies of DOMID 0 frames: permission denied
        assertThat(harness.call(GNTTABOP_copy, f.arg, 3)).isZero();
        assertThat(harness.continuations()).hasSize(2);
        assertThat(harness.continuations().get(1)).startsWith(GNTTABOP_copy, f.arg + 2 * stride, 1);
        for (int i = 0; i < 3; i++) {
            assertThat(f.memory.read16(f.arg + i * stride + GnttabStructs.COPY_STATUS.offset(Abi.X86_64)))
                    .isEqualTo((short) GNTST_permission_denied);
        }
    }

    /**
     * Xen's {@code gnttab_copy} keeps the last source and destination claimed across the elements of a
     * call: a grant copied from by consecutive elements stays {@code GTF_reading} (and pinned once) from
     * the first to the first that names something else, which releases it; nothing is held after the call.
     */
    @Test
    void aBatchKeepsTheLastClaimsUntilAnElementNamesAnotherAndReleasesAllAtTheEnd() {
        Ptr grant = new Ptr(REF, guestDom, 0);
        f.putCopy(Abi.X86_64, 0, grant, new Ptr(OWN_GFN, SELF, 0), 8, GNTCOPY_source_gref);
        f.putCopy(Abi.X86_64, 1, new Ptr(REF, guestDom, 8), new Ptr(OWN_GFN, SELF, 8), 8, GNTCOPY_source_gref);
        f.putCopy(Abi.X86_64, 2, new Ptr(OWN_GFN, SELF, 0), new Ptr(OWN_GFN + 1, SELF, 0), 16, 0);
        List<String> seen = new ArrayList<>();
        long page = f.otherRam.pageAt(OWN_GFN);
        GuestMemory watched = new WatchedMemory(f.memory, () -> seen.add(f.table(f.guest).flags(REF) + "/"
                + f.table(f.guest).pin(REF) + "/" + f.otherRam.references(page)));

        assertThat(HandlerHarness.of(f.handler).domain(f.other).memory(watched).abi(Abi.X86_64)
                .call(GNTTABOP_copy, f.arg, 3)).isZero();

        int reading = GTF_permit_access | GTF_reading;
        assertThat(seen).as("flags/pins/references on the caller's page at each status write").containsExactly(
                reading + "/256/1", reading + "/256/1", GTF_permit_access + "/0/1");
        for (int i = 0; i < 3; i++) {
            assertThat(f.copyStatus(Abi.X86_64, i)).isEqualTo(GNTST_okay);
        }
        assertThat(f.otherRam.page(f.otherRam.pageAt(OWN_GFN + 1)).get(ValueLayout.JAVA_BYTE, 15)).isEqualTo((byte) 15);
        assertThat(f.table(f.guest).flags(REF)).isEqualTo(GTF_permit_access);
        assertThat(f.table(f.guest).pin(REF)).isZero();
        assertThat(f.otherRam.references(page)).isZero();
        assertThat(f.otherRam.references(f.otherRam.pageAt(OWN_GFN + 1))).isZero();
        assertThat(f.guestRam.references(f.guestRam.pageAt(GUEST_GFN))).isZero();
    }

    /** An element that fails releases both claims, as Xen's loop does, and the next claims afresh. */
    @Test
    void aFailedElementReleasesBothClaims() {
        f.grant(f.guest, REF + 1, f.other.domid(), GUEST_GFN + 1, 0);
        Ptr grant = new Ptr(REF, guestDom, 0);
        Ptr into = new Ptr(REF + 1, guestDom, 0);
        int both = GNTCOPY_source_gref | GNTCOPY_dest_gref;
        f.putCopy(Abi.X86_64, 0, grant, into, 4, both);
        f.putCopy(Abi.X86_64, 1, grant, new Ptr(REF + 1, guestDom, 4095), 4, both);
        f.putCopy(Abi.X86_64, 2, grant, into, 4, both);
        List<String> seen = new ArrayList<>();
        GuestMemory watched = new WatchedMemory(f.memory, () -> seen.add(f.table(f.guest).pin(REF) + "/"
                + f.table(f.guest).pin(REF + 1) + "/" + f.table(f.guest).flags(REF + 1)));

        assertThat(HandlerHarness.of(f.handler).domain(f.other).memory(watched).abi(Abi.X86_64)
                .call(GNTTABOP_copy, f.arg, 3)).isZero();

        int writing = GTF_permit_access | GTF_reading | GTF_writing;
        assertThat(seen).containsExactly("256/1/" + writing, "0/0/" + GTF_permit_access, "256/1/" + writing);
        assertThat(f.copyStatus(Abi.X86_64, 1)).isEqualTo(GNTST_bad_copy_arg);
        assertThat(f.copyStatus(Abi.X86_64, 2)).isEqualTo(GNTST_okay);
        assertThat(f.table(f.guest).pin(REF)).isZero();
        assertThat(f.table(f.guest).flags(REF + 1)).isEqualTo(GTF_permit_access);
    }

    /**
     * A claim serves the next element only for the same kind of name: a grant ref that happens to equal
     * the next element's gmfn is not taken for that frame.
     */
    @Test
    void aGrantClaimIsNotReusedForAFrameOfTheSameNumber() {
        f.grant(f.other, (int) OWN_GFN, f.other.domid(), OWN_GFN + 2, 0);
        f.otherRam.page(f.otherRam.pageAt(OWN_GFN + 2)).set(ValueLayout.JAVA_BYTE, 0, (byte) 0x22);
        own().set(ValueLayout.JAVA_BYTE, 0, (byte) 0x11);
        Ptr to = new Ptr(OWN_GFN + 3, SELF, 0);
        f.putCopy(Abi.X86_64, 0, new Ptr(OWN_GFN, SELF, 0), to, 1, GNTCOPY_source_gref);
        f.putCopy(Abi.X86_64, 1, new Ptr(OWN_GFN, SELF, 0), new Ptr(OWN_GFN + 3, SELF, 1), 1, 0);

        assertThat(f.as(f.other, Abi.X86_64).call(GNTTABOP_copy, f.arg, 2)).isZero();

        MemorySegment into = f.otherRam.page(f.otherRam.pageAt(OWN_GFN + 3));
        assertThat(into.get(ValueLayout.JAVA_BYTE, 0)).as("through the grant").isEqualTo((byte) 0x22);
        assertThat(into.get(ValueLayout.JAVA_BYTE, 1)).as("the frame itself").isEqualTo((byte) 0x11);
    }

    /** The fixture's memory, running a check before each 16-bit write (the copy statuses). */
    private static final class WatchedMemory extends PagedGuestMemory {
        private final long base;
        private final Runnable beforeStatus;

        WatchedMemory(FakeGuestMemory memory, Runnable beforeStatus) {
            super(memory.raw());
            this.base = memory.base();
            this.beforeStatus = beforeStatus;
        }

        @Override
        protected long translate(long address, boolean write) {
            long offset = address - base;
            return Long.compareUnsigned(offset, backing().byteSize()) < 0 ? offset : -1;
        }

        @Override
        public void write16(long address, short value) {
            beforeStatus.run();
            super.write16(address, value);
        }
    }
}
