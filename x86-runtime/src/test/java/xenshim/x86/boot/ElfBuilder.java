package xenshim.x86.boot;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes small ELF32/ELF64 images for x86: a header, the program headers, each
 * segment's bytes, then each note section's bytes and, if there are note
 * sections, the section header table (a null section first, as ELF wants).
 */
final class ElfBuilder {

    static final int PT_LOAD = 1;
    static final int PT_NOTE = 4;
    static final int SHT_NOTE = 7;

    record Ph(int type, long paddr, byte[] data, long memsz) {
    }

    private final boolean elf64;
    private int machine = 62;
    private long entry;
    private final List<Ph> phdrs = new ArrayList<>();
    private final List<byte[]> noteSections = new ArrayList<>();

    private ElfBuilder(boolean elf64) {
        this.elf64 = elf64;
    }

    static ElfBuilder elf64() {
        return new ElfBuilder(true);
    }

    static ElfBuilder elf32() {
        return new ElfBuilder(false);
    }

    ElfBuilder machine(int m) {
        this.machine = m;
        return this;
    }

    ElfBuilder entry(long e) {
        this.entry = e;
        return this;
    }

    ElfBuilder load(long paddr, byte[] data, long memsz) {
        phdrs.add(new Ph(PT_LOAD, paddr, data, memsz));
        return this;
    }

    ElfBuilder note(byte[] notes) {
        phdrs.add(new Ph(PT_NOTE, 0, notes, notes.length));
        return this;
    }

    /** A SHT_NOTE section holding {@code notes}, in no segment. */
    ElfBuilder noteSection(byte[] notes) {
        noteSections.add(notes);
        return this;
    }

    int headerSize() {
        return elf64 ? 64 : 52;
    }

    int phentsize() {
        return elf64 ? 56 : 32;
    }

    /** File offset of program header {@code i}. */
    int phdr(int i) {
        return headerSize() + i * phentsize();
    }

    /** Offset of p_filesz / p_memsz / p_offset inside a program header. */
    int fileszField() {
        return elf64 ? 32 : 16;
    }

    int memszField() {
        return elf64 ? 40 : 20;
    }

    int offsetField() {
        return elf64 ? 8 : 4;
    }

    /** An ELF note: namesz, descsz, type, name (padded to 4), desc (padded to 4). */
    static byte[] noteEntry(String name, int type, byte[] desc) {
        byte[] n = (name + "\0").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        int nameLen = (n.length + 3) & ~3;
        int descLen = (desc.length + 3) & ~3;
        ByteBuffer b = ByteBuffer.allocate(12 + nameLen + descLen).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(n.length).putInt(desc.length).putInt(type);
        b.put(n);
        b.position(12 + nameLen);
        b.put(desc);
        return b.array();
    }

    static byte[] le32(long v) {
        return ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt((int) v).array();
    }

    static byte[] pvhNote(long entry) {
        return noteEntry("Xen", 18, le32(entry));
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    int shentsize() {
        return elf64 ? 64 : 40;
    }

    /** File offset of the section header table: after every segment's and section's bytes, 8-aligned. */
    int shoff() {
        int end = headerSize() + phdrs.size() * phentsize();
        for (Ph p : phdrs) {
            end += p.data().length;
        }
        for (byte[] n : noteSections) {
            end += n.length;
        }
        return (end + 7) & ~7;
    }

    byte[] build() {
        int dataStart = headerSize() + phdrs.size() * phentsize();
        int total = noteSections.isEmpty() ? shoff() : shoff() + (1 + noteSections.size()) * shentsize();
        ByteBuffer b = ByteBuffer.allocate(total).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {0x7f, 'E', 'L', 'F', (byte) (elf64 ? 2 : 1), 1, 1, 0});
        b.putShort(16, (short) 2); // ET_EXEC
        b.putShort(18, (short) machine);
        b.putInt(20, 1);
        if (elf64) {
            b.putLong(24, entry);
            b.putLong(32, headerSize());
            b.putShort(52, (short) 64);
            b.putShort(54, (short) 56);
            b.putShort(56, (short) phdrs.size());
        } else {
            b.putInt(24, (int) entry);
            b.putInt(28, headerSize());
            b.putShort(40, (short) 52);
            b.putShort(42, (short) 32);
            b.putShort(44, (short) phdrs.size());
        }
        int offset = dataStart;
        for (int i = 0; i < phdrs.size(); i++) {
            Ph p = phdrs.get(i);
            int at = phdr(i);
            b.putInt(at, p.type());
            if (elf64) {
                b.putInt(at + 4, 5);
                b.putLong(at + 8, offset);
                b.putLong(at + 16, p.paddr());
                b.putLong(at + 24, p.paddr());
                b.putLong(at + 32, p.data().length);
                b.putLong(at + 40, p.memsz());
                b.putLong(at + 48, 4096);
            } else {
                b.putInt(at + 4, offset);
                b.putInt(at + 8, (int) p.paddr());
                b.putInt(at + 12, (int) p.paddr());
                b.putInt(at + 16, p.data().length);
                b.putInt(at + 20, (int) p.memsz());
                b.putInt(at + 24, 5);
                b.putInt(at + 28, 4096);
            }
            b.put(offset, p.data());
            offset += p.data().length;
        }
        if (!noteSections.isEmpty()) {
            writeSections(b, offset);
        }
        return b.array();
    }

    /** The note sections' bytes from {@code offset}, then the section header table (e_shstrndx stays SHN_UNDEF). */
    private void writeSections(ByteBuffer b, int offset) {
        int shoff = shoff();
        int shnum = 1 + noteSections.size();
        if (elf64) {
            b.putLong(40, shoff);
            b.putShort(58, (short) shentsize());
            b.putShort(60, (short) shnum);
        } else {
            b.putInt(32, shoff);
            b.putShort(46, (short) shentsize());
            b.putShort(48, (short) shnum);
        }
        for (int i = 0; i < noteSections.size(); i++) {
            byte[] notes = noteSections.get(i);
            int at = shoff + (i + 1) * shentsize();
            b.putInt(at + 4, SHT_NOTE);
            if (elf64) {
                b.putLong(at + 24, offset);
                b.putLong(at + 32, notes.length);
                b.putLong(at + 48, 4);
            } else {
                b.putInt(at + 16, offset);
                b.putInt(at + 20, notes.length);
                b.putInt(at + 32, 4);
            }
            b.put(offset, notes);
            offset += notes.length;
        }
    }

    /** File offset of section header {@code i} (0 is the null section). */
    int shdr(int i) {
        return shoff() + i * shentsize();
    }

    /** Offset of sh_offset inside a section header. */
    int shOffsetField() {
        return elf64 ? 24 : 16;
    }

    /** Overwrites a little-endian value (4 or 8 bytes) in a built image. */
    static byte[] patch(byte[] image, int offset, long value, int size) {
        byte[] copy = image.clone();
        ByteBuffer b = ByteBuffer.wrap(copy).order(ByteOrder.LITTLE_ENDIAN);
        switch (size) {
            case 2 -> b.putShort(offset, (short) value);
            case 4 -> b.putInt(offset, (int) value);
            case 8 -> b.putLong(offset, value);
            default -> throw new IllegalArgumentException();
        }
        return copy;
    }

    /** Writes a p_filesz/p_memsz/p_offset value of the right width for this class. */
    byte[] patchWord(byte[] image, int offset, long value) {
        return patch(image, offset, value, elf64 ? 8 : 4);
    }
}
