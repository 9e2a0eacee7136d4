package xenshim.x86.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/**
 * Handler plugin jars made at test time, as a handler author makes them: module sources compiled
 * against the api (and {@code jakarta.inject}) and packed as a jar that is on no module path.
 */
final class PluginJars {

    private PluginJars() {
    }

    /** A handler module serving {@code slot}: it answers {@code answer} to every call. */
    static Map<String, String> handler(String module, int slot, long answer) {
        return handler(module, slot, "", "return " + answer + "L;");
    }

    /**
     * A handler module serving {@code slot} ({@code @Hypercall(slot)}, checked only by the dispatcher):
     * {@code constructorBody} runs when it is built, {@code handleBody} on every call.
     */
    static Map<String, String> handler(String module, int slot, String constructorBody, String handleBody) {
        return Map.of(
                "module-info.java", "module " + module + " {\n"
                        + "    requires xenshim.api;\n"
                        + "    opens " + module + ";\n"
                        + "    provides xenshim.api.HypercallHandler with " + module + ".Handler;\n"
                        + "}\n",
                module.replace('.', '/') + "/Handler.java", "package " + module + ";\n"
                        + "import xenshim.api.*;\n"
                        + "@Hypercall(" + slot + ")\n"
                        + "public final class Handler implements HypercallHandler {\n"
                        + "    public Handler() { " + constructorBody + " }\n"
                        + "    @Override public long handle(CallContext ctx, long a0, long a1, long a2, long a3, long a4) {\n"
                        + "        " + handleBody + "\n"
                        + "    }\n"
                        + "}\n");
    }

    /**
     * Compiles {@code sources} (relative path to text) and writes them as {@code jar}; {@code compileAlso}
     * are more modules to compile against (a requirement the jar's folder will lack).
     */
    static Path jar(Path work, Path jar, Map<String, String> sources, Path... compileAlso) throws IOException {
        return jar(work, jar, sources, entries -> { }, compileAlso);
    }

    /**
     * As {@link #jar(Path, Path, Map, Path...)}, with the jar's entries (path to bytes) changed by
     * {@code edit} before they are written: a jar as a broken build leaves it.
     */
    static Path jar(Path work, Path jar, Map<String, String> sources, Consumer<Map<String, byte[]>> edit,
                    Path... compileAlso) throws IOException {
        Path src = Files.createTempDirectory(work, "src");
        Path classes = Files.createTempDirectory(work, "classes");
        List<String> args = new ArrayList<>(List.of("--release", "25", "-proc:none", "-d", classes.toString(),
                "--module-path", compileModulePath()));
        for (Path also : compileAlso) {
            args.set(args.size() - 1, args.getLast() + java.io.File.pathSeparator + also);
        }
        for (var source : sources.entrySet()) {
            Path file = src.resolve(source.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, source.getValue());
            args.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        ByteArrayOutputStream errors = new ByteArrayOutputStream();
        if (javac.run(null, null, errors, args.toArray(String[]::new)) != 0) {
            throw new IllegalStateException("javac failed: " + errors);
        }
        Map<String, byte[]> entries = new TreeMap<>();
        try (Stream<Path> walk = Files.walk(classes)) {
            for (Path file : walk.filter(Files::isRegularFile).toList()) {
                entries.put(classes.relativize(file).toString().replace('\\', '/'), Files.readAllBytes(file));
            }
        }
        edit.accept(entries);
        Files.createDirectories(jar.getParent());
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out)) {
            for (var entry : entries.entrySet()) {
                jarOut.putNextEntry(new JarEntry(entry.getKey()));
                jarOut.write(entry.getValue());
                jarOut.closeEntry();
            }
        }
        return jar;
    }

    /** Where the api and jakarta.inject are: the module path a plugin compiles against. */
    private static String compileModulePath() {
        return Stream.of("xenshim.api", "jakarta.inject")
                .map(name -> ModuleLayer.boot().configuration().findModule(name)
                        .flatMap(m -> m.reference().location())
                        .map(Path::of)
                        .orElseThrow(() -> new IllegalStateException(name + " is not on the test's module path")))
                .map(Path::toString)
                .collect(Collectors.joining(java.io.File.pathSeparator));
    }
}
