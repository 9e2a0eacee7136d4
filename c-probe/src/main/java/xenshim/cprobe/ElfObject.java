package xenshim.cprobe;

import java.nio.BufferUnderflowException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A little-endian ELF relocatable object ({@code ET_REL}, 32- or 64-bit), as
 * {@code gcc -c} writes it: just enough of it to read the initialised bytes of
 * one data symbol. This is how {@link CProbe} reads what a probe recorded
 * without running anything. Only relocatable objects are read, so an
 * executable is refused rather than taken for a probe.
 *
 * <p>In an object file a symbol's value is its offset in its section, and the
 * bytes there are final only where no relocation applies: {@link #symbolData}
 * refuses a symbol that any relocation touches (a pointer in the table, say),
 * rather than return bytes the linker would still change.
 */
public final class ElfObject {

    /** {@code e_ident[EI_CLASS]}. */
    public static final int ELFCLASS32 = 1, ELFCLASS64 = 2;
    /** {@code e_machine}. */
    public static final int EM_386 = 3, EM_X86_64 = 62;
    /** {@code e_type} of a relocatable object. */
    public static final int ET_REL = 1;

    private static final int SHT_PROGBITS = 1, SHT_SYMTAB = 2, SHT_RELA = 4, SHT_NOBITS = 8, SHT_REL = 9;
    private static final int SHN_UNDEF = 0, SHN_LORESERVE = 0xff00, SHN_COMMON = 0xfff2;

    private record Section(String name, int type, int offset, int size, int link, int info, int entsize) {
    }

    private record Symbol(String name, int shndx, long value, long size) {
    }

    private final ByteBuffer file;
    private final boolean is64;
    private final int machine;
    private final List<Section> sections;
    private final List<Symbol> symbols;

    private ElfObject(byte[] bytes) {
        file = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        if (bytes.length < 52 || file.getInt(0) != 0x464c457f) {
            throw new IllegalArgumentException("not an ELF file");
        }
        if (bytes[4] != ELFCLASS32 && bytes[4] != ELFCLASS64) {
            throw new IllegalArgumentException("unknown ELF class " + bytes[4]);
        }
        if (bytes[5] != 1) {
            throw new IllegalArgumentException("not a little-endian ELF file");
        }
        is64 = bytes[4] == ELFCLASS64;
        int type = u16(16);
        if (type != ET_REL) {
            throw new IllegalArgumentException("e_type is " + type + ", not ET_REL (1): only relocatable objects"
                    + " (gcc -c) are read");
        }
        machine = u16(18);
        sections = readSections();
        symbols = readSymbols();
    }

    /**
     * Parses an object file.
     *
     * @throws IllegalArgumentException if it is not a little-endian ELF
     *         relocatable object, or is truncated
     */
    public static ElfObject parse(byte[] bytes) {
        try {
            return new ElfObject(bytes);
        } catch (IndexOutOfBoundsException | BufferUnderflowException | ArithmeticException e) {
            throw new IllegalArgumentException("truncated or malformed ELF object", e);
        }
    }

    /** {@link #ELFCLASS32} or {@link #ELFCLASS64}. */
    public int elfClass() {
        return is64 ? ELFCLASS64 : ELFCLASS32;
    }

    /** {@code e_machine}, e.g. {@link #EM_386} or {@link #EM_X86_64}. */
    public int machine() {
        return machine;
    }

    /**
     * The initialised bytes of the data symbol {@code name}: {@code st_size}
     * bytes at {@code st_value} in its section.
     *
     * @throws IllegalArgumentException if the object does not define it in a
     *         section with contents, or a relocation applies inside it
     */
    public byte[] symbolData(String name) {
        Symbol symbol = symbols.stream().filter(s -> s.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("the object has no symbol " + name));
        if (symbol.shndx() == SHN_UNDEF || symbol.shndx() == SHN_COMMON || symbol.shndx() >= SHN_LORESERVE) {
            throw new IllegalArgumentException(name + " is not defined with contents here (st_shndx "
                    + symbol.shndx() + "): declare it extern const and initialise it");
        }
        Section section = sections.get(symbol.shndx());
        if (section.type() != SHT_PROGBITS) {
            throw new IllegalArgumentException(name + " is in " + section.name() + " (type " + section.type()
                    + (section.type() == SHT_NOBITS ? ", no contents in the file" : "") + "), not in initialised data");
        }
        if (symbol.value() < 0 || symbol.size() < 0 || symbol.value() + symbol.size() > section.size()) {
            throw new IllegalArgumentException(name + " lies outside its section " + section.name());
        }
        for (Section relocations : sections) {
            if ((relocations.type() == SHT_REL || relocations.type() == SHT_RELA)
                    && relocations.info() == symbol.shndx()) {
                for (int at = 0; at + relocations.entsize() <= relocations.size(); at += relocations.entsize()) {
                    long offset = word(relocations.offset() + at);
                    if (offset >= symbol.value() && offset < symbol.value() + symbol.size()) {
                        throw new IllegalArgumentException(name + " needs a relocation at byte "
                                + (offset - symbol.value()) + " (" + relocations.name() + "): its bytes are not"
                                + " final in an object file; keep pointers out of it");
                    }
                }
            }
        }
        byte[] data = new byte[Math.toIntExact(symbol.size())];
        file.get(section.offset() + (int) symbol.value(), data);
        return data;
    }

    // ---- parsing -----------------------------------------------------------------

    private List<Section> readSections() {
        long shoff = is64 ? file.getLong(0x28) : u32(0x20);
        int shentsize = u16(is64 ? 0x3a : 0x2e);
        int shnum = u16(is64 ? 0x3c : 0x30);
        int shstrndx = u16(is64 ? 0x3e : 0x32);
        if (shentsize != (is64 ? 64 : 40) || shstrndx >= shnum) {
            throw new IllegalArgumentException("unexpected section header table");
        }
        List<int[]> raw = new ArrayList<>();
        for (int i = 0; i < shnum; i++) {
            int at = Math.toIntExact(shoff + (long) i * shentsize);
            raw.add(is64
                    ? new int[] {file.getInt(at), file.getInt(at + 4), toInt(file.getLong(at + 24)),
                        toInt(file.getLong(at + 32)), file.getInt(at + 40), file.getInt(at + 44),
                        toInt(file.getLong(at + 56))}
                    : new int[] {file.getInt(at), file.getInt(at + 4), toInt(u32(at + 16)), toInt(u32(at + 20)),
                        file.getInt(at + 24), file.getInt(at + 28), toInt(u32(at + 36))});
        }
        int names = raw.get(shstrndx)[2];
        List<Section> result = new ArrayList<>();
        for (int[] s : raw) {
            boolean hasContents = s[1] != SHT_NOBITS && s[1] != 0;
            if (hasContents && (long) s[2] + s[3] > file.limit()) {
                throw new IllegalArgumentException("a section lies outside the file");
            }
            result.add(new Section(string(names + s[0]), s[1], s[2], s[3], s[4], s[5], s[6]));
        }
        return List.copyOf(result);
    }

    private List<Symbol> readSymbols() {
        List<Symbol> result = new ArrayList<>();
        for (Section symtab : sections) {
            if (symtab.type() != SHT_SYMTAB) {
                continue;
            }
            int names = sections.get(symtab.link()).offset();
            int entsize = is64 ? 24 : 16;
            for (int at = symtab.offset(); at + entsize <= symtab.offset() + symtab.size(); at += entsize) {
                String name = string(names + file.getInt(at));
                result.add(is64
                        ? new Symbol(name, u16(at + 6), file.getLong(at + 8), file.getLong(at + 16))
                        : new Symbol(name, u16(at + 14), u32(at + 4), u32(at + 8)));
            }
        }
        return List.copyOf(result);
    }

    /** An {@code Elf32_Addr} or {@code Elf64_Addr} (the first field of a relocation). */
    private long word(int at) {
        return is64 ? file.getLong(at) : u32(at);
    }

    private int u16(int at) {
        return Short.toUnsignedInt(file.getShort(at));
    }

    private long u32(int at) {
        return Integer.toUnsignedLong(file.getInt(at));
    }

    private static int toInt(long value) {
        return Math.toIntExact(value);
    }

    private String string(int at) {
        int end = at;
        while (file.get(end) != 0) {
            end++;
        }
        byte[] text = new byte[end - at];
        file.get(at, text);
        return new String(text, StandardCharsets.US_ASCII);
    }
}
