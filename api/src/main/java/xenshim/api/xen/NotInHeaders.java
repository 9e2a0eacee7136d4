package xenshim.api.xen;

import java.lang.annotation.Documented;
import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * Marks a constant in this package that is xenshim's own, not a name from
 * the Xen public headers. Every other constant here is checked against the
 * headers by the ABI probe test.
 */
@Documented
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.FIELD)
public @interface NotInHeaders {
}
