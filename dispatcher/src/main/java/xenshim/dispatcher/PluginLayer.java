package xenshim.dispatcher;

import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.module.ResolutionException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import xenshim.dispatcher.jfr.PluginLoadEvent;

/**
 * Turns a folder of module jars into one {@link ModuleLayer} over a parent
 * layer (the boot layer by default), with one class loader. Every problem is
 * reported naming the jar: a file that is not a readable module, two jars
 * with one module, a module whose requirements are missing. Nothing is
 * defined unless the whole folder resolves.
 */
public final class PluginLayer {

    private PluginLayer() {
    }

    /** The layer of the jars in {@code folder} over the boot layer. */
    public static ModuleLayer load(Path folder) {
        return load(folder, ModuleLayer.boot());
    }

    /** The layer of the jars in {@code folder} over {@code parent}. */
    public static ModuleLayer load(Path folder, ModuleLayer parent) {
        PluginLoadEvent event = new PluginLoadEvent();
        event.begin();
        event.folder = String.valueOf(folder);
        try {
            ModuleLayer layer = define(folder, parent);
            event.loaded = true;
            event.modules = layer.modules().stream().map(Module::getName).sorted().collect(Collectors.joining(","));
            return layer;
        } catch (RuntimeException e) {
            event.failure = e.getMessage();
            throw e;
        } finally {
            event.commit();
        }
    }

    private static ModuleLayer define(Path folder, ModuleLayer parent) {
        List<Path> jars = jars(folder);
        Map<String, Path> moduleJars = new HashMap<>();
        List<String> problems = new ArrayList<>();
        for (Path jar : jars) {
            try {
                for (ModuleReference ref : ModuleFinder.of(jar).findAll()) {
                    String name = ref.descriptor().name();
                    Path other = moduleJars.putIfAbsent(name, jar);
                    if (other != null) {
                        problems.add("module " + name + " is in both " + other + " and " + jar);
                    } else if (parent.findModule(name).isPresent()) {
                        problems.add(jar + ": module " + name + " is already defined in the parent layer");
                    }
                }
            } catch (FindException e) {
                problems.add(jar + ": not a usable module jar (" + rootMessage(e) + ")");
            }
        }
        if (!problems.isEmpty()) {
            throw new TableBuildException("plugins in " + folder + ": " + String.join("; ", problems));
        }
        ModuleFinder finder = ModuleFinder.of(jars.toArray(Path[]::new));
        Configuration configuration;
        try {
            configuration = parent.configuration().resolve(finder, ModuleFinder.of(), new TreeSet<>(moduleJars.keySet()));
        } catch (ResolutionException | FindException e) {
            throw new TableBuildException("plugins in " + folder + " do not resolve: " + e.getMessage()
                    + " (modules: " + describe(moduleJars) + ")", e);
        }
        try {
            return parent.defineModulesWithOneLoader(configuration, ClassLoader.getSystemClassLoader());
        } catch (LayerInstantiationException | SecurityException e) {
            throw new TableBuildException("plugins in " + folder + " cannot be defined: " + e.getMessage()
                    + " (modules: " + describe(moduleJars) + ")", e);
        }
    }

    private static List<Path> jars(Path folder) {
        if (!Files.isDirectory(folder)) {
            throw new TableBuildException("plugin folder " + folder + " does not exist or is not a folder");
        }
        try (Stream<Path> files = Files.list(folder)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jar")).sorted().toList();
        } catch (IOException e) {
            throw new TableBuildException("cannot list plugin folder " + folder + ": " + e.getMessage(), e);
        }
    }

    private static String describe(Map<String, Path> moduleJars) {
        List<String> parts = new ArrayList<>();
        for (String name : Set.copyOf(moduleJars.keySet()).stream().sorted().toList()) {
            parts.add(name + " from " + moduleJars.get(name).getFileName());
        }
        return String.join(", ", parts);
    }

    private static String rootMessage(Throwable e) {
        Throwable t = e;
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return t == e ? String.valueOf(e.getMessage()) : e.getMessage() + ": " + t.getMessage();
    }
}
