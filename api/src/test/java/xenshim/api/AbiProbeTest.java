package xenshim.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import xenshim.api.abi.AbiLayouts;
import xenshim.api.xen.Hypercalls;
import xenshim.api.xen.NotInHeaders;
import xenshim.api.xen.XenDomains;
import xenshim.api.xen.XenErrno;
import xenshim.api.xen.XenFeatures;
import xenshim.api.xen.XenVersion;
import xenshim.cprobe.CProbe;
import xenshim.cprobe.CProbe.Target;

/**
 * Compares the Java side of the Xen ABI with what gcc makes of the Xen public
 * headers ({@code libxen-dev}): {@code src/test/c/abi_probe.c} records every
 * constant and struct layout in a table, is compiled with {@code gcc -m64 -c}
 * and {@code gcc -m32 -c}, and the table is read from each object file
 * ({@link CProbe}); this test checks
 * <ol>
 * <li>every {@code public static final} integer constant of every class in
 *     {@code xenshim.api.xen} (found by listing the package, so a new class or
 *     constant cannot escape) that is not {@link NotInHeaders} against the
 *     probe, for both ABIs;</li>
 * <li>every struct of {@link AbiLayouts#X86_64} / {@link AbiLayouts#X86_32}
 *     against the {@code -m64} / {@code -m32} probe: size, and each named
 *     member's offset and size;</li>
 * <li>that the probe records nothing Java does not define.</li>
 * </ol>
 * The probe is never linked or run, so the 32-bit ABI is checked on machines
 * whose kernel cannot execute 32-bit programs; the 32-bit numbers come from an
 * object that {@link CProbe} checks is ELF32 i386. A probe test is skipped,
 * saying why, only when gcc, its 32-bit multilib or the Xen headers are
 * missing; CI installs them. The checker tests need none of them.
 */
class AbiProbeTest {

    private static final String XEN_PACKAGE = "xenshim.api.xen";
    private static final Path XEN_H = Path.of("/usr/include/xen/xen.h");

    @TempDir
    static Path work;

    /** The probe's records per ABI, compiled on first use. */
    private static final Map<Abi, Probe> PROBES = new EnumMap<>(Abi.class);

