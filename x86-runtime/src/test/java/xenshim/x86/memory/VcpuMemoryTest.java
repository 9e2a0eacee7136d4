package xenshim.x86.memory;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xenshim.api.GuestFault;
import xenshim.api.PhysMap.MemoryMapEntry;

/** Page walks over synthetic page tables in guest RAM (guest-physical = host offset here). */
class VcpuMemoryTest {

    static final long RAM = 8L << 20;
    static final long PE = 1L;
    static final long WP = 1L << 16;
    static final long PG = 1L << 31;
    static final long PSE = 1L << 4;
    static final long PAE = 1L << 5;
    static final long LA57 = 1L << 12;
    static final long LME = 1L << 8;
    static final long LMA = 1L << 10;
    static final long P = 1, RW = 2, PS = 0x80;
    static final long NONE = -1;

    private static final ValueLayout.OfLong LE64 = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfInt LE32 = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment host = arena.allocate(RAM + GuestPhysMemory.HYPERVISOR_PAGES * GuestPhysMemory.PAGE_SIZE,
            4096);
    private final GuestPhysMemory phys = new GuestPhysMemory(host, RAM,
            List.of(new MemoryMapEntry(0, RAM, MemoryMapEntry.E820_RAM)), new RecordingSlots(host, 64));
    private final VcpuMemory mem = new VcpuMemory(phys);

    @AfterEach
    void free() {
        arena.close();
    }

    private void pte(long table, long index, long value) {
        host.set(LE64, table + index * 8, value);
    }

    private void pte32(long table, long index, long value) {
        host.set(LE32, table + index * 4, (int) value);
    }

    // 4-level tables: PML4 0x1000, PDPT 0x2000, PD 0x3000, PT 0x4000; high half: PDPT 0x5000, PD 0x6000
    private void fourLevelTables() {
        pte(0x1000, 0, 0x2000 | P | RW);
        pte(0x2000, 0, 0x3000 | P | RW);
        pte(0x3000, 2, 0x4000 | P | RW);          // linear 0x400000.. via PT 0x4000
        pte(0x4000, 0, 0x10000 | P | RW);         // 0x400000 -> 0x10000
        pte(0x4000, 1, 0x11000 | P);              // 0x401000 -> 0x11000, read-only
        pte(0x3000, 3, 0x200000 | P | RW | PS);   // 0x600000 -> 2M page at 0x200000
        pte(0x2000, 1, P | RW | PS);              // 0x40000000 -> 1G page at 0
        pte(0x1000, 511, 0x5000 | P | RW);        // 0xFFFFFF80_00000000
        pte(0x5000, 0, 0x6000 | P | RW);
        pte(0x6000, 0, 0x400000 | P | RW | PS);   // -> 2M at 0x400000
    }

    private void longMode(long cr3, long cr4, boolean wp) {
        mem.refresh(PE | PG | (wp ? WP : 0), cr3, PAE | cr4, LME | LMA);
    }

    @Test
    void aPageGivenBackInTheMiddleOfACallIsAHoleAtTheNextAccessNotTheCachedPage() {
        fourLevelTables();
        longMode(0x1000, 0, true);
        mem.write64(0x400008, 0x1111);                 // walks and caches 0x400000 -> frame 0x10
        assertThat(mem.read64(0x400008)).isEqualTo(0x1111);
        assertThat(phys.decrease(0x10, 0)).isZero();   // decrease_reservation of that frame, same call
        assertThatThrownBy(() -> mem.read64(0x400008)).isInstanceOf(GuestFault.class);
        assertThatThrownBy(() -> mem.write64(0x400008, 0x2222)).isInstanceOf(GuestFault.class);
        assertThat(phys.populate(0x10, 0)).isTrue();   // back, zeroed: the walk finds the new page
        assertThat(mem.read64(0x400008)).isZero();
    }

    @Test
    void pagingOff() {
        mem.refresh(PE, 0, 0, 0);
        assertThat(mem.linearToPhysical(0x1_0000_1234L, false)).as("32-bit wraps").isEqualTo(0x1234);
        mem.refresh(0, 0, 0, 0);
        assertThat(mem.linearToPhysical(0xFFFF_FFFF_0000_2000L, true)).isEqualTo(0x2000);
        mem.refresh(PE, 0, 0, LMA);
        assertThat(mem.linearToPhysical(0x1_0000_1234L, false)).as("no truncation with LMA").isEqualTo(0x1_0000_1234L);

        mem.refresh(PE, 0, 0, 0);
        host.set(LE64, 0x3008, 0x1122334455667788L);
        assertThat(mem.read64(0x3008)).isEqualTo(0x1122334455667788L);
        assertThatThrownBy(() -> mem.read64(RAM + 0x10000)).isInstanceOf(GuestFault.class);
    }

