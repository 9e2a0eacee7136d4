package xenshim.x86.boot;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import xenshim.api.PhysMap.MemoryMapEntry;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.XenStartInfo;

/**
 * Loads a PVH guest into fresh guest RAM the way Xen's toolstack does: the
 * ELF's PT_LOAD segments at their physical addresses (the rest of each
 * {@code p_memsz} zero), and a {@code struct hvm_start_info} (version 1) with
 * the command line and the memory map, whose address the vCPU gets in
 * {@code %ebx}.
 *
 * <p>Guest-physical layout: boot information, then the console and xenstore
 * ring pages, in a reserved block at {@link #START_INFO} .. {@link #BOOT_INFO_END},
 * the legacy VGA/BIOS hole
 * {@code 0xA0000..0x100000} reserved, RAM everywhere else below the end of
 * RAM. The same map is the domain's e820 ({@code XENMEM_memory_map}).
 */
public final class PvhLoader {

    public static final long START_INFO = 0x6000;
    public static final long CMDLINE = 0x7000;
    public static final long MEMMAP = 0x8000;
    /**
     * The guest's PV console ring page ({@code HVM_PARAM_CONSOLE_PFN}), zero at boot. Xen's toolstack
     * puts it among its special pages below 4 GiB ({@code 0xfefff}); here it is in the reserved block.
     */
    public static final long CONSOLE_PAGE = 0x9000;
    /** The guest's xenstore ring page ({@code HVM_PARAM_STORE_PFN}), zero at boot (Xen: {@code 0xfeffc}). */
    public static final long STORE_PAGE = 0xA000;
    public static final long BOOT_INFO_END = 0xB000;
    public static final int MAX_CMDLINE = 4095;
    public static final long MIN_RAM = 2L << 20;

    private static final ValueLayout.OfInt LE_INT = ValueLayout.JAVA_INT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfLong LE_LONG = ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Where the vCPU starts: 32-bit flat protected mode at {@code entry}, {@code %ebx = startInfo}. */
    public record Boot(long entry, long startInfo) {
    }

    private PvhLoader() {
    }

    /** The e820 of a guest with {@code ramBytes} of RAM. */
    public static List<MemoryMapEntry> memoryMap(long ramBytes) {
        if (ramBytes < MIN_RAM) {
            throw new IllegalArgumentException("guest RAM must be at least 2 MiB");
        }
        return List.of(
                new MemoryMapEntry(0, START_INFO, MemoryMapEntry.E820_RAM),
                new MemoryMapEntry(START_INFO, BOOT_INFO_END - START_INFO, MemoryMapEntry.E820_RESERVED),
                new MemoryMapEntry(BOOT_INFO_END, 0xA0000 - BOOT_INFO_END, MemoryMapEntry.E820_RAM),
                new MemoryMapEntry(0xA0000, 0x100000 - 0xA0000, MemoryMapEntry.E820_RESERVED),
                new MemoryMapEntry(0x100000, ramBytes - 0x100000, MemoryMapEntry.E820_RAM));
    }

    /**
     * Loads {@code image} into {@code ram} (guest-physical 0 .. its size) and
     * writes the boot information.
     *
     * @throws BadGuestImageException naming the image if a segment is not in RAM
     */
    public static Boot load(ElfImage image, MemorySegment ram, List<MemoryMapEntry> map, String cmdline) {
        byte[] cmd = cmdline.getBytes(StandardCharsets.UTF_8);
        if (cmd.length > MAX_CMDLINE) {
            throw new IllegalArgumentException("--cmdline is " + cmd.length + " bytes; the limit is " + MAX_CMDLINE);
        }
        int i = 0;
        for (ElfImage.Segment s : image.segments()) {
            long end = s.physAddr() + s.memSize();
            if (end < s.physAddr() || map.stream().noneMatch(e -> e.type() == MemoryMapEntry.E820_RAM
                    && s.physAddr() >= e.address() && end <= e.address() + e.size())) {
                throw new BadGuestImageException(image.name() + ": segment " + i + " at 0x" + Long.toHexString(s.physAddr())
                        + " (" + s.memSize() + " bytes) is outside guest RAM (" + describe(map) + "); try a larger --memory");
            }
            MemorySegment.copy(MemorySegment.ofArray(image.bytes()), s.offset(), ram, s.physAddr(), s.fileSize());
            ram.asSlice(s.physAddr() + s.fileSize(), s.memSize() - s.fileSize()).fill((byte) 0);
            i++;
        }
        if (image.entry() >>> 32 != 0) {
            throw new BadGuestImageException(image.name() + ": entry point 0x" + Long.toHexString(image.entry())
                    + " is above 4 GiB; a PVH entry runs in 32-bit mode");
        }
        writeStartInfo(ram, map, cmd);
        return new Boot(image.entry(), START_INFO);
    }

    private static void writeStartInfo(MemorySegment ram, List<MemoryMapEntry> map, byte[] cmd) {
        ram.asSlice(START_INFO, BOOT_INFO_END - START_INFO).fill((byte) 0);
        MemorySegment.copy(MemorySegment.ofArray(cmd), 0, ram, CMDLINE, cmd.length);
        StructLayout entry = AbiLayouts.X86_64.hvm_memmap_table_entry;
        for (int i = 0; i < map.size(); i++) {
            long at = MEMMAP + i * entry.byteSize();
            ram.set(LE_LONG, at + AbiLayouts.offset(entry, "addr"), map.get(i).address());
            ram.set(LE_LONG, at + AbiLayouts.offset(entry, "size"), map.get(i).size());
            ram.set(LE_INT, at + AbiLayouts.offset(entry, "type"), map.get(i).type());
        }
        StructLayout info = AbiLayouts.X86_64.hvm_start_info;
        ram.set(LE_INT, START_INFO + AbiLayouts.offset(info, "magic"), XenStartInfo.XEN_HVM_START_MAGIC_VALUE);
        ram.set(LE_INT, START_INFO + AbiLayouts.offset(info, "version"), 1);
        ram.set(LE_LONG, START_INFO + AbiLayouts.offset(info, "cmdline_paddr"), CMDLINE);
        ram.set(LE_LONG, START_INFO + AbiLayouts.offset(info, "memmap_paddr"), MEMMAP);
        ram.set(LE_INT, START_INFO + AbiLayouts.offset(info, "memmap_entries"), map.size());
    }

    private static String describe(List<MemoryMapEntry> map) {
        StringBuilder out = new StringBuilder();
        for (MemoryMapEntry e : map) {
            if (e.type() == MemoryMapEntry.E820_RAM) {
                out.append(out.isEmpty() ? "" : ", ").append("0x").append(Long.toHexString(e.address()))
                        .append("-0x").append(Long.toHexString(e.address() + e.size() - 1));
            }
        }
        return "RAM " + out;
    }
}
