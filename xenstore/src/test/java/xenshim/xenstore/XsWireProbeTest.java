package xenshim.xenstore;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.cprobe.CProbe;
import xenshim.cprobe.CProbe.Target;

/**
 * {@link XsWire} and {@link XsError} against {@code xen/io/xs_wire.h} (and
 * the permission bits of {@code xenstore_lib.h}), as api's AbiProbeTest
 * checks the hypercall ABI: {@code src/test/c/xs_probe.c} records every
 * constant and layout, compiled with {@code gcc -m64 -c} and
 * {@code -m32 -c}, and each record must match Java and each Java constant
 * must have its record. The strings the compiler cannot record (the
 * {@code xsd_errors} names, {@code XS_WRITE_*}) are read from the header's
 * text; the probe records how many errors the table has.
 */
class XsWireProbeTest {

    private static final Path XS_WIRE_H = Path.of("/usr/include/xen/io/xs_wire.h");

    @TempDir
    static Path work;

    @ParameterizedTest
    @EnumSource(Target.class)
    void everyConstantAndLayoutMatchesTheHeaders(Target target) throws Exception {
        CProbe.assumeHeader(XS_WIRE_H, "libxen-dev");
        CProbe.assumeHeader(Path.of("/usr/include/xenstore_lib.h"), "libxen-dev");
        Map<String, Long> records = CProbe.records(source(), target, work);

        Map<String, Long> java = javaRecords();
        assertThat(new TreeMap<>(records)).as("the %s probe against XsWire and XsError", target.flag())
                .isEqualTo(new TreeMap<>(java));
        System.out.printf("xs_wire probe %s: %d records match%n", target.flag(), records.size());
    }

    @Test
    void theErrorTableIsTheHeadersInItsOrder() throws Exception {
        CProbe.assumeHeader(XS_WIRE_H, "libxen-dev");
        List<String> header = matches(Files.readString(XS_WIRE_H), "XSD_ERROR\\((\\w+)\\),");
        assertThat(header).hasSizeGreaterThan(10);
        assertThat(Arrays.stream(XsError.values()).map(Enum::name).toList()).isEqualTo(header);
    }

    @Test
    void theWriteFlagsAreTheHeaders() throws Exception {
        CProbe.assumeHeader(XS_WIRE_H, "libxen-dev");
        Map<String, String> header = new LinkedHashMap<>();
        Matcher m = Pattern.compile("#define (XS_WRITE_\\w+) \"([^\"]*)\"").matcher(Files.readString(XS_WIRE_H));
        while (m.find()) {
            header.put(m.group(1), m.group(2));
        }
        assertThat(header).containsExactly(Map.entry("XS_WRITE_NONE", XsWire.XS_WRITE_NONE),
                Map.entry("XS_WRITE_CREATE", XsWire.XS_WRITE_CREATE),
                Map.entry("XS_WRITE_CREATE_EXCL", XsWire.XS_WRITE_CREATE_EXCL));
    }

    /** What the probe must record if Java is right: every int constant, the error count, both layouts. */
    private static Map<String, Long> javaRecords() throws IllegalAccessException {
        Map<String, Long> records = new LinkedHashMap<>();
        for (Field field : XsWire.class.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (Modifier.isPublic(modifiers) && Modifier.isStatic(modifiers) && field.getType() == int.class
                    && !field.getName().equals("HEADER_SIZE")) {
                records.put("const " + field.getName(), (long) field.getInt(null));
            }
        }
        records.put("const xsd_errors.count", (long) XsError.values().length);
        for (StructLayout layout : List.of(XsWire.XSD_SOCKMSG, XsWire.XENSTORE_DOMAIN_INTERFACE)) {
            String struct = layout.name().orElseThrow();
            records.put("sizeof " + struct, layout.byteSize());
            long offset = 0;
            for (MemoryLayout member : layout.memberLayouts()) {
                String name = struct + "." + member.name().orElseThrow();
                records.put("offsetof " + name, offset);
                records.put("sizeof " + name, member.byteSize());
                offset += member.byteSize();
            }
        }
        return records;
    }

    private static List<String> matches(String text, String regex) {
        List<String> found = new ArrayList<>();
        Matcher m = Pattern.compile(regex).matcher(text);
        while (m.find()) {
            found.add(m.group(1));
        }
        return found;
    }

    private static Path source() {
        return Path.of(System.getProperty("basedir", System.getProperty("user.dir"))).resolve("src/test/c/xs_probe.c");
    }
}