    @Test
    void fourLevelWith4kPages() {
        fourLevelTables();
        longMode(0x1000, 0, true);
        assertThat(mem.linearToPhysical(0x400123, false)).isEqualTo(0x10123);
        assertThat(mem.linearToPhysical(0x401FFF, false)).isEqualTo(0x11FFF);
        assertThat(mem.linearToPhysical(0x402000, false)).as("PT entry 2 not present").isEqualTo(NONE);
        host.set(LE64, 0x10120, 0xCAFEL);
        assertThat(mem.read64(0x400120)).isEqualTo(0xCAFEL);
        mem.write32(0x400200, 0x12345678);
        assertThat(host.get(LE32, 0x10200)).isEqualTo(0x12345678);
    }

    @Test
    void fourLevelWith2mAnd1gPages() {
        fourLevelTables();
        longMode(0x1000, 0, true);
        assertThat(mem.linearToPhysical(0x6ABCDE, false)).isEqualTo(0x2ABCDE);
        assertThat(mem.linearToPhysical(0x40005678L, false)).isEqualTo(0x5678);
        assertThat(mem.linearToPhysical(0x7FFF_FFFFL, false)).isEqualTo(0x3FFF_FFFFL);
        assertThat(mem.linearToPhysical(0xFFFF_FF80_0012_3456L, false)).as("high half").isEqualTo(0x523456);
        host.set(LE64, 0x2ABCD0, 77L);
        assertThat(mem.read64(0x6ABCD0)).isEqualTo(77L);
    }

    @Test
    void highBitsOfTheCr3AreIgnoredAndPcidBitsToo() {
        fourLevelTables();
        longMode(0x1000 | 0x123, 0, true);
        assertThat(mem.linearToPhysical(0x400123, false)).isEqualTo(0x10123);
    }

    @Test
    void nonCanonicalAddressesFault() {
        fourLevelTables();
        longMode(0x1000, 0, true);
        assertThat(mem.linearToPhysical(0x0000_8000_0000_0000L, false)).isEqualTo(NONE);
        assertThat(mem.linearToPhysical(0xFFFF_7FFF_FFFF_F000L, false)).isEqualTo(NONE);
        assertThatThrownBy(() -> mem.read8(0x0000_8000_0000_0000L))
                .isInstanceOf(GuestFault.class).hasMessageContaining("0x800000000000");
    }

    @Test
    void fiveLevel() {
        fourLevelTables();
        pte(0x7000, 0, 0x1000 | P | RW); // PML5[0] -> PML4
        longMode(0x7000, LA57, true);
        assertThat(mem.linearToPhysical(0x400123, false)).isEqualTo(0x10123);
        assertThat(mem.linearToPhysical(0x6ABCDE, false)).isEqualTo(0x2ABCDE);
        assertThat(mem.linearToPhysical(0x0000_8000_0000_0000L, false))
                .as("canonical with 57 bits, but PML5[1] not present").isEqualTo(NONE);
        pte(0x7000, 1, 0x1000 | P | RW);
        assertThat(mem.linearToPhysical(0x0001_0000_0040_0123L, false)).as("PML5[1] -> same PML4").isEqualTo(0x10123);
        assertThat(mem.linearToPhysical(0x0100_0000_0000_0000L, false)).as("non-canonical for 57 bits").isEqualTo(NONE);
        // the same address read with 4 levels would be non-canonical
        longMode(0x1000, 0, true);
        assertThat(mem.linearToPhysical(0x0001_0000_0040_0123L, false)).isEqualTo(NONE);
    }

