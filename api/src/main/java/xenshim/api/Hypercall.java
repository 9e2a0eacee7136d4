package xenshim.api;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The hypercall number a {@link HypercallHandler} class serves, one of
 * {@link xenshim.api.xen.Hypercalls}. Read from the provider's type before
 * the provider is instantiated, so slot conflicts are found first.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.TYPE)
public @interface Hypercall {
    /** The slot, 0..127 ({@code __HYPERVISOR_*}). */
    int value();
}
