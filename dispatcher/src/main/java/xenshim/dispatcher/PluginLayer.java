package xenshim.dispatcher;

import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.FindException;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.lang.module.ResolutionException;
import java.lang.module.ResolvedModule;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import xenshim.api.HypercallHandler;
import xenshim.dispatcher.jfr.PluginLoadEvent;

/**
 * Turns a folder of module jars into one {@link ModuleLayer} over a parent
 * layer (the boot layer by default), with one class loader. Every problem is
 * reported naming the jar: a file that is not a readable module, two jars
 * with one module, a module whose requirements are missing. Nothing is
 * defined unless the whole folder resolves.
 *
 * <p>A jar may hold a new version of a handler module the parent layer
 * already has (the same module name, changed code): in the new layer it
 * shadows the parent's module, which {@link Discovery} then leaves out, so
 * the new version serves the slots and the old one is not asked. The
 * parent's modules that the platform itself is made of (the JDK's, the api,
 * the dispatcher and what they need) cannot be shadowed: a handler and the
 * platform must share one {@code xenshim.api}.
 *
 * <p>The layer's one class loader is referenced by its modules and classes
 * only: once no table built from it is installed, saved or running a call,
 * the layer, its loader and its classes can be collected.
 */
public final class PluginLayer {

    /** The modules a plugin cannot shadow: those the api and the dispatcher are made of. */
    private static final Set<String> SYSTEM_MODULES = systemModules();

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
                    } else if (SYSTEM_MODULES.contains(name)) {
                        problems.add(jar + ": module " + name + " is a module of the JDK or of xenshim's platform; "
                                + "a plugin cannot replace it");
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

    /**
     * The jar a plugin module was loaded from: for naming it in errors and listings. Empty for a module
     * of the boot layer (a built-in one) or one that was not loaded from a file.
     */
    public static Optional<Path> jarOf(Module module) {
        if (!module.isNamed() || module.getLayer() == null || module.getLayer() == ModuleLayer.boot()) {
            return Optional.empty();
        }
        return module.getLayer().configuration().findModule(module.getName())
                .flatMap(resolved -> resolved.reference().location())
                .filter(uri -> "file".equals(uri.getScheme()))
                .map(Path::of);
    }

    /**
     * The dispatcher's module and every module it reads, transitively: the JDK's, the api, Guice, SLF4J;
     * but not a handler module (one that provides {@code HypercallHandler}), which is a shim's code, not
     * the platform's, and which a new version may shadow. Guice is an automatic module and so reads every
     * module of the boot layer, the built-in handler modules too: without leaving them out, no built-in
     * handler module could have a new version.
     */
    private static Set<String> systemModules() {
        Set<String> names = new HashSet<>();
        Deque<ResolvedModule> todo = new ArrayDeque<>();
        Module self = PluginLayer.class.getModule();
        if (!self.isNamed()) {
            return Set.of();
        }
        self.getLayer().configuration().findModule(self.getName()).ifPresent(todo::add);
        while (!todo.isEmpty()) {
            ResolvedModule module = todo.pop();
            if (!providesHandlers(module) && names.add(module.name())) {
                todo.addAll(module.reads());
            }
        }
        return Set.copyOf(names);
    }

    private static boolean providesHandlers(ResolvedModule module) {
        return module.reference().descriptor().provides().stream()
                .anyMatch(p -> p.service().equals(HypercallHandler.class.getName()));
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
