package xenshim.cprobe;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.opentest4j.TestAbortedException;

/**
 * A C probe of some headers: a C file that fills the {@code xenshim_probe}
 * table of {@code xenshim_probe.h} (a name and a value a record: constants,
 * {@code sizeof}s, {@code offsetof}s, ioctl numbers) is compiled with
 * {@code gcc -c} for one {@link Target}, and the table is read from the
 * object file. The probe is never run and never linked: the 32-bit numbers
 * come from a 32-bit object, so they can be checked on a kernel that cannot
 * execute 32-bit programs, and both ABIs go through the same path.
 *
 * <p>A test that needs a probe skips, naming what is missing, when gcc, the
 * target's libc headers (gcc-multilib for {@code -m32}) or a header the
 * caller names ({@link #assumeHeader}) are not installed; a probe that does
 * not compile where they are fails the test with gcc's messages.
 */
public final class CProbe {

    /** What gcc builds for. */
    public enum Target {
        /** {@code gcc -m64}: an ELF64 x86-64 object. */
        X86_64("-m64", ElfObject.ELFCLASS64, ElfObject.EM_X86_64, "libc6-dev"),
        /** {@code gcc -m32}: an ELF32 i386 object. */
        I386("-m32", ElfObject.ELFCLASS32, ElfObject.EM_386, "gcc-multilib");

        private final String flag;
        private final int elfClass;
        private final int machine;
        private final String debianPackage;

        Target(String flag, int elfClass, int machine, String debianPackage) {
            this.flag = flag;
            this.elfClass = elfClass;
            this.machine = machine;
            this.debianPackage = debianPackage;
        }

        /** The gcc option: {@code -m64} or {@code -m32}. */
        public String flag() {
            return flag;
        }
    }

    /** The table's symbol in the object file. */
    public static final String SYMBOL = "xenshim_probe";
    /** The header a probe includes, put beside the object by {@link #records}. */
    public static final String HEADER = "xenshim_probe.h";
    static final int RECORD_SIZE = 72;
    static final int NAME_SIZE = 64;

    /** The options every probe is compiled with: strict C11, every warning an error. */
    private static final List<String> STRICT = List.of("-std=c11", "-Wall", "-Wextra", "-Werror", "-pedantic");

    /** The skip reasons already printed. */
    private static final Set<String> TOLD = ConcurrentHashMap.newKeySet();

    /** Per target: empty if gcc compiles for it here, else why not. */
    private static final Map<Target, Optional<String>> MISSING = new ConcurrentHashMap<>();

    private CProbe() {
    }

    /** Skips the calling test if {@code header} is not installed, naming the package that has it. */
    public static void assumeHeader(Path header, String debianPackage) {
        if (!Files.isRegularFile(header)) {
            throw skip("needs " + header + ", which is missing (apt-get install " + debianPackage + ")");
        }
    }

    /**
     * Compiles {@code source} for {@code target} in a folder of
     * {@code workDir} and returns its records, name to value, in table order.
     * Skips the calling test if gcc cannot compile for {@code target} here.
     *
     * @param flags further gcc options (e.g. {@code -D} or {@code -I})
     */
    public static Map<String, Long> records(Path source, Target target, Path workDir, String... flags) {
        ElfObject object = compile(source, target, workDir, flags);
        try {
            return decode(object.symbolData(SYMBOL));
        } catch (IllegalArgumentException e) {
            throw new AssertionError("the " + target.flag() + " object of " + source + " has no readable " + SYMBOL
                    + " table: " + e.getMessage(), e);
        }
    }

