package xenshim.x86.unicorn;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.PaddingLayout;
import java.lang.foreign.StructLayout;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Compares {@link Unicorn}'s constants and struct layouts with what gcc makes of the Unicorn
 * headers ({@code libunicorn-dev}): {@code src/test/c/unicorn_probe.c}, built with {@code gcc -m64},
 * prints every constant and struct it needs; every {@code UC_*} integer constant of {@link Unicorn}
 * must be printed with the same value, every layout must match in size and member offsets, and the
 * probe must print nothing Java lacks. Skipped, saying why, when gcc or the headers are missing.
 */
class UnicornProbeTest {

    private static final Path HEADER = Path.of("/usr/include/unicorn/unicorn.h");
    private static final String HOW_TO_INSTALL = "install gcc and libunicorn-dev (apt-get install gcc libunicorn-dev)";
    private static final List<StructLayout> LAYOUTS = List.of(Unicorn.UC_X86_MMR, Unicorn.UC_X86_MSR);

    @TempDir
    static Path work;

    private static Probe probe;
    /** Why the probe cannot be built here, or null: each test skips with it (a skip in @BeforeAll reads as "Tests run: 0"). */
    private static String missing;

    @BeforeAll
    static void buildProbe() throws Exception {
        if (!Files.isRegularFile(HEADER)) {
            missing = "the Unicorn headers (" + HEADER + ") are missing";
            return;
        }
        Result gcc = run(List.of("gcc", "--version"));
        if (gcc == null || gcc.exitCode() != 0) {
            missing = "gcc is not installed or does not run";
            return;
        }

        Path source = Path.of(System.getProperty("basedir", System.getProperty("user.dir")))
                .resolve("src/test/c/unicorn_probe.c");
        if (!Files.isRegularFile(source)) {
            fail("the probe source is missing: " + source.toAbsolutePath());
        }
        Path binary = work.resolve("unicorn_probe");
        Result compile = run(List.of("gcc", "-m64", "-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic", "-o",
                binary.toString(), source.toString()));
        if (compile == null || compile.exitCode() != 0) {
            fail("gcc failed to build " + source + (compile == null ? "" : ":\n" + compile.stderr()));
        }
        Result output = run(List.of(binary.toString()));
        if (output == null || output.exitCode() != 0) {
            fail("the probe failed" + (output == null ? "" : ":\n" + output.stderr()));
        }
        probe = parse(output.stdout());
    }

    @BeforeEach
    void needProbe() {
        if (missing != null) {
            assume(false, missing);
        }
    }

    @Test
    void everyJavaConstantIsInTheHeadersWithTheSameValue() throws Exception {
        Map<String, Long> java = javaConstants();
        List<String> failures = new ArrayList<>();
        java.forEach((name, value) -> {
            Long c = probe.constants().get(name);
            if (c == null) {
                failures.add("Unicorn." + name + " = " + value + " is not printed by the probe: add C(" + name
                        + ") to src/test/c/unicorn_probe.c");
            } else if (!c.equals(value)) {
                failures.add("Unicorn." + name + " = " + value + " but the headers say " + c);
            }
        });
        probe.constants().keySet().stream().filter(name -> !java.containsKey(name))
                .forEach(name -> failures.add("the probe prints " + name + " but Unicorn does not define it"));
        System.out.printf("Unicorn probe: checked %d constants%n", java.size());
        assertThat(java).hasSizeGreaterThan(50);
        assertThat(failures).as("Java and <unicorn/unicorn.h> disagree").isEmpty();
    }

    @Test
    void everyStructMatchesTheHeaders() {
        List<String> failures = new ArrayList<>();
        for (StructLayout layout : LAYOUTS) {
            String name = layout.name().orElseThrow();
            Long size = probe.structs().get(name);
            if (size == null || size != layout.byteSize()) {
                failures.add("sizeof(" + name + ") is " + size + " but the Java layout has " + layout.byteSize());
            }
            long offset = 0;
            for (MemoryLayout member : layout.memberLayouts()) {
                if (!(member instanceof PaddingLayout)) {
                    String key = name + "." + member.name().orElseThrow();
                    long[] c = probe.fields().get(key);
                    if (c == null || c[0] != offset || c[1] != member.byteSize()) {
                        failures.add(key + ": headers say " + (c == null ? "nothing" : "offset " + c[0] + " size " + c[1])
                                + ", Java has offset " + offset + " size " + member.byteSize());
                    }
                }
                offset += member.byteSize();
            }
        }
        assertThat(probe.structs().keySet()).containsExactlyInAnyOrderElementsOf(
                LAYOUTS.stream().map(l -> l.name().orElseThrow()).toList());
        assertThat(failures).as("Java and <unicorn/x86.h> disagree").isEmpty();
    }

    @Test
    void everyErrorNameIsTheNameOfItsValue() throws Exception {
        javaConstants().forEach((name, value) -> {
            if (name.startsWith("UC_ERR_")) {
                assertThat(Unicorn.errorName(value.intValue())).isEqualTo(name);
            }
        });
    }

    /** Every static final int of {@link Unicorn} named {@code UC_*}. */
    private static Map<String, Long> javaConstants() throws IllegalAccessException {
        Map<String, Long> constants = new LinkedHashMap<>();
        for (Field field : Unicorn.class.getDeclaredFields()) {
            int m = field.getModifiers();
            if (Modifier.isStatic(m) && Modifier.isFinal(m) && field.getType() == int.class
                    && field.getName().startsWith("UC_")) {
                field.setAccessible(true);
                constants.put(field.getName(), (long) field.getInt(null));
            }
        }
        return constants;
    }

    private record Probe(Map<String, Long> constants, Map<String, Long> structs, Map<String, long[]> fields) {
    }

    private static Probe parse(String text) {
        Map<String, Long> constants = new LinkedHashMap<>();
        Map<String, Long> structs = new LinkedHashMap<>();
        Map<String, long[]> fields = new LinkedHashMap<>();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            String[] p = line.strip().split(" ");
            boolean fresh = switch (p[0]) {
                case "const" -> p.length == 3 && constants.put(p[1], Long.parseLong(p[2])) == null;
                case "struct" -> p.length == 3 && structs.put(p[1], Long.parseLong(p[2])) == null;
                case "field" -> p.length == 4
                        && fields.put(p[1], new long[] {Long.parseLong(p[2]), Long.parseLong(p[3])}) == null;
                default -> false;
            };
            if (!fresh) {
                fail("the probe printed a malformed or repeated line: " + line);
            }
        }
        return new Probe(constants, structs, fields);
    }

    private static void assume(boolean condition, String why) {
        if (!condition) {
            System.out.println("skipping Unicorn probe: " + why + "; " + HOW_TO_INSTALL);
        }
        Assumptions.assumeTrue(condition, why + "; " + HOW_TO_INSTALL);
    }

    private record Result(int exitCode, String stdout, String stderr) {
    }

    /** Runs a command (60 s at most); null if it cannot be started. */
    private static Result run(List<String> command) throws IOException, InterruptedException {
        Path out = Files.createTempFile(work, "out", ".txt");
        Path err = Files.createTempFile(work, "err", ".txt");
        Process process;
        try {
            process = new ProcessBuilder(command).directory(work.toFile()).redirectOutput(out.toFile())
                    .redirectError(err.toFile()).start();
        } catch (IOException e) {
            return null;
        }
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            return new Result(-1, "", "timed out");
        }
        return new Result(process.exitValue(), Files.readString(out), Files.readString(err));
    }
}
