package xenshim.x86.boot;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.OptionalLong;
import xenshim.api.xen.XenStartInfo;

/**
 * A guest kernel ELF as a PVH loader reads it: an ELF32 or ELF64 container
 * for x86 ({@code EM_386} or {@code EM_X86_64}: Xen takes both, and a kernel
 * whose 32-bit PVH entry is linked with {@code --oformat=elf32-i386} is an
 * {@code EM_386} ELF32 with 64-bit code inside), its PT_LOAD segments (loaded
 * at {@code p_paddr}), and its entry point — the
 * {@code XEN_ELFNOTE_PHYS32_ENTRY} note if there is one, else
 * {@code e_entry}.
 *
 * <p>Xen's notes are found where libelf's {@code elf_xen_parse} finds them:
 * in the PT_NOTE segments (one at file offset 0 is skipped, a binutils bug),
 * and only if those hold no Xen note at all, in the SHT_NOTE sections. The
 * last {@code PHYS32_ENTRY} read wins. Every field is checked against the
 * file's size before use; a bad image is a {@link BadGuestImageException}
 * naming the file.
 */
public final class ElfImage {

    private static final int EM_386 = 3;
    private static final int EM_X86_64 = 62;
    private static final int PT_LOAD = 1;
    private static final int PT_NOTE = 4;
    private static final int SHT_NOTE = 7;
    private static final int MAX_PHDRS = 256;

    /** One loadable segment: {@code fileSize} bytes of the file at {@code offset} go to {@code physAddr}; the rest of {@code memSize} is zero. */
    public record Segment(long physAddr, long offset, long fileSize, long memSize) {
    }

    private final String name;
    private final byte[] bytes;
    private final List<Segment> segments;
    private final long entry;
    private final boolean pvhEntry;

    private ElfImage(String name, byte[] bytes, List<Segment> segments, long entry, boolean pvhEntry) {
        this.name = name;
        this.bytes = bytes;
        this.segments = segments;
        this.entry = entry;
        this.pvhEntry = pvhEntry;
    }

    /** Parses {@code bytes}, read from a file called {@code name} (for messages). */
    public static ElfImage parse(String name, byte[] bytes) {
        return new Parser(name, bytes).parse();
    }

    public String name() {
        return name;
    }

    public List<Segment> segments() {
        return segments;
    }

    /** Where the vCPU starts, in 32-bit flat protected mode. */
    public long entry() {
        return entry;
    }

    /** Whether {@link #entry()} came from the PVH note rather than {@code e_entry}. */
    public boolean hasPvhEntry() {
        return pvhEntry;
    }

    /** The file bytes of a segment. */
    public byte[] bytes() {
        return bytes;
    }

    private static final class Parser {
        private final String name;
        private final byte[] bytes;
        private final ByteBuffer buf;
        private boolean elf64;

        Parser(String name, byte[] bytes) {
            this.name = name;
            this.bytes = bytes;
            this.buf = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        }

        private BadGuestImageException bad(String problem) {
            return new BadGuestImageException(name + ": " + problem);
        }

        private void need(long offset, long length, String what) {
            if (offset < 0 || length < 0 || offset > bytes.length || length > bytes.length - offset) {
                throw bad("truncated: " + what + " at offset " + offset + " (" + length
                        + " bytes) is past the end of the file (" + bytes.length + " bytes)");
            }
        }

        private long word(int offset) {
            return elf64 ? buf.getLong(offset) : Integer.toUnsignedLong(buf.getInt(offset));
        }