    /**
     * Compiles {@code source} for {@code target} with {@code gcc -c} and
     * returns the object file, checked to be a relocatable object of the
     * target's ELF class and machine. Skips the calling test if gcc cannot
     * compile for {@code target} here.
     */
    public static ElfObject compile(Path source, Target target, Path workDir, String... flags) {
        assumeGccCompilesFor(target, workDir);
        if (!Files.isRegularFile(source)) {
            throw new AssertionError("the probe source is missing: " + source.toAbsolutePath());
        }
        try {
            Path dir = Files.createDirectories(workDir.resolve(target.name()));
            writeHeader(dir);
            Path object = dir.resolve(source.getFileName().toString().replaceFirst("\\.c$", "") + ".o");
            List<String> args = new ArrayList<>(List.of(target.flag()));
            args.addAll(STRICT);
            args.addAll(List.of("-I", dir.toString()));
            args.addAll(List.of(flags));
            args.addAll(List.of("-c", "-o", object.toString(), source.toString()));
            Gcc.Result result = Gcc.run(dir, args);
            if (!result.succeeded()) {
                throw new AssertionError("gcc " + target.flag() + " -c " + source + " failed: " + result.problem());
            }
            ElfObject elf = ElfObject.parse(Files.readAllBytes(object));
            if (elf.elfClass() != target.elfClass || elf.machine() != target.machine) {
                throw new AssertionError("gcc " + target.flag() + " wrote an object of ELF class " + elf.elfClass()
                        + ", machine " + elf.machine() + "; expected class " + target.elfClass + ", machine "
                        + target.machine);
            }
            return elf;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while gcc ran", e);
        }
    }

    /**
     * The records of a {@code xenshim_probe} table: 72 bytes each, a
     * NUL-terminated ASCII name in the first 64, a little-endian signed 64-bit
     * value at 64.
     *
     * @throws IllegalArgumentException if the table is empty or malformed, or
     *         names a record twice
     */
    public static Map<String, Long> decode(byte[] table) {
        if (table.length == 0 || table.length % RECORD_SIZE != 0) {
            throw new IllegalArgumentException("the table is " + table.length + " bytes, not a positive multiple of "
                    + RECORD_SIZE);
        }
        ByteBuffer buffer = ByteBuffer.wrap(table).order(ByteOrder.LITTLE_ENDIAN);
        Map<String, Long> records = new LinkedHashMap<>();
        for (int at = 0; at < table.length; at += RECORD_SIZE) {
            int length = 0;
            while (length < NAME_SIZE && table[at + length] != 0) {
                length++;
            }
            if (length == 0 || length == NAME_SIZE) {
                throw new IllegalArgumentException("record " + at / RECORD_SIZE + " has "
                        + (length == 0 ? "an empty name" : "a name without its NUL"));
            }
            String name = new String(table, at, length, StandardCharsets.US_ASCII);
            if (records.put(name, buffer.getLong(at + NAME_SIZE)) != null) {
                throw new IllegalArgumentException("the table records " + name + " twice");
            }
        }
        return records;
    }

    private static void assumeGccCompilesFor(Target target, Path workDir) {
        Optional<String> missing = MISSING.computeIfAbsent(target, t -> whyGccCannotCompileFor(t, workDir));
        if (missing.isPresent()) {
            throw skip("needs gcc " + target.flag() + ": " + missing.get());
        }
    }

    /** Compiles a file that includes libc headers, the way a probe does; empty if that works. */
    private static Optional<String> whyGccCannotCompileFor(Target target, Path workDir) {
        try {
            Path dir = Files.createDirectories(workDir.resolve("check-" + target.name()));
            Path check = dir.resolve("check.c");
            Files.writeString(check, "#include <stdint.h>\n#include <signal.h>\nint64_t xenshim_check;\n");
            Gcc.Result version = Gcc.run(dir, List.of("--version"));
            if (!version.succeeded()) {
                return Optional.of(version.problem() + " (apt-get install gcc)");
            }
            Gcc.Result result = Gcc.run(dir, List.of(target.flag(), "-c", "-o", dir.resolve("check.o").toString(),
                    check.toString()));
            return result.succeeded() ? Optional.empty()
                    : Optional.of("it cannot compile a file that includes libc headers (apt-get install "
                            + target.debianPackage + "): " + result.problem());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while gcc ran", e);
        }
    }

    /**
     * What skips the calling test, with {@code reason} as its message; the
     * reason is also printed, once, so the build log says why.
     */
    private static TestAbortedException skip(String reason) {
        if (TOLD.add(reason)) {
            System.out.println("C probe skipped: " + reason);
        }
        return new TestAbortedException(reason);
    }

    private static void writeHeader(Path dir) throws IOException {
        try (InputStream header = CProbe.class.getResourceAsStream(HEADER)) {
            if (header == null) {
                throw new IllegalStateException(HEADER + " is missing from the xenshim.cprobe jar");
            }
            Files.write(dir.resolve(HEADER), header.readAllBytes());
        }
    }
}
