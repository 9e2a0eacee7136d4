package xenshim.api;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A typed key for per-domain state (see {@link Domain#state(DomainKey)}).
 * Keys compare by identity: keep each one in a {@code static final} field.
 *
 * @param name    for diagnostics
 * @param initial makes the state the first time a domain is asked for it;
 *                {@code null} for state the platform attaches itself
 *                ({@link Domain#attach})
 */
public record DomainKey<T>(String name, Supplier<? extends T> initial) {

    public DomainKey {
        Objects.requireNonNull(name);
    }

    /** A key whose state is made on first use. */
    public static <T> DomainKey<T> of(String name, Supplier<? extends T> initial) {
        return new DomainKey<>(name, Objects.requireNonNull(initial));
    }

    /** A key whose state only the platform attaches. */
    public static <T> DomainKey<T> attached(String name) {
        return new DomainKey<>(name, null);
    }

    @Override
    public boolean equals(Object other) {
        return this == other;
    }

    @Override
    public int hashCode() {
        return System.identityHashCode(this);
    }
}
