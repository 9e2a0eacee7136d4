package xenshim.api;

import java.util.Objects;
import java.util.function.Supplier;

/**
 * A typed key for per-domain state (see {@link Domain#state(DomainKey)}).
 * Keys compare by identity: keep each one in a {@code static final} field.
 *
 * @param name    for diagnostics
 * @param initial makes the state the first time a domain is asked for it
 */
public record DomainKey<T>(String name, Supplier<? extends T> initial) {

    public DomainKey {
        Objects.requireNonNull(name);
        Objects.requireNonNull(initial);
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
