package xenshim.cprobe;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.cprobe.CProbe.Target;

/**
 * Proves the probe path reads the numbers of the ABI it compiled for without
 * running anything: a {@code -m32} probe comes back as an ELF32 i386
 * relocatable object with 32-bit sizes, a {@code -m64} one as ELF64 x86-64
 * with 64-bit sizes; a table whose bytes the linker would still change is
 * refused; a malformed table is refused. The gcc tests skip, naming the
 * missing package, where gcc or gcc-multilib is not installed.
 */
class CProbeTest {

    private static final String PROBE = """
            #include "xenshim_probe.h"
            const struct xenshim_probe_record xenshim_probe[] = {
                PROBE("sizeof(long)", sizeof(long))
                PROBE("sizeof(void *)", sizeof(void *))
                PROBE("minus one", -1)
                PROBE("max", 0x7fffffffffffffffLL)
                PROBE("a name of sixty-three characters, the longest one that fits....", 63)
            };
            """;

    @TempDir
    Path work;

    @ParameterizedTest
    @EnumSource(Target.class)
    void eachTargetIsReadFromARelocatableObjectOfItsOwnAbi(Target target) throws Exception {
        Path source = Files.writeString(work.resolve("probe.c"), PROBE);

        ElfObject object = CProbe.compile(source, target, work);
        Map<String, Long> records = CProbe.records(source, target, work);

        boolean is64 = target == Target.X86_64;
        assertThat(object.elfClass()).isEqualTo(is64 ? ElfObject.ELFCLASS64 : ElfObject.ELFCLASS32);
        assertThat(object.machine()).isEqualTo(is64 ? ElfObject.EM_X86_64 : ElfObject.EM_386);
        assertThat(records).containsExactly(
                Map.entry("sizeof(long)", is64 ? 8L : 4L),
                Map.entry("sizeof(void *)", is64 ? 8L : 4L),
                Map.entry("minus one", -1L),
                Map.entry("max", Long.MAX_VALUE),
                Map.entry("a name of sixty-three characters, the longest one that fits....", 63L));
    }

    /** A pointer in a table needs a relocation (REL on i386, RELA on x86-64): its bytes are not the value. */
    @ParameterizedTest
    @EnumSource(Target.class)
    void aSymbolTouchedByARelocationIsRefused(Target target) throws Exception {
        Path source = Files.writeString(work.resolve("pointers.c"), """
                const char *const names[] = { "one", "two" };
                const long long plain[] = { 1, 2 };
                """);

        ElfObject object = CProbe.compile(source, target, work);

        assertThatThrownBy(() -> object.symbolData("names")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("relocation");
        assertThat(ByteBuffer.wrap(object.symbolData("plain")).order(ByteOrder.LITTLE_ENDIAN).getLong(8))
                .isEqualTo(2);
        assertThatThrownBy(() -> object.symbolData("absent")).hasMessageContaining("no symbol absent");
    }

    @Test
    void onlyRelocatableObjectsAreRead() {
        byte[] executable = new byte[64];
        ByteBuffer.wrap(executable).order(ByteOrder.LITTLE_ENDIAN).putInt(0, 0x464c457f).put(4, (byte) 2)
                .put(5, (byte) 1).putShort(16, (short) 2).putShort(18, (short) 62);

        assertThatThrownBy(() -> ElfObject.parse(executable)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not ET_REL");
        assertThatThrownBy(() -> ElfObject.parse("#!/bin/sh\n".getBytes(StandardCharsets.US_ASCII)))
                .hasMessageContaining("not an ELF file");
    }

    @Test
    void aMalformedTableIsRefused() {
        assertThatThrownBy(() -> CProbe.decode(new byte[0])).hasMessageContaining("not a positive multiple of 72");
        assertThatThrownBy(() -> CProbe.decode(new byte[73])).hasMessageContaining("not a positive multiple of 72");
        assertThatThrownBy(() -> CProbe.decode(new byte[72])).hasMessageContaining("empty name");

        byte[] unterminated = new byte[72];
        java.util.Arrays.fill(unterminated, 0, 64, (byte) 'x');
        assertThatThrownBy(() -> CProbe.decode(unterminated)).hasMessageContaining("without its NUL");

        byte[] twice = new byte[144];
        twice[0] = 'a';
        twice[72] = 'a';
        assertThatThrownBy(() -> CProbe.decode(twice)).hasMessageContaining("records a twice");
    }

    @Test
    void aRecordIsANameAndALittleEndianValue() {
        byte[] table = new byte[72];
        table[0] = 'n';
        ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN).putLong(64, -2);

        assertThat(CProbe.decode(table)).containsExactly(Map.entry("n", -2L));
    }
}
