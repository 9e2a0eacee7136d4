package xenshim.api.xen;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;

/** Reverse lookups over the constant classes of this package. */
final class Constants {

    private Constants() {
    }

    /**
     * Names indexed by value, prefix stripped, for the {@code int} constants of
     * {@code type} whose names start with {@code prefix}, leaving out xenshim's
     * own ({@link NotInHeaders}); the first name wins for a value named twice.
     */
    static String[] namesByValue(Class<?> type, String prefix, int size) {
        String[] names = new String[size];
        for (Field field : type.getDeclaredFields()) {
            int modifiers = field.getModifiers();
            if (Modifier.isStatic(modifiers) && Modifier.isPublic(modifiers) && field.getType() == int.class
                    && field.getName().startsWith(prefix) && !field.isAnnotationPresent(NotInHeaders.class)) {
                try {
                    int value = field.getInt(null);
                    if (value >= 0 && value < size && names[value] == null) {
                        names[value] = field.getName().substring(prefix.length());
                    }
                } catch (IllegalAccessException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return names;
    }
}
