package xenshim.xenstore;

/** Node names as xenstored checks and resolves them. */
final class XsPath {

    /** The root. */
    static final String ROOT = "/";

    private XsPath() {
    }

    /** A domain's home, {@code /local/domain/<domid>}: where its relative paths point. */
    static String domainPath(int domid) {
        return "/local/domain/" + Integer.toUnsignedString(domid);
    }

    /**
     * {@code is_valid_nodename}: absolute, no trailing or double slash, at
     * most {@code XENSTORE_ABS_PATH_MAX} characters of
     * {@code [A-Za-z0-9-/_@]}.
     */
    static boolean isValid(String name) {
        if (!name.startsWith("/") || (name.endsWith("/") && !name.equals(ROOT)) || name.contains("//")
                || name.length() > XsWire.XENSTORE_ABS_PATH_MAX) {
            return false;
        }
        for (int i = 0; i < name.length(); i++) {
            char c = name.charAt(i);
            boolean ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-'
                    || c == '/' || c == '_' || c == '@';
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    /** {@code canonicalize}: a relative name is made absolute under {@code home}; absolute and {@code @} names stay. */
    static String canonical(String home, String name) {
        if (name == null || name.startsWith("/") || name.startsWith("@")) {
            return name;
        }
        return home + "/" + name;
    }

    /** {@code get_parent}: the name up to its last slash; {@code /} for a top-level name. */
    static String parent(String name) {
        int slash = name.lastIndexOf('/');
        return slash <= 0 ? ROOT : name.substring(0, slash);
    }

    /** The last component. */
    static String basename(String name) {
        return name.substring(name.lastIndexOf('/') + 1);
    }

    /** {@code child_name}: {@code parent/child}. */
    static String child(String parent, String child) {
        return parent.equals(ROOT) ? ROOT + child : parent + "/" + child;
    }

    /** {@code is_child}: {@code name} is {@code parent} or below it (everything is below {@code /}). */
    static boolean isAtOrBelow(String name, String parent) {
        if (parent.equals(ROOT)) {
            return true;
        }
        return name.startsWith(parent) && (name.length() == parent.length() || name.charAt(parent.length()) == '/');
    }
}