    @Test
    void notPresentFaultsOnReadAndWrite() {
        fourLevelTables();
        longMode(0x1000, 0, true);
        assertThatThrownBy(() -> mem.read32(0x402000)).isInstanceOf(GuestFault.class)
                .hasMessageContaining("read").satisfies(e -> assertThat(((GuestFault) e).address()).isEqualTo(0x402000));
        assertThatThrownBy(() -> mem.write8(0x800000, (byte) 1)).isInstanceOf(GuestFault.class).hasMessageContaining("write");
        // a PML4 entry that points outside RAM reads as not present
        pte(0x1000, 5, (RAM + 0x100000) | P | RW);
        assertThatThrownBy(() -> mem.read8(5L << 39)).isInstanceOf(GuestFault.class);
        // a leaf that points outside RAM
        pte(0x4000, 3, (RAM + 0x100000) | P | RW);
        assertThatThrownBy(() -> mem.read8(0x403000)).isInstanceOf(GuestFault.class);
    }

    @Test
    void writeToReadOnlyPageFaultsOnlyWithWp() {
        fourLevelTables();
        longMode(0x1000, 0, true);
        assertThat(mem.read8(0x401000)).isZero(); // readable, and now cached read-only
        assertThatThrownBy(() -> mem.write8(0x401000, (byte) 5)).isInstanceOf(GuestFault.class);
        assertThat(host.get(ValueLayout.JAVA_BYTE, 0x11000)).isZero();
        assertThat(mem.linearToPhysical(0x401000, true)).isEqualTo(NONE);

        longMode(0x1000, 0, false);
        mem.write8(0x401000, (byte) 5);
        assertThat(host.get(ValueLayout.JAVA_BYTE, 0x11000)).isEqualTo((byte) 5);

        // R/W clear on an upper level also protects
        pte(0x3000, 2, 0x4000 | P);
        longMode(0x1000, 0, true);
        assertThatThrownBy(() -> mem.write8(0x400000, (byte) 5)).isInstanceOf(GuestFault.class);
        assertThat(mem.read8(0x400000)).isZero();
    }

    @Test
    void paeWith2mAnd4kPages() {
        long pdpt = 0x8000;
        pte(pdpt, 0, 0x9000 | P);
        pte(0x9000, 1, 0x400000 | P | RW | PS);   // 0x200000 -> 2M at 0x400000
        pte(0x9000, 0, 0xA000 | P | RW);
        pte(0xA000, 5, 0x11000 | P | RW);         // 0x5000 -> 0x11000
        pte(0xA000, 6, 0x12000 | P);              // read-only
        pte(pdpt, 3, 0x9000 | P);                 // 0xC0000000.. same PD
        mem.refresh(PE | PG | WP, pdpt, PAE, 0);

        assertThat(mem.linearToPhysical(0x2ABCDE, false)).isEqualTo(0x4ABCDE);
        assertThat(mem.linearToPhysical(0x5123, true)).isEqualTo(0x11123);
        assertThat(mem.linearToPhysical(0xC0005123L, false)).isEqualTo(0x11123);
        assertThat(mem.linearToPhysical(0x6000, false)).isEqualTo(0x12000);
        assertThat(mem.linearToPhysical(0x6000, true)).as("read-only with WP").isEqualTo(NONE);
        assertThat(mem.linearToPhysical(0x7000, false)).isEqualTo(NONE);
        assertThat(mem.linearToPhysical(0x40000000L, false)).as("PDPTE 1 not present").isEqualTo(NONE);
        assertThat(mem.linearToPhysical(0x1_0000_5000L, false)).as("above 4 GiB without LMA").isEqualTo(NONE);

        // a PDPT at a 32-byte (not page) aligned CR3
        pte(0x8020, 0, 0x9000 | P);
        mem.refresh(PE | PG | WP, 0x8020, PAE, 0);
        assertThat(mem.linearToPhysical(0x5123, false)).isEqualTo(0x11123);
        assertThat(mem.linearToPhysical(0xC0005123L, false)).as("PDPTE 3 of the second table is empty").isEqualTo(NONE);
    }

