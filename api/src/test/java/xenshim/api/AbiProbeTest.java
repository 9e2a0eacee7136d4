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
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
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

/**
 * Compares the Java side of the Xen ABI with what gcc makes of the Xen public
 * headers ({@code libxen-dev}): {@code src/test/c/abi_probe.c} is built with
 * {@code gcc -m64} and {@code gcc -m32}, and prints every constant and struct
 * layout; this test checks
 * <ol>
 * <li>every {@code public static final} integer constant of every class in
 *     {@code xenshim.api.xen} (found by listing the package, so a new class or
 *     constant cannot escape) that is not {@link NotInHeaders} against the
 *     probe, for both ABIs;</li>
 * <li>every struct of {@link AbiLayouts#X86_64} / {@link AbiLayouts#X86_32}
 *     against the {@code -m64} / {@code -m32} probe: size, and each named
 *     member's offset and size;</li>
 * <li>that the probe prints nothing Java does not define.</li>
 * </ol>
 * Skipped, saying why, only when gcc, its 32-bit multilib or the Xen headers
 * are missing; CI has them.
 */
class AbiProbeTest {

    private static final String XEN_PACKAGE = "xenshim.api.xen";
    private static final Path XEN_H = Path.of("/usr/include/xen/xen.h");
    private static final long TIMEOUT_SECONDS = 60;
    private static final String HOW_TO_INSTALL =
            "install gcc, gcc-multilib and libxen-dev (apt-get install gcc gcc-multilib libxen-dev)";

    @TempDir
    static Path work;

    /** The probe's output per ABI, built on first use. */
    private static final Map<Abi, Probe> PROBES = new EnumMap<>(Abi.class);

    @BeforeAll
    static void toolsPresent() throws Exception {
        assumeTool(Files.isRegularFile(XEN_H), "the Xen public headers (" + XEN_H + ") are missing");
        Result gcc = run(List.of("gcc", "--version"), work);
        assumeTool(gcc != null && !gcc.timedOut() && gcc.exitCode() == 0, "gcc is not installed or does not run");
    }

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

