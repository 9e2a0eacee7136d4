package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Bounds, page splitting and fault rules of the memory every handler reads guest data through. */
class PagedGuestMemoryTest {

    static final long BASE = 0x40_0000;
    static final int PAGE = PagedGuestMemory.PAGE_SIZE;

    /** Three pages at BASE, the middle one unmapped, the last read-only. */
    static final class Holey extends PagedGuestMemory {
        Holey() {
            super(Arena.ofAuto().allocate(3L * PAGE, PAGE));
        }

        @Override
        protected long translate(long address, boolean write) {
            long offset = address - BASE;
            if (offset < 0 || offset >= 3L * PAGE) {
                return -1;
            }
            int page = (int) (offset / PAGE);
            return page == 1 || (page == 2 && write) ? -1 : offset;
        }
    }

    /** Every byte behind {@code memory}, bypassing its checks. */
    static byte[] snapshot(PagedGuestMemory memory) {
        return memory.backing().toArray(ValueLayout.JAVA_BYTE);
    }

    /** Asserts that every byte behind {@code memory} is as in {@code before}, naming the first that is not. */
    static void assertUntouched(PagedGuestMemory memory, byte[] before, String what) {
        assertThat(Arrays.mismatch(snapshot(memory), before)).as(what + ": the first changed byte").isEqualTo(-1);
    }

    @Test
    void valuesAreLittleEndianAndSplitAcrossPagesWhenBothAreMapped() {
        try (Arena arena = Arena.ofConfined()) {
            SegmentGuestMemory memory = new SegmentGuestMemory(arena.allocate(2L * PAGE), BASE);
            long straddle = BASE + PAGE - 3;
            memory.write64(straddle, 0x1122_3344_5566_7788L);
            assertThat(memory.read64(straddle)).isEqualTo(0x1122_3344_5566_7788L);
            assertThat(memory.read8(straddle)).isEqualTo((byte) 0x88);
            assertThat(memory.read32(straddle + 4)).isEqualTo(0x1122_3344);
            assertThat(memory.read16(straddle + 6)).isEqualTo((short) 0x1122);
        }
    }

    @Test
    void everythingOutsideTheSegmentFaultsIncludingTheLastBytes() {
        try (Arena arena = Arena.ofConfined()) {
            SegmentGuestMemory memory = new SegmentGuestMemory(arena.allocate(PAGE), BASE);
            byte[] before = snapshot(memory);
            assertThatThrownBy(() -> memory.read8(BASE - 1)).isInstanceOf(GuestFault.class);
            assertThatThrownBy(() -> memory.read8(BASE + PAGE)).isInstanceOf(GuestFault.class);
            assertThatThrownBy(() -> memory.read64(BASE + PAGE - 4)).isInstanceOf(GuestFault.class);
            assertThatThrownBy(() -> memory.write32(-1L, 0)).isInstanceOf(GuestFault.class);
            assertThatThrownBy(() -> memory.read(Long.MAX_VALUE - 2, new byte[8], 0, 8)).isInstanceOf(GuestFault.class);
            assertThatThrownBy(() -> memory.write64(BASE + PAGE - 4, -1L)).isInstanceOf(GuestFault.class);
            assertThatThrownBy(() -> memory.fill(BASE + PAGE - 4, 8, (byte) 1)).isInstanceOf(GuestFault.class);
            assertThat(memory.read64(BASE + PAGE - 8)).isZero();
            assertUntouched(memory, before, "no failed write touched the memory");
        }
    }

    @Test
    void aCopyThatWouldFaultCopiesNothing() {
        Holey memory = new Holey();
        byte[] before = snapshot(memory);
        byte[] ones = new byte[PAGE + 16];
        Arrays.fill(ones, (byte) 1);
        assertThatThrownBy(() -> memory.write(BASE + PAGE - 16, ones, 0, 32))
                .isInstanceOf(GuestFault.class)
                .satisfies(f -> assertThat(((GuestFault) f).address()).isEqualTo(BASE + PAGE));
        assertThat(memory.read64(BASE + PAGE - 16)).isZero();
        assertUntouched(memory, before, "the faulting write copied nothing");
        assertThatThrownBy(() -> memory.fill(BASE, 2L * PAGE, (byte) 7)).isInstanceOf(GuestFault.class);
        assertThat(memory.read8(BASE)).isZero();
        assertUntouched(memory, before, "the faulting fill filled nothing");
        byte[] dst = new byte[32];
        Arrays.fill(dst, (byte) 0x5A);
        assertThatThrownBy(() -> memory.read(BASE + PAGE - 16, dst, 0, 32)).isInstanceOf(GuestFault.class);
        assertThat(dst).as("the faulting read copied nothing into the buffer").containsOnly((byte) 0x5A);
    }

    @Test
    void aReadOnlyPageFaultsOnWritesOnly() {
        Holey memory = new Holey();
        long readOnly = BASE + 2L * PAGE;
        assertThat(memory.read32(readOnly)).isZero();
        byte[] before = snapshot(memory);
        assertThatThrownBy(() -> memory.write8(readOnly, (byte) 1)).isInstanceOf(GuestFault.class);
        assertThatThrownBy(() -> memory.write(readOnly, MemorySegment.ofArray(new byte[] {1, 2, 3, 4})))
                .isInstanceOf(GuestFault.class);
        assertThatThrownBy(() -> memory.fill(readOnly - 8, 16, (byte) 1)).isInstanceOf(GuestFault.class);
        assertUntouched(memory, before, "no write reached the read-only page, nor the one before it");
    }

