package xenshim.dispatcher;

import java.util.Objects;

/**
 * Who serves a slot: the handler's module and class, as named in errors and
 * in {@code xenshim table}.
 *
 * @param module    the module name ({@code "unnamed"} for the class path)
 * @param className the handler's class
 */
public record Provider(String module, String className) {

    public Provider {
        Objects.requireNonNull(module);
        Objects.requireNonNull(className);
    }

    /** The provider of {@code type}. */
    public static Provider of(Class<?> type) {
        Module module = type.getModule();
        return new Provider(module.isNamed() ? module.getName() : "unnamed", type.getName());
    }

    @Override
    public String toString() {
        return module + "/" + className;
    }
}