    // ---- (a) constants ------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void everyJavaConstantIsInTheHeadersWithTheSameValue(Abi abi) throws Exception {
        Probe probe = probe(abi);
        List<JavaConstant> constants = javaConstants();
        long checked = constants.stream().filter(constant -> !constant.notInHeaders()).count();
        System.out.printf("ABI probe %s: checked %d constants (%d more marked @NotInHeaders)%n", abi, checked,
                constants.size() - checked);
        assertThat(checked).as("constants found in %s", XEN_PACKAGE).isPositive();
        assertNoFailures(abi, constantFailures(abi, probe, constants));
    }

    /** The checker itself: a constant the probe does not record, or records with another value, is reported. */
    @Test
    void aConstantMissingFromTheProbeOrDifferentIsReported() {
        List<JavaConstant> java = List.of(
                new JavaConstant(XenVersion.class, "XENVER_version", 0, true, false),
                new JavaConstant(XenVersion.class, "XENVER_pagesize", 7, true, false),
                new JavaConstant(XenDomains.class, "DOMID_SELF", 0x7FF0, true, false),
                new JavaConstant(Hypercalls.class, "NR_SLOTS", 128, true, true));
        Probe probe = new Probe(Map.of("XENVER_version", 0L, "DOMID_SELF", 0x7FF1L), Map.of(), Map.of());
        assertThat(constantFailures(Abi.X86_64, probe, java)).satisfiesExactlyInAnyOrder(
                failure -> assertThat(failure).contains("XenVersion.XENVER_pagesize")
                        .contains("add C(XENVER_pagesize) to api/src/test/c/abi_probe.c"),
                failure -> assertThat(failure).contains("XenDomains.DOMID_SELF = 32752").contains("32753"));
    }

    private static List<String> constantFailures(Abi abi, Probe probe, List<JavaConstant> constants) {
        List<String> failures = new ArrayList<>();
        for (JavaConstant constant : constants) {
            if (constant.notInHeaders()) {
                continue;
            }
            Long value = probe.constants().get(constant.name());
            if (value == null) {
                failures.add(constant.where() + " = " + constant.value() + " is not recorded by the probe: add C("
                        + constant.name() + ") to api/src/test/c/abi_probe.c (or, if Xen's headers do not define"
                        + " it, mark it @NotInHeaders)");
            } else if (!constant.matches(value)) {
                failures.add(constant.where() + " = " + constant.value() + " but the " + abi + " headers say "
                        + value);
            }
        }
        return failures;
    }

    // ---- (b) layouts --------------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void everyJavaStructMatchesTheHeaders(Abi abi) throws Exception {
        Probe probe = probe(abi);
        List<String> failures = new ArrayList<>();
        int structs = 0;
        int fields = 0;
        for (StructLayout layout : abi.layouts().all()) {
            String struct = structName(layout);
            structs++;
            Long size = probe.structs().get(struct);
            if (size == null) {
                failures.add("struct " + struct + " is not recorded by the probe: add S(" + struct
                        + ") and F(" + struct + ", member) lines to api/src/test/c/abi_probe.c");
                continue;
            }
            if (size != layout.byteSize()) {
                failures.add("sizeof(struct " + struct + ") is " + size + " but the Java layout has "
                        + layout.byteSize());
            }
            for (Map.Entry<String, long[]> member : members(layout).entrySet()) {
                fields++;
                String key = struct + "." + member.getKey();
                long[] java = member.getValue();
                long[] c = probe.fields().get(key);
                if (c == null) {
                    failures.add(key + " is not recorded by the probe: add F(" + struct + ", " + member.getKey()
                            + ") to api/src/test/c/abi_probe.c");
                } else if (c[0] != java[0] || c[1] != java[1]) {
                    failures.add(key + ": headers say offset " + c[0] + " size " + c[1] + ", Java has offset "
                            + java[0] + " size " + java[1]);
                }
            }
        }
        System.out.printf("ABI probe %s: checked %d structs, %d fields%n", abi, structs, fields);
        assertThat(structs).as("structs in %s layouts", abi).isPositive();
        assertNoFailures(abi, failures);
    }

    // ---- (c) nothing extra ---------------------------------------------------

    @ParameterizedTest
    @EnumSource(Abi.class)
    void theProbeRecordsNothingJavaDoesNotDefine(Abi abi) throws Exception {
        Probe probe = probe(abi);
        List<String> failures = new ArrayList<>();
        Map<String, JavaConstant> java = new LinkedHashMap<>();
        for (JavaConstant constant : javaConstants()) {
            java.putIfAbsent(constant.name(), constant);
        }
        for (String name : probe.constants().keySet()) {
            JavaConstant constant = java.get(name);
            if (constant == null) {
                failures.add("the probe records " + name + " = " + probe.constants().get(name)
                        + " but no class in " + XEN_PACKAGE + " defines it: add it to Java or drop it from the probe");
            } else if (constant.notInHeaders()) {
                failures.add(constant.where() + " is marked @NotInHeaders but the headers define it: drop the"
                        + " annotation");
            }
        }
        Map<String, StructLayout> structs = new LinkedHashMap<>();
        for (StructLayout layout : abi.layouts().all()) {
            structs.put(structName(layout), layout);
        }
        for (String struct : probe.structs().keySet()) {
            if (!structs.containsKey(struct)) {
                failures.add("the probe records struct " + struct + " but AbiLayouts." + abi
                        + ".all() has no such layout");
            }
        }
        for (String key : probe.fields().keySet()) {
            int dot = key.indexOf('.');
            StructLayout layout = structs.get(key.substring(0, dot));
            if (layout == null || !members(layout).containsKey(key.substring(dot + 1))) {
                failures.add("the probe records field " + key + " but the Java layout has no such member");
            }
        }
        assertNoFailures(abi, failures);
    }

    /** Keeps the class scan honest: it must find the constant classes we know of. */
    @Test
    void theScanFindsTheKnownConstantClasses() throws Exception {
        List<Class<?>> classes = constantClasses();
        assertThat(classes).contains(Hypercalls.class, XenDomains.class, XenErrno.class, XenFeatures.class,
                XenVersion.class);
    }

    // ---- the Java side --------------------------------------------------------

    /** One public static final integer constant of the xen package. */
    private record JavaConstant(Class<?> owner, String name, long value, boolean isInt, boolean notInHeaders) {

        String where() {
            return owner.getSimpleName() + "." + name;
        }

        /** The probe records a signed 64-bit number; a Java {@code int} may stand for an unsigned 32-bit one. */
        boolean matches(long c) {
            return c == value || (isInt && c == Integer.toUnsignedLong((int) value));
        }
    }

    private static List<JavaConstant> javaConstants() throws Exception {
        List<JavaConstant> constants = new ArrayList<>();
        for (Class<?> type : constantClasses()) {
            for (Field field : type.getDeclaredFields()) {
                int modifiers = field.getModifiers();
                if (!Modifier.isPublic(modifiers) || !Modifier.isStatic(modifiers) || !Modifier.isFinal(modifiers)
                        || field.isSynthetic()) {
                    continue;
                }
                Class<?> kind = field.getType();
                boolean notInHeaders = field.isAnnotationPresent(NotInHeaders.class);
                if (kind == int.class || kind == long.class || kind == short.class || kind == byte.class) {
                    long value = ((Number) field.get(null)).longValue();
                    constants.add(new JavaConstant(type, field.getName(), value, kind == int.class, notInHeaders));
                } else if (kind.isPrimitive() && !notInHeaders) {
                    fail(type.getSimpleName() + "." + field.getName() + " is a " + kind
                            + " constant, which AbiProbeTest cannot check: use int or long");
                }
            }
        }
        return constants;
    }

    /**
     * Every class of the xen package (nested ones included), listed from the
     * directory or jar the api's classes were loaded from.
     */
    private static List<Class<?>> constantClasses() throws IOException, URISyntaxException, ClassNotFoundException {
        Path location = Path.of(Hypercalls.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        String folder = XEN_PACKAGE.replace('.', '/') + "/";
        TreeSet<String> names = new TreeSet<>();
        if (Files.isDirectory(location)) {
            try (Stream<Path> files = Files.list(location.resolve(folder))) {
                files.map(file -> file.getFileName().toString()).filter(name -> name.endsWith(".class"))
                        .forEach(name -> names.add(name));
            }
        } else {
            try (JarFile jar = new JarFile(location.toFile())) {
                for (Enumeration<JarEntry> entries = jar.entries(); entries.hasMoreElements(); ) {
                    String entry = entries.nextElement().getName();
                    if (entry.startsWith(folder) && entry.endsWith(".class")
                            && entry.indexOf('/', folder.length()) < 0) {
                        names.add(entry.substring(folder.length()));
                    }
                }
            }
        }
        List<Class<?>> classes = new ArrayList<>();
        for (String file : names) {
            String binaryName = XEN_PACKAGE + "." + file.substring(0, file.length() - ".class".length());
            if (!binaryName.endsWith("package-info") && !binaryName.endsWith("module-info")) {
                classes.add(Class.forName(binaryName, true, Hypercalls.class.getClassLoader()));
            }
        }
        return classes;
    }

    private static String structName(StructLayout layout) {
        return layout.name().orElseThrow(() -> new AssertionError("an AbiLayouts struct has no name: " + layout));
    }

    /** Named members (padding skipped) to {offset, size}. */
    private static Map<String, long[]> members(StructLayout layout) {
        Map<String, long[]> members = new LinkedHashMap<>();
        long offset = 0;
        for (MemoryLayout member : layout.memberLayouts()) {
            if (!(member instanceof PaddingLayout)) {
                String name = member.name()
                        .orElseThrow(() -> new AssertionError(structName(layout) + " has an unnamed member"));
                members.put(name, new long[] {offset, member.byteSize()});
            }
            offset += member.byteSize();
        }
        return members;
    }

    private static void assertNoFailures(Abi abi, List<String> failures) {
        if (!failures.isEmpty()) {
            fail("The Java side disagrees with the Xen headers (" + gccFlag(abi) + "):\n  "
                    + String.join("\n  ", failures));
        }
    }

    // ---- the C side -----------------------------------------------------------

    /** What one build of the probe recorded. */
    private record Probe(Map<String, Long> constants, Map<String, Long> structs, Map<String, long[]> fields) {
    }

    private static synchronized Probe probe(Abi abi) {
        Probe probe = PROBES.get(abi);
        if (probe == null) {
            CProbe.assumeHeader(XEN_H, "libxen-dev");
            probe = parse(gccFlag(abi), CProbe.records(probeSource(), target(abi), work));
            PROBES.put(abi, probe);
        }
        return probe;
    }

    /** What gcc compiles the probe for: an ELF64 x86-64 or an ELF32 i386 object. */
    private static Target target(Abi abi) {
        return abi == Abi.X86_64 ? Target.X86_64 : Target.I386;
    }

    private static String gccFlag(Abi abi) {
        return target(abi).flag();
    }

    private static Path probeSource() {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
        return base.resolve("src/test/c/abi_probe.c");
    }

    /** Sorts the records ({@code abi_probe.c} says which names it writes) into constants, structs and members. */
    private static Probe parse(String flag, Map<String, Long> records) {
        Map<String, Long> constants = new LinkedHashMap<>();
        Map<String, Long> structs = new LinkedHashMap<>();
        Map<String, Long> offsets = new LinkedHashMap<>();
        Map<String, Long> sizes = new LinkedHashMap<>();
        for (Map.Entry<String, Long> record : records.entrySet()) {
            String[] parts = record.getKey().split(" ", -1);
            boolean member = parts.length == 2 && parts[1].indexOf('.') > 0;
            boolean known = parts.length == 2 && switch (parts[0]) {
                case "const" -> constants.put(parts[1], record.getValue()) == null;
                case "sizeof" -> (member ? sizes : structs).put(parts[1], record.getValue()) == null;
                case "offsetof" -> member && offsets.put(parts[1], record.getValue()) == null;
                default -> false;
            };
            if (!known) {
                fail("the " + flag + " probe recorded a malformed or repeated name: " + record.getKey());
            }
        }
        TreeSet<String> unpaired = new TreeSet<>(offsets.keySet());
        unpaired.addAll(sizes.keySet());
        unpaired.removeIf(member -> offsets.containsKey(member) && sizes.containsKey(member));
        if (!unpaired.isEmpty()) {
            fail("the " + flag + " probe records only the offset or only the size of " + unpaired
                    + ": record members with F() or FLEX()");
        }
        Map<String, long[]> fields = new LinkedHashMap<>();
        offsets.forEach((member, offset) -> fields.put(member, new long[] {offset, sizes.get(member)}));
        if (constants.isEmpty() || structs.isEmpty()) {
            fail("the " + flag + " probe recorded no constants or no structs: " + records.keySet());
        }
        return new Probe(constants, structs, fields);
    }
}
