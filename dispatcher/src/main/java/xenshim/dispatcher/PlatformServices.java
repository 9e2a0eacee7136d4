package xenshim.dispatcher;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * What the platform offers handlers for injection: each service an instance
 * bound to its type (an interface or record from {@code xenshim.api}). One
 * Guice injector per table is built from these and the Guice modules the
 * shim's layer provides.
 */
public final class PlatformServices {

    private final Map<Class<?>, Object> services;

    private PlatformServices(Map<Class<?>, Object> services) {
        this.services = Map.copyOf(services);
    }

    public static PlatformServices none() {
        return new PlatformServices(Map.of());
    }

    public static Builder builder() {
        return new Builder();
    }

    /** The bound services, by type. */
    public Map<Class<?>, Object> asMap() {
        return services;
    }

    public static final class Builder {
        private final Map<Class<?>, Object> services = new LinkedHashMap<>();

        public <T> Builder bind(Class<T> type, T instance) {
            services.put(Objects.requireNonNull(type), type.cast(Objects.requireNonNull(instance)));
            return this;
        }

        public PlatformServices build() {
            return new PlatformServices(services);
        }
    }
}
