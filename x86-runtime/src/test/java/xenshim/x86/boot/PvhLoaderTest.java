package xenshim.x86.boot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import xenshim.api.PhysMap.MemoryMapEntry;
import xenshim.api.abi.AbiLayouts;

class PvhLoaderTest {

    private static final long RAM = 4L << 20;
    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final StructLayout INFO = AbiLayouts.X86_64.hvm_start_info;
    private static final StructLayout ENTRY = AbiLayouts.X86_64.hvm_memmap_table_entry;

    private final Arena arena = Arena.ofConfined();
    private final MemorySegment ram = arena.allocate(RAM, 4096);

    @AfterEach
    void free() {
        arena.close();
    }

    private static long field(StructLayout s, String name) {
        return AbiLayouts.offset(s, name);
    }

    @Test
    void memoryMapFor128MiB() {
        assertThat(PvhLoader.memoryMap(128L << 20)).containsExactly(
                new MemoryMapEntry(0, 0x6000, MemoryMapEntry.E820_RAM),
                new MemoryMapEntry(0x6000, 0x5000, MemoryMapEntry.E820_RESERVED),
                new MemoryMapEntry(0xB000, 0xA0000 - 0xB000, MemoryMapEntry.E820_RAM),
                new MemoryMapEntry(0xA0000, 0x60000, MemoryMapEntry.E820_RESERVED),
                new MemoryMapEntry(0x100000, (128L << 20) - 0x100000, MemoryMapEntry.E820_RAM));
        assertThatThrownBy(() -> PvhLoader.memoryMap(1L << 20)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void copiesSegmentsAndZeroesBss() {
        ram.fill((byte) 0xAA); // stale content the loader must clear
        byte[] code = {1, 2, 3, 4, 5, 6, 7};
        byte[] data = {9, 8, 7};
        ElfImage image = ElfImage.parse("k.elf", ElfBuilder.elf64().entry(0x100000)
                .load(0x100000, code, code.length)
                .load(0x200000, data, 0x2000)
                .build());
        PvhLoader.Boot boot = PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), "");

        assertThat(boot.entry()).isEqualTo(0x100000);
        assertThat(boot.startInfo()).isEqualTo(0x6000);
        assertThat(ram.asSlice(0x100000, code.length).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(code);
        assertThat(ram.get(ValueLayout.JAVA_BYTE, 0x100000 + code.length)).as("past the segment, untouched").isEqualTo((byte) 0xAA);
        assertThat(ram.asSlice(0x200000, 3).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(data);
        byte[] bss = ram.asSlice(0x200003, 0x2000 - 3).toArray(ValueLayout.JAVA_BYTE);
        assertThat(bss).containsOnly(0);
        assertThat(ram.get(ValueLayout.JAVA_BYTE, 0x202000)).isEqualTo((byte) 0xAA);
    }

    @Test
    void writesHvmStartInfo() {
        ElfImage image = ElfImage.parse("k.elf", ElfBuilder.elf64().entry(0x100000)
                .note(ElfBuilder.pvhNote(0x100010)).load(0x100000, new byte[32], 32).build());
        List<MemoryMapEntry> map = PvhLoader.memoryMap(RAM);
        PvhLoader.Boot boot = PvhLoader.load(image, ram, map, "console=hvc0 loglevel=8");
        assertThat(boot.entry()).isEqualTo(0x100010);

        long si = boot.startInfo();
        assertThat(ram.get(LE_INT, si + field(INFO, "magic"))).isEqualTo(0x336ec578);
        assertThat(ram.get(LE_INT, si + field(INFO, "version"))).isEqualTo(1);
        assertThat(ram.get(LE_INT, si + field(INFO, "flags"))).isZero();
        assertThat(ram.get(LE_INT, si + field(INFO, "nr_modules"))).isZero();
        assertThat(ram.get(LE_LONG, si + field(INFO, "modlist_paddr"))).isZero();
        assertThat(ram.get(LE_LONG, si + field(INFO, "rsdp_paddr"))).isZero();
        long cmdline = ram.get(LE_LONG, si + field(INFO, "cmdline_paddr"));
        assertThat(cmdline).isEqualTo(PvhLoader.CMDLINE);
        assertThat(ram.getString(cmdline, StandardCharsets.UTF_8)).isEqualTo("console=hvc0 loglevel=8");

        long memmap = ram.get(LE_LONG, si + field(INFO, "memmap_paddr"));
        assertThat(memmap).isEqualTo(PvhLoader.MEMMAP);
        assertThat(ram.get(LE_INT, si + field(INFO, "memmap_entries"))).isEqualTo(map.size()).isEqualTo(5);
        assertThat(ENTRY.byteSize()).isEqualTo(24);
        for (int i = 0; i < map.size(); i++) {
            long e = memmap + i * ENTRY.byteSize();
            assertThat(new MemoryMapEntry(ram.get(LE_LONG, e + field(ENTRY, "addr")), ram.get(LE_LONG, e + field(ENTRY, "size")),
                    ram.get(LE_INT, e + field(ENTRY, "type")))).as("memmap[%d]", i).isEqualTo(map.get(i));
            assertThat(ram.get(LE_INT, e + field(ENTRY, "reserved"))).isZero();
        }
        // everything lives in the reserved block the map announces
        assertThat(PvhLoader.START_INFO).isEqualTo(map.get(1).address());
        assertThat(PvhLoader.BOOT_INFO_END).isEqualTo(map.get(1).address() + map.get(1).size());
        assertThat(List.of(PvhLoader.CONSOLE_PAGE, PvhLoader.STORE_PAGE)).allMatch(
                page -> page >= PvhLoader.MEMMAP + 0x1000 && page + 0x1000 <= PvhLoader.BOOT_INFO_END);
    }

    /** The shape of a kernel linked with --oformat=elf32-i386: ELF32, EM_386, the PVH note in a SHT_NOTE section only. */
    @Test
    void loadsAnElf32I386ImageWithItsPvhNoteInASection() {
        byte[] code = {1, 2, 3, 4, 5, 6, 7, 8};
        ElfImage image = ElfImage.parse("i386.elf", ElfBuilder.elf32().machine(3).entry(0x100000)
                .load(0x100000, code, 0x1000).noteSection(ElfBuilder.pvhNote(0x100004)).build());
        PvhLoader.Boot boot = PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), "");
        assertThat(boot.entry()).isEqualTo(0x100004);
        assertThat(ram.asSlice(0x100000, code.length).toArray(ValueLayout.JAVA_BYTE)).isEqualTo(code);
        assertThat(ram.get(LE_INT, boot.startInfo() + field(INFO, "magic"))).isEqualTo(0x336ec578);
    }