    @Test
    void zeroLengthCopiesTouchNothingAndNeverFault() {
        Holey memory = new Holey();
        byte[] before = snapshot(memory);
        memory.read(BASE + PAGE, new byte[0], 0, 0);
        memory.write(0xdead_0000L, new byte[] {1, 2, 3, 4}, 2, 0);
        memory.write(BASE, new byte[] {1, 2, 3, 4}, 2, 0);
        memory.fill(BASE + PAGE, 0, (byte) 1);
        memory.fill(BASE, 0, (byte) 1);
        assertUntouched(memory, before, "zero-length writes wrote nothing");
    }

    /** The last page of the address space and page 0 (unless {@code zeroMapped} is false), in that order. */
    static final class TopAndBottom extends PagedGuestMemory {
        static final long TOP = 0xFFFF_FFFF_FFFF_F000L;
        private final boolean zeroMapped;

        TopAndBottom(boolean zeroMapped) {
            super(Arena.ofAuto().allocate(2L * PAGE, PAGE));
            this.zeroMapped = zeroMapped;
        }

        @Override
        protected long translate(long address, boolean write) {
            if ((address & -PAGE) == TOP) {
                return address - TOP;
            }
            return zeroMapped && Long.compareUnsigned(address, PAGE) < 0 ? PAGE + address : -1;
        }
    }

    @Test
    void aRangeRunningPastTheTopOfTheAddressSpaceWrapsToZero() {
        TopAndBottom memory = new TopAndBottom(true);
        byte[] data = new byte[2 * PAGE];
        for (int i = 0; i < data.length; i++) {
            data[i] = (byte) (i / PAGE + 1);
        }
        memory.write(TopAndBottom.TOP, data, 0, data.length);
        assertThat(memory.read8(TopAndBottom.TOP)).isEqualTo((byte) 1);
        assertThat(memory.read8(0)).isEqualTo((byte) 2);
        byte[] back = new byte[2 * PAGE];
        memory.read(TopAndBottom.TOP, back, 0, back.length);
        assertThat(back).isEqualTo(data);
        memory.fill(TopAndBottom.TOP + PAGE - 1, 2, (byte) 9);
        assertThat(memory.read8(-1L)).isEqualTo((byte) 9);
        assertThat(memory.read8(0)).isEqualTo((byte) 9);
        assertThat(memory.read16(-1L)).isEqualTo((short) 0x0909);
    }

    @Test
    void aWrappingRangeFaultsOnlyWithAGuestFaultAtTheUnmappedPage() {
        TopAndBottom memory = new TopAndBottom(false);
        byte[] before = snapshot(memory);
        assertThatThrownBy(() -> memory.read(TopAndBottom.TOP, new byte[2 * PAGE], 0, 2 * PAGE))
                .isInstanceOf(GuestFault.class)
                .satisfies(f -> assertThat(((GuestFault) f).address()).isZero());
        assertThatThrownBy(() -> memory.checkRange(TopAndBottom.TOP, 0x2000, true)).isInstanceOf(GuestFault.class);
        assertThatThrownBy(() -> memory.write32(-2L, 0x0101_0101)).isInstanceOf(GuestFault.class);
        byte[] ones = new byte[32];
        Arrays.fill(ones, (byte) 1);
        assertThatThrownBy(() -> memory.write(-16L, ones, 0, 32)).isInstanceOf(GuestFault.class);
        assertThatThrownBy(() -> memory.fill(-16L, 32, (byte) 1)).isInstanceOf(GuestFault.class);
        assertThat(memory.read8(TopAndBottom.TOP)).isZero(); // nothing was copied
        assertUntouched(memory, before, "no wrapping write touched the top page");
    }

    @Test
    void aRangeAcrossTheSignBitIsNotAWrap() {
        long below = 0x7FFF_FFFF_FFFF_F000L;
        PagedGuestMemory memory = new PagedGuestMemory(Arena.ofAuto().allocate(2L * PAGE, PAGE)) {
            @Override
            protected long translate(long address, boolean write) {
                long offset = address - below;
                return offset >= 0 && offset < 2L * PAGE ? offset : -1;
            }
        };
        memory.write(below + PAGE - 4, new byte[] {1, 2, 3, 4, 5, 6, 7, 8}, 0, 8);
        assertThat(memory.read64(below + PAGE - 4)).isEqualTo(0x0807_0605_0403_0201L);
        memory.checkRange(below, 2L * PAGE, false);
    }

    @Test
    void javaSideBoundsAreCheckedToo() {
        try (Arena arena = Arena.ofConfined()) {
            SegmentGuestMemory memory = new SegmentGuestMemory(arena.allocate(PAGE), BASE);
            assertThatThrownBy(() -> memory.read(BASE, new byte[4], 2, 4)).isInstanceOf(IndexOutOfBoundsException.class);
        }
    }
}
