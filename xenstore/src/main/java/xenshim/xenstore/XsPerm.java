package xenshim.xenstore;

import static xenshim.xenstore.XsWire.XS_PERM_IGNORE;
import static xenshim.xenstore.XsWire.XS_PERM_NONE;
import static xenshim.xenstore.XsWire.XS_PERM_READ;
import static xenshim.xenstore.XsWire.XS_PERM_WRITE;

/**
 * One {@code struct xs_permissions}: a domain and its access bits
 * ({@code XS_PERM_*}). In a node's list the first entry names the owner and
 * the access of every domain the list does not name.
 *
 * @param domid  the domain (an unsigned 32-bit number on the wire)
 * @param access {@code XS_PERM_*} bits
 */
public record XsPerm(int domid, int access) {

    public static XsPerm none(int domid) {
        return new XsPerm(domid, XS_PERM_NONE);
    }

    public static XsPerm read(int domid) {
        return new XsPerm(domid, XS_PERM_READ);
    }

    public static XsPerm write(int domid) {
        return new XsPerm(domid, XS_PERM_WRITE);
    }

    public static XsPerm both(int domid) {
        return new XsPerm(domid, XS_PERM_READ | XS_PERM_WRITE);
    }

    /**
     * Parses one entry as {@code xs_strings_to_perms} does: {@code n},
     * {@code r}, {@code w} or {@code b}, then a domain id as {@code strtol}
     * base 0 reads it (decimal, {@code 0x} hex or {@code 0} octal), nothing
     * after it.
     *
     * @return the entry, or {@code null} if malformed
     */
    static XsPerm parse(String text) {
        if (text.isEmpty()) {
            return null;
        }
        int access = switch (text.charAt(0)) {
            case 'n' -> XS_PERM_NONE;
            case 'r' -> XS_PERM_READ;
            case 'w' -> XS_PERM_WRITE;
            case 'b' -> XS_PERM_READ | XS_PERM_WRITE;
            default -> -1;
        };
        Long id = CNumber.strtol(text.substring(1));
        return access < 0 || id == null ? null : new XsPerm(id.intValue(), access);
    }

    /** The entry as {@code xs_perm_to_string} writes it (the domain as a signed int, {@code %i}). */
    @Override
    public String toString() {
        char letter = switch (access & ~XS_PERM_IGNORE) {
            case XS_PERM_NONE -> 'n';
            case XS_PERM_READ -> 'r';
            case XS_PERM_WRITE -> 'w';
            default -> 'b';
        };
        return letter + Integer.toString(domid);
    }

    boolean ignored() {
        return (access & XS_PERM_IGNORE) != 0;
    }
}
