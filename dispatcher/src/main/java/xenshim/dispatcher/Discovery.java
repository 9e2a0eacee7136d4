package xenshim.dispatcher;

import com.google.inject.AbstractModule;
import com.google.inject.ConfigurationException;
import com.google.inject.Guice;
import com.google.inject.Injector;
import com.google.inject.Module;
import com.google.inject.ProvisionException;
import com.google.inject.Stage;
import com.google.inject.spi.Message;
import java.lang.module.ResolvedModule;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.ServiceConfigurationError;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeSet;
import xenshim.api.Hypercall;
import xenshim.api.HypercallHandler;

/**
 * Finds the handlers of a module layer and builds a table from them.
 *
 * <p>Provider types are read first ({@link ServiceLoader#stream()}), their
 * {@link Hypercall} slots checked for conflicts, and only then is one Guice
 * injector made — from the platform's services and the Guice modules the
 * layer provides — to construct the winning handlers. A handler class needs
 * an {@code @Inject} constructor or a public no-argument one, and its package
 * must be open to reflection ({@code opens} in its module-info).
 */
public final class Discovery {

    private final ModuleLayer layer;
    private PlatformServices services = PlatformServices.none();
    private boolean layerOnly;
    /** The only modules whose providers count; null for all. */
    private Set<String> onlyModules;
    private final Map<Integer, String> winners = new HashMap<>();

    private Discovery(ModuleLayer layer) {
        this.layer = Objects.requireNonNull(layer);
    }

    /** Discovery over {@code layer} and its parents. */
    public static Discovery in(ModuleLayer layer) {
        return new Discovery(layer);
    }

    /** Discovery over the boot layer. */
    public static Discovery inBootLayer() {
        return new Discovery(ModuleLayer.boot());
    }

    /** The services handlers may inject. */
    public Discovery services(PlatformServices platform) {
        this.services = Objects.requireNonNull(platform);
        return this;
    }

    /** Only providers defined in the layer itself, not in its parents: a plugin shim on its own. */
    public Discovery layerOnly() {
        this.layerOnly = true;
        return this;
    }

    /**
     * Only the providers of the named modules (handlers and Guice modules alike): a shim made of some of
     * the layer's modules, as {@code xenshim swap --builtin} makes one.
     *
     * @throws TableBuildException naming the module, if one of them is not in the layer or provides no
     *         handler
     */
    public Discovery only(Collection<String> modules) {
        List<String> unknown = new ArrayList<>();
        for (String name : modules) {
            boolean handlers = layer.findModule(name).map(m -> m.getDescriptor() != null
                    && m.getDescriptor().provides().stream()
                    .anyMatch(p -> p.service().equals(HypercallHandler.class.getName()))).orElse(false);
            if (!handlers) {
                unknown.add(name);
            }
        }
        if (!unknown.isEmpty() || modules.isEmpty()) {
            throw new TableBuildException((modules.isEmpty() ? "name at least one module"
                    : "no handler module " + String.join(", ", unknown))
                    + "; the handler modules are " + String.join(", ", handlerModules()));
        }
        this.onlyModules = Set.copyOf(modules);
        return this;
    }

    /** The modules of the layer and its parents that provide handlers, sorted. */
    private List<String> handlerModules() {
        return ServiceLoader.load(layer, HypercallHandler.class).stream()
                .map(p -> p.type().getModule())
                .filter(m -> m.isNamed() && layer.findModule(m.getName()).orElse(null) == m)
                .map(java.lang.Module::getName).distinct().sorted().toList();
    }

    /** Slot {@code nr} goes to the provider whose module or class is {@code moduleOrClass}. */
    public Discovery prefer(int nr, String moduleOrClass) {
        winners.put(nr, moduleOrClass);
        return this;
    }

    /** The slot a handler class declares with {@link Hypercall}. */
    public static int slotOf(Class<?> type) {
        Hypercall slot = type.getAnnotation(Hypercall.class);
        if (slot == null) {
            throw new TableBuildException("handler " + Provider.of(type) + " has no @Hypercall annotation naming its slot");
        }
        return slot.value();
    }

    /**
     * Builds the table.
     *
     * @throws TableBuildException naming the providers, if slots conflict or a
     *                             handler cannot be constructed
     */
    public HypercallTable build(String tableName) {
        try {
            return buildTable(tableName);
        } catch (TableBuildException e) {
            String jars = jarsOf(e.getMessage());
            throw jars.isEmpty() ? e : new TableBuildException(e.getMessage() + " (" + jars + ")", e);
        }
    }

