package xenshim.dispatcher;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import javax.tools.JavaCompiler;
import javax.tools.ToolProvider;

/** Compiles module sources at test time and packs them as a module jar that is on no class or module path. */
final class TestJars {

    private TestJars() {
    }

    /** Where the jar or classes folder of {@code type} is. */
    static Path locationOf(Class<?> type) {
        try {
            return Path.of(type.getProtectionDomain().getCodeSource().getLocation().toURI());
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The module path a plugin compiles against: the api, Guice and what Guice's API mentions. */
    static String compileModulePath() {
        return Stream.of(xenshim.api.HypercallHandler.class, com.google.inject.Module.class,
                        com.google.common.collect.ImmutableList.class, jakarta.inject.Inject.class)
                .map(TestJars::locationOf).distinct().map(Path::toString)
                .collect(Collectors.joining(java.io.File.pathSeparator));
    }

    /**
     * Compiles {@code sources} (relative path to text, including
     * module-info.java) and writes {@code jar}.
     */
    static Path moduleJar(Path work, Path jar, Map<String, String> sources, Path... compileAlso) throws IOException {
        Path src = Files.createTempDirectory(work, "src");
        Path classes = Files.createTempDirectory(work, "classes");
        List<String> files = new ArrayList<>();
        for (var source : sources.entrySet()) {
            Path file = src.resolve(source.getKey());
            Files.createDirectories(file.getParent());
            Files.writeString(file, source.getValue());
            files.add(file.toString());
        }
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        String modulePath = compileModulePath();
        for (Path also : compileAlso) {
            modulePath += java.io.File.pathSeparator + also;
        }
        List<String> args = new ArrayList<>(List.of("--release", "25", "-proc:none", "-d", classes.toString(),
                "--module-path", modulePath));
        args.addAll(files);
        var errors = new java.io.ByteArrayOutputStream();
        int rc = javac.run(null, null, errors, args.toArray(String[]::new));
        if (rc != 0) {
            throw new IllegalStateException("javac failed: " + errors);
        }
        try (OutputStream out = Files.newOutputStream(jar); JarOutputStream jarOut = new JarOutputStream(out);
             Stream<Path> walk = Files.walk(classes)) {
            for (Path file : walk.filter(Files::isRegularFile).sorted().toList()) {
                jarOut.putNextEntry(new JarEntry(classes.relativize(file).toString().replace('\\', '/')));
                jarOut.write(Files.readAllBytes(file));
                jarOut.closeEntry();
            }
        }
        return jar;
    }
}