    @Test
    void loadsTheBundledDemoLinkedAsElf32I386AsItLoadsTheDemo() throws Exception {
        ElfImage demo32 = ElfImage.parse("demo-elf32.elf", ElfImageTest.bundled("demo-elf32"));
        ElfImage demo = ElfImage.parse("demo.elf", ElfImageTest.bundled("demo"));
        PvhLoader.Boot boot = PvhLoader.load(demo32, ram, PvhLoader.memoryMap(RAM), "");
        assertThat(boot).isEqualTo(PvhLoader.load(demo, arena.allocate(RAM, 4096), PvhLoader.memoryMap(RAM), ""));
        ElfImage.Segment text = demo32.segments().getFirst();
        assertThat(ram.asSlice(text.physAddr(), text.fileSize()).toArray(ValueLayout.JAVA_BYTE))
                .isEqualTo(java.util.Arrays.copyOfRange(demo32.bytes(), (int) text.offset(),
                        (int) (text.offset() + text.fileSize())));
    }

    @Test
    void emptyCmdlineIsAnEmptyString() {
        ram.fill((byte) 'x');
        ElfImage image = ElfImage.parse("k.elf", ElfBuilder.elf64().entry(0x100000).load(0x100000, new byte[4], 4).build());
        PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), "");
        assertThat(ram.getString(PvhLoader.CMDLINE, StandardCharsets.UTF_8)).isEmpty();
    }

    @Test
    void refusesSegmentInTheReservedBootBlock() {
        ElfImage image = ElfImage.parse("low.elf", ElfBuilder.elf64().entry(0x6000).load(0x6000, new byte[16], 16).build());
        assertThatThrownBy(() -> PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), ""))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("low.elf").hasMessageContaining("0x6000")
                .hasMessageContaining("outside guest RAM").hasMessageContaining("--memory");
    }

    @Test
    void refusesSegmentInTheVgaHole() {
        ElfImage image = ElfImage.parse("vga.elf", ElfBuilder.elf64().entry(0xB8000).load(0xB8000, new byte[16], 16).build());
        assertThatThrownBy(() -> PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), ""))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("vga.elf").hasMessageContaining("0xb8000");
    }

    @Test
    void refusesSegmentBeyondRam() {
        ElfImage image = ElfImage.parse("big.elf", ElfBuilder.elf64().entry(0x100000)
                .load(0x100000, new byte[16], 16).load(0x3FF000, new byte[16], 0x2000).build());
        assertThatThrownBy(() -> PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), ""))
                .isInstanceOf(BadGuestImageException.class)
                .hasMessageContaining("big.elf").hasMessageContaining("segment 1")
                .hasMessageContaining("0x3ff000").hasMessageContaining("try a larger --memory");
    }

    @Test
    void refusesSegmentThatWrapsAround() {
        ElfImage image = ElfImage.parse("wrap.elf", ElfBuilder.elf64().entry(0x100000)
                .load(0xFFFF_FFFF_FFFF_F000L, new byte[16], 0x2000).build());
        assertThatThrownBy(() -> PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), ""))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("wrap.elf");
    }

    @Test
    void refusesTooLongCmdline() {
        ElfImage image = ElfImage.parse("k.elf", ElfBuilder.elf64().entry(0x100000).load(0x100000, new byte[4], 4).build());
        String max = "a".repeat(PvhLoader.MAX_CMDLINE);
        PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), max);
        assertThat(ram.getString(PvhLoader.CMDLINE, StandardCharsets.UTF_8)).isEqualTo(max);
        assertThatThrownBy(() -> PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), max + "a"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--cmdline").hasMessageContaining("4096 bytes").hasMessageContaining("4095");
    }

    @Test
    void refusesEntryAbove4GiB() {
        ElfImage image = ElfImage.parse("hi.elf", ElfBuilder.elf64().entry(0x1_0000_0000L).load(0x100000, new byte[4], 4).build());
        assertThatThrownBy(() -> PvhLoader.load(image, ram, PvhLoader.memoryMap(RAM), ""))
                .isInstanceOf(BadGuestImageException.class).hasMessageContaining("hi.elf").hasMessageContaining("4 GiB");
    }
}