    @Test
    void legacy32BitWith4mAnd4kPages() {
        long pd = 0xB000;
        pte32(pd, 2, 0x400000 | P | RW | PS);    // 0x800000 -> 4M at 0x400000 (with PSE)
        pte32(pd, 0, 0xC000 | P | RW);
        pte32(0xC000, 3, 0x12000 | P | RW);      // 0x3000 -> 0x12000
        pte32(0xC000, 4, 0x13000 | P);           // read-only
        mem.refresh(PE | PG | WP, pd, PSE, 0);

        assertThat(mem.linearToPhysical(0x8ABCDE, false)).isEqualTo(0x4ABCDE);
        assertThat(mem.linearToPhysical(0x3456, true)).isEqualTo(0x12456);
        assertThat(mem.linearToPhysical(0x4000, false)).isEqualTo(0x13000);
        assertThat(mem.linearToPhysical(0x4000, true)).isEqualTo(NONE);
        assertThat(mem.linearToPhysical(0x5000, false)).isEqualTo(NONE);
        assertThat(mem.linearToPhysical(0xC00000, false)).as("PDE 3 not present").isEqualTo(NONE);

        host.set(LE32, 0x12450, 0xABCD);
        assertThat(mem.read32(0x3450)).isEqualTo(0xABCD);

        // without CR4.PSE the PS bit is ignored: the PDE points at a page table (at 0x400000, all zero)
        mem.refresh(PE | PG | WP, pd, 0, 0);
        assertThat(mem.linearToPhysical(0x8ABCDE, false)).isEqualTo(NONE);
        pte32(0x400000, 0xAB, 0x20000 | P);
        assertThat(mem.linearToPhysical(0x8ABCDE, false)).isEqualTo(0x20CDE);
    }

    @Test
    void accessStraddlingIntoUnmappedPageWritesNothing() {
        fourLevelTables();
        pte(0x4000, 1, 0); // 0x401000 unmapped
        longMode(0x1000, 0, true);
        byte[] data = {1, 2, 3, 4, 5, 6, 7, 8};
        assertThatThrownBy(() -> mem.write(0x400FFC, data, 0, data.length)).isInstanceOf(GuestFault.class)
                .satisfies(e -> assertThat(((GuestFault) e).address()).isEqualTo(0x401000));
        assertThat(host.asSlice(0x10FFC, 4).toArray(ValueLayout.JAVA_BYTE)).containsOnly(0);
        assertThatThrownBy(() -> mem.write64(0x400FFC, -1L)).isInstanceOf(GuestFault.class);
        assertThat(host.asSlice(0x10FFC, 4).toArray(ValueLayout.JAVA_BYTE)).containsOnly(0);
        assertThatThrownBy(() -> mem.fill(0x400FF0, 0x20, (byte) 9)).isInstanceOf(GuestFault.class);
        assertThat(host.asSlice(0x10FF0, 16).toArray(ValueLayout.JAVA_BYTE)).containsOnly(0);
        assertThatThrownBy(() -> mem.read64(0x400FFC)).isInstanceOf(GuestFault.class);

        // a straddling access over two mapped, non-contiguous pages works
        pte(0x4000, 1, 0x30000 | P | RW);
        longMode(0x1000, 0, true);
        mem.write64(0x400FFC, 0x0807060504030201L);
        assertThat(host.asSlice(0x10FFC, 4).toArray(ValueLayout.JAVA_BYTE)).containsExactly(1, 2, 3, 4);
        assertThat(host.asSlice(0x30000, 4).toArray(ValueLayout.JAVA_BYTE)).containsExactly(5, 6, 7, 8);
        assertThat(mem.read64(0x400FFC)).isEqualTo(0x0807060504030201L);
    }

    @Test
    void refreshDropsTheCachedTranslation() {
        fourLevelTables();
        host.set(LE64, 0x10000, 111L);
        host.set(LE64, 0x20000, 222L);
        longMode(0x1000, 0, true);
        assertThat(mem.read64(0x400000)).isEqualTo(111L);

        pte(0x4000, 0, 0x20000 | P | RW);
        longMode(0x1000, 0, true);
        assertThat(mem.read64(0x400000)).isEqualTo(222L);

        pte(0x4000, 0, 0);
        longMode(0x1000, 0, true);
        assertThatThrownBy(() -> mem.read64(0x400000)).isInstanceOf(GuestFault.class);
    }

    @Test
    void guestPhysicalHolesFaultThroughTheWalk() {
        fourLevelTables();
        longMode(0x1000, 0, true);
        assertThat(mem.read8(0x400000)).isZero();
        assertThat(phys.decrease(0x10, 0)).isZero(); // the page behind 0x400000
        longMode(0x1000, 0, true);
        assertThatThrownBy(() -> mem.read8(0x400000)).isInstanceOf(GuestFault.class);
        // a page table page that became a hole
        assertThat(phys.decrease(0x4, 0)).isZero();
        longMode(0x1000, 0, true);
        assertThat(mem.linearToPhysical(0x401000, false)).isEqualTo(NONE);
    }
}