        ElfImage parse() {
            if (bytes.length < 16 || bytes[0] != 0x7f || bytes[1] != 'E' || bytes[2] != 'L' || bytes[3] != 'F') {
                throw bad("not an ELF file");
            }
            int elfClass = bytes[4];
            if (elfClass != 1 && elfClass != 2) {
                throw bad("unknown ELF class " + elfClass);
            }
            elf64 = elfClass == 2;
            if (bytes[5] != 1) {
                throw bad("not little-endian (EI_DATA " + bytes[5] + "): not an x86 image");
            }
            need(0, elf64 ? 64 : 52, "ELF header");
            int machine = Short.toUnsignedInt(buf.getShort(18));
            if (machine != EM_386 && machine != EM_X86_64) {
                throw bad("e_machine is " + machine + ", not x86 (" + EM_386 + ") or x86-64 (" + EM_X86_64 + ")");
            }
            long eEntry = word(24);
            long phoff = elf64 ? buf.getLong(32) : Integer.toUnsignedLong(buf.getInt(28));
            int phentsize = Short.toUnsignedInt(buf.getShort(elf64 ? 54 : 42));
            int phnum = Short.toUnsignedInt(buf.getShort(elf64 ? 56 : 44));
            int minEntry = elf64 ? 56 : 32;
            if (phnum == 0) {
                throw bad("no program headers");
            }
            if (phnum > MAX_PHDRS || phentsize < minEntry) {
                throw bad("bad program header table (" + phnum + " entries of " + phentsize + " bytes)");
            }
            need(phoff, (long) phnum * phentsize, "program header table");
            List<Segment> loads = new ArrayList<>();
            XenNotes notes = new XenNotes();
            for (int i = 0; i < phnum; i++) {
                int ph = (int) (phoff + (long) i * phentsize);
                int type = buf.getInt(ph);
                long offset = elf64 ? buf.getLong(ph + 8) : Integer.toUnsignedLong(buf.getInt(ph + 4));
                long paddr = elf64 ? buf.getLong(ph + 24) : Integer.toUnsignedLong(buf.getInt(ph + 12));
                long filesz = elf64 ? buf.getLong(ph + 32) : Integer.toUnsignedLong(buf.getInt(ph + 16));
                long memsz = elf64 ? buf.getLong(ph + 40) : Integer.toUnsignedLong(buf.getInt(ph + 20));
                if (type == PT_LOAD) {
                    if (filesz > memsz) {
                        throw bad("segment " + i + " has p_filesz " + filesz + " > p_memsz " + memsz);
                    }
                    need(offset, filesz, "segment " + i);
                    if (memsz > 0) {
                        loads.add(new Segment(paddr, offset, filesz, memsz));
                    }
                } else if (type == PT_NOTE && offset != 0) { // libelf: "binutils do not correctly set p_offset"
                    need(offset, filesz, "note segment " + i);
                    notes.scan(offset, filesz);
                }
            }
            if (loads.isEmpty()) {
                throw bad("no PT_LOAD segment");
            }
            if (notes.count == 0) {
                scanNoteSections(notes);
            }
            long entry = notes.phys32Entry.orElse(eEntry);
            return new ElfImage(name, bytes, List.copyOf(loads), entry, notes.phys32Entry.isPresent());
        }

        /** libelf's fallback when no note segment holds a Xen note: every SHT_NOTE section, from section 1. */
        private void scanNoteSections(XenNotes notes) {
            long shoff = elf64 ? buf.getLong(40) : Integer.toUnsignedLong(buf.getInt(32));
            int shentsize = Short.toUnsignedInt(buf.getShort(elf64 ? 58 : 46));
            int shnum = Short.toUnsignedInt(buf.getShort(elf64 ? 60 : 48));
            if (shnum == 0) {
                return;
            }
            if (shentsize < (elf64 ? 64 : 40)) {
                throw bad("bad section header table (" + shnum + " entries of " + shentsize + " bytes)");
            }
            need(shoff, (long) shnum * shentsize, "section header table");
            for (int i = 1; i < shnum; i++) {
                int sh = (int) (shoff + (long) i * shentsize);
                if (buf.getInt(sh + 4) != SHT_NOTE) {
                    continue;
                }
                long offset = elf64 ? buf.getLong(sh + 24) : Integer.toUnsignedLong(buf.getInt(sh + 16));
                long size = elf64 ? buf.getLong(sh + 32) : Integer.toUnsignedLong(buf.getInt(sh + 20));
                need(offset, size, "note section " + i);
                notes.scan(offset, size);
            }
        }

        /** What {@code elf_xen_parse_notes} gathers: how many Xen notes it read, and the last PHYS32_ENTRY. */
        private final class XenNotes {
            private int count;
            private OptionalLong phys32Entry = OptionalLong.empty();

            /** Walks the notes at {@code [offset, offset + size)} of the file. */
            void scan(long offset, long size) {
                long at = offset;
                long end = offset + size;
                while (end - at >= 12) {
                    long namesz = Integer.toUnsignedLong(buf.getInt((int) at));
                    long descsz = Integer.toUnsignedLong(buf.getInt((int) at + 4));
                    int type = buf.getInt((int) at + 8);
                    long nameAt = at + 12;
                    long descAt = nameAt + align4(namesz);
                    long next = descAt + align4(descsz);
                    if (namesz > size || descsz > size || next > end) {
                        throw bad("malformed ELF note at offset " + at);
                    }
                    boolean xen = namesz == 4 && bytes[(int) nameAt] == 'X' && bytes[(int) nameAt + 1] == 'e'
                            && bytes[(int) nameAt + 2] == 'n' && bytes[(int) nameAt + 3] == 0;
                    if (xen) {
                        count++;
                    }
                    if (xen && type == XenStartInfo.XEN_ELFNOTE_PHYS32_ENTRY) {
                        if (descsz != 4 && descsz != 8) {
                            throw bad("XEN_ELFNOTE_PHYS32_ENTRY has " + descsz + " bytes, not 4");
                        }
                        phys32Entry = OptionalLong.of(Integer.toUnsignedLong(buf.getInt((int) descAt)));
                    }
                    at = next;
                }
            }
        }

        private static long align4(long n) {
            return (n + 3) & ~3L;
        }
    }
}
