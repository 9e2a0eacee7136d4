package xenshim.x86.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.stream.Stream;

/**
 * {@code xenshim} in a JVM of its own, as a user starts it: this test JVM's java, with the modules and
 * libraries the test runs on, and the main class the launcher runs.
 */
final class XenshimProcess implements AutoCloseable {

    private final Process process;
    private final Path stdout;
    private final Path stderr;

    private XenshimProcess(Process process, Path stdout, Path stderr) {
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
    }

    /** The JVM command that runs {@code xenshim ARGS}, on {@code modulePath} and {@code classPath}. */
    static List<String> commandOn(String modulePath, String classPath, String... args) {
        List<String> command = new ArrayList<>(List.of(
                ProcessHandle.current().info().command().orElseThrow(() -> new IllegalStateException("no java command")),
                "-XX:-UsePerfData", "-Xshare:off", "--enable-native-access=xenshim.x86",
                "--sun-misc-unsafe-memory-access=allow",
                "--module-path", modulePath, "--class-path", classPath,
                "--add-modules", "ALL-MODULE-PATH", "-m", "xenshim.x86/xenshim.x86.cli.Main"));
        command.addAll(Arrays.asList(args));
        return command;
    }

    /** {@link #commandOn} this JVM's own module and class path. */
    static List<String> command(String... args) {
        return commandOn(System.getProperty("jdk.module.path"), System.getProperty("java.class.path"), args);
    }

    /**
     * Starts {@code command} (any prefix, such as {@code setpriv}, included), its stdout and stderr going to
     * files in {@code dir}: a pipe would lose what a JVM ending on SIGTERM writes last.
     */
    static XenshimProcess start(List<String> command, Path dir) throws IOException {
        Path out = Files.createTempFile(dir, "stdout", ".txt");
        Path err = Files.createTempFile(dir, "stderr", ".txt");
        Process process = new ProcessBuilder(command).redirectOutput(out.toFile()).redirectError(err.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        return new XenshimProcess(process, out, err);
    }

    /**
     * Copies this JVM's module and class path into {@code dir}, readable by every user (for a process
     * of another user, who cannot read the build's folders or the Maven repository).
     *
     * @return the module path and class path of the copy
     */
    static String[] readableCopy(Path dir) throws IOException {
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
        String[] paths = new String[2];
        String[] properties = {"jdk.module.path", "java.class.path"};
        for (int p = 0; p < 2; p++) {
            Path target = Files.createDirectory(dir.resolve(p == 0 ? "modules" : "classes"),
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
            List<String> copies = new ArrayList<>();
            String[] entries = System.getProperty(properties[p]).split(java.io.File.pathSeparator);
            for (int i = 0; i < entries.length; i++) {
                Path from = Path.of(entries[i]);
                if (!Files.exists(from)) {
                    continue;
                }
                Path to = target.resolve(i + "-" + from.getFileName());
                copyReadable(from, to);
                copies.add(to.toString());
            }
            paths[p] = String.join(java.io.File.pathSeparator, copies);
        }
        return paths;
    }

    private static void copyReadable(Path from, Path to) throws IOException {
        try (Stream<Path> walk = Files.walk(from)) {
            for (Path source : walk.toList()) {
                Path copy = to.resolve(from.relativize(source).toString());
                if (Files.isDirectory(source)) {
                    Files.createDirectories(copy);
                    Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rwxr-xr-x"));
                } else {
                    Files.copy(source, copy, StandardCopyOption.REPLACE_EXISTING);
                    Files.setPosixFilePermissions(copy, PosixFilePermissions.fromString("rw-r--r--"));
                }
            }
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /**
     * Waits for a stderr line that {@code wanted} accepts, and returns it.
     *
     * @throws AssertionError with what it said, if none came within {@code timeout} or the process ended
     */
    String awaitStderr(Predicate<String> wanted, Duration timeout) throws InterruptedException {
        return await(stderr, wanted, timeout);
    }

    /** Waits until stdout has a line {@code wanted} accepts, and returns it. */
    String awaitStdout(Predicate<String> wanted, Duration timeout) throws InterruptedException {
        return await(stdout, wanted, timeout);
    }

    private String await(Path file, Predicate<String> wanted, Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            boolean ended = !process.isAlive();
            Optional<String> line = read(file).lines().filter(wanted).findFirst();
            if (line.isPresent()) {
                return line.get();
            }
            if (ended || System.nanoTime() > deadline) {
                throw new AssertionError("no such line in " + file.getFileName() + (ended ? " before the process ended" : "")
                        + "; stdout:\n" + stdout() + "\nstderr:\n" + stderr());
            }
            Thread.sleep(50);
        }
    }

    private static String read(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Waits for the process to end and returns its status. */
    int waitFor(Duration timeout) throws InterruptedException {
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new AssertionError("still running after " + timeout + "; stderr:\n" + stderr());
        }
        return process.exitValue();
    }

    /** What it wrote on stderr so far. */
    String stderr() {
        return read(stderr);
    }

    /** What it wrote on stdout so far. */
    String stdout() {
        return read(stdout);
    }

    long pid() {
        return process.pid();
    }

    /** Ends it as Ctrl-C or {@code kill} does (SIGTERM), if it still runs. */
    void terminate() {
        process.destroy();
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }
}