    /** The checker itself: a constant the probe does not print, or prints with another value, is reported. */
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
                failures.add(constant.where() + " = " + constant.value() + " is not printed by the probe: add C("
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
                failures.add("struct " + struct + " is not printed by the probe: add S(" + struct
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
                    failures.add(key + " is not printed by the probe: add F(" + struct + ", " + member.getKey()
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
    void theProbePrintsNothingJavaDoesNotDefine(Abi abi) throws Exception {
        Probe probe = probe(abi);
        List<String> failures = new ArrayList<>();
        Map<String, JavaConstant> java = new LinkedHashMap<>();
        for (JavaConstant constant : javaConstants()) {
            java.putIfAbsent(constant.name(), constant);
        }
        for (String name : probe.constants().keySet()) {
            JavaConstant constant = java.get(name);
            if (constant == null) {
                failures.add("the probe prints " + name + " = " + probe.constants().get(name)
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
                failures.add("the probe prints struct " + struct + " but AbiLayouts." + abi
                        + ".all() has no such layout");
            }
        }
        for (String key : probe.fields().keySet()) {
            int dot = key.indexOf('.');
            StructLayout layout = structs.get(key.substring(0, dot));
            if (layout == null || !members(layout).containsKey(key.substring(dot + 1))) {
                failures.add("the probe prints field " + key + " but the Java layout has no such member");
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

        /** C prints a signed 64-bit number; a Java {@code int} may stand for an unsigned 32-bit one. */
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

    /** What one build of the probe printed. */
    private record Probe(Map<String, Long> constants, Map<String, Long> structs, Map<String, long[]> fields) {
    }

    /** A finished command, or one that was killed after {@link #TIMEOUT_SECONDS} ({@code timedOut}). */
    private record Result(boolean timedOut, int exitCode, String stdout, String stderr) {
    }

    private static synchronized Probe probe(Abi abi) throws Exception {
        Probe probe = PROBES.get(abi);
        if (probe == null) {
            probe = buildAndRun(abi);
            PROBES.put(abi, probe);
        }
        return probe;
    }

    private static String gccFlag(Abi abi) {
        return abi == Abi.X86_64 ? "-m64" : "-m32";
    }

    private static Probe buildAndRun(Abi abi) throws Exception {
        Path source = probeSource();
        String flag = gccFlag(abi);
        Path dir = Files.createDirectories(work.resolve(abi.name()));

        // Can this gcc link for the ABI at all (gcc-multilib for -m32)?
        Path empty = dir.resolve("empty.c");
        Files.writeString(empty, "int main(void) { return 0; }\n");
        Result link = run(List.of("gcc", flag, "-o", dir.resolve("empty").toString(), empty.toString()), dir);
        assumeTool(link != null && !link.timedOut() && link.exitCode() == 0,
                "gcc " + flag + " cannot build a program" + (link == null ? "" : ": " + link.stderr().strip()));

        Path binary = dir.resolve("abi_probe");
        Result compile = run(List.of("gcc", flag, "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic",
                "-I/usr/include", "-o", binary.toString(), source.toString()), dir);
        if (compile == null || compile.timedOut()) {
            fail("gcc " + flag + " " + source + (compile == null ? " could not be started"
                    : " did not finish in " + TIMEOUT_SECONDS + " s"));
        }
        if (compile.exitCode() != 0) {
            fail("gcc " + flag + " failed to build " + source + " (exit " + compile.exitCode() + "):\n"
                    + compile.stderr());
        }
        Result output = run(List.of(binary.toString()), dir);
        if (output == null || output.timedOut()) {
            fail("the " + flag + " probe " + (output == null ? "could not be started"
                    : "did not finish in " + TIMEOUT_SECONDS + " s"));
        }
        if (output.exitCode() != 0) {
            fail("the " + flag + " probe exited with " + output.exitCode() + ":\n" + output.stderr());
        }
        return parse(flag, output.stdout());
    }

    private static Path probeSource() {
        Path base = Path.of(System.getProperty("basedir", System.getProperty("user.dir")));
        Path source = base.resolve("src/test/c/abi_probe.c");
        if (!Files.isRegularFile(source)) {
            fail("the ABI probe source is missing: " + source.toAbsolutePath());
        }
        return source;
    }

    private static Probe parse(String flag, String text) {
        Map<String, Long> constants = new LinkedHashMap<>();
        Map<String, Long> structs = new LinkedHashMap<>();
        Map<String, long[]> fields = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] parts = line.strip().split(" ");
            boolean fresh = switch (parts[0]) {
                case "const" -> parts.length == 3 && constants.put(parts[1], Long.parseLong(parts[2])) == null;
                case "struct" -> parts.length == 3 && structs.put(parts[1], Long.parseLong(parts[2])) == null;
                case "field" -> parts.length == 4 && parts[1].indexOf('.') > 0 && fields.put(parts[1],
                        new long[] {Long.parseLong(parts[2]), Long.parseLong(parts[3])}) == null;
                default -> false;
            };
            if (!fresh) {
                fail("the " + flag + " probe printed a malformed or repeated line: " + line);
            }
        }
        if (constants.isEmpty() || structs.isEmpty()) {
            fail("the " + flag + " probe printed no constants or no structs:\n" + text);
        }
        return new Probe(constants, structs, fields);
    }

    /**
     * Runs a command with a timeout; stdout and stderr go to files so neither
     * pipe can fill up and block it.
     *
     * @return its result ({@code timedOut} if it was killed), or {@code null}
     *         if it could not be started at all
     */
    private static Result run(List<String> command, Path dir) throws IOException, InterruptedException {
        Path out = Files.createTempFile(dir, "out", ".txt");
        Path err = Files.createTempFile(dir, "err", ".txt");
        Process process;
        try {
            process = new ProcessBuilder(command).directory(dir.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
        } catch (IOException cannotStart) {
            return null;
        }
        if (!process.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
            process.descendants().forEach(ProcessHandle::destroyForcibly);
            process.destroyForcibly();
            process.waitFor(5, TimeUnit.SECONDS);
            return new Result(true, -1, "", "");
        }
        return new Result(false, process.exitValue(), Files.readString(out, StandardCharsets.UTF_8),
                Files.readString(err, StandardCharsets.UTF_8));
    }

    private static void assumeTool(boolean present, String reason) {
        Assumptions.assumeTrue(present, () -> "ABI probe skipped: " + reason + "; " + HOW_TO_INSTALL);
    }
}