    /**
     * Where the plugin modules named in {@code message} came from: "module M is in JAR" for each module
     * of a layer other than the boot layer that the message mentions (by its name, as in a provider
     * {@code M/C}, or by a class of one of its packages, as ServiceLoader names a class it cannot load),
     * so that a user knows which jar to fix; empty if it mentions none.
     */
    private String jarsOf(String message) {
        Set<String> named = new TreeSet<>();
        Deque<ModuleLayer> todo = new ArrayDeque<>(List.of(layer));
        while (!todo.isEmpty() && message != null) {
            ModuleLayer next = todo.pop();
            if (next == ModuleLayer.boot()) {
                continue;
            }
            todo.addAll(next.parents());
            for (ResolvedModule module : next.configuration().modules()) {
                if (message.contains(module.name() + "/") || module.reference().descriptor().packages().stream()
                        .anyMatch(pkg -> message.contains(pkg + "."))) {
                    module.reference().location().ifPresent(where ->
                            named.add("module " + module.name() + " is in " + Path.of(where)));
                }
            }
        }
        return String.join("; ", named);
    }

    private HypercallTable buildTable(String tableName) {
        HypercallTable.Builder table = HypercallTable.builder(tableName);
        winners.forEach(table::prefer);
        LazyInjector injector = new LazyInjector();
        List<String> unannotated = new ArrayList<>();
        try {
            ServiceLoader.load(layer, HypercallHandler.class).stream()
                    .filter(p -> inScope(p.type()))
                    .forEach(p -> {
                        Class<? extends HypercallHandler> type = p.type();
                        Hypercall slot = type.getAnnotation(Hypercall.class);
                        if (slot == null) {
                            unannotated.add(Provider.of(type).toString());
                        } else {
                            table.add(slot.value(), Provider.of(type), () -> injector.create(type));
                        }
                    });
        } catch (ServiceConfigurationError e) {
            // ServiceLoader says which class it could not load; the cause says why (a truncated class file)
            throw new TableBuildException("cannot build hypercall table " + tableName + ": " + e.getMessage()
                    + (e.getCause() != null ? " (" + e.getCause() + ")" : ""), e);
        }
        if (!unannotated.isEmpty()) {
            throw new TableBuildException("cannot build hypercall table " + tableName
                    + ": no @Hypercall annotation naming the slot on " + String.join(", ", unannotated));
        }
        return table.build();
    }

    /**
     * Whether a provider counts: it is in the layer itself (or, unless {@link #layerOnly}, in a parent),
     * and its module is not shadowed by a newer module of the same name nearer the layer (a plugin's new
     * version of a built-in module: see {@link PluginLayer}).
     */
    private boolean inScope(Class<?> type) {
        java.lang.Module module = type.getModule();
        if (onlyModules != null && !onlyModules.contains(module.getName())) {
            return false;
        }
        if (layerOnly) {
            return module.getLayer() == layer;
        }
        return !module.isNamed() || layer.findModule(module.getName()).orElse(null) == module;
    }

    /** One injector per table, made when the first winning handler is constructed. */
    private final class LazyInjector {
        private Injector injector;

        HypercallHandler create(Class<? extends HypercallHandler> type) {
            try {
                return injector().getInstance(type);
            } catch (RuntimeException e) {
                throw new TableBuildException("cannot construct handler " + Provider.of(type) + ": " + guiceMessage(e), e);
            }
        }

        private Injector injector() {
            if (injector == null) {
                List<Module> modules = new ArrayList<>();
                modules.add(new PlatformModule(services));
                ServiceLoader.load(layer, Module.class).stream()
                        .filter(p -> inScope(p.type()))
                        .forEach(p -> {
                            try {
                                modules.add(p.get());
                            } catch (RuntimeException | ServiceConfigurationError e) {
                                throw new TableBuildException("cannot load Guice module " + Provider.of(p.type())
                                        + ": " + e.getMessage(), e);
                            }
                        });
                try {
                    injector = Guice.createInjector(Stage.PRODUCTION, modules);
                } catch (RuntimeException e) {
                    throw new TableBuildException("cannot wire handlers of layer " + layer + ": " + e.getMessage(), e);
                }
            }
            return injector;
        }
    }

    /**
     * What Guice says went wrong, without its legend: the exception a constructor threw, or Guice's own
     * error messages (a missing binding).
     */
    private static String guiceMessage(RuntimeException e) {
        if (e instanceof ProvisionException provision && provision.getCause() != null) {
            return "its constructor threw " + provision.getCause();
        }
        Collection<Message> messages = switch (e) {
            case ProvisionException p -> p.getErrorMessages();
            case ConfigurationException c -> c.getErrorMessages();
            default -> List.of();
        };
        return messages.isEmpty() ? e.getMessage()
                : String.join("; ", messages.stream().map(Message::getMessage).toList());
    }

    private static final class PlatformModule extends AbstractModule {
        private final PlatformServices services;

        PlatformModule(PlatformServices services) {
            this.services = services;
        }

        @Override
        @SuppressWarnings({"unchecked", "rawtypes"})
        protected void configure() {
            services.asMap().forEach((type, instance) -> bind((Class) type).toInstance(instance));
        }
    }
}
